/** Normalisation passes of runtime spec §8. All operate on code points. */
import RE2 from 're2'
import {CONFUSABLE_GROUPS} from './confusables.js'
import {isAsciiText} from './ascii-text.js'
import {rememberingLast} from './memo.js'
import {copyUnits, LITTLE_ENDIAN} from './text-units.js'

/**
 * Invisible set I (§8), as the spec defines it: what the tool-description checks
 * (mcp/tools/hidden-intent) and the byte formats mean by an invisible character. The scanner's
 * own normalisation passes use a wider set (INVISIBLE_CLASS below).
 */
export function isInvisible(cp: number): boolean {
  return (
    cp === 0x00ad ||
    (cp >= 0x115f && cp <= 0x1160) ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2060 && cp <= 0x2064) ||
    (cp >= 0x2066 && cp <= 0x2069) ||
    cp === 0x3164 ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    cp === 0xfeff ||
    (cp >= 0xfff9 && cp <= 0xfffb) ||
    (cp >= 0xe0000 && cp <= 0xe007f) ||
    (cp >= 0xe0100 && cp <= 0xe01ef)
  )
}

/** Exotic whitespace set W (§8). */
export function isExoticWhitespace(cp: number): boolean {
  return (
    cp === 0x00a0 ||
    cp === 0x1680 ||
    cp === 0x180e ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  )
}

/**
 * The character classes of the passes below, as V8 regular expressions (code-point mode, so an
 * astral code point is one unit and a lone surrogate is kept, exactly as `mapCodePoints` walks):
 * irregexp scans them in native code, 3–8× faster than a JavaScript predicate per code point
 * (bench: proxy; on a 1 KiB binary body the normalisation passes were a third of the response
 * scan). The differential test in test/unit/scanner/normalize-classes.test.ts checks each
 * against its predicate form (test/unit/scanner/oracles.ts) on every code point. `replace` with a global regex starts at 0 and
 * leaves `lastIndex` at 0, so the shared objects carry no state between calls.
 */
/**
 * The invisible set of the scanner's normalisation passes (strip controls, strip zero-width,
 * invisible as space): I ∪ {U+FFFD}, and a lone surrogate, which every reader of the text (RE2,
 * UTF-8 encoding) takes for U+FFFD. U+FFFD is what a reader shows for bytes it cannot decode and
 * can be written literally into valid UTF-8: a reader of `Ign\uFFFDore all previous
 * instructions` reads the phrase, so the scans read it with U+FFFD removed (pass 1, DLP) or as a
 * space (pass 2). A deliberate departure from the reference, whose I does not hold U+FFFD
 * (docs/compatibility.md); `isInvisible` keeps the spec set for its other users. The class holds
 * I and U+FFFD; the passes read a lone surrogate as the U+FFFD it stands for (`wellFormed`)
 * before the class is searched: a class holding the surrogate range made every search of it
 * about a half slower (irregexp checks pairs for such a class).
 */
const INVISIBLE_CLASS = '\\ufffd\\xad\\u115f\\u1160\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\u3164\\ufe00-\\ufe0f\\ufeff\\ufff9-\\ufffb\\u{e0000}-\\u{e007f}\\u{e0100}-\\u{e01ef}'
const EXOTIC_WS_CLASS = '\\xa0\\u1680\\u180e\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
/** C0, C1 and DEL ∪ the invisible class (after `wellFormed`). */
const CONTROL_RUNS = new RegExp(`[\\0-\\x1f\\x7f-\\x9f${INVISIBLE_CLASS}]+`, 'gu')
/** The same without tab, LF and CR. */
const ZERO_WIDTH_RUNS = new RegExp(`[\\0-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f${INVISIBLE_CLASS}]+`, 'gu')
const EXOTIC_WS_RUNS = new RegExp(`[${EXOTIC_WS_CLASS}]+`, 'gu')
const EXOTIC_WS_ONE = new RegExp(`[${EXOTIC_WS_CLASS}]`, 'gu')

/**
 * One code point of the zero-width class: with the `u` flag an astral invisible is one match, so
 * a constant ' ' gives one space per code point — what a callback counting each run's code
 * points gave, without a call per run (issue 36: a binary body's text runs are full of controls).
 */
const ZERO_WIDTH_ONE = new RegExp(`[\\0-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f${INVISIBLE_CLASS}]`, 'gu')

/** `s` with each lone surrogate as U+FFFD; `s` itself when it has none (a native check). */
function wellFormed(s: string): string {
  return s.isWellFormed() ? s : s.toWellFormed()
}

