/**
 * Response passes 1, 2, 3 and 5 (§7) in one walk over the content, for texts whose every code
 * unit is below U+0300 or is U+FFFD — plain and Latin-1/Latin Extended text, and what a binary
 * body becomes as UTF-8 with replacement characters (bench: proxy; on the proxy benchmark's 1 KiB
 * binary body the four normalised copies were half the response scan's core floor).
 *
 * Why a per-code-unit table gives the same strings as the passes: below U+0300 there are no
 * combining marks, no Hangul jamo and no second half of any composition pair, and no
 * character's decomposition starts with a non-starter, so NFKC and NFD act on each character on
 * its own; the control/invisible strip and replace, the confusable map, the mark strip, the
 * exotic-whitespace map, leetspeak and the vowel fold are all per code point (U+FFFD, in the
 * normaliser's invisible set, is removed from pass 1's text and a space in pass 2's). Each table entry is
 * the real pass applied to that one character (built from the normaliser at start-up, not
 * written out here). The differential test checks the claim on every pair of domain characters
 * and on random texts (test/unit/scanner/pass-texts-differential.test.ts).
 */
import {foldVowels, leetspeak, LITTLE_ENDIAN, replaceInvisibleWithSpace} from './normalize.js'

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
  /** True when `normalized` is the text's own code units, one byte each (a plain text: `PlainPassBytes`). */
  readonly plain?: boolean
}

export type PassName = 'normalized' | 'invisible' | 'leet' | 'folded'

/** Domain: code units 0 … U+02FF, and U+FFFD at index DOMAIN. */
const DOMAIN = 0x300
const REPLACEMENT = 0xfffd
/** Past this many units of output per text (≈ 350,000 code units of content) the passes run as before. */
const MAX_UNITS = 1 << 20
/** The largest scratch a builder keeps between walks (texts up to ≈ 10,900 code units). */
const KEEP_BYTES = 256 * 1024
/** Entries of `one`: the character maps to nothing, or to more than one unit (see `many`). */
const NONE = -1
const MANY = -2

/** An entry not computed yet: each character goes through the normaliser the first time it is seen. */
const UNKNOWN = -3
const WIDEST = 3
/** UTF-8 table slots per domain character and pass: WIDEST units of at most three bytes (no surrogates in the domain's outputs). */
const SLOT = 9
/** Past this many bytes of scratch (four texts) the UTF-8 walk declines and the passes take the string walk. */
const MAX_BYTES = 1 << 23
/** The UTF-8 tables' passes, in slot order after pass 1's (0). */
const P3 = 1
const P5 = 2
const P2 = 3
/** How the UTF-8 walk writes a character: not learnt yet; one byte per pass; the same word to all four; each pass its word; byte by byte from the table (an entry over four bytes). */
const SHAPE_UNKNOWN = 0
const SHAPE_BYTES = 1
const SHAPE_SAME = 2
const SHAPE_WORDS = 3
const SHAPE_LONG = 4

/** What each domain character becomes in one pass: one unit, nothing, several units, or not known yet. */
interface UnitMap {
  readonly one: Int32Array
  readonly many: Array<readonly number[] | undefined>
}

