/**
 * BIP-39 seed phrase detection (§5.8) over the 2048-word English list (data from
 * `@scure/bip39`; another list may be injected).
 */
import {createHash} from 'node:crypto'
import {wordlist as englishWordlist} from '@scure/bip39/wordlists/english.js'
import {isAsciiText} from './ascii-text.js'
import {unitsOf} from './text-units.js'
import {compileAsWritten, searchBytes, type Re2} from './regex.js'
import {Utf8Scratch} from './utf8-scratch.js'

export interface SeedPhraseDetector {
  /** False when seed phrase detection is disabled (the detector then never matches). */
  readonly active: boolean
  /**
   * True when some window of ≥ minWords tokens is a (checksum-valid) BIP-39 phrase. `varied`:
   * only a window whose words are nearly all different counts (at most `VARIED_REPEATS`
   * repeats), for a text joined from several texts (`text-dlp.ts`, `holdsSeedPhrase`).
   */
  detect(text: string, varied?: boolean): boolean
  /**
   * Whether a lower-cased token is a word of the list (a phrase's every token is one). Optional:
   * without it a caller must assume any token may be.
   */
  isWord?(lowerToken: string): boolean
  /**
   * `detect(head + tail)`, without flattening the concatenation when the cheap screen
   * (`mayHoldWindow`) already says no. Optional, like `isWord`.
   */
  detectJoined?(head: string, tail: string): boolean
  /** The longest word's length (a longer token is never a word). Optional, like `isWord`. */
  readonly maxWordLength?: number
}

export const WINDOWS = [12, 15, 18, 21, 24]

/**
 * The most repeated words (window size less distinct words) a window of a `varied` reading may
 * hold. A mnemonic is drawn at random from 2,048 words: four repeats or more come in about one
 * in 160,000 phrases of 24 words and one in 110 million of 12. The values of records joined in order
 * repeat a few words (`open`, `close`, … as a status): two of them, mixed at random over thirty
 * records, pass the checksum in some window nine times in ten. The price: a phrase of few words
 * (the BIP-39 test vector, `abandon` eleven times and `about`) split into separate values is not
 * read as one; in one text it still is.
 */
export const VARIED_REPEATS = 3

/**
 * No text shorter than this holds a phrase: the smallest window's tokens, each at least one
 * unit, with a separator between each two (tokens and separators are read on the text itself,
 * before lower-casing).
 */
export const MIN_PHRASE_UNITS = 2 * Math.min(...WINDOWS) - 1

/** Slots of the word-hash table of `plausibleStretches` (a power of two). */
const WORD_SLOTS = 1 << 16

/** The most word indices the detector's scratch keeps between calls (`asciiWordIndices`). */
const KEPT_TOKENS = 1 << 18

/** `slotWord`'s mark for a slot that two or more words hash to. */
const SHARED_SLOT = -2

/** One step of the word hash: the hash of a string is the fold of this over its code units from 0. */
function wordHash(h: number, unit: number): number {
  return (Math.imul(h, 31) + unit) | 0
}

/** The word-hash slot of `word` (of its code units as they are). */
export function wordSlotOf(word: string): number {
  let h = 0
  for (let k = 0; k < word.length; k++) h = wordHash(h, word.charCodeAt(k))
  return h & (WORD_SLOTS - 1)
}

/**
 * Texts from this length on are screened for a run of possible words by one native regex walk
 * first. From 256 units, not 1,024: a binary body's printable runs (≈ 850 units of random
 * printable ASCII) were walked unit by unit through the 64 K-entry class and hash tables, which
 * the body's run finders have just pushed out of the cache (issue 36: the detector's share of a
 * random 64 KiB request-body scan 8.2 → 4.6 % in a CPU profile).
 */
const RUN_SCREEN_FROM = 256

/**
 * The longest period of a repeating run of words whose windows the detector recognises as
 * already checked (`repeatedPeriod`): texts repeat a word, a pair or a line; a window of a
 * run with a longer period is checked again (the answer is the same, the cost is a checksum).
 */
