/**
 * `bits(payload)` of operations §5.4 — Shannon entropy over code points × UTF-8 byte length —
 * computed for every request's two streams (up to 64 KiB of body each), with the scanner's
 * `shannonEntropy`.
 */
import {shannonEntropy, utf8Length} from '../scanner/index.js'

/** `bits(s)` = entropy per code point × UTF-8 byte length (mixed units, as the reference computes it). */
export function payloadBits(s: string): number {
  return s === '' ? 0 : shannonEntropy(s) * utf8Length(s)
}
