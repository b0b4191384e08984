/**
 * DLP over a unified diff (containment.md §4.3 steps 3–5): the added lines of each file, with the
 * new-file line number, through the text DLP scanner (core patterns, configured patterns,
 * canaries, environment secrets). Findings carry names and locations, never the matched text.
 */
import type {Scanner} from '../scanner/index.js'

export interface DiffFinding {
  readonly file: string
  readonly line: number
  readonly pattern: string
  readonly severity: string
  /** The commit the line was added in, when the diff came from `git log -p`. */
  readonly commit?: string
}

const INLINE_IGNORE = /(?:\/\/|#)\s*pipelock:ignore(?:\s+(.+?))?\s*$/

export function scanDiff(scanner: Pick<Scanner, 'scanTextForDlp'>, diff: string): DiffFinding[] {
  const out: DiffFinding[] = []
  let file = ''
  let line = 0
  let commit: string | undefined
  for (const raw of diff.replace(/\r\n/g, '\n').split('\n')) {
    if (raw.startsWith('commit ') && /^commit [0-9a-f]{40}/.test(raw)) {
      commit = raw.slice(7, 47)
      file = ''
      continue
    }
    if (raw.startsWith('+++ ')) {
      // git ends the header's name with a tab when it holds a space (`+++ b/sp ace.txt\t`).
      const f = raw.slice(4).replace(/\t$/, '')
      file = f === '/dev/null' ? '' : f.startsWith('b/') ? f.slice(2) : f
      continue
    }
    if (raw.startsWith('--- ') || raw.startsWith('diff ') || raw.startsWith('index ')) continue
    if (raw.startsWith('@@')) {
      const m = /\+(\d+)/.exec(raw)
      const n = m === null ? 1 : Number(m[1])
      line = n >= 1 ? n : 1
      continue
    }
    if (file === '') continue
    if (raw.startsWith('+')) {
      const text = raw.slice(1)
      const ignore = INLINE_IGNORE.exec(text)
      for (const f of scanner.scanTextForDlp(text).matches) {
        if (ignore !== null && (ignore[1] === undefined || ignore[1].toLowerCase() === f.pattern.toLowerCase())) continue
        out.push({file, line, pattern: f.pattern, severity: f.severity, ...(commit !== undefined ? {commit} : {})})
      }
      line++
    } else if (!raw.startsWith('-')) line++
  }
  const seen = new Set<string>()
  return out.filter((f) => {
    const k = `${f.commit ?? ''}|${f.file}|${f.line}|${f.pattern}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

/** The `file` of a finding in a commit message. */
export const COMMIT_MESSAGE = '(commit message)'

/**
 * DLP over commit messages: `log` is `git log --format=%H%x00%B%x00` output (id, NUL, message,
 * NUL, …). Each line of each message goes through the text DLP scanner, as a diff's added lines
 * do; a finding is reported at its commit, in `(commit message)`, by line.
 */
export function scanCommitMessages(scanner: Pick<Scanner, 'scanTextForDlp'>, log: string): DiffFinding[] {
  const out: DiffFinding[] = []
  const parts = log.split('\0')
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const commit = parts[i]!.trim()
    if (!/^[0-9a-f]{40}$/.test(commit)) continue
    parts[i + 1]!.replace(/\r\n/g, '\n').split('\n').forEach((text, k) => {
      for (const f of scanner.scanTextForDlp(text).matches) out.push({file: COMMIT_MESSAGE, line: k + 1, pattern: f.pattern, severity: f.severity, commit})
    })
  }
  return out
}