export function stripControlChars(s: string): string {
  return wellFormed(s).replace(CONTROL_RUNS, '')
}

/** Reused by `compactLatin1` (single-threaded; grown on demand, dropped above 1 MiB). */
let compactScratch: Buffer | null = null

/**
 * `s`, whose every code unit is below U+0100, without the units `keep` maps to 0: its Latin-1
 * bytes copied natively into a reused buffer and compacted in place without a branch. On long
 * ASCII texts this is a fraction of a native replace that pays per match, or of a walk that
 * appends slices (issue 36; text DLP's white-space strip uses it too).
 */
export function compactLatin1(s: string, keep: Uint8Array): string {
  const length = s.length
  let b = compactScratch
  if (b === null || b.length < length) b = Buffer.allocUnsafeSlow(Math.max(length, 4096))
  if (b.length <= 1 << 20) compactScratch = b
  b.write(s, 0, length, 'latin1')
  let n = 0
  for (let i = 0; i < length; i++) {
    const c = b[i]!
    b[n] = c
    n += keep[c]!
  }
  return n === length ? s : b.toString('latin1', 0, n)
}

/** 1 for every byte but the C0 controls. */
const KEEP_NON_CONTROL = Uint8Array.from({length: 256}, (_, c) => (c >= 0x20 ? 1 : 0))

/**
 * `stripControlChars` of a text whose every code unit is below U+007F: its C0 controls removed.
 * A replace pays per match: on a sorted join of short JSON values (a line break every ~9
 * characters) the class replace was 300 µs per 54 KB, 4× a compaction of the text's Latin-1
 * bytes (and `replaceAll` of the line break alone no faster). Texts whose first KiB has few
 * controls (prose lines) are replaced instead: when tab, LF and CR are their only controls, each
 * by a substring replace (a 64 KiB text of lines: ≈ 19 µs against the class replace's ≈ 79;
 * issue 36), else by the class replace.
 */
function stripAsciiControls(s: string): string {
  const length = s.length
  if (length < NATIVE_CLASS_FROM) return stripControlChars(s)
  let sampled = 0
  for (let i = 0; i < 1024 && i < length; i++) if (s.charCodeAt(i) < 0x20) sampled++
  if (sampled * 32 >= Math.min(length, 1024)) return compactLatin1(s, KEEP_NON_CONTROL)
  if ((longAsciiClass(s) & OTHER_C0) === 0) return withoutUnit(withoutUnit(withoutUnit(s, '\n'), '\r'), '\t')
  return stripControlChars(s)
}

/** `s` without any `unit`. */
function withoutUnit(s: string, unit: string): string {
  return s.includes(unit) ? s.replaceAll(unit, '') : s
}

export function stripZeroWidth(s: string): string {
  return wellFormed(s).replace(ZERO_WIDTH_RUNS, '')
}

/**
 * Texts from this length on are classified by native searches (`longAsciiClass`) instead of a
 * JavaScript walk, about half its time on a 64 KiB body (issue 36: `forMatching` and `forDlp`
 * each walked a request body's text once).
 */
const NATIVE_CLASS_FROM = 256

/** `longAsciiClass` bits: a unit at or above U+0080; DEL; a C0 control but tab, LF and CR; tab, LF or CR. */
const NON_ASCII = 1
const DEL = 2
const OTHER_C0 = 4
const LINE_C0 = 8

/** The C0 controls but tab, LF and CR, one string each. */
const OTHER_C0_UNITS: readonly string[] = Array.from({length: 32}, (_, c) => String.fromCharCode(c)).filter((c) => c !== '\t' && c !== '\n' && c !== '\r')

/** The last long text `longAsciiClass` read, and its class (a text is classified by `forDlp` and `forMatching` both, and again by the injection scan). */
let classified: string | null = null
let classOfClassified = 0

/**
 * Which of `NON_ASCII`, `DEL`, `OTHER_C0` and `LINE_C0` a text of `NATIVE_CLASS_FROM` units or
 * more holds (once `NON_ASCII` is found, the others are not looked for). A class search
 * (`/[^\t\n\r\x20-\x7e]/`) reads a 64 KiB text to its end when it finds nothing, at about 1 ns a unit;
 * a substring search per unit looked for (`includes`, memchr-like) reads it thirty times faster:
 * ≈ 20 µs for the 33 searches a plain text takes, against ≈ 70 µs for the class (issue 36). The
 * first KiB is read by the class search first: a text of control bytes (a binary body's text runs)
 * shows one there and needs no other search for it.
 */