const REPEAT_PERIOD = 64

/**
 * The least `p` from 1 to `maxPeriod` for which the `size` words ending at `end` are, word for
 * word, the `size` words ending `p` tokens earlier; 0 when there is none. The caller keeps
 * `end - p - size + 1` inside the run, so that window was already looked at. On words that do
 * not repeat, each `p` fails at its first comparison.
 */
function repeatedPeriod(idx: ArrayLike<number>, end: number, size: number, maxPeriod: number): number {
  for (let p = 1; p <= maxPeriod; p++) {
    let k = 0
    while (k < size && idx[end - k] === idx[end - p - k]) k++
    if (k === size) return p
  }
  return 0
}

/**
 * Checks the BIP-39 checksum of word indices (11 bits each, CS = total/33 bits of SHA-256(entropy)).
 * Written with integer bit packing instead of bit strings (the request-body scan checks every
 * window of a long run of list words; `npm run bench -- body-scan`, JSON rows); a test checks it
 * against the bit-string form on random windows of every length.
 */
export function bip39ChecksumValid(indices: readonly number[]): boolean {
  const total = indices.length * 11
  if (total === 0 || total % 33 !== 0) return false
  const cs = total / 33
  const entBits = total - cs
  const ent = Buffer.allocUnsafe(entBits / 8)
  let acc = 0
  let nbits = 0
  let o = 0
  for (let k = 0; k < indices.length; k++) {
    acc = ((acc << 11) | (indices[k]! & 0x7ff)) >>> 0
    nbits += 11
    while (nbits >= 8 && o < ent.length) {
      nbits -= 8
      ent[o++] = (acc >>> nbits) & 0xff
    }
    acc &= (1 << nbits) - 1
  }
  // The checksum is the stream's last `cs` bits against the hash's first `cs` bits, bit by bit
  // (any length: for BIP-39's ≤ 24 words they are the low bits of the last word).
  const hash = createHash('sha256').update(ent).digest()
  for (let b = 0; b < cs; b++) {
    const at = entBits + b
    const streamBit = ((indices[(at / 11) | 0]! & 0x7ff) >>> (10 - (at % 11))) & 1
    if (streamBit !== ((hash[b >>> 3]! >>> (7 - (b & 7))) & 1)) return false
  }
  return true
}

/** The splitter's class `[-\s,|;:]` (RE2 `\s` is ASCII `[\t\n\f\r ]`). */
export function isSeparator(c: number): boolean {
  return c === 0x2d || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20 || c === 0x2c || c === 0x7c || c === 0x3b || c === 0x3a
}

/**
 * Number of non-empty tokens the splitter yields, counting stops at `limit`. Lower-casing
 * neither creates nor removes a separator (all ASCII), so this is the count `detect` would see.
 */
export function countSeedTokens(text: string, limit: number): number {
  let n = 0
  let inToken = false
  for (let i = 0; i < text.length; i++) {
    const sep = isSeparator(text.charCodeAt(i))
    if (!sep && !inToken && ++n >= limit) return n
    inToken = !sep
  }
  return n
}

/** The detector of a disabled `seed_phrase_detection`. */
export const INACTIVE_SEED_PHRASE_DETECTOR: SeedPhraseDetector = {active: false, detect: () => false}

