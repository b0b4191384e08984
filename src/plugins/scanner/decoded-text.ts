/**
 * `forDlp` (runtime §8) of text decoded from binary — mostly U+FFFD (the replacement for bytes
 * that are not UTF-8) and ASCII, as the base64 decoding of a cross-request window is (issue 15)
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

/** `norm.forDlp(u)`, computed piece by piece between the U+FFFD of `u` (module comment). */
export function forDlpOfDecoded(norm: Normalizer, u: string): string {
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