function longAsciiClass(s: string): number {
  if (s === classified) return classOfClassified
  let k = 0
  if (!isAsciiText(s)) k = NON_ASCII
  else {
    if (s.includes('\x7f')) k |= DEL
    if (s.includes('\n') || s.includes('\r') || s.includes('\t')) k |= LINE_C0
    if (/[\0-\x08\x0b\x0c\x0e-\x1f]/.test(s.slice(0, 1024)) || OTHER_C0_UNITS.some((c) => s.includes(c))) k |= OTHER_C0
  }
  classified = s
  classOfClassified = k
  return k
}

/** True when `s` has only tab, LF, CR and printable ASCII: a fixed point of the invisible/control passes. */
function isPlainAsciiText(s: string): boolean {
  if (s.length >= NATIVE_CLASS_FROM) return (longAsciiClass(s) & (NON_ASCII | DEL | OTHER_C0)) === 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c > 0x7e) return false
  }
  return true
}

export function replaceInvisibleWithSpace(s: string): string {
  // Nothing to replace in plain ASCII text: return the same string (callers compare by identity).
  if (isPlainAsciiText(s)) return s
  const r = wellFormed(s).replace(ZERO_WIDTH_ONE, ' ')
  // `replace` returns an equal new string when nothing matched; callers compare by identity.
  return r === s ? s : r
}

export function stripExoticWhitespace(s: string): string {
  return s.replace(EXOTIC_WS_RUNS, '')
}

export function mapExoticWhitespace(s: string): string {
  return s.replace(EXOTIC_WS_ONE, ' ')
}

/** Built per call from frozen data; cheap (151 entries) and keeps the module state-free. */
function confusableTable(): Map<number, string> {
  const m = new Map<number, string>()
  for (const [target, sources] of Object.entries(CONFUSABLE_GROUPS)) for (const cp of sources) m.set(cp, target)
  return m
}

/** Only U+0020–U+007E: `forDlp` leaves such a string (and any concatenation of such strings) unchanged. */
export function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c > 0x7e) return false
  }
  return true
}

/**
 * 0 when `s` is printable ASCII (U+0020–U+007E); 1 when it is ASCII below DEL with some C0
 * control (text with line breaks); 2 otherwise: `forDlp`'s two fast paths.
 */
function asciiKind(s: string): 0 | 1 | 2 {
  // A long text by its class (`longAsciiClass`: native searches, kept for the next caller).
  if (s.length >= NATIVE_CLASS_FROM) {
    const k = longAsciiClass(s)
    return (k & (NON_ASCII | DEL)) !== 0 ? 2 : (k & (OTHER_C0 | LINE_C0)) !== 0 ? 1 : 0
  }
  let kind: 0 | 1 = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0x7e) return 2
    if (c < 0x20) kind = 1
  }
  return kind
}

export interface Normalizer {
  confusableToAscii(s: string): string
  stripCombiningMarks(s: string): string
  forDlp(s: string): string
  forMatching(s: string): string
}

/**
 * RE2's own `\p{Mn}` over the Basic Multilingual Plane (surrogates excluded), read from the
 * regex itself one 256-code-unit page at a time, on first use of the page (the page's code
 * units in order with the marks replaced by nothing: the ones missing from the result are the
 * marks). V8's `\p{Mn}` is not used: its Unicode version differs from RE2's.
 */
interface BmpMarks {
  /** 1: a mark; valid once the code unit's page is loaded. */
  readonly marks: Uint8Array
  readonly loaded: Uint8Array
  /** Scratch for the kept code units of texts up to its length. */
  readonly scratch: Uint16Array
  /** Astral pages (code point >> 8) read so far: 1 per mark, as `marks`. */
  readonly astral: Map<number, Uint8Array>
}

/** The most astral pages a normaliser keeps (16 KiB); past them a text with another one goes through RE2 as before. */
const MAX_ASTRAL_PAGES = 64

/** An astral page's marks, read from RE2 itself as the BMP pages are (each code point two units, in order). */
function astralMarkPage(page: number, mn: RE2): Uint8Array {
  const flags = new Uint8Array(256)
  let all = ''
  for (let k = 0; k < 256; k++) all += String.fromCodePoint((page << 8) | k)
  const kept = all.replace(mn, '')
  for (let k = 0, j = 0; k < 256; k++) {
    if (j < kept.length && kept.codePointAt(j) === ((page << 8) | k)) j += 2
    else flags[k] = 1
  }
  return flags
}