export function createSeedPhraseDetector(
  wordList: readonly string[] = englishWordlist,
  minWords: number,
  verifyChecksum: boolean,
): SeedPhraseDetector {
  // An enabled detector with an unusable list must not silently pass everything.
  if (wordList.length !== 2048) throw new RangeError(`seed phrase word list must have 2048 words, got ${wordList.length}`)
  const index = new Map<string, number>()
  wordList.forEach((w, i) => index.set(w, i))
  const sizes = WINDOWS.filter((w) => w >= minWords)
  // A token can only be a word if its length is a word's length and each of its code units
  // occurs in some word: other tokens are unknown without slicing and looking them up (the
  // lookups were most of a long text's detection time).
  let minLen = Infinity
  let maxLen = 0
  const alphabet = new Set<number>()
  for (const w of wordList) {
    minLen = Math.min(minLen, w.length)
    maxLen = Math.max(maxLen, w.length)
    for (let i = 0; i < w.length; i++) alphabet.add(w.charCodeAt(i))
  }
  const inWords = new Uint8Array(65536)
  for (const c of alphabet) inWords[c] = 1
  const smallest = Math.min(...sizes)
  // A hash of each word's code units (`wordHash`) into a table of slots: an all-ASCII token whose
  // lower-cased units hash to an empty slot is no word (a taken one may be: ≈ 3 % of other
  // tokens share a slot). An ASCII token's lower-case form is its units each lower-cased, so a
  // token equal to a word once lower-cased hashes to that word's slot: no word is ever refused.
  // Prose of short English words passed the length-and-letters test token after token, and each
  // such stretch was then sliced and looked up token by token (issue 36: most of a chat request's
  // seed-phrase time).
  // Each slot names its word (for `asciiWordAt`): the word's index, SHARED_SLOT when two words
  // share the slot (a token hashing there is looked up by its text), -1 when no word hashes there.
  const slotWord = new Int16Array(WORD_SLOTS).fill(-1)
  // Each word's code units, one after another (`asciiWordAt` compares a token with them; the
  // list's strings are slices of one string, read more slowly unit by unit): word i is
  // `wordUnits[wordStart[i], wordStart[i + 1])`.
  const wordStart = new Int32Array(wordList.length + 1)
  wordList.forEach((w, i) => (wordStart[i + 1] = wordStart[i]! + w.length))
  const wordUnits = new Uint16Array(wordStart[wordList.length]!)
  wordList.forEach((w, i) => {
    for (let k = 0; k < w.length; k++) wordUnits[wordStart[i]! + k] = w.charCodeAt(k)
    const slot = wordSlotOf(w)
    slotWord[slot] = slotWord[slot] === -1 ? i : SHARED_SLOT
  })
  // The class of every code unit for `mayHoldWindow`: a separator; a unit that, lower-cased,
  // occurs in some word (ASCII) or may lie inside a word (non-ASCII: its lower-case form may
  // change the token's length); or one no word holds. Non-ASCII units are classified on first
  // sight (UNKNOWN until then): lower-casing is per code point except Σ (σ, or ς at a word's
  // end), so a token's lower-case form holds each unit's; surrogates are kept as possible.
  const UNKNOWN = -1
  const NO_WORD = 0
  const SEPARATOR = 1
  const WORD_ASCII = 2
  const WORD_OTHER = 3
  const unitClass = new Int8Array(65536).fill(UNKNOWN)
  for (let c = 0; c < 128; c++) unitClass[c] = isSeparator(c) ? SEPARATOR : inWords[c >= 0x41 && c <= 0x5a ? c + 32 : c] === 1 ? WORD_ASCII : NO_WORD
  const classify = (c: number): number => {
    const forms = c === 0x3a3 ? ['\u03c3', '\u03c2'] : [String.fromCharCode(c).toLowerCase()]
    const inAlphabet = (f: string): boolean => [...f].every((ch) => ch.length === 1 && inWords[ch.charCodeAt(0)] === 1)
    const k = (c >= 0xd800 && c <= 0xdfff) || forms.some(inAlphabet) ? WORD_OTHER : NO_WORD
    unitClass[c] = k
    return k
  }
  /**
   * The stretches where some run of `smallest` tokens in a row could all be words, judged
   * without copying: an ASCII token is a word only if its length is a word's, each
   * character, lower-cased, occurs in some word, and its lower-cased hash is a word's slot
   * (`slotWord`); a token with a non-ASCII unit is a possible word
   * (of any length) unless that unit's lower-case form holds a character no word has (U+FFFD
   * from undecodable bytes, most scripts). Every window `detect` checks is such a run, so no
   * stretch means `detect` is false (most texts: prose and values rarely hold 12 plausible
   * tokens in a row), and a window lies inside one stretch. Stretches are ascending
   * `[start, end)` pairs of `head + tail` from the first token of a run to the end of its last;
   * `firstOnly` stops at the first run long enough (then `[0, 0]`: the answer is only "some").
   */
  const plausibleStretches = (head: string, tail: string, firstOnly: boolean): number[] => {
    const out: number[] = []
    let run = 0
    let runStart = 0
    let runEnd = 0
    let len = 0
    let maybe = true
    let ascii = true
    let hash = 0
    const n = head.length + tail.length
    // The units of `head + tail`, copied without the concatenation (`unitsOf`: a copy reads
    // faster than `charCodeAt`), a separator after the end.
    const u = unitsOf(head, tail)
    // Past the end, a separator (ending the last token) and then a token no word can be (ending
    // the last run, through the same test as every run the loop ends). The last run was flushed
    // after the loop before: on a long text V8 compiles the loop alone while it runs (OSR), before
    // that flush ever ran, and the compiled loop then left the function at that flush on every
    // call, back into the interpreter (a Cyrillic body's request scan: the detector's share of a
    // CPU profile 5 % to 27 % from one run to the next, issue 36). Same stretches, same order.
    for (let i = 0; i <= n + 1; i++) {
      const c = i < n ? u[i]! : 0x20
      let k = unitClass[c]!
      if (k === UNKNOWN) k = classify(c)
      if (k !== SEPARATOR) {
        len++
        if (k === NO_WORD) maybe = false
        else if (k === WORD_OTHER) ascii = false
        else hash = wordHash(hash, c >= 0x41 && c <= 0x5a ? c + 32 : c)
        continue
      }
      if (i > n) {
        len = 1
        maybe = false
      }
      if (len === 0) continue
      if (maybe && (!ascii || (len >= minLen && len <= maxLen && slotWord[hash & (WORD_SLOTS - 1)] !== -1))) {
        if (run++ === 0) runStart = i - len
        runEnd = i
        if (firstOnly && run >= smallest) return [0, 0]
      } else {
        if (run >= smallest) out.push(runStart, runEnd)
        run = 0
      }
      len = 0
      maybe = true
      ascii = true
      hash = 0
    }
    return out
  }
  const mayHoldWindow = (head: string, tail: string): boolean => plausibleStretches(head, tail, true).length > 0
  /**
   * `plausibleStretches(text, '', …)` is empty when this regex finds nothing in an all-ASCII
   * text: `smallest` tokens in a row, each of `minLen` to `maxLen` units that lower-case into
   * some word's letters, separated by separator runs, the first after the start or a separator,
   * the last before a separator or the end (a token holding any other unit is no possible word,
   * as there; the walk also refuses tokens by their hash, which the regex does not). One native walk instead of the unit-class walk, which was a fifth of
   * text DLP on a 64 KiB page of prose (issue 36). Built on first use; null without window sizes.
   */
  let runScreen: Re2 | null | undefined
  /** The bytes of a long ASCII text `detect` hands the run screen and reads. */
  const screenBytes = new Utf8Scratch()
  /** The word indices `asciiWordIndices` writes (a view of it is valid until its next call). */
  let tokenScratch = new Int32Array(0)
  const asciiRunScreen = (): Re2 | null => {
    if (runScreen !== undefined) return runScreen
    if (!Number.isFinite(smallest)) return (runScreen = null)
    const hex = (c: number): string => `\\x${c.toString(16).padStart(2, '0')}`
    let tok = ''
    let sep = ''
    for (let c = 0; c < 128; c++) {
      if (unitClass[c] === WORD_ASCII) tok += hex(c)
      else if (unitClass[c] === SEPARATOR) sep += hex(c)
    }
    // A list without ASCII words: every long ASCII text is refused by the walk alone.
    if (tok === '') return (runScreen = null)
    const token = `[${tok}]{${minLen},${maxLen}}`
    return (runScreen = compileAsWritten(`(?:^|[${sep}])(?:${token}[${sep}]+){${smallest - 1}}${token}(?:[${sep}]|$)`))
  }
  /**
   * The word index of each token of the all-ASCII text `b` from `from` (0 or a separator), -1 for
   * a token that is no word: one walk over the bytes, each token's lower-cased hash naming the one
   * word it can be (`slotWord`), checked byte by byte against it; a slot two words share is looked
   * up by the token's text. What `phraseIn` gives for the lower-cased text, without lower-casing
   * and slicing it: on a 64 KiB request body of list words the detector sliced and looked up each
   * of its 11,000 tokens, and walked it twice (plausible stretches, then tokens) (issue 36).
   */
  const asciiWordIndices = (b: Uint8Array, from: number): Int32Array => {
    // At most one token per two bytes (and one more). The scratch is kept between calls, like the
    // bytes, up to a quarter of a million tokens (1 MiB); a longer text gets an array of its own.
    const most = (b.length >> 1) + 1
    if (tokenScratch.length < most && most <= KEPT_TOKENS) tokenScratch = new Int32Array(Math.min(KEPT_TOKENS, most * 2))
    const idx = most <= KEPT_TOKENS ? tokenScratch : new Int32Array(most)
    let count = 0
    const n = b.length
    let start = -1
    let hash = 0
    let maybe = true
    for (let i = from; i <= n; i++) {
      const c = i < n ? b[i]! : 0x20
      const k = unitClass[c]!
      if (k !== SEPARATOR) {
        if (start < 0) {
          start = i
          hash = 0
          maybe = true
        }
        if (k === NO_WORD) maybe = false
        else hash = wordHash(hash, c >= 0x41 && c <= 0x5a ? c + 32 : c)
        continue
      }
      if (start < 0) continue
      const len = i - start
      idx[count++] = maybe && len >= minLen && len <= maxLen ? asciiWordAt(b, start, len, hash) : -1
      start = -1
    }
    return idx.subarray(0, count)
  }
  /** The index of the word the ASCII token `b[start, start + len)` is once lower-cased, or -1. */
  const asciiWordAt = (b: Uint8Array, start: number, len: number, hash: number): number => {
    const w = slotWord[hash & (WORD_SLOTS - 1)]!
    if (w === -1) return -1
    if (w === SHARED_SLOT) return index.get(Buffer.from(b.buffer, b.byteOffset + start, len).toString('latin1').toLowerCase()) ?? -1
    const at = wordStart[w]!
    if (wordStart[w + 1]! - at !== len) return -1
    for (let k = 0; k < len; k++) {
      const c = b[start + k]!
      if ((c >= 0x41 && c <= 0x5a ? c + 32 : c) !== wordUnits[at + k]) return -1
    }
    return w
  }
  /**
   * Whether a window of `lower` between `from` and `to` (separators or the ends on both sides)
   * is a phrase. A token equal to the word before it (a sorted join's repeated values: `alpha`
   * × 500) takes that word's index without a slice and a lookup.
   */
  const phraseIn = (lower: string, from: number, to: number, varied = false): boolean => {
    const idx: number[] = []
    let start = -1
    let foreign = false
    let prevStart = -1
    let prevLength = -1
    let prevIndex = -1
    for (let i = from; i <= to; i++) {
      const c = i === to ? 0x20 : lower.charCodeAt(i)
      if (!isSeparator(c)) {
        if (start < 0) {
          start = i
          foreign = false
        }
        if (inWords[c] === 0) foreign = true
      } else if (start >= 0) {
        const len = i - start
        if (foreign || len < minLen || len > maxLen) idx.push(-1)
        else {
          let same = len === prevLength
          for (let k = 0; same && k < len; k++) same = lower.charCodeAt(start + k) === lower.charCodeAt(prevStart + k)
          if (!same) {
            prevIndex = index.get(lower.slice(start, i)) ?? -1
            prevStart = start
            prevLength = len
          }
          idx.push(prevIndex)
        }
        start = -1
      }
    }
    return windowHolds(idx, varied)
  }
  const largest = Math.max(...sizes)
  /**
   * Whether some window of `sizes` words over a run of known words in `idx` (word indices, -1 for
   * a token that is no word) is a phrase. One pass over the tokens for every window size.
   */
  const windowHolds = (idx: ArrayLike<number>, varied: boolean): boolean => {
    if (idx.length < minWords) return false
    // The run of known words ending at `end`; the period last found by `repeatedPeriod` in it, and
    // how many tokens in a row (ending at `end`, at least) equal the token that period earlier:
    // a window of at most that many words is, word for word, the window a period earlier, which
    // this run already held (and was checked, or was itself such a repeat), so it is not checked
    // again. A run of one repeated word (a sorted join of JSON values: `alpha` × 500) or of a few
    // (`hello world` × 7,000 in an 84 KB request body, both list words) was a SHA-256 per token
    // and window size (228 ms a body); with the period known, a token costs one comparison for
    // every size (one pass, not one per size: issue 36, list words).
    let run = 0
    let period = 0
    let agree = 0
    for (let end = 0; end < idx.length; end++) {
      const w = idx[end]!
      if (w < 0) {
        run = 0
        period = 0
        continue
      }
      run++
      if (period > 0) agree = idx[end - period] === w ? agree + 1 : 0
      if (run < smallest || (period > 0 && agree >= largest)) continue
      for (const size of sizes) {
        if (size > run) break
        if (run > size) {
          if (period > 0 && agree >= size) continue
          const p = repeatedPeriod(idx, end, size, Math.min(run - size, REPEAT_PERIOD))
          if (p > 0) {
            period = p
            agree = size
            continue
          }
        }
        const window = Array.prototype.slice.call(idx, end - size + 1, end + 1) as number[]
        if (varied && new Set(window).size < size - VARIED_REPEATS) continue
        if (!verifyChecksum || bip39ChecksumValid(window)) return true
      }
    }
    return false
  }
  const detector: SeedPhraseDetector = {
    active: true,
    isWord: (lowerToken) => index.has(lowerToken),
    maxWordLength: maxLen,
    detectJoined(head: string, tail: string): boolean {
      // No token count first: `mayHoldWindow` is true only over a run of ≥ min(sizes) ≥ minWords
      // tokens, so it already says no wherever the count would (one walk of the text, not two).
      if (!mayHoldWindow(head, tail)) return false
      return detector.detect(head + tail)
    },
    detect(text: string, varied = false): boolean {
      if (text.length === 0) return false
      // Most targets (URL parts, short values) have too few tokens: skip the split and lookups.
      if (countSeedTokens(text, minWords) < minWords) return false
      // A long all-ASCII text: its bytes, written into a scratch kept between calls (RE2 is handed
      // a string as a new UTF-8 copy on every call: ≈ 40 µs of the screen's ≈ 145 on a 64 KiB
      // text of lines, issue 36), screened by one native walk (`asciiRunScreen`) and, where that
      // finds a run, read token by token from its first match (a separator or the start: no run
      // of words starts before it). Each byte of an ASCII text is one unit, and its lower-case
      // form is each unit lower-cased.
      const screen = text.length >= RUN_SCREEN_FROM && isAsciiText(text) ? asciiRunScreen() : null
      if (screen !== null) {
        const bytes = screenBytes.encode(text)
        const from = searchBytes(screen, bytes)
        return from >= 0 && windowHolds(asciiWordIndices(bytes, from), varied)
      }
      const stretches = plausibleStretches(text, '', false)
      if (stretches.length === 0) return false
      // Tokens of the lower-cased text = maximal runs of non-separators (what the splitter
      // yields once empty pieces are dropped; proven equal by a differential test). Only the
      // plausible stretches are read when lower-casing kept every unit in its place (no unit
      // grew, as İ does): separators are ASCII and stay where they were, so each stretch is
      // bounded by separators in the lower-cased text too.
      const lower = text.toLowerCase()
      if (lower.length !== text.length) return phraseIn(lower, 0, lower.length, varied)
      for (let k = 0; k < stretches.length; k += 2) if (phraseIn(lower, stretches[k]!, stretches[k + 1]!, varied)) return true
      return false
    },
  }
  return detector
}