function emptyMap(): UnitMap {
  return {one: new Int32Array(DOMAIN + 1).fill(UNKNOWN), many: []}
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

/** `writePassBytes` outcomes. */
const WALKED = 0
const OUTSIDE = 1
const UNLEARNT = 2

/**
 * The UTF-8 walk itself (a function of its own so it stays a tight optimised loop): writes the
 * four texts of `s` into regions of `cap` bytes of `buf` (pass 1, leetspeak, vowel fold, pass 2)
 * and their ends into `ends`; stops at a character outside the domain or not learnt yet.
 */
function writePassBytes(s: string, buf: Buffer, cap: number, shapes: Uint8Array, words: Int32Array, lens: Int8Array, table: Uint8Array, ends: Int32Array): number {
  let o1 = 0
  let o3 = cap
  let o5 = 2 * cap
  let o2 = 3 * cap
  for (let i = 0, len = s.length; i < len; i++) {
    const c = s.charCodeAt(i)
    const k = c < DOMAIN ? c : c === REPLACEMENT ? DOMAIN : -1
    if (k < 0) return OUTSIDE
    const e = 4 * k
    const shape = shapes[k]!
    if (shape === SHAPE_BYTES) {
      // One byte in every pass (ASCII: most of any text).
      buf[o1++] = words[e]!
      buf[o3++] = words[e + P3]!
      buf[o5++] = words[e + P5]!
      buf[o2++] = words[e + P2]!
    } else if (shape === SHAPE_SAME) {
      // The same bytes in every pass (most non-ASCII letters).
      const w = words[e]!
      const n = lens[e]!
      o1 = putWord(buf, o1, w, n)
      o3 = putWord(buf, o3, w, n)
      o5 = putWord(buf, o5, w, n)
      o2 = putWord(buf, o2, w, n)
    } else if (shape === SHAPE_WORDS) {
      o1 = putWord(buf, o1, words[e]!, lens[e]!)
      o3 = putWord(buf, o3, words[e + P3]!, lens[e + P3]!)
      o5 = putWord(buf, o5, words[e + P5]!, lens[e + P5]!)
      o2 = putWord(buf, o2, words[e + P2]!, lens[e + P2]!)
    } else if (shape === SHAPE_LONG) {
      const at = SLOT * e
      for (let j = 0, n = lens[e]!; j < n; j++) buf[o1++] = table[at + j]!
      for (let j = 0, n = lens[e + P3]!; j < n; j++) buf[o3++] = table[at + SLOT + j]!
      for (let j = 0, n = lens[e + P5]!; j < n; j++) buf[o5++] = table[at + 2 * SLOT + j]!
      for (let j = 0, n = lens[e + P2]!; j < n; j++) buf[o2++] = table[at + 3 * SLOT + j]!
    } else return UNLEARNT
  }
  ends[0] = o1
  ends[1] = o3
  ends[2] = o5
  ends[3] = o2
  return WALKED
}

/** A per-ASCII-unit map (leetspeak, the vowel fold) as a table; every such map is one unit to one unit. */
function asciiTable(f: (s: string) => string): Uint16Array {
  return Uint16Array.from({length: 128}, (_, c) => {
    const r = f(String.fromCharCode(c))
    if (r.length !== 1) throw new Error('per-unit ASCII map expected')
    return r.charCodeAt(0)
  })
}

/** Index of code unit `c` in the tables, or -1 outside the domain. */
function domainIndex(c: number): number {
  return c < DOMAIN ? c : c === REPLACEMENT ? DOMAIN : -1
}

export function inPassTextDomain(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (domainIndex(s.charCodeAt(i)) < 0) return false
  return true
}

/** Below this many characters the table walk is as quick as the plain path. */
const PLAIN_MIN = 64

/** PLAIN[b]: 1 for the plain bytes (tab, LF, CR, 0x20–0x7E). */
const PLAIN: Uint8Array = Uint8Array.from({length: 256}, (_, b) => (b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b <= 0x7e) ? 1 : 0))

/** `plainMaps(…)[b]` for a plain byte b: its leetspeak byte | its vowel-folded byte << 8 (made per builder from its tables). */
function plainMaps(leet: Uint8Array, fold: Uint8Array): Uint32Array {
  return Uint32Array.from({length: 256}, (_, b) => (PLAIN[b] === 1 ? leet[b]! | (fold[b]! << 8) : 0))
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
 * Leetspeak and the vowel fold of two plain bytes at once: entry `b0 | b1 << 8` is the two bytes
 * mapped, in the same order. Both maps are one ASCII byte to one ASCII byte, so a pair maps as its
 * two bytes do. Made on first use, shared by every builder: its tables are those of `leetspeak`
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
      // Only ASCII bytes are ever looked up (the text is plain); the others keep their value.
      leet[x] = (b0 < 128 ? l[b0]! : b0) | ((b1 < 128 ? l[b1]! : b1) << 8)
      fold[x] = (b0 < 128 ? f[b0]! : b0) | ((b1 < 128 ? f[b1]! : b1) << 8)
    }
    pairMapsMade = {leet, fold}
  }
  return pairMapsMade
}

