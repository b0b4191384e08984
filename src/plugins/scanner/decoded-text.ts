/**
 * `forDlp` (runtime §8) of text decoded from binary — mostly U+FFFD (the replacement for bytes
 * that are not UTF-8) and ASCII, as the base64 decoding of a cross-request window is (bench: cee)
 * — computed without running the six Unicode passes over all of it.
 *
 * U+FFFD is inert under every pass of `forDlp`: it is not a control, invisible, exotic space,
 * confusable or mark; it has no decomposition, is a starter (ccc 0) and is neither half of any
 * canonical composition, so NFKC and NFD never reorder marks across it nor combine anything
 * with it. Each pass therefore maps `x + U+FFFD + y` to `pass(x) + U+FFFD + pass(y)`, and so
 * does `forDlp`; and no pass turns another character into U+FFFD. Between two U+FFFD:
 *  - a piece of ASCII code units only is printable ASCII (a fixed point) plus C0 controls and
 *    DEL, which the control pass removes; nothing else changes it (every invisible, exotic
 *    space, confusable and mark is non-ASCII; NFKC and NFD fix ASCII);
 *  - the pieces holding another code unit are normalised by one `forDlp` call over them joined
 *    by U+FFFD, whose result is split back at U+FFFD.
 * `decoded-text.test` checks the result against `forDlp` on random binary and on crafted texts.
 */
import {unitsToString, type Normalizer} from './normalize.js'

const REPLACEMENT = 0xfffd

/**
 * The normalised form of each piece holding a non-ASCII unit, per normaliser (the piece's text →
 * `forDlp` of it, which by the argument above is what the piece becomes wherever it stands
 * between U+FFFD). A client's traffic repeats its decoded pieces (the bench's windows: 99 % of
 * pieces seen before); random binary much less (≈ 19 %), where a miss costs the by-pieces pass
 * as before. Bounded: cleared when full. Only pieces and results of at most DECODED_PIECE_MAX
 * units are kept: V8 makes a slice of 13 or more units a view of its parent, which the memo would
 * keep alive (a whole decoded text per entry).
 */
export const DECODED_PIECE_MEMO_MAX = 8192
/** New pieces in one text normalised one `forDlp` call each; beyond this, the by-pieces pass. */
const MISSES_ALONE = 4
export const DECODED_PIECE_MAX = 12
/** A run of this many texts that fell back to the by-pieces pass stops the memo for a while. */
const FALLBACKS_TO_PAUSE = 8
/** How many texts then take the by-pieces pass without the memo before it is tried again. */
const PAUSE_TEXTS = 64

interface PieceMemo {
  readonly map: Map<string, string>
  /** Texts in a row that fell back to the by-pieces pass. */
  fallbacks: number
  /** Texts still to take the by-pieces pass without looking up or filling the memo. */
  paused: number
}
const memos = new WeakMap<Normalizer, PieceMemo>()

/** Output scratch of the one-walk path (single-threaded; read into a string before returning). */
let scratch: Uint16Array = new Uint16Array(4096)

function memoOf(norm: Normalizer): PieceMemo {
  let m = memos.get(norm)
  if (m === undefined) {
    m = {map: new Map(), fallbacks: 0, paused: 0}
    memos.set(norm, m)
  }
  return m
}

/**
 * The by-pieces pass for a text the memo did not cover. Random binary rarely repeats a piece
 * (≈ 19 %): filling the memo on every text made it ≈ 45 % slower than the pass alone, so after
 * FALLBACKS_TO_PAUSE such texts in a row the memo rests for PAUSE_TEXTS texts (one more miss
 * after that rests it again). Either way the result is the by-pieces pass's.
 */
function fallBack(norm: Normalizer, u: string, memo: PieceMemo): string {
  if (++memo.fallbacks >= FALLBACKS_TO_PAUSE) {
    memo.paused = PAUSE_TEXTS
    memo.fallbacks = FALLBACKS_TO_PAUSE - 1
  }
  return forDlpOfDecodedByPieces(norm, u, memo.map)
}

/**
 * `norm.forDlp(u)` (module comment). When every non-ASCII piece of `u` is in the normaliser's
 * memo, one walk writes the result: printable ASCII as it comes, a non-ASCII piece's ASCII
 * rewound and replaced by its memoised form. Otherwise the by-pieces pass, which fills the memo.
 */
