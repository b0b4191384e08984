/**
 * The two run searches of response pass 6 (§7), as plain loops over UTF-16 code units instead of
 * RE2 (bench: proxy): both classes are ASCII, so code units and code points agree, and on a body with
 * non-ASCII text RE2 pays a UTF-8 → UTF-16 offset walk for every hit. The results are the same
 * as the regexes' (differential test: test/unit/scanner/b64-runs.test.ts):
 * - `hasCandidateRun`: `[A-Za-z0-9+/_=-]{8,}` matches somewhere;
 * - `base64Runs`: the leftmost-first hits of `[A-Za-z0-9+/_-]{16,}={0,2}`, at most `limit` — a
 *   hit is a maximal run of the class (any shorter start lies inside a run too short to match)
 *   and then up to two '='.
 */
import {classEnd, classRun, inPlainMemory} from './plain-maps-wasm.js'
import {unitsOf} from './text-units.js'

/** 1: `[A-Za-z0-9+/_-]`; 2: '='. */
const CLASS = (() => {
  const t = new Uint8Array(128)
  for (let c = 0; c < 128; c++) {
    const ch = String.fromCharCode(c)
    if (/[A-Za-z0-9+/_-]/.test(ch)) t[c] = 1
  }
  t[0x3d] = 2
  return t
})()

/** CLASS over every byte (0 from 0x80 on): the byte loop reads it without a range test. */
const BYTE_CLASS: Uint8Array = (() => {
  const t = new Uint8Array(256)
  t.set(CLASS)
  return t
})()

function kind(c: number): number {
  return c < 128 ? CLASS[c]! : 0
}

export function hasCandidateRun(s: string): boolean {
  const n = s.length
  const u = unitsOf(s)
  let i = 0
  // No run of eight starts before `i`. One starting at `i` needs the 8 units from `i` in the
  // class: the window is read from its end and, at the first unit outside it, the search goes on
  // past that unit (as `base64Runs` below: a text without such runs, Cyrillic or prose, is read
  // one unit in a few instead of every unit — 64 KiB of Cyrillic ≈ 150 → 20 µs), from a copy
  // of its units (`unitsOf`).
  while (i + 8 <= n) {
    let p = i + 7
    while (p >= i && kind(u[p]!) !== 0) p--
    if (p < i) return true
    i = p + 1
  }
  return false
}

/**
 * `units`: when given, `s`'s code units as bytes (`units[i] === s.charCodeAt(i)` for every i < `s.length`:
 * a text of ASCII only, read from its UTF-8 bytes): the same search over the array (issue 36: `charCodeAt` of a
 * string whose representation the loop cannot know cost 40 % more than a byte read, on a 64 KiB page and its
 * visible text ≈ 25 µs a response).
 */
export function base64Runs(s: string, limit: number, units?: Uint8Array): string[] {
  if (units !== undefined) return base64RunsOfUnits(s, limit, units)
  const out: string[] = []
  const n = s.length
  let i = 0
  // Here `i` starts a run or follows a character outside the class. A hit needs the 16 units
  // from `i` in the class: read the window from its end and, at the first unit outside it, jump
  // past that unit (issue 36: prose has a space every few units, so most units are never read).
  while (i + 16 <= n && out.length < limit) {
    let p = i + 15
    while (p >= i && kind(s.charCodeAt(p)) === 1) p--
    if (p >= i) {
      i = p + 1
      continue
    }
    const start = i
    i += 16
    while (i < n && kind(s.charCodeAt(i)) === 1) i++
    let end = i
    while (end < n && end - i < 2 && s.charCodeAt(end) === 0x3d) end++
    out.push(s.slice(start, end))
    i = end
  }
  return out
}

/** `base64Runs` read from `units` (the same steps; see there). */
function base64RunsOfUnits(s: string, limit: number, units: Uint8Array): string[] {
  const out: string[] = []
  const n = s.length
  // Units in the plain maps' WebAssembly memory (a plain text's pass bytes) are searched there,
  // sixteen at a step, to the same stop as the window loop below (issue 36).
  const inModule = inPlainMemory(units)
  let i = 0
  while (i + 16 <= n && out.length < limit) {
    if (inModule) {
      i = classRun(units, i, n)
      if (i < 0) break
    } else {
      let p = i + 15
      while (p >= i && BYTE_CLASS[units[p]!] === 1) p--
      if (p >= i) {
        i = p + 1
        continue
      }
    }
    const start = i
    i += 16
    if (inModule) i = classEnd(units, i, n)
    else while (i < n && BYTE_CLASS[units[i]!] === 1) i++
    let end = i
    while (end < n && end - i < 2 && units[end] === 0x3d) end++
    out.push(s.slice(start, end))
    i = end
  }
  return out
}

/** The shortest line width taken as wrapped base64 (PEM wraps at 64, MIME at 76, `base64` at 76). */
const MIN_WRAP = 16

/**
 * Base64 wrapped over lines, each block's lines joined (at most `limit` blocks): MIME and PEM
 * bodies, and `base64` without `-w0`, cut the encoding into lines of one width, and each line
 * decodes on its own to a fragment of the text (pieces of a phrase, or nothing printable) — only
 * the whole block reads as the text. A block is two or more lines of the class `[A-Za-z0-9+/_-]`,
 * all of one width (a multiple of 4, at least MIN_WRAP) but the last, which may be shorter and
 * end in up to two '='. Line ends are LF or CRLF. Linear in `s`: each unit is read once.
 */
export function wrappedBase64Blocks(s: string, limit: number): string[] {
  const out: string[] = []
  const n = s.length
  let from = -1 // the block's first unit, or -1
  let width = 0
  let lines = 0
  let blockEnd = 0 // the end of the block's last line (exclusive)
  const flush = (): void => {
    if (from >= 0 && lines >= 2) out.push(s.slice(from, blockEnd).replace(/\r?\n/g, ''))
    from = -1
    lines = 0
  }
  for (let start = 0; start < n && out.length < limit; ) {
    let end = s.indexOf('\n', start)
    if (end < 0) end = n
    const stop = end > start && s.charCodeAt(end - 1) === 0x0d ? end - 1 : end
    // The line's class units, then up to two '=' (padding ends a block).
    let k = start
    while (k < stop && kind(s.charCodeAt(k)) === 1) k++
    const body = k - start
    let pad = 0
    while (k < stop && pad < 2 && s.charCodeAt(k) === 0x3d) (k++, pad++)
    const isLine = k === stop && body > 0
    const len = stop - start
    if (!isLine) flush()
    else if (from >= 0 && len === width && pad === 0) {
      lines++
      blockEnd = stop
    } else if (from >= 0 && len <= width) {
      lines++
      blockEnd = stop
      flush()
    } else {
      flush()
      if (pad === 0 && len >= MIN_WRAP && len % 4 === 0) {
        from = start
        width = len
        lines = 1
        blockEnd = stop
      }
    }
    start = end + 1
  }
  flush()
  return out
}
