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
      const f = raw.slice(4)
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
