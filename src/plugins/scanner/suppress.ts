/**
 * `suppress` entry matching (operations.md §4.2): does an entry for this finding name cover this
 * target (a URL, or a path)? First matching entry wins. Pure.
 */
import {goPathMatch} from '../canonical/index.js'

export interface SuppressEntry {
  readonly rule: string
  readonly path: string
  readonly reason?: string
}

/** Go-style `:443`/`:80` removal for strings with `://` (step 1), applied to target and pattern alike. */
function normalise(s: string): string {
  if (!s.includes('://')) return s
  return s.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*?):(?:443|80)(?=[/?#]|$)/, '$1')
}

/** Go `path.Base`. */
function base(p: string): string {
  if (p === '') return '.'
  const t = p.replace(/\/+$/, '')
  if (t === '') return '/'
  return t.slice(t.lastIndexOf('/') + 1)
}

/** Step 6: the pattern split on `*`, its parts found in order; anchored at the ends without a `*`. */
function orderedSubstrings(pattern: string, target: string): boolean {
  const parts = pattern.split('*')
  let at = 0
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    if (part === '') continue
    if (i === 0) {
      if (!target.startsWith(part)) return false
      at = part.length
      continue
    }
    if (i === parts.length - 1) {
      const end = target.length - part.length
      if (end < at || !target.endsWith(part)) return false
      at = target.length
      continue
    }
    const j = target.indexOf(part, at)
    if (j < 0) return false
    at = j + part.length
  }
  return true
}

function pathMatches(patternIn: string, targetRaw: string): boolean {
  const raw = patternIn.replace(/\\/g, '/')
  const pattern = normalise(raw)
  const target = normalise(targetRaw)
  if (pattern.endsWith('/')) return target.startsWith(pattern)
  if (target === pattern || targetRaw === raw) return true
  if (goPathMatch(pattern, target) === true) return true
  if (goPathMatch(pattern, base(target)) === true) return true
  if ((pattern.includes('://') || (pattern.includes('.') && target.includes('://'))) && orderedSubstrings(pattern, target)) return true
  return !pattern.startsWith('/') && target.endsWith('/' + pattern)
}

/** Index of the first entry suppressing `rule` at `target`, or -1. Rules compare case-insensitively. */
export function suppressedBy(entries: readonly SuppressEntry[], rule: string, targetIn: string): number {
  if (targetIn === '' || entries.length === 0) return -1
  const target = targetIn.replace(/\\/g, '/')
  const want = rule.toLowerCase()
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    if (e.rule.toLowerCase() !== want) continue
    if (pathMatches(e.path, target)) return i
  }
  return -1
}
