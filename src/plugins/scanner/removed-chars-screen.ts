/**
 * One walk for the pattern steps of text DLP (§6.1 steps 2, 4 and 5) over an ASCII text, instead
 * of four (issue 36): the text, `cleaned = ForDLP(text)`, `cleaned` without dots and `cleaned`
 * without white space. On a text whose every code unit is below U+007F each of those forms is
 * the text with some characters of D = {C0 controls, ' ', '.'} removed: `ForDLP` of such a text
 * only strips its C0 controls (`normalize.ts`), and the only white space left after that is ' '.
 *
 * For a pattern R the screen S = `removedCharsScreenSource(R)` satisfies, for every such text T
 * and every form F of T made by removing characters of D: R matches somewhere in F ⇒ S matches
 * somewhere in T. S is R with
 *  - every leaf atom A (one code point, with the flags it has in R) written `[D]*A`: a match of R
 *    in F is a sequence of leaf spans, consecutive in F; in T the same characters come in the
 *    same order with only removed characters (all in D) between them, which the `[D]*` before
 *    the next leaf reads (before the first leaf it reads nothing);
 *  - every assertion removed (an assertion only removes matches), except a `\b` that opens or
 *    closes a top-level alternative next to a leaf atom repeated at least once whose every ASCII
 *    match is a word character (IBAN, SSN and similar numbers): in F that `\b` separates the leaf's
 *    word character from a non-word character or the text's end; in T the leaf's character has
 *    beside it either that same character or a removed one — every character of D is a non-word
 *    character — so the `\b` holds in T at the same place;
 *  - groups, alternatives and repetitions kept.
 * So a walk of one RE2::Set holding the screens over T, where it finds a pattern's screen
 * nowhere, proves that pattern has no finding in any of the four forms; the patterns it does find
 * are a superset of each form's set verdict, and text DLP runs their own regexes on each form as
 * the set's candidates (a screen hit is not a match). Where no screen is found, text DLP does not
 * build the forms without dots and without white space at all. A source the parser of
 * `regex-core.ts` does not read leaves the engine without a screen (null): every form is then
 * walked as before.
 *
 * The same walk reads six facts of the text, by entries after the screens, each exact on such a
 * text: whether it holds a C0 control (else `ForDLP(text)` is the text), one other than tab, LF
 * and CR (else `ForMatching(text)` is the text), one other than LF (else ForDLP only removes
 * line feeds), a `%` or `+` (else every URL decoding is the identity), a segment of step 7 in
 * `ForDLP(text)` that may have a decoding, and something the
 * seed detector's run screen finds (else its `detect(text)` is false) — the character-class
 * tests of the normaliser, the segment searches of steps 3 and 7 and the detector's own walk,
 * each a pass over the text, are then not made.
 * test/unit/scanner/removed-chars-screen.test.ts checks the claim on the catalogue's patterns and
 * the facts against their definitions; the body-scan differential test checks text DLP's verdicts.
 */
import {DECODED_SEGMENT_MIN, DECODER_B64, DECODER_HEX, DECODER_REJECTS, SEGMENT_DELIMITERS} from './decoders.js'
import {setSourceOf, type DlpEngine} from './dlp-engine.js'
import type {CompiledDlpPattern} from './dlp-patterns.js'
import {leafSource, repeated} from './mapped-screen.js'
import {flagPrefix, parseRegex, type Atom, type Elem, type Flags} from './regex-core.js'
import {compileAsWritten, compileSet, setMatches, type Re2Set} from './regex.js'
import type {SeedPhraseDetector} from './seed-phrase.js'

/** The characters the forms remove from an ASCII text: C0 controls (ForDLP), ' ' (white space) and '.' (dots). */
const REMOVED = '[\\x00-\\x1f .]*'

const WORD = /^[0-9A-Za-z_]$/

/** Whether every ASCII character (U+0000–U+007E) the leaf matches under its flags is a word character; asked of RE2. */
function wordOnly(src: string, flags: Flags, memo: Map<string, boolean>): boolean {
  const key = `${flagPrefix(flags)}${src}`
  let known = memo.get(key)
  if (known === undefined) {
    const re = compileAsWritten(`^(?:${leafSource(src, flags)})$`)
    known = true
    for (let c = 0; c < 0x7f && known; c++) {
      const ch = String.fromCharCode(c)
      if (re.test(ch) && !WORD.test(ch)) known = false
    }
    memo.set(key, known)
  }
  return known
}

