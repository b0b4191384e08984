/**
 * Response passes 1, 2, 3 and 5 (§7) in one walk over the content, character by character for
 * the code units in the walk's domain: every unit below U+0300, U+FFFD, and every other BMP character
 * that starts a normalisation segment of its own (`startsSegment`, `PassTextBuilder.takes`) — plain and Latin text,
 * Greek, Cyrillic, CJK, Arabic, arrows and box drawing, and what a binary body becomes as UTF-8
 * with replacement characters (bench: proxy; on the proxy benchmark's 1 KiB binary body the four
 * normalised copies were half the response scan's core floor; issue 36: a Cyrillic or Greek page
 * and a binary body's text runs took the normaliser's general path, about three times the cost).
 *
 * Why a per-character table gives the same strings as the passes. The passes are forMatching
 * (strip zero-width, NFKC, confusables, NFD and drop Mn, exotic whitespace), the same after
 * invisibles become spaces, and leetspeak and the vowel fold of the first. All but NFKC and NFD
 * are per code point. NFKC and NFD act on a text segment by segment, a segment starting at each
 * character that nothing before it can join: canonical reordering moves only marks (every
 * character with a non-zero combining class is a mark), and composition joins a character to the
 * one before it only when it is a mark or a Hangul vowel or final jamo. A domain character
 * outside U+0000–U+02FF is neither, and neither is the first character of its NFD or NFKD
 * (`startsSegment`), so each domain character starts a segment and is normalised on its own;
 * below U+0300 there are no marks or jamo and no decomposition starting with one, and U+FFFD is
 * in the normaliser's invisible set (removed from pass 1's text and a space in pass 2's). The
 * confusable map sends non-ASCII to ASCII only, so it makes no mark that NFD could move. Each
 * table entry is the real pass applied to that one character (built from the normaliser as
 * characters are first seen, not written out here); a character whose entry is wider than the
 * tables hold (U+FDFA is 18 units) or holds a surrogate is declined, as is any astral character.
 * Inert marks (`inertMark`: non-spacing, composing with nothing, of a non-zero class) are in the
 * domain too, with empty entries: the passes drop them wherever they stand.
 * A text holding characters outside the domain is still walked (`passBytes`): around each, the
 * stretch from the last character before it that starts a segment and that stripZeroWidth keeps
 * up to the next such character goes through the normaliser on its own. Both ends of a stretch
 * start a segment in every pass, so the pass texts of the whole are those of the pieces,
 * concatenated.
 * The differential tests check the claim on every pair below U+0300 and random texts
 * (test/unit/scanner/pass-texts-differential.test.ts), and the rule against the runtime's Unicode
 * data on every code point, every other BMP domain character beside the characters likeliest to
 * join it, and texts of many scripts (test/unit/scanner/pass-texts-scripts.test.ts).
 */
import {foldVowels, leetspeak, LITTLE_ENDIAN, replaceInvisibleWithSpace} from './normalize.js'
import {plainRegion, plainRegionHolds, type PlainRegion} from './plain-maps-wasm.js'
import {startsAscii} from './ascii-text.js'
import {copyUnits} from './text-units.js'

/** The four texts of one content: forMatching, invisible-as-space then forMatching, leetspeak and vowel-folded forMatching. */
export interface PassTexts {
  readonly normalized: string
  readonly invisible: string
  readonly leet: string
  readonly folded: string
}

/**
 * The same four texts as UTF-8 bytes, what the RE2::Set pre-filters read (bench: proxy; the four
 * UTF-16 strings and their re-encoding were ≈ 10 KB and a tenth of the scan per 1 KiB body, and
 * a string is needed only when a set names a candidate pattern). The buffers are views of the
 * builder's scratch: valid while `builder.current(this)` holds (the next `passBytes` call reuses it).
 */
export interface PassBytes {
  readonly normalized: Buffer
  readonly invisible: Buffer
  readonly leet: Buffer
  readonly folded: Buffer
  /** Which `passBytes` call of the builder wrote them. */
  readonly generation: number
  /** True when `normalized` is the text's own code units, one byte each (a plain text: `MappedPassBytes`). */
  readonly plain?: boolean
}

export type PassName = 'normalized' | 'invisible' | 'leet' | 'folded'

/**
 * Code units below this are their own table index (no marks, no jamo: always in the domain);
 * every other domain character gets the next free index the first time a text holds it
 * (`PassTextBuilder.slotOf`), so the tables grow with the characters seen, not with the BMP.
 */
const DOMAIN = 0x300
/** `slotOf` entry of a character the builder declined (its entry would not fit the tables). */
const DECLINED = 0xffff
/** Past this many units of output per text (≈ 350,000 code units of content) the passes run as before. */
const MAX_UNITS = 1 << 20
/** The largest scratch a builder keeps between walks (`passes` of texts up to ≈ 10,900 code units, `forMatching` up to 65,536). */
const KEEP_BYTES = 256 * 1024
/** Entries of `one`: the character maps to nothing, or to more than one unit (see `many`). */
const NONE = -1
const MANY = -2

/** An entry not computed yet: each character goes through the normaliser the first time it is seen. */
const UNKNOWN = -3
/** The entry of a character below DOMAIN whose pass texts do not fit the tables (none, on the normaliser as written). */
const DECLINED_ENTRY = -4
/** Slots the tables hold at first (the fixed range and room for a page of other characters). */
const FIRST_SLOTS = DOMAIN + 256
const WIDEST = 3
/** UTF-8 table slots per domain character and pass: WIDEST units of at most three bytes (no surrogates in the domain's outputs). */
const SLOT = 9
/** Characters outside the domain fewer than this many units apart are read in one stretch (`PassTextBuilder.stretchEnd`). */
const NEAR = 32
/** From this length a text of long stretches, or mostly stretches, takes the string path (`PassTextBuilder.mostlyStretches`). */
const MOSTLY_STRETCHES_FROM = 1024
const LONG_STRETCH = 256
/**
 * Past this many bytes of scratch (four texts) the UTF-8 walk declines and the passes take the
 * string walk. 32 MiB: the text runs of a 2 MB shared library are ≈ 830,000 units, whose scratch
 * (three bytes a unit, four texts) is ≈ 10 MB; at 8 MiB such a body took the string walk at half
 * the rate. The scratch is allocated for the walk and not kept above `KEEP_BYTES`.
 */
const MAX_BYTES = 1 << 25
/** The UTF-8 tables' second entry per slot: pass 2's (pass 1's is the first). */
const P2 = 1
/**
 * How the UTF-8 walks write a character: not learnt yet; pass 2 the same as pass 1, which is one
 * byte, a word of at most four bytes, or longer (copied from the table); pass 2 apart from pass 1
 * (an invisible character: pass 2 reads it as a space); declined.
 */
const SHAPE_UNKNOWN = 0
const SHAPE_BYTE = 1
const SHAPE_WORD = 2
const SHAPE_LONG = 3
const SHAPE_APART = 4
const SHAPE_DECLINED = 5