function loadMarkPage(t: BmpMarks, page: number, mn: RE2): void {
  const units: number[] = []
  for (let c = page << 8; c < (page + 1) << 8; c++) if (c < 0xd800 || c > 0xdfff) units.push(c)
  const all = String.fromCharCode(...units)
  const kept = all.replace(mn, '')
  for (let i = 0, k = 0; i < all.length; i++) {
    if (k < kept.length && kept.charCodeAt(k) === all.charCodeAt(i)) k++
    else t.marks[all.charCodeAt(i)] = 1
  }
  t.loaded[page] = 1
}

/**
 * `d.replace(mn, '')`, where `d` holds no mark or surrogate before index `from`, by the tables
 * (astral code points by pages read from RE2 too, as many as `MAX_ASTRAL_PAGES`; a lone
 * surrogate becomes U+FFFD, as RE2's UTF-8 reading makes it). The tables are RE2's own set, so the result is the same string;
 * the kept code units are gathered in the normaliser's scratch array and read back in blocks,
 * several times faster than RE2's UTF-8 round trip on a kilobyte of decoded binary (the base64
 * decoding of a cross-request window, bench: cee).
 */
function dropBmpMarks(d: string, from: number, t: BmpMarks, mn: RE2): string {
  // Texts longer than the kept scratch get an array of their own (a large body must not stay
  // allocated per normaliser).
  const buf = d.length <= t.scratch.length ? t.scratch : new Uint16Array(d.length)
  let o = 0
  let changed = false
  for (let i = from; i < d.length; i++) {
    const c = d.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdfff) {
      // Surrogates as RE2 reads them (issue 36: a binary body's text runs hold astral characters,
      // and the whole text went through RE2 for each): a pair is one code point, dropped when
      // its page says it is a mark; a lone surrogate reads as U+FFFD.
      const lo = i + 1 < d.length ? d.charCodeAt(i + 1) : 0
      if (c <= 0xdbff && (lo & 0xfc00) === 0xdc00) {
        const cp = ((c - 0xd800) << 10) + (lo - 0xdc00) + 0x10000
        let page = t.astral.get(cp >> 8)
        if (page === undefined) {
          if (t.astral.size >= MAX_ASTRAL_PAGES) return d.replace(mn, '')
          t.astral.set(cp >> 8, (page = astralMarkPage(cp >> 8, mn)))
        }
        if (page[cp & 0xff] === 1) changed = true
        else {
          buf[o++] = c
          buf[o++] = lo
        }
        i++
        continue
      }
      buf[o++] = 0xfffd
      changed = true
      continue
    }
    if (t.loaded[c >> 8] !== 1) loadMarkPage(t, c >> 8, mn)
    if (t.marks[c] !== 1) buf[o++] = c
    else changed = true
  }
  return changed ? d.slice(0, from) + unitsToString(buf, o) : d
}

export {LITTLE_ENDIAN}

/** The first `n` code units of `buf` as a string. */
export function unitsToString(buf: Uint16Array, n: number): string {
  if (LITTLE_ENDIAN) return Buffer.from(buf.buffer, buf.byteOffset, 2 * n).toString('utf16le')
  let out = ''
  for (let k = 0; k < n; k += 4096) out += String.fromCharCode.apply(null, buf.subarray(k, Math.min(n, k + 4096)) as unknown as number[])
  return out
}

/**
 * The confusable map (§8) by a walk over code units. Every source is non-ASCII and every target
 * one ASCII character: ASCII units are passed over, a BMP source is looked up in a table of
 * targets by code unit, a surrogate pair by its code point, and a lone surrogate is no source —
 * what the code-point regex with a callback per match gave, which cost 2.0 us per 400
 * characters of a binary body's text runs, read four times a response scan (issue 36; checked on
 * every code point in test/unit/scanner/normalize-classes.test.ts).
 */