/** Whether `e` is a leaf atom repeated at least once that matches word characters only. */
function wordLeaf(e: Elem | undefined, memo: Map<string, boolean>): boolean {
  return e !== undefined && e.min >= 1 && e.atom.kind === 'leaf' && wordOnly(e.atom.src, e.atom.flags, memo)
}

function renderAlts(alts: readonly Elem[][], top: boolean, memo: Map<string, boolean>): string {
  return alts.map((seq) => renderSeq(seq, top, memo)).join('|')
}

function renderSeq(seq: readonly Elem[], top: boolean, memo: Map<string, boolean>): string {
  let out = ''
  for (let k = 0; k < seq.length; k++) {
    const e = seq[k]!
    if (e.atom.kind !== 'assert') {
      out += repeated(renderAtom(e.atom, memo), e)
      continue
    }
    const kept = top && e.atom.src === '\\b' && ((k === 0 && wordLeaf(seq[1], memo)) || (k === seq.length - 1 && wordLeaf(seq[k - 1], memo)))
    if (kept) out += '\\b'
  }
  return out
}

function renderAtom(a: Exclude<Atom, {kind: 'assert'}>, memo: Map<string, boolean>): string {
  if (a.kind === 'group') return `(?:${renderAlts(a.alts, false, memo)})`
  return `${REMOVED}${leafSource(a.src, a.flags)}${AMP_TAIL}`
}

/**
 * Read after every leaf: the rest of an `&amp;` whose `&` the leaf matched, so that the screen also
 * stands for the forms of the text with its `&amp;` references decoded (`screenAsciiText`).
 */
const AMP_TAIL = '(?:amp;)?'

/** The screen of `source` (see the file comment), or null when the parser does not read it. */
export function removedCharsScreenSource(source: string, memo: Map<string, boolean> = new Map()): string | null {
  try {
    const alts = parseRegex(source)
    return alts === null ? null : renderAlts(alts, true, memo)
  } catch {
    return null
  }
}

/**
 * The entries after the patterns' screens: facts about the text the same walk reads, each exact
 * on a text whose every code unit is below U+007F (the only texts walked).
 */
const C0 = '[\\x00-\\x1f]'
/** A C0 control other than LF: else `ForDLP` only removes line feeds. */
const NOT_LF_C0 = '[\\x00-\\x09\\x0b-\\x1f]'
/** A C0 control other than tab, LF and CR: `ForMatching` changes the text. */
const OTHER_C0 = '[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]'
const hex = (c: number): string => `\\x${c.toString(16).padStart(2, '0')}`
const DELIMITERS = new Set<string>(SEGMENT_DELIMITERS)

/**
 * Found wherever `ForDLP(text)` (the text without C0 controls) holds a segment of step 7 — a
 * maximal run of at least `min` units without a delimiter — made only of
 * `alphabet`, and wherever the text itself holds such a segment when its only controls are tab,
 * LF and CR (all three delimiters): a delimiter, a C0 control or the start; at least that many
 * characters of `alphabet` with only C0 controls between them; a delimiter, a C0 control or the
 * end. (ForDLP's segment is bounded by printable delimiters or the ends, with only removed
 * controls around its characters in the text; the text's own segment is bounded by delimiters.)
 */
function segmentOf(alphabet: (ch: string) => boolean, min: number, lengths: (unit: string) => string = (unit) => `(?:${unit}){${min},}`): string {
  let run = ''
  let delims = ''
  for (let c = 0x20; c < 0x7f; c++) {
    const ch = String.fromCharCode(c)
    if (DELIMITERS.has(ch)) delims += hex(c)
    else if (alphabet(ch)) run += hex(c)
  }
  return `(?:^|[${delims}\\x00-\\x1f])${lengths(`[${run}]${C0}*`)}(?:[${delims}\\x00-\\x1f]|$)`
}