export function forDlpOfDecoded(norm: Normalizer, u: string): string {
  if (!u.includes('\ufffd')) return norm.forDlp(u)
  const memo = memoOf(norm)
  if (memo.paused > 0) {
    memo.paused--
    return forDlpOfDecodedByPieces(norm, u)
  }
  const known = memo.map
  let buf: Uint16Array = scratch
  let n = 0
  // Where the current piece's output starts, and where the piece starts in `u`.
  let ps = 0
  let start = 0
  let other = false
  let misses = 0
  for (let i = 0; i <= u.length; i++) {
    const c = i < u.length ? u.charCodeAt(i) : REPLACEMENT
    if (c !== REPLACEMENT) {
      if (c >= 0x80) other = true
      else if (c >= 0x20 && c !== 0x7f) {
        if (n === buf.length) buf = grown(buf, n + 1)
        buf[n++] = c
      }
      continue
    }
    if (other) {
      if (i - start > DECODED_PIECE_MAX) return fallBack(norm, u, memo)
      const piece = u.slice(start, i)
      let d = known.get(piece)
      if (d === undefined) {
        // A few new pieces are normalised one by one; more (random binary) in one call, as before.
        if (++misses > MISSES_ALONE) return fallBack(norm, u, memo)
        d = norm.forDlp(piece)
        remember(known, piece, d, 1)
      }
      n = ps
      if (n + d.length + 1 > buf.length) buf = grown(buf, n + d.length + 1)
      for (let j = 0; j < d.length; j++) buf[n++] = d.charCodeAt(j)
    }
    if (i < u.length) {
      if (n === buf.length) buf = grown(buf, n + 1)
      buf[n++] = REPLACEMENT
    }
    ps = n
    start = i + 1
    other = false
  }
  memo.fallbacks = 0
  return unitsToString(buf, n)
}

/** Keeps a short piece and its form (`room`: entries about to be added, so a clear makes room for all). */
function remember(memo: Map<string, string>, piece: string, done: string, room: number): void {
  if (piece.length > DECODED_PIECE_MAX || done.length > DECODED_PIECE_MAX) return
  if (memo.size + room > DECODED_PIECE_MEMO_MAX) memo.clear()
  memo.set(piece, done)
}

/** A larger copy of `buf` (kept as the scratch up to 64 Ki units: a huge text's array is not kept). */
function grown(buf: Uint16Array, need: number): Uint16Array {
  const next = new Uint16Array(Math.max(need, 2 * buf.length))
  next.set(buf)
  if (next.length <= 1 << 16) scratch = next
  return next
}

/**
 * `norm.forDlp(u)` piece by piece between the U+FFFD of `u` (module comment): the pieces holding
 * other units through one `forDlp` call; each such piece and its result go into `memo` (when
 * given). The path before the memo, and the oracle of the memoised walk in the tests.
 */
export function forDlpOfDecodedByPieces(norm: Normalizer, u: string, memo?: Map<string, string>): string {
  if (!u.includes('\ufffd')) return norm.forDlp(u)
  const hard: string[] = []
  let start = 0
  let other = false
  for (let i = 0; i <= u.length; i++) {
    const c = i < u.length ? u.charCodeAt(i) : REPLACEMENT
    if (c === REPLACEMENT) {
      if (other) hard.push(u.slice(start, i))
      start = i + 1
      other = false
    } else if (c >= 0x80) other = true
  }
  const done = hard.length === 0 ? [] : norm.forDlp(hard.join('\ufffd')).split('\ufffd')
  // Cannot differ (no pass creates or removes U+FFFD); the whole pass is the fallback.
  if (done.length !== hard.length) return norm.forDlp(u)
  if (memo !== undefined) for (let j = 0; j < hard.length; j++) remember(memo, hard[j]!, done[j]!, hard.length - j)
  let size = u.length
  for (const d of done) size += d.length
  const buf = new Uint16Array(size)
  let n = 0
  let k = 0
  start = 0
  other = false
  for (let i = 0; i <= u.length; i++) {
    const c = i < u.length ? u.charCodeAt(i) : REPLACEMENT
    if (c !== REPLACEMENT) {
      if (c >= 0x80) other = true
      continue
    }
    if (other) {
      const d = done[k++]!
      for (let j = 0; j < d.length; j++) buf[n++] = d.charCodeAt(j)
    } else {
      for (let j = start; j < i; j++) {
        const a = u.charCodeAt(j)
        if (a >= 0x20 && a !== 0x7f) buf[n++] = a
      }
    }
    if (i < u.length) buf[n++] = REPLACEMENT
    start = i + 1
    other = false
  }
  return unitsToString(buf, n)
}