function confusableWalk(table: ReadonlyMap<number, string>): (s: string) => string {
  // Target character code per BMP code unit (0: not a source), made on the first non-ASCII text.
  let bmp: Uint8Array | null = null
  /** The target of the character at `i` of `at(i)`'s units (0: none) and its width, as target × 4 + width. */
  const targetAt = (at: (i: number) => number, i: number, n: number): number => {
    const c = at(i)
    bmp ??= bmpTargets(table)
    if ((c & 0xfc00) === 0xd800 && i + 1 < n) {
      const lo = at(i + 1)
      if ((lo & 0xfc00) === 0xdc00) {
        const t = table.get(((c - 0xd800) << 10) + (lo - 0xdc00) + 0x10000)
        return (t === undefined ? 0 : t.charCodeAt(0)) * 4 + 2
      }
    }
    return bmp[c]! * 4 + 1
  }
  return (s) => {
    const n = s.length
    const unit = (i: number): number => s.charCodeAt(i)
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) < 0x80) continue
      const t = targetAt(unit, i, n)
      if (t >= 4) return mapFrom(s, i, targetAt)
      i += (t & 3) - 1
    }
    return s
  }
}

/** Reused by `mapFrom` (single-threaded; not kept above 1 M units). */
let confusableScratch = new Uint16Array(0)

/**
 * `s` with every confusable from `first` (the first one) on replaced by its target: the text's
 * units copied natively into an array and mapped there, made a string once (issue 36: a slice
 * and a concatenation per replacement made a Cyrillic text, nearly every letter a confusable, a
 * rope of thousands of pieces; 64 KiB of it ≈ 14 % of a request scan).
 */
function mapFrom(s: string, first: number, targetAt: (at: (i: number) => number, i: number, n: number) => number): string {
  const n = s.length
  let b = confusableScratch
  if (b.length < n) {
    b = new Uint16Array(Math.max(n, 4096))
    if (b.length <= 1 << 20) confusableScratch = b
  }
  copyUnits(s, b)
  const unit = (i: number): number => b[i]!
  // A replaced surrogate pair becomes one unit: the text is written back over itself, behind.
  let w = first
  for (let r = first; r < n; r++) {
    const c = b[r]!
    if (c < 0x80) {
      b[w++] = c
      continue
    }
    const t = targetAt(unit, r, n)
    if (t >= 4) b[w++] = t >> 2
    else {
      b[w++] = c
      if ((t & 3) === 2) b[w++] = b[r + 1]!
    }
    r += (t & 3) - 1
  }
  return unitsToString(b, w)
}

function bmpTargets(table: ReadonlyMap<number, string>): Uint8Array {
  const t = new Uint8Array(65536)
  for (const [cp, target] of table) if (cp <= 0xffff) t[cp] = target.charCodeAt(0)
  return t
}

/**
 * A reading of texts that agrees with `slow` where it answers and declines (null) elsewhere: the
 * pass-text builder's table walk (`pass-texts.ts` `tableReading`), passed in by the scanners
 * (that module builds on this one).
 */
export type TableReading = (slow: (s: string) => string) => (s: string) => string | null

/**
 * A normaliser holds its compiled tables; build one per scanner, not per call. With `tables`,
 * `forMatching` and `forDlp` read a text the table walk takes through it, any other the slow way.
 */
export function createNormalizer(tables?: TableReading): Normalizer {
  const table = confusableTable()
  const mn = new RE2('\\p{Mn}+', 'gu')
  const confusableToAscii = confusableWalk(table)
  // NFD then drop Mn; the result stays decomposed (§8).
  // Allocated on the first text with a code unit ≥ U+0300 (72 KiB; most scanners never need it).
  let bmpMarks: BmpMarks | null = null
  const marks = (): BmpMarks => (bmpMarks ??= {marks: new Uint8Array(65536), loaded: new Uint8Array(256), scratch: new Uint16Array(4096), astral: new Map()})
  const stripCombiningMarks = (s: string): string => {
    const d = s.normalize('NFD')
    // Every \p{Mn} code point is ≥ U+0300, and U+FFFD (what undecodable bytes become) is not
    // one: without another such code unit there is nothing to drop.
    for (let i = 0; i < d.length; i++) {
      const c = d.charCodeAt(i)
      if (c >= 0x300 && c !== 0xfffd) return dropBmpMarks(d, i, marks(), mn)
    }
    return d
  }
  // `forMatching` (by the table walk where it takes the text, else the slow way), remembering
  // its last text: a request body's text is read by text DLP's seed-phrase step and then, where
  // the injection scan reads strings (no pass bytes: `injection-screen.ts`), by its first pass;
  // with pass bytes the injection scan writes its own pass texts and the memo serves the seed
  // step alone. A binary body's text runs (control characters, scripts of every kind) cost
  // ≈ 8 µs per 450 units to read the slow way (issue 36).
  const slowMatching = (s: string): string => mapExoticWhitespace(stripCombiningMarks(confusableToAscii(stripZeroWidth(s).normalize('NFKC'))))
  const slowDlp = (s: string): string => stripCombiningMarks(confusableToAscii(stripExoticWhitespace(stripControlChars(s)).normalize('NFKC')))
  const matchingTable = tables?.(slowMatching)
  const dlpTable = tables?.(slowDlp)
  const matchingRead = rememberingLast(matchingTable === undefined ? slowMatching : (s) => matchingTable(s) ?? slowMatching(s))
  return {
    confusableToAscii,
    stripCombiningMarks,
    // Printable ASCII is a fixed point of both pipelines (no controls, invisibles, exotic
    // whitespace, compatibility forms, confusables or marks): skip the Unicode passes.
    // ASCII with C0 controls (text with line breaks) is printable ASCII once they are stripped:
    // the other passes leave it as it is.
    forDlp: (s) => {
      const kind = asciiKind(s)
      if (kind === 0) return s
      if (kind === 1) return stripAsciiControls(s)
      return dlpTable?.(s) ?? slowDlp(s)
    },
    // ForMatching keeps tab, LF and CR, so plain ASCII text with line breaks is a fixed point too
    // (every invisible, confusable, mark and exotic space is non-ASCII; NFKC/NFD fix ASCII).
    forMatching: (s) => (isPlainAsciiText(s) ? s : matchingRead(s)),
  }
}