/**
 * `unit` repeated `min` times or more, but never 1 more than a multiple of 4: no base64 variant
 * decodes such a length (4k+1 characters of data), and base32 needs a multiple of 8 — a segment
 * holds no `=` (a delimiter), so no padding either.
 */
const notOneMoreThanFour = (min: number) => (unit: string): string => {
  const fours = (from: number): string => `(?:(?:${unit}){4}){${Math.max(0, from)},}`
  // 4k, 4k + 2 or 4k + 3 characters, at least `min` of them.
  return `(?:${fours(Math.ceil(min / 4))}|${fours(Math.ceil((min - 2) / 4))}(?:${unit}){2}|${fours(Math.ceil((min - 3) / 4))}(?:${unit}){3})`
}

/**
 * The entries that find every segment with a decoding: a segment some whole-text decoder does
 * not reject is made of one decoder's characters (`DECODER_REJECTS`: base32's are among
 * base64's; of base64's, a length base64 or base32 can decode), or holds `%` or `+` (anywhere in
 * the text, here).
 */
const decodableSegment = (min: number): string[] => [
  segmentOf((ch) => (DECODER_REJECTS[ch.charCodeAt(0)]! & DECODER_B64) === 0, min, notOneMoreThanFour(min)),
  segmentOf((ch) => (DECODER_REJECTS[ch.charCodeAt(0)]! & DECODER_HEX) === 0, min),
]
/** Segments of step 7's least length, then of step 3's (the seed step decodes segments of 20 units or more). */
const DECODABLE_SEGMENT = decodableSegment(DECODED_SEGMENT_MIN)
export const SEED_SEGMENT_MIN = 20
const DECODABLE_SEED_SEGMENT = decodableSegment(SEED_SEGMENT_MIN)
/** A `%` or `+`: else the text's URL decoding (and that of any form of it) is itself. */
const PERCENT_OR_PLUS = '[%+]'
/** An `&amp;`: the walk is kept for the text with its references decoded (`screenAsciiText`). */
const AMP_REF = '&amp;'

/** One walk's set: the patterns' screens, then C0, NOT_LF_C0, OTHER_C0, PERCENT_OR_PLUS, AMP_REF, DECODABLE_SEGMENT, DECODABLE_SEED_SEGMENT and the seed detector's run screen (when it has one). */
interface ScreenSet {
  readonly set: Re2Set
  readonly patterns: number
  readonly seed: boolean
}

/**
 * Per pattern list, then per seed detector (engines spread from one another share both: a test's
 * engine without the short-target skip is the same screen).
 */
const screens = new WeakMap<readonly CompiledDlpPattern[], WeakMap<SeedPhraseDetector, ScreenSet | null>>()

function screenSet(engine: DlpEngine): ScreenSet | null {
  let bySeed = screens.get(engine.all)
  if (bySeed === undefined) screens.set(engine.all, (bySeed = new WeakMap()))
  let s = bySeed.get(engine.seed)
  if (s === undefined) {
    s = buildScreenSet(engine)
    bySeed.set(engine.seed, s)
  }
  return s
}

function buildScreenSet(engine: DlpEngine): ScreenSet | null {
  const memo = new Map<string, boolean>()
  const sources: string[] = []
  for (const p of engine.all) {
    const s = removedCharsScreenSource(setSourceOf(p), memo)
    if (s === null) return null
    sources.push(s)
  }
  const seed = engine.seed.active ? engine.seed.asciiRunScreenSource ?? null : null
  sources.push(C0, NOT_LF_C0, OTHER_C0, PERCENT_OR_PLUS, AMP_REF, ...DECODABLE_SEGMENT, ...DECODABLE_SEED_SEGMENT)
  if (seed !== null) sources.push(seed)
  const set = compileSet(sources)
  return set === null ? null : {set, patterns: engine.all.length, seed: seed !== null}
}