/**
 * Leetspeak and the vowel fold of the `len` plain bytes at the start of `buf`, written at `at`
 * and `2 × at` (`at` ≥ `len`, a multiple of 4). On a little-endian machine four bytes are read as
 * one 32-bit word and each half looked up in the pair tables (`pairMaps`): two table reads per
 * map and word where one per byte (`maps`) was, and no byte assembly (issue 36: the map by
 * bytes was 62 µs of a 64 KiB HTML page, by pairs 31–36 µs, in process). `words` views `buf`
 * from its start.
 */
function mapPlain(buf: Uint8Array, words: Uint32Array | null, len: number, at: number, maps: Uint32Array): void {
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
 * `passBytes` of a plain text: passes 1 and 2 are its bytes; leetspeak and the vowel fold are
 * written on first read (issue 36: where the screen walk rules passes 3 and 5 out, neither is
 * read). Read them only while `current`: the scratch is then still this text's.
 */
class PlainPassBytes implements PassBytes {
  private mapped = false

  constructor(
    private readonly buf: Buffer,
    private readonly words: Uint32Array | null,
    private readonly maps: Uint32Array,
    private readonly len: number,
    private readonly at: number,
    readonly generation: number,
  ) {
    this.normalized = buf.subarray(0, len)
    this.invisible = this.normalized
  }

  readonly normalized: Buffer
  readonly invisible: Buffer
  readonly plain = true

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
    mapPlain(this.buf, this.words, this.len, this.at, this.maps)
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
  private readonly normalized: UnitMap
  private readonly invisible: UnitMap
  private readonly leet: Uint16Array
  private readonly fold: Uint16Array
  /**
   * Most units one character of the domain becomes (found by walking every character once when
   * this was written: 3; checked by the differential test, and each learnt entry is checked
   * against it).
   */
  private readonly widest = WIDEST
  private scratch: Buffer = Buffer.allocUnsafeSlow(0)
  private view: Uint16Array<ArrayBufferLike> = new Uint16Array(0)

  private readonly normalizer: (s: string) => string
  /** Set when a character maps to more than WIDEST units (never, on the normaliser as written): the walk then declines every text. */
  private broken = false

  /**
   * The UTF-8 tables: for domain character k and pass p (pass 1 = 0, P3, P5, P2), `utf8Len[4k + p]`
   * bytes at `utf8[SLOT × (4k + p)]`, and when they are at most four also packed little-end
   * first in `utf8Word[4k + p]`; `utf8Shape[k]` says how the walk writes k (SHAPE_*).
   * `utf8Width` is the most bytes any learnt character gives one pass: the scratch holds four
   * regions of `width × length` bytes.
   */
  private readonly utf8 = new Uint8Array((DOMAIN + 1) * 4 * SLOT)
  private readonly utf8Len = new Int8Array((DOMAIN + 1) * 4)
  private readonly utf8Word = new Int32Array((DOMAIN + 1) * 4)
  private readonly utf8Shape = new Uint8Array(DOMAIN + 1)
  private utf8Width = 3
  /** Set when a pass output holds a surrogate (never: the domain's outputs are BMP characters): the UTF-8 walk then declines. */
  private utf8Broken = false
  private bytesScratch: Buffer = Buffer.allocUnsafeSlow(0)
  /** Where the UTF-8 walk's four texts end in the scratch. */
  private readonly ends = new Int32Array(4)
  private generation = 0

  /** The normaliser's `forMatching` the tables are learnt from (a scanner with another normaliser must not use them). */
  readonly source: (s: string) => string

  constructor(forMatching: (s: string) => string) {
    this.source = forMatching
    this.normalizer = forMatching
    this.normalized = emptyMap()
    this.invisible = emptyMap()
    this.leet = asciiTable(leetspeak)
    this.fold = asciiTable(foldVowels)
    this.plainMaps = plainMaps(Uint8Array.from(this.leet), Uint8Array.from(this.fold))
  }

  /** Entries for domain character `k`, through the normaliser (each character once per builder). */
  private learn(k: number): void {
    const ch = String.fromCharCode(k === DOMAIN ? REPLACEMENT : k)
    const p1 = this.normalizer(ch)
    const inv = replaceInvisibleWithSpace(ch)
    const p2 = inv === ch ? p1 : this.normalizer(inv)
    if (p1.length > WIDEST || p2.length > WIDEST) this.broken = true
    learn(this.normalized, k, p1)
    learn(this.invisible, k, p2)
    // The UTF-8 entries: leetspeak and the vowel fold map pass 1's ASCII units one to one.
    const mapped = (t: Uint16Array): string => Array.from(p1, (ch) => (ch.charCodeAt(0) < 128 ? String.fromCharCode(t[ch.charCodeAt(0)]!) : ch)).join('')
    const texts = [p1, mapped(this.leet), mapped(this.fold), p2]
    let shape = SHAPE_BYTES
    for (let p = 0; p < 4; p++) {
      const t = texts[p]!
      for (let i = 0; i < t.length; i++) if ((t.charCodeAt(i) & 0xf800) === 0xd800) this.utf8Broken = true
      const b = Buffer.from(t, 'utf8')
      if (b.length > SLOT) {
        this.utf8Broken = true
        return
      }
      const e = 4 * k + p
      this.utf8.set(b, SLOT * e)
      this.utf8Len[e] = b.length
      let word = 0
      for (let j = Math.min(b.length, 4) - 1; j >= 0; j--) word = (word << 8) | b[j]!
      this.utf8Word[e] = word
      if (b.length > this.utf8Width) this.utf8Width = b.length
      if (b.length > 4) shape = SHAPE_LONG
      else if (shape !== SHAPE_LONG && b.length !== 1) shape = SHAPE_WORDS
    }
    const e = 4 * k
    const same = [1, 2, 3].every((p) => this.utf8Len[e + p] === this.utf8Len[e] && this.utf8Word[e + p] === this.utf8Word[e])
    this.utf8Shape[k] = shape === SHAPE_WORDS && same ? SHAPE_SAME : shape
  }

  /** Whether `p`'s buffers still hold its texts (no later `passBytes` call has reused the scratch). */
  current(p: PassBytes): boolean {
    return p.generation === this.generation
  }

  /**
   * The four pass texts of `s` as UTF-8 bytes (each equal to `Buffer.from(passes(s).x)`), written
   * straight from the tables in one walk; null when `s` is outside the domain (or too long).
   */
  passBytes(s: string): PassBytes | null {
    if (this.utf8Broken || this.broken) return null
    const len = s.length
    if (len >= PLAIN_MIN && this.plainIsIdentity()) {
      const plain = this.plainPassBytes(s)
      if (plain !== null) return plain
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      const cap = len * this.utf8Width
      if (4 * cap > MAX_BYTES) return null
      let buf = this.bytesScratch
      if (4 * cap > buf.length) {
        buf = Buffer.allocUnsafeSlow(Math.max(4 * cap, Math.min(2 * buf.length, KEEP_BYTES), 8192))
        if (buf.length <= KEEP_BYTES) this.bytesScratch = buf
      }
      this.generation++
      const ends = this.ends
      const r = writePassBytes(s, buf, cap, this.utf8Shape, this.utf8Word, this.utf8Len, this.utf8, ends)
      if (r === WALKED) {
        return {
          normalized: buf.subarray(0, ends[0]),
          leet: buf.subarray(cap, ends[1]),
          folded: buf.subarray(2 * cap, ends[2]),
          invisible: buf.subarray(3 * cap, ends[3]),
          generation: this.generation,
        }
      }
      if (r === OUTSIDE) return null
      // A character not learnt yet: learn every new one of the text, then walk again (the
      // regions may have to be wider). Each character is learnt once per builder.
      for (let i = 0; i < len; i++) {
        const k = domainIndex(s.charCodeAt(i))
        if (k < 0) return null
        if (this.utf8Shape[k] === SHAPE_UNKNOWN) this.learn(k)
        if (this.broken || this.utf8Broken) return null
      }
    }
    return null
  }

  /** Whether passes 1 and 2 leave every plain character (tab, LF, CR, U+0020–U+007E) as it is: learnt once per builder. */
  private plainIdentity: boolean | undefined

  private plainIsIdentity(): boolean {
    if (this.plainIdentity === undefined) {
      let ok = true
      for (let k = 0; k < 128 && ok; k++) {
        if (!(k === 0x09 || k === 0x0a || k === 0x0d || (k >= 0x20 && k <= 0x7e))) continue
        if (this.utf8Shape[k] === SHAPE_UNKNOWN) this.learn(k)
        const e = 4 * k
        ok = this.utf8Len[e] === 1 && this.utf8Word[e] === k && this.utf8Len[e + P2] === 1 && this.utf8Word[e + P2] === k
      }
      this.plainIdentity = ok && !this.broken && !this.utf8Broken
    }
    return this.plainIdentity
  }

  /**
   * `passBytes` of a plain text (tab, LF, CR and printable ASCII only; issue 36): passes 1 and 2
   * are the text itself, written by one native UTF-8 copy and shared; leetspeak and the vowel
   * fold are two byte tables over it, applied on first read (`PlainPassBytes`). The same bytes as the table walk
   * (test/unit/scanner/pass-bytes-differential.test.ts). Null when the text is not plain: the
   * copy is longer than the text (a unit at or above U+0080) or a byte is a control.
   */
  private plainPassBytes(s: string): PassBytes | null {
    const len = s.length
    // Three regions of `at` bytes, each starting on a 32-bit word.
    const at = (len + 3) & ~3
    let buf = this.bytesScratch
    if (3 * at > buf.length) {
      buf = Buffer.allocUnsafeSlow(Math.max(3 * at, Math.min(2 * buf.length, KEEP_BYTES), 8192))
      if (buf.length <= KEEP_BYTES) this.bytesScratch = buf
    }
    if (this.plainWords === null || this.plainWords.buffer !== buf.buffer) this.plainWords = LITTLE_ENDIAN ? new Uint32Array(buf.buffer, 0, buf.length >> 2) : null
    this.generation++
    // UTF-8 takes one byte per unit exactly when every unit is below U+0080 (the 3 × len bytes
    // hold any text's UTF-8, so the count is never cut short).
    if (buf.write(s, 0, 3 * len, 'utf8') !== len || !allPlain(buf, this.plainWords, len)) return null
    return new PlainPassBytes(buf, this.plainWords, this.plainMaps, len, at, this.generation)
  }

  /** The scratch as 32-bit words (little-endian machines: `mapPlain` writes four bytes at a time). */
  private plainWords: Uint32Array | null = null
  private readonly plainMaps: Uint32Array


  /** `forMatching(s)` when `s` is in the domain, else null. */
  forMatching(s: string): string | null {
    return this.walk(s, false)?.normalized ?? null
  }

  /** The four pass texts of `s` when it is in the domain, else null. */
  passes(s: string): PassTexts | null {
    return this.walk(s, true)
  }

  private walk(s: string, all: boolean): PassTexts | null {
    const len = s.length
    const cap = len * this.widest
    if (!LITTLE_ENDIAN || this.broken || cap > MAX_UNITS) return null
    let scratch = this.scratch
    let v = this.view
    if (4 * cap > v.length) {
      // allocUnsafeSlow: an ArrayBuffer of its own at offset 0, so the 16-bit view is aligned.
      // Only a scratch up to KEEP_BYTES is kept; a bigger text gets one for this walk alone.
      scratch = Buffer.allocUnsafeSlow(Math.max(8 * cap, Math.min(2 * scratch.length, KEEP_BYTES), 8192))
      v = new Uint16Array(scratch.buffer, 0, scratch.length >> 1)
      if (scratch.length <= KEEP_BYTES) {
        this.scratch = scratch
        this.view = v
      }
    }
    // Four regions of `cap` units: pass 1, leetspeak, vowel fold (same positions), pass 2.
    const {one: one1, many: many1} = this.normalized
    const {one: one2, many: many2} = this.invisible
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
      const k = c < DOMAIN ? c : c === REPLACEMENT ? DOMAIN : -1
      if (k < 0) return null
      let u = one1[k]!
      if (u === UNKNOWN) {
        this.learn(k)
        if (this.broken) return null
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
      if (!all) continue
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
    if (!all) return {normalized, invisible: '', leet: '', folded: ''}
    return {
      normalized,
      invisible: changed2 ? text(o2, n2) : s,
      leet: changed3 ? text(o3, n1) : normalized,
      folded: changed5 ? text(o5, n1) : normalized,
    }
  }
}
