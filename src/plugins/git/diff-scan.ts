/**
 * DLP over a diff (containment.md §4.3 steps 3–5): the added lines of each file, with the
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
/** A hunk header: one `@` per side (two for a unified diff, n+1 for a combined diff of n parents). */
const HUNK = /^(@{2,}) ((?:-\d+(?:,\d+)? )+)\+(\d+)(?:,(\d+))? @+/

/**
 * Reads unified diffs (`git log -p`) and combined diffs (`git log --cc`, for merges): a combined
 * diff's lines carry one prefix column per parent, `+` in a column meaning "not in that parent".
 * A line in the result with a `+` in any column is scanned. A hunk is read to the line counts its
 * header gives, so a content line that looks like a header (an added `++ b/x` prints as
 * `+++ b/x`) is still content, never a file name that would hide the line from the scan.
 */
export function scanDiff(scanner: Pick<Scanner, 'scanTextForDlp'>, diff: string): DiffFinding[] {
  const out: DiffFinding[] = []
  let file = ''
  let line = 0
  let commit: string | undefined
  // Inside a hunk: lines still due in the result and in each parent.
  let result = 0
  let parents: number[] = []
  for (const raw of diff.replace(/\r\n/g, '\n').split('\n')) {
    if (result > 0 || parents.some((n) => n > 0)) {
      const width = parents.length
      if (raw.startsWith('\\')) continue // "\ No newline at end of file"
      // diff.suppressBlankEmpty prints an empty context line without its prefix.
      const prefix = raw.length >= width ? raw.slice(0, width) : ' '.repeat(width)
      if (/^[ +-]+$/.test(prefix)) {
        if (prefix.includes('-')) {
          for (let i = 0; i < width; i++) if (prefix[i] === '-') parents[i]!--
          continue
        }
        for (let i = 0; i < width; i++) if (prefix[i] === ' ') parents[i]!--
        result--
        if (file !== '' && prefix.includes('+')) {
          const text = raw.slice(width)
          const ignore = INLINE_IGNORE.exec(text)
          for (const f of scanner.scanTextForDlp(text).matches) {
            if (ignore !== null && (ignore[1] === undefined || ignore[1].toLowerCase() === f.pattern.toLowerCase())) continue
            out.push({file, line, pattern: f.pattern, severity: f.severity, ...(commit !== undefined ? {commit} : {})})
          }
        }
        line++
        continue
      }
      // Not a hunk line: the counts were off; read it as a header.
      result = 0
      parents = []
    }
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
    const h = HUNK.exec(raw)
    if (h !== null) {
      const n = Number(h[3])
      line = n >= 1 ? n : 1
      result = h[4] === undefined ? 1 : Number(h[4])
      parents = [...h[2]!.matchAll(/-\d+(?:,(\d+))?/g)].map((m) => (m[1] === undefined ? 1 : Number(m[1])))
      if (parents.length !== h[1]!.length - 1) {
        result = 0
        parents = []
      }
    }
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
