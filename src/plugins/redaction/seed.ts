/**
 * `seed-phrase` spans (envelope-redaction §14.2): tokens split on runs of `[-\s,|;:]` (ASCII
 * `\s`); for each window length a checksum-valid run of BIP-39 English words is a span from the
 * first token's start to the last token's end.
 *
 * One walk of the text, without slicing or lower-casing tokens: an ASCII token is a word only if
 * it is 3–8 letters, and the English list's words differ in their first four letters, so those
 * letters index a table and the rest is compared in place. A token holding a non-ASCII unit
 * (whose lower-case form may be ASCII, e.g. U+212A KELVIN SIGN) is looked up as before. Windows
 * lie inside runs of consecutive words, so only runs of at least 12 are kept and searched, in the
 * order the former whole-text search used (by window length, then position).
 */
import {wordlist} from '@scure/bip39/wordlists/english.js'
import {bip39ChecksumValid} from '../scanner/index.js'

const WINDOWS = [12, 15, 18, 21, 24]
const MIN_RUN = WINDOWS[0]!
const MAX_WORD = 8

interface WordTable {
  /** Word index + 1 by the base-27 code of the first (up to) four lower-case letters; 0 = none. */
  readonly byPrefix: Uint16Array
  /** Words by index. */
  readonly words: readonly string[]
  /** Lower-cased token → index, for tokens with a non-ASCII unit. */
  readonly index: ReadonlyMap<string, number>
}

let TABLE: WordTable | undefined

function table(): WordTable {
  if (TABLE !== undefined) return TABLE
  const byPrefix = new Uint16Array(27 ** 4)
  wordlist.forEach((w, i) => {
    let k = 0
    for (let j = 0; j < 4; j++) k = k * 27 + (j < w.length ? w.charCodeAt(j) - 0x60 : 0)
    byPrefix[k] = i + 1
  })
  TABLE = {byPrefix, words: wordlist, index: new Map(wordlist.map((w, i) => [w, i]))}
  return TABLE
}

/** ASCII classes: the splitter's separators `[-\s,|;:]` (RE2 `\s` is `[\t\n\f\r ]`), letters, other (0). */
const SEP = 1
const LETTER = 2
const ASCII_CLASS = new Uint8Array(128)
for (const c of [0x2d, 0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x2c, 0x7c, 0x3b, 0x3a]) ASCII_CLASS[c] = SEP
for (let c = 0x41; c <= 0x5a; c++) ASCII_CLASS[c] = ASCII_CLASS[c + 0x20] = LETTER

/** Word index of the ASCII-letter token text[s, e) (3 ≤ e − s ≤ 8), or -1. */
function asciiWord(t: WordTable, text: string, s: number, e: number): number {
  let k = 0
  for (let j = 0; j < 4; j++) k = k * 27 + (s + j < e ? (text.charCodeAt(s + j) | 0x20) - 0x60 : 0)
  const hit = t.byPrefix[k]!
  if (hit === 0) return -1
  const w = t.words[hit - 1]!
  if (w.length !== e - s) return -1
  for (let j = 4; j < w.length; j++) if ((text.charCodeAt(s + j) | 0x20) !== w.charCodeAt(j)) return -1
  return hit - 1
}

/** A run of ≥ MIN_RUN consecutive word tokens: their indices and UTF-16 bounds. */
interface Run {
  readonly idx: number[]
  readonly starts: number[]
  readonly ends: number[]
}

export function seedPhraseSpans(text: string): [number, number][] {
  const t = table()
  const runs: Run[] = []
  // The current run of word tokens (copied out only when long enough to hold a window).
  let RUN_IDX: Int32Array = new Int32Array(32)
  let RUN_START: Int32Array = new Int32Array(32)
  let RUN_END: Int32Array = new Int32Array(32)
  let rl = 0
  const n = text.length
  let i = 0
  // One more round at the end (i === n) closes the last run.
  for (;;) {
    let w = -1
    let s = i
    if (i < n) {
      let c = text.charCodeAt(i)
      while (c < 0x80 && ASCII_CLASS[c] === SEP) {
        if (++i >= n) break
        c = text.charCodeAt(i)
      }
      if (i >= n) break
      s = i
      // Letters only (either case) so far, and no unit above ASCII.
      let letters = true
      let ascii = true
      for (; i < n; i++) {
        c = text.charCodeAt(i)
        if (c >= 0x80) ascii = false
        else {
          const k = ASCII_CLASS[c]
          if (k === SEP) break
          if (k !== LETTER) letters = false
        }
      }
      const len = i - s
      if (len <= MAX_WORD) {
        // Lower-casing an ASCII token maps A–Z only, so a non-letter can never be part of a word.
        if (ascii) w = letters && len >= 3 ? asciiWord(t, text, s, i) : -1
        else w = t.index.get(text.slice(s, i).toLowerCase()) ?? -1
      }
      if (w >= 0) {
        if (rl === RUN_IDX.length) {
          const grow = (a: Int32Array): Int32Array => {
            const b = new Int32Array(a.length * 2)
            b.set(a)
            return b
          }
          RUN_IDX = grow(RUN_IDX)
          RUN_START = grow(RUN_START)
          RUN_END = grow(RUN_END)
        }
        RUN_IDX[rl] = w
        RUN_START[rl] = s
        RUN_END[rl] = i
        rl++
        continue
      }
    }
    // A token that is no word (or the end) ends the run.
    if (rl >= MIN_RUN) runs.push({idx: Array.from(RUN_IDX.subarray(0, rl)), starts: Array.from(RUN_START.subarray(0, rl)), ends: Array.from(RUN_END.subarray(0, rl))})
    rl = 0
    if (i >= n) break
  }
  // Trailing separators left the loop before the end round.
  if (rl >= MIN_RUN) runs.push({idx: Array.from(RUN_IDX.subarray(0, rl)), starts: Array.from(RUN_START.subarray(0, rl)), ends: Array.from(RUN_END.subarray(0, rl))})
  const out: [number, number][] = []
  for (const L of WINDOWS) {
    for (const r of runs) {
      let w = 0
      while (w + L <= r.idx.length) {
        if (bip39ChecksumValid(r.idx.slice(w, w + L))) {
          out.push([r.starts[w]!, r.ends[w + L - 1]!])
          w += L
        } else w++
      }
    }
  }
  return out
}