/** What each domain character becomes in one pass: one unit, nothing, several units, or not known yet. */
interface UnitMap {
  readonly one: Int32Array
  readonly many: Array<readonly number[] | undefined>
}

function emptyMap(slots: number): UnitMap {
  return {one: new Int32Array(slots).fill(UNKNOWN), many: []}
}

/** `map` with room for `slots` entries (the new ones not known yet). */
function grownMap(map: UnitMap, slots: number): UnitMap {
  const one = new Int32Array(slots).fill(UNKNOWN)
  one.set(map.one)
  return {one, many: map.many}
}

/** `a` copied into an array of `n` elements of its kind (the rest 0). */
function grown<T extends Uint8Array | Int8Array | Int32Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n)
  b.set(a)
  return b
}

function learn(map: UnitMap, k: number, t: string): void {
  if (t.length > 1) map.many[k] = Array.from(t, (_, i) => t.charCodeAt(i))
  map.one[k] = t.length === 0 ? NONE : t.length === 1 ? t.charCodeAt(0) : MANY
}

/** Writes the `n` (0–4) bytes packed in `w`, low byte first, at `o`; returns the offset after them. */
function putWord(buf: Buffer, o: number, w: number, n: number): number {
  if (n === 1) {
    buf[o] = w
    return o + 1
  }
  if (n === 0) return o
  buf[o] = w & 0xff
  buf[o + 1] = (w >> 8) & 0xff
  if (n === 2) return o + 2
  buf[o + 2] = (w >> 16) & 0xff
  if (n === 3) return o + 3
  buf[o + 3] = w >>> 24
  return o + 4
}

/** Copies the `n` bytes of `table` at `at` to `buf` at `o`; returns the offset after them. */
function putLong(buf: Buffer, o: number, table: Uint8Array, at: number, n: number): number {
  for (let j = 0; j < n; j++) buf[o + j] = table[at + j]!
  return o + n
}

/** The table slot of the code unit `c` (itself below DOMAIN), or -1: not met yet, or declined. */
function slotIn(c: number, slotOf: Uint16Array): number {
  if (c < DOMAIN) return c
  const k = slotOf[c]!
  return k === 0 || k === DECLINED ? -1 : k
}

/**
 * The UTF-8 walk of a text whose pass 2 is pass 1 so far (a function of its own so it stays a
 * tight optimised loop): writes pass 1 of the text `units[from, to)` into `buf` at `ends[0]` and
 * leaves the offset after it there. Leetspeak and the vowel fold are not written: they map pass 1's ASCII
 * bytes one to one and leave the others (a UTF-8 sequence's bytes are all ≥ 0x80), so they are
 * pass 1's bytes mapped, on first read (`MappedPassBytes`). Stops at a character outside the
 * domain, not learnt yet, or whose pass 2 is apart from its pass 1; returns where it stopped
 * (`to` when it wrote the whole range).
 */
function writePassOne(units: Uint16Array, from: number, to: number, buf: Buffer, slotOf: Uint16Array, shapes: Uint8Array, words: Int32Array, lens: Int8Array, table: Uint8Array, ends: Int32Array): number {
  let o1 = ends[0]!
  let i = from
  for (; i < to; i++) {
    const k = slotIn(units[i]!, slotOf)
    if (k < 0) break
    const shape = shapes[k]!
    const e = 2 * k
    // One byte (ASCII: most of any text); a word (most non-ASCII letters); longer.
    if (shape === SHAPE_BYTE) buf[o1++] = words[e]!
    else if (shape === SHAPE_WORD) o1 = putWord(buf, o1, words[e]!, lens[e]!)
    else if (shape === SHAPE_LONG) o1 = putLong(buf, o1, table, SLOT * e, lens[e]!)
    else break
  }
  ends[0] = o1
  return i
}

/**
 * `writePassOne` once pass 2 has parted from pass 1: writes both, pass 2 at `ends[1]`; stops at a
 * character outside the domain or not learnt yet.
 */
function writePassOneTwo(units: Uint16Array, from: number, to: number, buf: Buffer, slotOf: Uint16Array, shapes: Uint8Array, words: Int32Array, lens: Int8Array, table: Uint8Array, ends: Int32Array): number {
  let o2 = ends[1]!
  let o1 = ends[0]!
  for (; from < to; from++) {
    const k = slotIn(units[from]!, slotOf)
    if (k < 0) break
    const e = 2 * k
    const shape = shapes[k]!
    if (shape === SHAPE_BYTE) {
      const w = words[e]!
      buf[o1++] = w
      buf[o2++] = w
    } else if (shape === SHAPE_WORD) {
      const w = words[e]!
      const n = lens[e]!
      o1 = putWord(buf, o1, w, n)
      o2 = putWord(buf, o2, w, n)
    } else if (shape === SHAPE_APART) {
      const n1 = lens[e]!
      const n2 = lens[e + P2]!
      o1 = n1 <= 4 ? putWord(buf, o1, words[e]!, n1) : putLong(buf, o1, table, SLOT * e, n1)
      o2 = n2 <= 4 ? putWord(buf, o2, words[e + P2]!, n2) : putLong(buf, o2, table, SLOT * (e + P2), n2)
    } else if (shape === SHAPE_LONG) {
      const n = lens[e]!
      o1 = putLong(buf, o1, table, SLOT * e, n)
      o2 = putLong(buf, o2, table, SLOT * e, n)
    } else break
  }
  ends[0] = o1
  ends[1] = o2
  return from
}

/** `PassTextBuilder.oneUnit` entry of a code unit read otherwise than as one unit below U+FFFF (or not learnt, or outside the domain). */
const NOT_ONE = 0xffff

/**
 * Pass 1 of the text `units[from, to)` as UTF-16 units (a function of its own so it stays a tight
 * optimised loop): written into `v` from `state[0]` (writes past its end are dropped), which it
 * leaves after them; `state[1]` becomes non-zero once a character reads as other than itself. A
 * character that reads as one unit is looked up in `oneUnit` by its code, with no branch on its
 * kind (issue 36: a Cyrillic text mixes ASCII and letters, confusables and others; the walk
 * branching on them took ≈ 133 µs on 38,000 units, ≈ 112 with the lookup); the others go
 * through the slot tables. Stops at a character outside the domain or not learnt yet; returns
 * where it stopped (`to` when it read the whole range).
 */
function readPassOne(units: Uint16Array, from: number, to: number, v: Uint16Array, state: Int32Array, oneUnit: Uint16Array, slotOf: Uint16Array, one: Int32Array, many: Array<readonly number[] | undefined>): number {
  let n = state[0]!
  let changed = state[1]!
  let i = from
  for (; i < to; i++) {
    const c = units[i]!
    const d = oneUnit[c]!
    if (d !== NOT_ONE) {
      v[n++] = d
      changed |= d ^ c
      continue
    }
    let k = c
    if (c >= DOMAIN) {
      k = slotOf[c]!
      if (k === 0 || k === DECLINED) break
    }
    const u = one[k]!
    if (u === NONE) changed = 1
    else if (u === MANY) {
      for (const w of many[k]!) v[n++] = w
      changed = 1
    } else if (u >= 0) {
      // U+FFFF itself, which `oneUnit` cannot hold.
      v[n++] = u
      changed |= u ^ c
    } else break
  }
  state[0] = n
  state[1] = changed
  return i
}

