/**
 * Response passes 1, 2, 3 and 5 (§7) in one walk over the content, for texts whose every code
 * unit is below U+0300 or is U+FFFD — plain and Latin-1/Latin Extended text, and what a binary
 * body becomes as UTF-8 with replacement characters (issue 18: on the proxy benchmark's 1 KiB
 * binary body the four normalised copies were half the response scan's core floor).
 *
 * Why a per-code-unit table gives the same strings as the passes: below U+0300 there are no
 * combining marks, no Hangul jamo and no second half of any composition pair, and no
 * character's decomposition starts with a non-starter, so NFKC and NFD act on each character on
 * its own; the control/invisible strip and replace, the confusable map, the mark strip, the
 * exotic-whitespace map, leetspeak and the vowel fold are all per code point. Each table entry is
 * the real pass applied to that one character (built from the normaliser at start-up, not
 * written out here). The differential test checks the claim on every pair of domain characters
 * and on random texts (test/unit/scanner/pass-texts-differential.test.ts).
 */
import {foldVowels, leetspeak, replaceInvisibleWithSpace} from './normalize.js'

/** The four texts of one content: forMatching, invisible-as-space then forMatching, leetspeak and vowel-folded forMatching. */
export interface PassTexts {
  readonly normalized: string
  readonly invisible: string
  readonly leet: string
  readonly folded: string
}

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
  /** Uint16Array views write in platform order; the strings are decoded as little-endian. */
  private readonly littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

  private readonly normalizer: (s: string) => string
  /** Set when a character maps to more than WIDEST units (never, on the normaliser as written): the walk then declines every text. */
  private broken = false

  /** The normaliser's `forMatching` the tables are learnt from (a scanner with another normaliser must not use them). */
  readonly source: (s: string) => string

  constructor(forMatching: (s: string) => string) {
    this.source = forMatching
    this.normalizer = forMatching
    this.normalized = emptyMap()
    this.invisible = emptyMap()
    this.leet = asciiTable(leetspeak)
    this.fold = asciiTable(foldVowels)
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
  }

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
    if (!this.littleEndian || this.broken || cap > MAX_UNITS) return null
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