/** What one walk of the screen set over an ASCII text tells text DLP (see the file comment). */
export interface AsciiTextScreen {
  /** The patterns of `engine.all` that may have a finding in the text or its forms without controls, dots, white space. */
  readonly candidates: ReadonlySet<CompiledDlpPattern>
  /** The text holds a C0 control (else `ForDLP(text)` is the text). */
  readonly controls: boolean
  /** The text holds a C0 control other than LF (else `ForDLP(text)` is the text without its line feeds). */
  readonly notLineFeeds: boolean
  /** The text holds a C0 control other than tab, LF and CR (else `ForMatching(text)` is the text). */
  readonly otherControls: boolean
  /** The text holds a `%` or `+` (else its URL decoding, and that of its forms, is itself). */
  readonly percentOrPlus: boolean
  /**
   * `ForDLP(text)` — or the text, when its only controls are tab, LF and CR — may hold a segment
   * of at least `DECODED_SEGMENT_MIN` units that `undecodable` does not refuse (else every such
   * segment has no decoding).
   */
  readonly decodableSegment: boolean
  /** As `decodableSegment`, for segments of at least `SEED_SEGMENT_MIN` units (step 3's). */
  readonly decodableSeedSegment: boolean
  /** The seed detector's run screen finds something in the text (else its `detect(text)` is false); true without one. */
  readonly seedRun: boolean
}

const NONE: ReadonlySet<CompiledDlpPattern> = new Set()

/** The last text walked, when it holds an `&amp;`, with the engine's keys and the walk's answer; else null. */
let lastWithAmp: {readonly all: readonly CompiledDlpPattern[]; readonly seed: SeedPhraseDetector; readonly text: string; readonly screen: AsciiTextScreen} | null = null

/**
 * One walk over `text` (see the file comment); null when it does not apply (a code unit at or
 * above U+007F, no set, no screen, or RE2 could not decide): then each form is walked as before.
 */
export function screenAsciiText(engine: DlpEngine, text: string): AsciiTextScreen | null {
  if (engine.allSet === null) return null
  const s = screenSet(engine)
  if (s === null) return null
  const last = lastWithAmp
  lastWithAmp = null
  // The text last walked with its `&amp;` decoded (the request path's pieces pass scans a page
  // again so): its forms are that text's with the rest of each `&amp;` removed as well, which the
  // screens read (`AMP_TAIL`); it holds the same controls, `%` and `+`, and segments of 10 units or
  // more (`&` and `;` are delimiters, `amp` is 3 units); its runs of seed words are the text's (a
  // word holds no `&`, and its neighbours are the same characters). That walk's answer stands.
  if (last !== null && last.all === engine.all && last.seed === engine.seed && text.length < last.text.length && text === last.text.replaceAll('&amp;', '&')) return last.screen
  const bytes = engine.encoder.encode(text)
  // As many UTF-8 bytes as code units: every unit is ASCII; DEL (U+007F) is a control ForDLP strips
  // by its general path, outside the argument above.
  if (bytes.length !== text.length || bytes.indexOf(0x7f) !== -1) return null
  const idx = setMatches(s.set, bytes)
  if (idx === null) return null
  const n = s.patterns
  let candidates: Set<CompiledDlpPattern> | null = null
  let controls = false
  let notLineFeeds = false
  let otherControls = false
  let percentOrPlus = false
  let amp = false
  let decodableSegment = false
  let decodableSeedSegment = false
  let seedRun = !s.seed
  const seedSegmentsFrom = n + 5 + DECODABLE_SEGMENT.length
  for (const i of idx) {
    if (i < n) (candidates ??= new Set()).add(engine.all[i]!)
    else if (i === n) controls = true
    else if (i === n + 1) notLineFeeds = true
    else if (i === n + 2) otherControls = true
    else if (i === n + 3) percentOrPlus = true
    else if (i === n + 4) amp = true
    else if (i < seedSegmentsFrom) decodableSegment = true
    else if (i < seedSegmentsFrom + DECODABLE_SEED_SEGMENT.length) decodableSeedSegment = true
    else seedRun = true
  }
  // A segment holding `%` or `+` may decode (its URL decoding).
  if (percentOrPlus) decodableSegment = decodableSeedSegment = true
  const screen = {candidates: candidates ?? NONE, controls, notLineFeeds, otherControls, percentOrPlus, decodableSegment, decodableSeedSegment, seedRun}
  if (amp) lastWithAmp = {all: engine.all, seed: engine.seed, text, screen}
  return screen
}