/** A per-ASCII-unit map (leetspeak, the vowel fold) as a table; every such map is one unit to one unit. */
function asciiTable(f: (s: string) => string): Uint16Array {
  return Uint16Array.from({length: 128}, (_, c) => {
    const r = f(String.fromCharCode(c))
    if (r.length !== 1) throw new Error('per-unit ASCII map expected')
    return r.charCodeAt(0)
  })
}

/**
 * What can join the character before it under NFKC or NFD: a mark (general category M: every
 * character with a non-zero combining class, and the vowel signs that compose with the consonant
 * before them), and the Hangul vowel and final jamo (which compose with a leading jamo or an LV
 * syllable). Read at a text's start.
 */
const JOINS_BEFORE = /^[\p{M}\u1160-\u11ff\ud7b0-\ud7ff]/u

/** `startsSegment` per BMP code unit, decided on first use: 0 not yet, 1 yes, 2 no. */
const SEGMENT_START = new Uint8Array(0x10000)

/**
 * Whether the BMP code unit `c` is in the walk's domain: below U+0300, U+FFFD, or a character
 * that starts a normalisation segment of its own — not a surrogate, and neither it nor the first
 * character of its NFD and NFKD can join the character before it (`JOINS_BEFORE`). See the file
 * comment for why such characters are normalised one by one.
 */
export function startsSegment(c: number): boolean {
  if (c < DOMAIN || c === 0xfffd) return true
  let r = SEGMENT_START[c]!
  if (r === 0) {
    const ch = String.fromCharCode(c)
    const starts = (c < 0xd800 || c > 0xdfff) && !JOINS_BEFORE.test(ch) && !JOINS_BEFORE.test(ch.normalize('NFD')) && !JOINS_BEFORE.test(ch.normalize('NFKD'))
    SEGMENT_START[c] = r = starts ? 1 : 2
  }
  return r === 1
}

/**
 * Per BMP code unit, 1 when it is part of some character's canonical decomposition (so it may be
 * the second character of a composition); made on first use (`inertMark`) from the runtime's own
 * normaliser over every code point, a block of 256 at a time (most blocks have no decomposition:
 * one NFD call shows it). About 20–30 ms, once per process.
 */
let inDecompositions: Uint8Array | undefined

function decompositionUnits(): Uint8Array {
  if (inDecompositions !== undefined) return inDecompositions
  const t = new Uint8Array(0x10000)
  const units = new Uint16Array(512)
  for (let block = 0; block < 0x110000; block += 256) {
    if (block >= 0xd800 && block < 0xe000) continue
    let n = 0
    for (let cp = block; cp < block + 256; cp++) {
      if (cp < 0x10000) units[n++] = cp
      else {
        units[n++] = 0xd800 + ((cp - 0x10000) >> 10)
        units[n++] = 0xdc00 + ((cp - 0x10000) & 0x3ff)
      }
    }
    const text = Buffer.from(units.buffer, 0, 2 * n).toString('utf16le')
    if (text.normalize('NFD') === text) continue
    for (let cp = block; cp < block + 256; cp++) {
      const ch = String.fromCodePoint(cp)
      const d = ch.normalize('NFD')
      if (d !== ch) for (let i = 0; i < d.length; i++) t[d.charCodeAt(i)] = 1
    }
  }
  return (inDecompositions = t)
}

/** `inertMark` per BMP code unit, decided on first use: 0 not yet, 1 yes, 2 no. */
const INERT = new Uint8Array(0x10000)

/**
 * Whether the BMP code unit `c` is a mark the passes drop wherever it stands, without changing
 * what is around it: a non-spacing mark (general category Mn) with a non-zero combining class
 * (canonical ordering moves it past U+0301 or U+0316), no decomposition of its own, and part of
 * no character's canonical decomposition (so it composes with nothing). NFKC leaves such a mark
 * in the run of marks after the last starter: it joins no composition, and it blocks none, as
 * ordering puts it before a mark only when its class is lower. The confusable map and NFD leave
 * it as it is, and the mark strip drops it. The builder also requires both passes to read it as
 * nothing on its own (`PassTextBuilder.slot`); the walk writes nothing for it. Not a stretch's
 * end (`startsSegment` is): a composing mark after it may join the character before it.
 */
export function inertMark(c: number): boolean {
  let r = INERT[c]!
  if (r === 0) {
    const ch = String.fromCharCode(c)
    const ordered = (p: string): boolean => (ch + p).normalize('NFD') === (p + ch).normalize('NFD')
    const inert = c >= DOMAIN && (c < 0xd800 || c > 0xdfff) && /^\p{Mn}$/u.test(ch) && ch.normalize('NFKD') === ch && (ordered('\u0301') || ordered('\u0316')) && decompositionUnits()[c] === 0
    INERT[c] = r = inert ? 1 : 2
  }
  return r === 1
}

/** Shared by builders that have met no character at or above DOMAIN yet: every entry 0 (not learnt). */
const NO_SLOTS = new Uint16Array(0x10000)

/** Below this many characters the table walk is as quick as the plain path. */
const PLAIN_MIN = 64

/** PLAIN[b]: 1 for the plain bytes (tab, LF, CR, 0x20–0x7E). */
const PLAIN: Uint8Array = Uint8Array.from({length: 256}, (_, b) => (b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b <= 0x7e) ? 1 : 0))

/**
 * `byteMaps(…)[b]`: byte b's leetspeak byte | its vowel-folded byte << 8 (made per builder from
 * its per-ASCII-unit tables): an ASCII byte mapped, any other kept (a byte of a UTF-8 sequence).
 */
function byteMaps(leet: Uint16Array, fold: Uint16Array): Uint32Array {
  return Uint32Array.from({length: 256}, (_, b) => (b < 128 ? leet[b]! | (fold[b]! << 8) : b | (b << 8)))
}

/** Bit 7 of each byte set where that byte of `x`, a word of ASCII bytes, may not be plain: below 0x20 (`(x − 0x20202020) & ~x`) or 0x7F (`x + 0x01010101`). */
function mayNotBePlain(x: number): number {
  return ((x - 0x20202020) & ~x) | (x + 0x01010101)
}

/**
 * Whether the `len` ASCII bytes at the start of `buf` are all plain (no control but tab, LF and
 * CR, no DEL). On a little-endian machine four words (sixteen bytes) are tested at once (`words`
 * views `buf`): a byte below 0x20 or equal to 0x7F in a word of ASCII bytes sets a top bit of
 * `mayNotBePlain`, and only a block with such a bit is read byte by byte (issue 36: a word at a
 * time this was 40 µs a 64 KiB text, sixteen bytes at a time 20–29 µs, in process).
 */
