/**
 * Whether a run's base64 or hex decoding is sure to be ill-formed UTF-8, told from its first few
 * characters without decoding it (issue 36). Response pass 6 (§7) keeps a run's decoding only when
 * it is well-formed UTF-8 and 80 % printable; decoding every run natively and validating it was
 * the larger half of the pass on bodies of identifiers (a UUID, a SHA-1 and a time per record,
 * 200 runs a text: about 1.7 µs a run in allocation and three native calls), and random bytes — a
 * hash, a key, an image — are ill-formed within their first bytes.
 *
 * Exact: every decoding of a text begins with the bytes its first characters decode to (base64:
 * four characters, three bytes, in every variant of one alphabet, padded or not; hex: two
 * characters, one byte), so when those bytes hold a sequence no continuation can make well formed,
 * no decoding of the text is well-formed UTF-8, and one that fails to decode yields nothing
 * either. Anything the few characters cannot settle (too short, a line break, padding or a
 * character outside the alphabet among them) answers false: the text is decoded as before.
 */

import {hexDigitValue} from '../canonical/index.js'
import {BASE64_DIGIT} from './decoders.js'

/** How many leading bytes are decoded and checked: random bytes fail within a few. */
const PREFIX_BYTES = 6
/** The base64 characters those bytes are decoded from. */
const PREFIX_BASE64_CHARS = (PREFIX_BYTES / 3) * 4

const scratch = new Uint8Array(PREFIX_BYTES)

/** True when every base64 decoding of `s` (any variant) is sure to be ill-formed UTF-8 or to fail. */
export function base64DecodingIllFormed(s: string): boolean {
  if (s.length < PREFIX_BASE64_CHARS) return false
  let n = 0
  for (let i = 0; i < PREFIX_BASE64_CHARS; i += 4) {
    let v = 0
    for (let j = i; j < i + 4; j++) {
      const c = s.charCodeAt(j)
      const d = c < 128 ? BASE64_DIGIT[c]! : -1
      if (d < 0) return false
      v = (v << 6) | d
    }
    scratch[n++] = v >>> 16
    scratch[n++] = (v >>> 8) & 0xff
    scratch[n++] = v & 0xff
  }
  return illFormedPrefix(scratch, n)
}

/** True when the hex decoding of `s` is sure to be ill-formed UTF-8 or to fail. */
export function hexDecodingIllFormed(s: string): boolean {
  if (s.length < PREFIX_BYTES * 2) return false
  for (let i = 0; i < PREFIX_BYTES; i++) {
    const hi = hexDigitValue(s.charCodeAt(2 * i))
    const lo = hexDigitValue(s.charCodeAt(2 * i + 1))
    if (hi < 0 || lo < 0) return false
    scratch[i] = (hi << 4) | lo
  }
  return illFormedPrefix(scratch, PREFIX_BYTES)
}

/**
 * True when the first `n` bytes of `b` hold an ill-formed UTF-8 sequence whatever follows them
 * (Unicode's table of well-formed sequences: no overlong forms, no surrogates, nothing above
 * U+10FFFF); a sequence cut off by the end of the prefix is not held against it.
 */
export function illFormedPrefix(b: Uint8Array, n: number): boolean {
  let i = 0
  while (i < n) {
    const c = b[i]!
    if (c < 0x80) {
      i++
      continue
    }
    if (c < 0xc2 || c > 0xf4) return true
    const len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4
    for (let j = 1; j < len; j++) {
      if (i + j >= n) return false
      const d = b[i + j]!
      let lo = 0x80
      let hi = 0xbf
      if (j === 1) {
        if (c === 0xe0) lo = 0xa0
        else if (c === 0xed) hi = 0x9f
        else if (c === 0xf0) lo = 0x90
        else if (c === 0xf4) hi = 0x8f
      }
      if (d < lo || d > hi) return true
    }
    i += len
  }
  return false
}
