/**
 * Every regex over untrusted input goes through native RE2 (§9.6): linear time, Go RE2 syntax
 * (inline `(?i)`/`(?-i:…)` groups, ASCII `\s`, code-point counting repeats).
 */
import RE2 from 're2'
import {isAsciiText} from './ascii-text.js'

export type Re2 = InstanceType<typeof RE2>

/** Compile exactly as written (response patterns, §9.4/§9.5). */
export function compileAsWritten(source: string): Re2 {
  return new RE2(source, 'u')
}

/**
 * The byte offset of `re`'s first match in `bytes` (UTF-8), -1 for none: the binding reads a
 * Buffer as it is, where a string is first copied into UTF-8 on every call. (`Re2`, the
 * constructor's instance type, is typed as a `RegExp`, without the binding's Buffer overloads.)
 */
export function searchBytes(re: Re2, bytes: Buffer): number {
  return (re as unknown as {search(input: Buffer): number}).search(bytes)
}

/**
 * DLP compile (§9.1): a forced `(?i)` prefix unless the source already starts with it. A source
 * with its own leading flag group (e.g. `(?m)`) therefore becomes the double prefix `(?i)(?m)…`.
 */
export function forcedCaseInsensitiveSource(source: string): string {
  return source.startsWith('(?i)') ? source : `(?i)${source}`
}

export function compileDlp(source: string): Re2 {
  return new RE2(forcedCaseInsensitiveSource(source), 'u')
}

/** A regex hit: UTF-16 index and length into the searched string (internally consistent, §9.6). */
export interface RegexHit {
  readonly index: number
  readonly length: number
  readonly text: string
}

/**
 * The `.source` the binding gives a regex built from `source`, without building it (node-re2's
 * escape over the UTF-8 text: empty reads `(?:)`, a `/` after an even run of backslashes reads
 * `\/`, a lone surrogate three U+FFFD: its 3 bytes each read back as invalid). What the sets are
 * fed, so a pattern compiled only on its first run (bench: mcp) gives them the same text as its
 * compiled regex would.
 */
export function re2SourceOf(source: string): string {
  if (source === '') return '(?:)'
  if (source.isWellFormed() && !source.includes('/')) return source
  let out = ''
  let backslashes = 0
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!
    const u = c.charCodeAt(0)
    if (u >= 0xd800 && u <= 0xdfff) {
      const pair = u <= 0xdbff && i + 1 < source.length && (source.charCodeAt(i + 1) & 0xfc00) === 0xdc00
      out += pair ? source.slice(i, i + 2) : '\ufffd\ufffd\ufffd'
      if (pair) i++
      backslashes = 0
      continue
    }
    if (c === '\\') backslashes++
    else if (c === '/' && (backslashes & 1) === 0) {
      out += '\\/'
      backslashes = 0
      continue
    } else backslashes = 0
    out += c
  }
  return out
}

/** Global compile of an already-compiled regex, for iterating all hits. */
export function globalOf(re: Re2): Re2 {
  return new RE2(re.source, 'gu')
}

/**
 * `globalOf(compileAsWritten(source))` — the same regex, same `.source` — with one RE2 program
 * instead of two where `source` is its own `.source` (the binding's `.source` escapes an unescaped
 * `/` and reads a lone surrogate as U+FFFD, see `re2SourceOf`; line terminators stay as written;
 * otherwise the second compile is from that escaped text, exactly as before). The
 * discarded as-written program of each response pattern and variant was ≈ 100 start-up compiles
 * whose memory stayed in malloc's high-water mark (bench: mcp).
 */
export function compileGlobalAsWritten(source: string): Re2 {
  const re = new RE2(source, 'gu')
  return re.source === source ? re : globalOf(re)
}

/**
 * All non-overlapping hits, leftmost-first; `limit` bounds work on adversarial input. Pass a
 * global (`g`) regex on hot paths: otherwise a global copy is compiled per call.
 */
export function findAll(re: Re2, text: string, limit = 1000): RegexHit[] {
  return [...eachHit(re, text, limit)]
}