const LEET: Readonly<Record<string, string>> = {'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's'}

/** An ASCII map as a table: entry c is the code c becomes (c itself when kept), and the codes it changes. */
interface AsciiMap {
  readonly table: Uint8Array
  readonly changed: readonly number[]
}

function asciiMap(map: (c: number) => string | null): AsciiMap {
  const table = new Uint8Array(128)
  const changed: number[] = []
  for (let c = 0; c < 128; c++) {
    const r = map(c)
    table[c] = r === null ? c : r.charCodeAt(0)
    if (r !== null) changed.push(c)
  }
  return {table, changed}
}

const LEET_MAP = asciiMap((c) => LEET[String.fromCharCode(c)] ?? null)
const FOLD_MAP = asciiMap((c) => (c === 0x65 || c === 0x69 || c === 0x6f || c === 0x75 ? 'a' : c === 0x45 || c === 0x49 || c === 0x4f || c === 0x55 ? 'A' : null))

/**
 * Replaces single ASCII code units through `m` (every replacement is one ASCII character). Walking
 * UTF-16 code units is then the same as walking code points: surrogates are never mapped. A short
 * text copies its unchanged runs as slices; a long one is mapped unit by unit into an array (as
 * bytes when all ASCII), made a string once — a long text with one non-ASCII character used to
 * take the slices, a concatenation per vowel (issue 36: prose pages).
 */
function mapAsciiUnits(s: string, m: AsciiMap): string {
  if (s.length >= 1024) return isAllAscii(s) ? mapAsciiBytes(s, m) : mapUnits(s, m)
  let out = ''
  let from = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0x7f || m.table[c] === c) continue
    out += s.slice(from, i) + String.fromCharCode(m.table[c]!)
    from = i + 1
  }
  return from === 0 ? s : out + s.slice(from)
}

function isAllAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false
  return true
}

/** Whether `s` holds a code `m` changes. */
function anyChanged(s: string, m: AsciiMap): boolean {
  return m.changed.some((c) => s.includes(String.fromCharCode(c)))
}

/**
 * Long all-ASCII texts (a big response body): map byte by byte through the table instead of
 * concatenating thousands of slices.
 */
function mapAsciiBytes(s: string, m: AsciiMap): string {
  if (!anyChanged(s, m)) return s
  const b = Buffer.from(s, 'latin1')
  for (let i = 0; i < b.length; i++) b[i] = m.table[b[i]!]!
  return b.toString('latin1')
}

/** Long texts with non-ASCII units: each unit through the table into an array (surrogates and all non-ASCII copied). */
function mapUnits(s: string, m: AsciiMap): string {
  if (!anyChanged(s, m)) return s
  const u = new Uint16Array(s.length)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    u[i] = c < 0x80 ? m.table[c]! : c
  }
  return unitsToString(u, u.length)
}

export function leetspeak(s: string): string {
  return mapAsciiUnits(s, LEET_MAP)
}

/** `a e i o u → a`, `A E I O U → A`. */
export function foldVowels(s: string): string {
  return mapAsciiUnits(s, FOLD_MAP)
}

