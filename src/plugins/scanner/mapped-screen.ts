/**
 * Screens for the response passes that read a text through a per-character map (issue 36):
 * pass 3 matches the `re` patterns in the leetspeak of pass 1's text, pass 5 the vowel-folded
 * patterns in its vowel fold. Each map changes only a few ASCII characters, each into one ASCII
 * character (`MappedChars`), so a text and its map have the same length and the same line breaks.
 *
 * For a pattern R and a map M, the screen S = `mappedScreenSource(R, M)` satisfies, for every
 * text T: R matches somewhere in M(T) ⇒ S matches somewhere in T. S is R with
 *  - every leaf atom A (a literal, `.`, a class or a class escape, each matching one code point,
 *    with the flags it has in R) replaced by `(?:A|[d…])`, the d being the changed characters
 *    whose image M(d) A matches (asked of RE2 itself, one character at a time): wherever A
 *    matches M(T)[k], S's atom matches T[k] — T[k] = M(T)[k] when T[k] is not changed;
 *  - every assertion (`^ $ \b \B \A \z`) removed: an assertion only removes matches (and
 *    leetspeak turns '@' and '$' into word characters, so `\b` may read M(T) differently);
 *  - groups, alternatives and repetitions kept (non-greedy ones made greedy: the same language).
 * A match of R in M(T) is a sequence of leaf spans and assertions over M(T); the same spans in T
 * are a match of S. So a walk of one RE2::Set holding the screens over pass 1's text, where it
 * finds none of a list's screens, proves that the list has no candidate in pass 3 or 5 — the
 * walks of the leetspeak and vowel-folded texts would find nothing, and are skipped. Where it
 * finds one, the pass runs as before (a screen hit is not a match). A source the parser of
 * `regex-core.ts` does not read has no screen (null): its list is then never screened.
 * test/unit/scanner/mapped-screen.test.ts checks the claim on the catalogue's patterns.
 */
import {flagPrefix, parseRegex, type Atom, type Elem, type Flags} from './regex-core.js'
import {compileAsWritten} from './regex.js'

/** A per-character map: the ASCII characters it changes and what each becomes. */
export interface MappedChars {
  readonly changed: ReadonlyArray<readonly [from: string, to: string]>
}

/** The ASCII characters `map` changes, each into one character (throws when it changes any otherwise). */
export function mappedChars(map: (s: string) => string): MappedChars {
  const changed: Array<readonly [string, string]> = []
  for (let c = 0; c < 128; c++) {
    const ch = String.fromCharCode(c)
    const to = map(ch)
    if (to === ch) continue
    if (to.length !== 1 || to === '\n' || ch === '\n') throw new Error('a one-character map that keeps line breaks expected')
    changed.push([ch, to])
  }
  return {changed}
}

function escaped(ch: string): string {
  return `\\x{${ch.codePointAt(0)!.toString(16)}}`
}

/** The leaf as R has it: its source under its own flags (none written when all are off, the default the set compiles with). */
function leafSource(src: string, flags: Flags): string {
  return flags.i || flags.m || flags.s ? `${flagPrefix(flags)}${src})` : src
}

const ASCII_LETTER = /^[A-Za-z]$/

/**
 * The changed characters whose image the leaf matches and the leaf itself does not. An ASCII
 * letter or digit written as itself is answered here (it matches an ASCII character exactly when
 * equal, or equal but for case under `i`); any other leaf is asked of RE2, one character at a
 * time.
 */
function addedBy(src: string, flags: Flags, m: MappedChars): string[] {
  const test = /^[A-Za-z0-9]$/.test(src)
    ? (ch: string): boolean => ch === src || (flags.i && ASCII_LETTER.test(src) && ch.toLowerCase() === src.toLowerCase())
    : ((re) => (ch: string): boolean => re.test(ch))(compileAsWritten(`^(?:${flagPrefix(flags)}${src}))$`))
  return m.changed.filter(([from, to]) => !test(from) && test(to)).map(([from]) => from)
}

/** Renders the screen (see the file comment); `extra` memoises each leaf's added characters. */
function renderAlts(alts: readonly Elem[][], m: MappedChars, extra: Map<string, string>): string {
  return alts.map((alt) => alt.map((e) => renderElem(e, m, extra)).join('')).join('|')
}

function renderElem(e: Elem, m: MappedChars, extra: Map<string, string>): string {
  const atom = renderAtom(e.atom, m, extra)
  if (atom === '') return ''
  if (e.min === 1 && e.max === 1) return atom
  const q =
    e.max === Infinity ? (e.min === 0 ? '*' : e.min === 1 ? '+' : `{${e.min},}`) : e.min === 0 && e.max === 1 ? '?' : e.min === e.max ? `{${e.min}}` : `{${e.min},${e.max}}`
  return `(?:${atom})${q}`
}

function renderAtom(a: Atom, m: MappedChars, extra: Map<string, string>): string {
  if (a.kind === 'assert') return ''
  if (a.kind === 'group') return `(?:${renderAlts(a.alts, m, extra)})`
  const key = `${flagPrefix(a.flags)}${a.src}`
  let out = extra.get(key)
  if (out === undefined) {
    const add = addedBy(a.src, a.flags, m)
    const leaf = leafSource(a.src, a.flags)
    if (add.length === 0) out = leaf
    // One class under the leaf's flags: under `i` it folds case as the letter did ('s' also matches 'ſ', 'k' the Kelvin sign).
    else if (/^[A-Za-z0-9]$/.test(a.src)) out = leafSource(`[${a.src}${add.map(escaped).join('')}]`, a.flags)
    else out = `(?:${leaf}|[${add.map(escaped).join('')}])`
    extra.set(key, out)
  }
  return out
}

/** The screen of `source` under the map `m` (see the file comment), or null when the parser does not read it or the screen does not compile. */
export function mappedScreenSource(source: string, m: MappedChars, extra: Map<string, string> = new Map()): string | null {
  try {
    const alts = parseRegex(source)
    if (alts === null) return null
    // Not compiled here: a screen RE2 rejects fails the set's compile, and the scan then walks as before.
    return renderAlts(alts, m, extra)
  } catch {
    return null
  }
}