function allPlain(buf: Uint8Array, words: Uint32Array | null, len: number): boolean {
  let i = 0
  if (words !== null) {
    const n4 = len >> 2
    let j = 0
    for (; j + 4 <= n4; j += 4) {
      if (((mayNotBePlain(words[j]!) | mayNotBePlain(words[j + 1]!) | mayNotBePlain(words[j + 2]!) | mayNotBePlain(words[j + 3]!)) & 0x80808080) !== 0) {
        for (let k = 4 * j, end = k + 16; k < end; k++) if (PLAIN[buf[k]!] === 0) return false
      }
    }
    i = 4 * j
  }
  for (; i < len; i++) if (PLAIN[buf[i]!] === 0) return false
  return true
}

/**
 * Leetspeak and the vowel fold of two bytes at once: entry `b0 | b1 << 8` is the two bytes
 * mapped, in the same order. Both maps are one ASCII byte to one ASCII byte and keep every other
 * byte (a byte of a UTF-8 sequence), so a pair maps as its two bytes do. Made on first use, shared by every builder: its tables are those of `leetspeak`
 * and `foldVowels` themselves (`asciiTable`), the same for every normaliser. 2 × 128 KiB.
 */
interface PairMaps {
  readonly leet: Uint16Array
  readonly fold: Uint16Array
}

let pairMapsMade: PairMaps | undefined

function pairMaps(): PairMaps {
  if (pairMapsMade === undefined) {
    const l = asciiTable(leetspeak)
    const f = asciiTable(foldVowels)
    const leet = new Uint16Array(1 << 16)
    const fold = new Uint16Array(1 << 16)
    for (let x = 0; x < 1 << 16; x++) {
      const b0 = x & 0xff
      const b1 = x >> 8
      leet[x] = (b0 < 128 ? l[b0]! : b0) | ((b1 < 128 ? l[b1]! : b1) << 8)
      fold[x] = (b0 < 128 ? f[b0]! : b0) | ((b1 < 128 ? f[b1]! : b1) << 8)
    }
    pairMapsMade = {leet, fold}
  }
  return pairMapsMade
}

/**
 * Leetspeak and the vowel fold of the `len` bytes of pass 1 at the start of `buf`, written at `at`
 * and `2 × at` (`at` ≥ `len`, a multiple of 4). On a little-endian machine four bytes are read as
 * one 32-bit word and each half looked up in the pair tables (`pairMaps`): two table reads per
 * map and word where one per byte (`maps`) was, and no byte assembly (issue 36: the map by
 * bytes was 62 µs of a 64 KiB HTML page, by pairs 31–36 µs, in process). `words` views `buf`
 * from its start.
 */
function mapBytes(buf: Uint8Array, words: Uint32Array | null, len: number, at: number, maps: Uint32Array): void {
  let i = 0
  if (words !== null) {
    const {leet, fold} = pairMaps()
    const q = at >> 2
    for (let j = 0, n4 = len >> 2; j < n4; j++, i += 4) {
      const x = words[j]!
      const lo = x & 0xffff
      const hi = x >>> 16
      words[q + j] = leet[lo]! | (leet[hi]! << 16)
      words[2 * q + j] = fold[lo]! | (fold[hi]! << 16)
    }
  }
  for (; i < len; i++) {
    const v = maps[buf[i]!]!
    buf[at + i] = v
    buf[2 * at + i] = v >> 8
  }
}

/**
 * `passBytes` as the walks leave them: pass 1's `len` bytes at the start of `buf`; pass 2 the same
 * bytes (`invisible` null: a plain text, or a text without invisible characters) or its own;
 * leetspeak and the vowel fold, pass 1's bytes mapped one to one, written at `at` and `2 × at` on
 * first read (issue 36: where the screen walk rules passes 3 and 5 out, neither is read). Read
 * them only while `current`: the scratch is then still this text's. `region`: the text lies in
 * the WebAssembly module's leased region (`plain-maps-wasm.ts`), which maps it; else in the
 * builder's own scratch, mapped by `mapBytes`.
 */
class MappedPassBytes implements PassBytes {
  private mapped = false

  constructor(
    private readonly buf: Buffer,
    private readonly words: Uint32Array | null,
    private readonly maps: Uint32Array,
    private readonly len: number,
    private readonly at: number,
    readonly generation: number,
    private readonly region: {readonly in: PlainRegion; readonly lease: number} | null,
    invisible: Buffer | null,
    readonly plain = false,
  ) {
    this.normalized = buf.subarray(0, len)
    this.invisible = invisible ?? this.normalized
  }

  readonly normalized: Buffer
  readonly invisible: Buffer

  /** False once another builder has leased the region this text lies in (its bytes are gone). */
  get live(): boolean {
    return this.region === null || this.region.in.holds(this.region.lease)
  }

  get leet(): Buffer {
    this.map()
    return this.buf.subarray(this.at, this.at + this.len)
  }

  get folded(): Buffer {
    this.map()
    return this.buf.subarray(2 * this.at, 2 * this.at + this.len)
  }

  private map(): void {
    if (this.mapped) return
    if (this.region !== null) this.region.in.map(this.len, this.at)
    else mapBytes(this.buf, this.words, this.len, this.at, this.maps)
    this.mapped = true
  }
}

/**
 * One per normaliser; each domain character goes through the normaliser the first time a text
 * has it (no start-up cost). Holds a scratch buffer, so one instance serves one thread. The four strings are assembled as UTF-16LE
 * in the scratch in one walk and each decoded in one call (`String.fromCharCode` per text cost
 * ten times as much).
 */
export class PassTextBuilder {
  /** Pass 1 (forMatching) and pass 2 (invisibles as spaces, then forMatching) per character. */
  private normalized: UnitMap
  private invisible: UnitMap
  private readonly leet: Uint16Array
  private readonly fold: Uint16Array
  /** Most units one character the tables hold becomes in a pass (a wider one is declined when learnt). */
  private readonly widest = WIDEST
  private scratch: Buffer = Buffer.allocUnsafeSlow(0)
  private view: Uint16Array<ArrayBufferLike> = new Uint16Array(0)

  private readonly normalizer: (s: string) => string

  /**
   * The table index (slot) of each code unit at or above DOMAIN: 0 not met yet, DECLINED outside
   * the domain or too wide for the tables, else the slot its entries hold (slots from DOMAIN on,
   * given out in the order the characters are first met). `NO_SLOTS` until the first such unit.
   */
  private slotOf: Uint16Array = NO_SLOTS
  /** The next free slot, and how many the tables hold. */
  private nextSlot = DOMAIN
  private slots = FIRST_SLOTS

