/**
 * The seed tail of a window proof (step 3 of `window-proof.ts`): the part of a window's text so
 * far that a seed window holding its last token or a later one can reach.
 */
import {isSeedSeparator, SEED_WINDOWS, type DlpEngine} from '../scanner/index.js'

const SEED_SPAN = Math.max(...SEED_WINDOWS)

/**
 * The part of `head + tail` (a window's text so far) that a seed window holding its last token
 * or a later one can reach: that token (it may still grow) and the known words in a row before it,
 * at most SEED_SPAN − 1 of them. A junction-side token longer than any word can never be one (nor
 * can what it grows into), so no window holds it: its last characters alone keep the tokenisation
 * of what follows. Read across the junction instead of concatenating: the
 * concatenation (≈ 1–2 KB per stream per request) was flattened only to be cut to a few words.
 * Only a word token that straddles the junction, or an answer reaching into `head`, is built.
 */
export function seedTailJoined(engine: DlpEngine, head: string, tail: string): string {
  const isWord = engine.seed.isWord
  const maxLen = engine.seed.maxWordLength
  const h = head.length
  const n = h + tail.length
  const at = (i: number): number => (i < h ? head.charCodeAt(i) : tail.charCodeAt(i - h))
  const from = (b: number, e: number): string => (b >= h ? tail.slice(b - h, e - h) : e <= h ? head.slice(b, e) : head.slice(b) + tail.slice(0, e - h))
  let i = n
  for (let k = 0; k < SEED_SPAN; k++) {
    let e = i
    while (e > 0 && isSeedSeparator(at(e - 1))) e--
    if (e === 0) return from(0, n)
    let b = e
    while (b > 0 && !isSeedSeparator(at(b - 1))) b--
    if (e === n) {
      // Lower-casing never shortens a string, so a token this long stays longer than every word.
      if (maxLen !== undefined && e - b > 2 * (maxLen + 1)) return from(e - 2 * (maxLen + 1), n)
    } else if (isWord !== undefined && !isWord(from(b, e).toLowerCase())) return from(e, n)
    i = b
  }
  return from(i, n)
}