/**
 * `findAll`'s hits one at a time, found only as they are asked for: a caller that stops at the
 * first hit it accepts (a validated DLP pattern) does not search the rest of a long text. The
 * regex must not be used elsewhere until the iteration ends (it holds `lastIndex`); ending it
 * early resets it, as a full run does.
 *
 * `within` (ascending, disjoint `[start, end)` pairs) limits the search to hits starting inside
 * those ranges, each range searched from its start: the hits of a range are the full
 * enumeration's only when no hit can reach into a range from before it (the caller's proof, e.g.
 * the hits of a regex whose matches hold only characters that the ranges' edges lack).
 */
export function* eachHit(re: Re2, text: string, limit = 1000, within?: readonly number[]): Generator<RegexHit> {
  const g = re.global ? re : globalOf(re)
  g.lastIndex = within === undefined ? 0 : (within[0] ?? text.length + 1)
  // A long all-ASCII text is searched as its bytes: each hit of a string search has its UTF-8
  // offset turned back into a UTF-16 index, a walk of the text per hit (a sorted JSON join with
  // dozens of Bitcoin WIF Private Key hits paid it for each, issue 36). In ASCII a byte is a code
  // unit, so the offsets, lengths and hit texts are the same.
  const bytes = text.length >= ASCII_BYTES_FROM && isAsciiText(text) ? Buffer.from(text, 'latin1') : null
  let range = 0
  try {
    let n = 0
    while (g.lastIndex <= text.length) {
      const m = bytes === null ? g.exec(text) : execBytes.call(g, bytes)
      if (m === null) break
      if (within !== undefined) {
        // Past the current range: on to the first range ending after the hit; searched again
        // from that range's start unless the hit lies in it.
        while (range < within.length && within[range + 1]! <= m.index) range += 2
        if (range >= within.length) break
        if (m.index < within[range]!) {
          g.lastIndex = within[range]!
          continue
        }
      }
      n++
      const hit = m[0] as string | Buffer
      if (hit.length === 0) g.lastIndex = m.index + 1
      const stop = n >= limit || g.lastIndex > text.length
      yield {index: m.index, length: hit.length, text: typeof hit === 'string' ? hit : hit.toString('latin1')}
      if (stop) break
    }
  } finally {
    g.lastIndex = 0
  }
}

/** `exec` over a Buffer (the binding's typings type the instance as a RegExp): offsets and hits in bytes. */
export const execBytes = RE2.prototype.exec as unknown as (this: Re2, input: Buffer) => {readonly index: number; readonly 0: Buffer} | null

/** Texts from this length on are searched as bytes by `eachHit` when all-ASCII. */
const ASCII_BYTES_FROM = 1024

/** Textual rewrite used by response pass 4 (§7): `\s+` → `\s*`, `[-,;:.\s]+` → `[-,;:.\s]*`. */
export function optionalWhitespaceSource(source: string): string {
  return source.split('\\s+').join('\\s*').split('[-,;:.\\s]+').join('[-,;:.\\s]*')
}

/**
 * Pass-5 source rewrite (§7): vowels folded to `a`/`A` everywhere except inside flag groups
 * (`(?i)`, `(?is)`, `(?-i:`), which would otherwise stop compiling.
 */
export function foldVowelsSource(source: string): string {
  let out = ''
  let i = 0
  while (i < source.length) {
    if (source.startsWith('(?', i)) {
      let k = i + 2
      while (k < source.length && /[a-zA-Z-]/.test(source[k]!)) k++
      if (source[k] === ')' || source[k] === ':') {
        out += source.slice(i, k + 1)
        i = k + 1
        continue
      }
    }
    if (source[i] === '\\' && i + 1 < source.length) {
      // Escapes (`\s`, `\b`, `\p{…}` names…) are kept verbatim.
      out += source.slice(i, i + 2)
      i += 2
      continue
    }
    const c = source[i]!
    out += 'eiou'.includes(c) ? 'a' : 'EIOU'.includes(c) ? 'A' : c
    i++
  }
  return out
}