  /**
   * The UTF-8 tables: for slot k and pass p (pass 1 = 0, P2), `utf8Len[2k + p]` bytes at
   * `utf8[SLOT × (2k + p)]`, and when they are at most four also packed little-end first in
   * `utf8Word[2k + p]`; `utf8Shape[k]` says how the walks write k (SHAPE_*). Leetspeak and the
   * vowel fold have no entries: they are pass 1's bytes mapped. `utf8Width` is the most bytes
   * any learnt character gives one pass: the scratch holds four regions of `width × length` bytes.
   */
  private utf8 = new Uint8Array(FIRST_SLOTS * 2 * SLOT)
  private utf8Len = new Int8Array(FIRST_SLOTS * 2)
  private utf8Word = new Int32Array(FIRST_SLOTS * 2)
  private utf8Shape = new Uint8Array(FIRST_SLOTS)
  private utf8Width = 3
  private bytesScratch: Buffer = Buffer.allocUnsafeSlow(0)
  /** Where the UTF-8 walk's pass 1 and pass 2 end in the scratch. */
  private readonly ends = new Int32Array(2)
  private generation = 0

  /** The normaliser's `forMatching` the tables are learnt from (a scanner with another normaliser must not use them). */
  readonly source: (s: string) => string

  constructor(forMatching: (s: string) => string) {
    this.source = forMatching
    this.normalizer = forMatching
    this.normalized = emptyMap(FIRST_SLOTS)
    this.invisible = emptyMap(FIRST_SLOTS)
    this.leet = asciiTable(leetspeak)
    this.fold = asciiTable(foldVowels)
    this.byteMaps = byteMaps(this.leet, this.fold)
  }

  /**
   * The slot of code unit `c`, its entries learnt through the normaliser first when it is met for
   * the first time (each character once per builder); -1 when `c` is outside the domain or its
   * entries do not fit the tables (more than WIDEST units in a pass, or a surrogate).
   */
  private slot(c: number): number {
    if (c < DOMAIN) {
      const shape = this.utf8Shape[c]!
      if (shape === SHAPE_UNKNOWN) return this.learn(c, c) ? c : -1
      return shape === SHAPE_DECLINED ? -1 : c
    }
    const k = this.slotOf[c]!
    if (k === DECLINED) return -1
    if (k !== 0) return k
    if (this.slotOf === NO_SLOTS) this.slotOf = new Uint16Array(0x10000)
    if (!(startsSegment(c) || this.readsAsNothing(c)) || !this.learn(c, this.nextSlot)) {
      this.slotOf[c] = DECLINED
      return -1
    }
    this.slotOf[c] = this.nextSlot
    return this.nextSlot++
  }

  /** An inert mark (`inertMark`) that both passes of this builder's normaliser read as nothing. */
  private readsAsNothing(c: number): boolean {
    if (!inertMark(c)) return false
    const ch = String.fromCharCode(c)
    return this.normalizer(ch) === '' && this.normalizer(replaceInvisibleWithSpace(ch)) === ''
  }

  /** The tables with room for slot `k` (each growth doubles them, up to a slot for every BMP unit). */
  private room(k: number): void {
    if (k < this.slots) return
    const slots = Math.min(Math.max(2 * this.slots, k + 1), DOMAIN + 0x10000)
    this.normalized = grownMap(this.normalized, slots)
    this.invisible = grownMap(this.invisible, slots)
    this.utf8 = grown(this.utf8, slots * 2 * SLOT)
    this.utf8Len = grown(this.utf8Len, slots * 2)
    this.utf8Word = grown(this.utf8Word, slots * 2)
    this.utf8Shape = grown(this.utf8Shape, slots)
    this.slots = slots
  }

  /** Learns the entries of character `c` into slot `k`; false (nothing learnt but a declined shape below DOMAIN) when they do not fit. */
  private learn(c: number, k: number): boolean {
    const ch = String.fromCharCode(c)
    const p1 = this.normalizer(ch)
    const inv = replaceInvisibleWithSpace(ch)
    const p2 = inv === ch ? p1 : this.normalizer(inv)
    const texts = [p1, p2]
    // At most WIDEST units of the BMP per pass: at most SLOT bytes of UTF-8, never a surrogate.
    if (texts.some((t) => t.length > WIDEST || /[\ud800-\udfff]/.test(t))) {
      if (c < DOMAIN) {
        this.utf8Shape[c] = SHAPE_DECLINED
        this.normalized.one[c] = DECLINED_ENTRY
      }
      return false
    }
    this.room(k)
    learn(this.normalized, k, p1)
    if (this.oneUnit !== null && p1.length === 1 && p1.charCodeAt(0) !== NOT_ONE) this.oneUnit[c] = p1.charCodeAt(0)
    learn(this.invisible, k, p2)
    for (let p = 0; p < 2; p++) {
      const b = Buffer.from(texts[p]!, 'utf8')
      const e = 2 * k + p
      this.utf8.set(b, SLOT * e)
      this.utf8Len[e] = b.length
      let word = 0
      for (let j = Math.min(b.length, 4) - 1; j >= 0; j--) word = (word << 8) | b[j]!
      this.utf8Word[e] = word
      if (b.length > this.utf8Width) this.utf8Width = b.length
    }
    const n = this.utf8Len[2 * k]!
    this.utf8Shape[k] = p2 !== p1 ? SHAPE_APART : n === 1 ? SHAPE_BYTE : n <= 4 ? SHAPE_WORD : SHAPE_LONG
    return true
  }

  /** Whether the walk takes `s`: every code unit in the domain, with entries that fit the tables (learnt here when new). */
  takes(s: string): boolean {
    for (let i = 0; i < s.length; i++) if (this.slot(s.charCodeAt(i)) < 0) return false
    return true
  }

  /**
   * Whether `p`'s buffers still hold its texts: no later `passBytes` call has reused the scratch,
   * and no other builder has leased the WebAssembly region a plain text lies in.
   */
  current(p: PassBytes): boolean {
    return p.generation === this.generation && (!(p instanceof MappedPassBytes) || p.live)
  }

  /**
   * The four pass texts of `s` as UTF-8 bytes (each equal to `Buffer.from(passes(s).x)`, the
   * passes as the normaliser runs them). Pass 1 written straight from the tables in one walk, and
   * pass 2 beside it from the first character it reads otherwise (`part`; before, and in a text
   * without one, it is pass 1's bytes); leetspeak and the fold mapped from pass 1 when read; a text
   * with characters outside the domain is walked around them, and each stretch holding them
   * (`writePiece`) goes through the normaliser on its own (issue 36: nearly every text run of a
   * binary body holds a mark or an astral character, and the whole text took the normaliser's
   * general path for it). Null for a text too long for the scratch, or a long one that is more
   * than half stretches (the string path then).
   */
  passBytes(s: string): PassBytes | null {
    const len = s.length
    if (len >= PLAIN_MIN && this.plainIsIdentity()) {
      const plain = this.plainPassBytes(s)
      if (plain !== null) return plain
    }
    // Room for every character at the widest entry learnt so far, and for the stretches met.
    let cap = len * this.utf8Width
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = this.writeBytes(s, cap)
      if (typeof r !== 'number') return r
      cap = r
    }
    return null
  }

  /**
   * `passBytes` with regions of `cap` bytes: the pass bytes; null when the scratch would be too
   * big or the text is mostly stretches; or the room a second walk needs when these regions are
   * too small (a character learnt on the way was wider than any before it, or a stretch's passes
   * are longer than its units at that width).
   */
  private writeBytes(s: string, room: number): PassBytes | number | null {
    // Each region starts on a 32-bit word: pass 1's maps read and write words (`mapBytes`).
    const cap = (room + 3) & ~3
    if (4 * cap > MAX_BYTES) return null
    const len = s.length
    // In the WebAssembly module's memory when it takes the text (leetspeak and the fold are then
    // mapped there, sixteen bytes a step), else in the builder's scratch.
    const region = plainRegionHolds(4 * cap) ? plainRegion(this.leet, this.fold) : null
    const lease = region === null ? 0 : region.lease()
    let buf = region === null ? this.bytesScratch : region.bytes
    if (4 * cap > buf.length) {
      buf = Buffer.allocUnsafeSlow(Math.max(4 * cap, Math.min(2 * buf.length, KEEP_BYTES), 8192))
      if (buf.length <= KEEP_BYTES) this.bytesScratch = buf
    }
    this.generation++
    const ends = this.ends
    // Pass 1 from 0, pass 2 from 3 × cap once it parts from pass 1 (`part`); leetspeak and the
    // vowel fold are mapped from pass 1 into the regions between on first read.
    ends[0] = 0
    ends[1] = 3 * cap
    this.apart = false
    // The text's units, read by the walks from a typed array (`unitScratch`).
    const units = this.unitScratch(len).view
    copyUnits(s, units)
    // Where the walk resumes: the text's start, or the end of the last stretch written.
    let at = 0
    let walked = 0
    let stretched = 0
    for (;;) {
      const i = this.apart
        ? writePassOneTwo(units, at, len, buf, this.slotOf, this.utf8Shape, this.utf8Word, this.utf8Len, this.utf8, ends)
        : writePassOne(units, at, len, buf, this.slotOf, this.utf8Shape, this.utf8Word, this.utf8Len, this.utf8, ends)
      if (i === len) break
      const width = this.utf8Width
      const k = this.slot(s.charCodeAt(i))
      const learnt = k >= 0
      // Outside the domain: the stretch starts at the last character before it that starts a
      // segment and that stripZeroWidth keeps (one the walk wrote: its bytes are taken back),
      // and ends before the next such domain character.
      let from = i
      let to = i
      if (!learnt) {
        while (from > walked && !this.isBoundary(s.charCodeAt(from - 1))) from--
        if (from > walked) from--
        to = this.stretchEnd(s, i + 1, from, stretched)
        if (to < 0) return null
      }
      // A character learnt here or in the stretch may be wider than the regions allow for.
      if (this.utf8Width !== width) return len * this.utf8Width + (cap - len * width)
      if (learnt) {
        // Met for the first time (learnt), or the first character whose pass 2 is apart: the
        // walk goes on from it.
        if (this.utf8Shape[k] === SHAPE_APART) this.part(buf, cap)
        at = i
        continue
      }
      this.unwrite(s, from, i)
      stretched += to - from
      const need = this.writePiece(s, from, to, buf, cap)
      if (need > 0) return Math.max(need, 2 * cap)
      at = walked = to
    }
    const invisible = this.apart ? buf.subarray(3 * cap, ends[1]) : null
    const where = region === null ? null : {in: region, lease}
    return new MappedPassBytes(buf, region === null ? this.wordsOf(buf) : null, this.byteMaps, ends[0]!, cap, this.generation, where, invisible)
  }

  /** Whether the walk under way writes pass 2 apart from pass 1 (`part`). */
  private apart = false

  /**
   * From here on pass 2 is written apart from pass 1 (at 3 × `cap`): what pass 1 holds so far is
   * pass 2's too (every character and stretch before had the same bytes in both), copied once.
   */
  private part(buf: Buffer, cap: number): void {
    if (this.apart) return
    const ends = this.ends
    buf.copy(buf, 3 * cap, 0, ends[0])
    ends[1] = 3 * cap + ends[0]!
    this.apart = true
  }

  /**
   * The end of the stretch that starts at `from` and holds the characters before `to`: the next
   * domain character that starts a segment and that pass 1 keeps, or past it when another
   * character outside the domain follows within NEAR units (one normaliser call per cluster, not
   * per mark: text written decomposed has a mark every few letters). -1 when the text is then
   * mostly stretches (`before`: the units of the stretches before this one).
   */
  private stretchEnd(s: string, to: number, from: number, before: number): number {
    const len = s.length
    for (;;) {
      while (to < len) {
        const d = s.charCodeAt(to)
        if (this.isBoundary(d)) break
        to++
      }
      if (this.mostlyStretches(len, before, to - from)) return -1
      let j = to
      const near = Math.min(len, to + NEAR)
      while (j < near && this.slot(s.charCodeAt(j)) >= 0) j++
      if (j === near) return to
      to = j + 1
    }
  }

  /**
   * Whether a long text is read better by the string path: one stretch is longer than
   * LONG_STRETCH units, or the stretches so far cover more than half of it (text written
   * decomposed, a mark every few letters). The string path reads such a text as fast, and shares
   * the normaliser's reading of the whole text with text DLP.
   */
  private mostlyStretches(len: number, before: number, stretch: number): boolean {
    return len >= MOSTLY_STRETCHES_FROM && (stretch > LONG_STRETCH || 2 * (before + stretch) > len)
  }

  /**
   * Takes back the bytes the walk wrote for `s[from, to)` (domain characters, all learnt): pass
   * 2's too when it is apart (a character before the part has the same bytes in both).
   */
  private unwrite(s: string, from: number, to: number): void {
    const ends = this.ends
    for (let j = from; j < to; j++) {
      const c = s.charCodeAt(j)
      const e = 2 * (c < DOMAIN ? c : this.slotOf[c]!)
      ends[0] -= this.utf8Len[e]!
      if (this.apart) ends[1] -= this.utf8Len[e + P2]!
    }
  }

  /**
   * Writes passes 1 and 2 of the stretch `s[from, to)` (2 only once apart), from the normaliser, at the walk's
   * offsets; 0, or when they do not fit the regions beside what the rest of the text may need,
   * the region size that would hold them. Both ends of the stretch are segment starts in every
   * pass, so the passes of the whole text are those of the pieces between them, concatenated (the
   * file comment; stripZeroWidth runs before NFKC, so a mark after stripped controls joins the
   * character before them).
   */
  private writePiece(s: string, from: number, to: number, buf: Buffer, cap: number): number {
    const t = s.slice(from, to)
    const p1 = this.normalizer(t)
    const inv = replaceInvisibleWithSpace(t)
    const p2 = inv === t ? p1 : this.normalizer(inv)
    const rest = (s.length - to) * this.utf8Width
    const ends = this.ends
    // At most three UTF-8 bytes per UTF-16 unit (pass 2 ends where pass 1 does until it parts).
    const end2 = this.apart ? ends[1]! - 3 * cap : ends[0]!
    const need = Math.max(ends[0]! + 3 * p1.length, end2 + 3 * p2.length) + rest
    if (need > cap) return need
    if (p2 !== p1) this.part(buf, cap)
    ends[0] += buf.write(p1, ends[0]!)
    if (this.apart) ends[1] += buf.write(p2, ends[1]!)
    return 0
  }

  /** Whether passes 1 and 2 leave every plain character (tab, LF, CR, U+0020–U+007E) as it is: learnt once per builder. */
  private plainIdentity: boolean | undefined

  private plainIsIdentity(): boolean {
    if (this.plainIdentity === undefined) {
      let ok = true
      for (let k = 0; k < 128 && ok; k++) {
        if (!(k === 0x09 || k === 0x0a || k === 0x0d || (k >= 0x20 && k <= 0x7e))) continue
        if (this.slot(k) < 0) {
          ok = false
          break
        }
        const e = 2 * k
        ok = this.utf8Len[e] === 1 && this.utf8Word[e] === k && this.utf8Len[e + P2] === 1 && this.utf8Word[e + P2] === k
      }
      this.plainIdentity = ok
    }
    return this.plainIdentity
  }

  /**
   * `passBytes` of a plain text (tab, LF, CR and printable ASCII only; issue 36): passes 1 and 2
   * are the text itself, written by one native UTF-8 copy and shared; leetspeak and the vowel
   * fold are two byte tables over it, applied on first read (`MappedPassBytes`). The same bytes as the table walk
   * (test/unit/scanner/pass-bytes-differential.test.ts). Null when the text is not plain: a unit
   * at or above U+0080 (its UTF-8 bytes are ≥ 0x80; the copy, cut at `len` bytes, holds them or
   * stops short: a character is never written in part) or a control.
   */
  private plainPassBytes(s: string): PassBytes | null {
    const len = s.length
    // A unit at or above U+0080 near the start (most non-English texts) declines before any copy.
    if (!startsAscii(s)) return null
    // In the module's memory (`plain-maps-wasm.ts`) when it takes the text: three parts of `at16`
    // bytes, each on a 16-byte boundary.
    const at16 = (len + 15) & ~15
    const region = plainRegionHolds(3 * at16) ? plainRegion(this.leet, this.fold) : null
    if (region !== null) {
      this.generation++
      const lease = region.lease()
      const buf = region.bytes
      if (buf.write(s, 0, len, 'utf8') !== len || !region.allPlain(len)) return null
      return new MappedPassBytes(buf, null, this.byteMaps, len, at16, this.generation, {in: region, lease}, null, true)
    }
    // Three regions of `at` bytes, each starting on a 32-bit word.
    const at = (len + 3) & ~3
    let buf = this.bytesScratch
    if (3 * at > buf.length) {
      buf = Buffer.allocUnsafeSlow(Math.max(3 * at, Math.min(2 * buf.length, KEEP_BYTES), 8192))
      if (buf.length <= KEEP_BYTES) this.bytesScratch = buf
    }
    const words = this.wordsOf(buf)
    this.generation++
    if (buf.write(s, 0, len, 'utf8') !== len || !allPlain(buf, words, len)) return null
    return new MappedPassBytes(buf, words, this.byteMaps, len, at, this.generation, null, null, true)
  }

  /** The scratch as 32-bit words (little-endian machines: `mapBytes` reads and writes four bytes at a time); null on others. */
  private wordsOf(buf: Buffer): Uint32Array | null {
    if (!LITTLE_ENDIAN) return null
    if (this.scratchWords === null || this.scratchWords.buffer !== buf.buffer) this.scratchWords = new Uint32Array(buf.buffer, 0, buf.length >> 2)
    return this.scratchWords
  }

  private scratchWords: Uint32Array | null = null
  private readonly byteMaps: Uint32Array


  /**
   * The source normaliser's reading of `s` (`forMatching` for a scanner's builder): pass 1 alone,
   * by `readPassOne`, walked around the characters outside the domain as `passBytes` is (each
   * stretch read by the normaliser, its ends `isBoundary`). Null for a text too long for
   * the walk or a long one mostly of stretches.
   */
  forMatching(s: string): string | null {
    const len = s.length
    if (!LITTLE_ENDIAN || len * this.widest > MAX_UNITS) return null
    // The text's units, then its reading: room for one unit a character first (most readings are
    // no longer; the writes past the scratch are dropped), then for what the reading needed.
    for (let room = len; ; ) {
      const {scratch, view} = this.unitScratch(len + room)
      copyUnits(s, view)
      // The reading is written after the text's units, from `len` to `state[0]`.
      const state = this.readState
      state[0] = len
      state[1] = 0
      // Where the walk resumes, the units of the stretches read so far, and the room a piece
      // past the scratch showed is needed (0: none).
      let walked = 0
      let stretched = 0
      let need = 0
      for (let at = 0; ; ) {
        at = readPassOne(view, at, len, view, state, this.oneUnitTable(), this.slotOf, this.normalized.one, this.normalized.many)
        if (at === len) break
        // Met for the first time: learnt, and read on from it.
        if (this.slot(view[at]!) >= 0) continue
        // Outside the domain (a composing mark, an astral character): walked around as
        // `writeBytes` does, the stretch from the last boundary before it (its units taken back)
        // to the next after it read the slow way (both ends start a segment the reading keeps).
        let from = at
        while (from > walked && !this.isBoundary(view[from - 1]!)) from--
        if (from > walked) from--
        const to = this.stretchEnd(s, at + 1, from, stretched)
        if (to < 0) return null
        state[0] -= this.unitsRead(view, from, at)
        const t = s.slice(from, to)
        const piece = this.normalizer(t)
        if (state[0]! + piece.length > view.length) {
          // Past the scratch: walked again with room for this piece and the widest entries after it.
          need = state[0]! - len + piece.length + (len - to) * this.widest
          break
        }
        copyUnits(piece, view, state[0])
        state[0] += piece.length
        if (piece !== t) state[1] = 1
        stretched += to - from
        at = walked = to
      }
      const end = state[0]!
      if (need === 0 && end <= view.length) return state[1] === 0 ? s : scratch.toString('utf16le', 2 * len, 2 * end)
      // `end` counts the units whose writes fell past the scratch too: the room the reading needs.
      room = Math.max(len * this.widest, need, end - len)
    }
  }

  /**
   * Whether a stretch (of `passBytes` or of `forMatching`'s reading) may start or end before the
   * code unit `c`: a domain character that starts a segment and whose pass 1 reads as something.
   * A character pass 1 strips before NFKC (a zero-width or control character) reads as nothing,
   * so a mark after it may join the character before it; one that reads as nothing for another
   * reason is passed over too, which only lengthens the stretch. Pass 2 keeps such a boundary as
   * it is: every character it reads as a space is one pass 1 strips.
   */
  private isBoundary(c: number): boolean {
    const k = this.slot(c)
    return k >= 0 && startsSegment(c) && this.normalized.one[k] !== NONE
  }

  /** The units `readPassOne` wrote for the characters `units[from, to)` (all learnt). */
  private unitsRead(units: Uint16Array, from: number, to: number): number {
    const {one, many} = this.normalized
    let n = 0
    for (let j = from; j < to; j++) {
      const c = units[j]!
      const k = c < DOMAIN ? c : this.slotOf[c]!
      const u = one[k]!
      n += u === NONE ? 0 : u === MANY ? many[k]!.length : 1
    }
    return n
  }

  /** `readPassOne`'s units written and whether they differ from the text (non-zero). */
  private readonly readState = new Int32Array(2)

  /**
   * Pass 1 of each code unit learnt so far that reads as one unit below U+FFFF, NOT_ONE for any
   * other (`readPassOne`): made on the first `forMatching` from the tables, then kept with them
   * (`learn`). 128 KiB.
   */
  private oneUnit: Uint16Array | null = null

  private oneUnitTable(): Uint16Array {
    if (this.oneUnit !== null) return this.oneUnit
    const t = new Uint16Array(0x10000).fill(NOT_ONE)
    const one = this.normalized.one
    for (let c = 0; c < 0x10000; c++) {
      const k = c < DOMAIN ? c : this.slotOf[c]!
      if (c >= DOMAIN && (k === 0 || k === DECLINED)) continue
      const u = one[k]!
      if (u >= 0 && u !== NOT_ONE) t[c] = u
    }
    return (this.oneUnit = t)
  }

  /**
   * A scratch of at least `units` UTF-16 units (kept when small: `KEEP_BYTES`), as bytes and as
   * units. The walks read a text's units from it: a typed array reads about three times as fast
   * as `charCodeAt` in their loops, and the copy in is one native call.
   */
  private unitScratch(units: number): {scratch: Buffer; view: Uint16Array} {
    let scratch = this.scratch
    let v = this.view
    if (units > v.length) {
      // allocUnsafeSlow: an ArrayBuffer of its own at offset 0, so the 16-bit view is aligned.
      // Only a scratch up to KEEP_BYTES is kept; a bigger text gets one for this walk alone.
      scratch = Buffer.allocUnsafeSlow(Math.max(2 * units, Math.min(2 * scratch.length, KEEP_BYTES), 8192))
      v = new Uint16Array(scratch.buffer, 0, scratch.length >> 1)
      if (scratch.length <= KEEP_BYTES) {
        this.scratch = scratch
        this.view = v
      }
    }
    return {scratch, view: v}
  }

  /** The four pass texts of `s` when it is in the domain, else null. */
  passes(s: string): PassTexts | null {
    const len = s.length
    const cap = len * this.widest
    if (!LITTLE_ENDIAN || cap > MAX_UNITS) return null
    const {scratch, view: v} = this.unitScratch(4 * cap)
    // Four regions of `cap` units: pass 1, leetspeak, vowel fold (same positions), pass 2.
    // The tables as they are; learning a new character may grow them (read again after it).
    let {one: one1, many: many1} = this.normalized
    let {one: one2, many: many2} = this.invisible
    const leet = this.leet
    const fold = this.fold
    const o3 = cap
    const o5 = 2 * cap
    const o2 = 3 * cap
    let n1 = 0
    let n2 = 0
    // Whether each text differs from its source (the content for passes 1 and 2, pass 1's text
    // for leetspeak and the fold): an unchanged text is that string itself, not a copy.
    let changed1 = false
    let changed2 = false
    let changed3 = false
    let changed5 = false
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i)
      let k = c < DOMAIN ? c : this.slotOf[c]!
      let u = c >= DOMAIN && (k === 0 || k === DECLINED) ? UNKNOWN : one1[k]!
      if (u === UNKNOWN || u === DECLINED_ENTRY) {
        // Not met yet, or declined: `slot` learns the character, or says it is outside.
        k = this.slot(c)
        if (k < 0) return null
        ;({one: one1, many: many1} = this.normalized)
        ;({one: one2, many: many2} = this.invisible)
        u = one1[k]!
      }
      if (u === c) {
        v[n1] = u
        if (u < 128) {
          const l = leet[u]!
          const f = fold[u]!
          v[o3 + n1] = l
          v[o5 + n1] = f
          if (l !== u) changed3 = true
          if (f !== u) changed5 = true
        } else {
          v[o3 + n1] = u
          v[o5 + n1] = u
        }
        n1++
      } else {
        changed1 = true
        const units = u === MANY ? many1[k]! : null
        // NONE writes nothing; one unit, or each of MANY's.
        for (let j = 0, end = u === NONE ? 0 : units === null ? 1 : units.length; j < end; j++) {
          const w = units === null ? u : units[j]!
          const l = w < 128 ? leet[w]! : w
          const f = w < 128 ? fold[w]! : w
          v[n1] = w
          v[o3 + n1] = l
          v[o5 + n1] = f
          if (l !== w) changed3 = true
          if (f !== w) changed5 = true
          n1++
        }
      }
      const u2 = one2[k]!
      if (u2 === c) v[o2 + n2++] = u2
      else {
        changed2 = true
        if (u2 >= 0) v[o2 + n2++] = u2
        else if (u2 === MANY) for (const w of many2[k]!) v[o2 + n2++] = w
      }
    }
    const text = (at: number, n: number): string => scratch.toString('utf16le', 2 * at, 2 * (at + n))
    const normalized = changed1 ? text(0, n1) : s
    return {
      normalized,
      invisible: changed2 ? text(o2, n2) : s,
      leet: changed3 ? text(o3, n1) : normalized,
      folded: changed5 ? text(o5, n1) : normalized,
    }
  }
}

/**
 * A reading of texts by the per-character table walk, learnt from `slow` (a normaliser's
 * `forMatching` or `forDlp`: per code point maps and removals around NFKC and NFD, which the
 * file comment shows act on each domain character alone): `slow(s)`, with the stretches around
 * characters outside the domain read by `slow` itself; null for a text the walk declines (its
 * caller reads it the slow way). Issue 36: a request body's text is read by both whole; on a
 * Cyrillic page the two readings were two fifths of the request scan, and a binary body's text
 * runs hold composing marks.
 */
export function tableReading(slow: (s: string) => string): (s: string) => string | null {
  // Made on the first text that needs it: a scanner's normaliser is made at start-up, and most
  // texts (printable ASCII) never reach the reading.
  let builder: PassTextBuilder | undefined
  return (s) => (builder ??= new PassTextBuilder(slow)).forMatching(s)
}
