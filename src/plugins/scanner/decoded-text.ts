/**
 * `forDlp` (runtime §8) of text decoded from binary — mostly U+FFFD (the replacement for bytes
 * that are not UTF-8) and ASCII, as the base64 decoding of a cross-request window is (bench: cee).
 *
 * The scanner's normaliser removes U+FFFD in its first pass (`stripControlChars`: U+FFFD is in
 * its invisible set, see INVISIBLE_CLASS in normalize.ts), so `forDlp(u)` is `forDlp` of `u` without its
 * U+FFFD. Removed first, the rest is often ASCII: `forDlp`'s ASCII paths then skip the Unicode
 * passes. (U+FFFD no longer parts the text into pieces normalised on their own: the pieces it
 * stood between are joined, and NFKC may compose across the join.)
 * `decoded-text.test` checks the result against `forDlp` on random binary and on crafted texts.
 */
import type {Normalizer} from './normalize.js'

export function forDlpOfDecoded(norm: Normalizer, u: string): string {
  return norm.forDlp(u.includes('\ufffd') ? u.replaceAll('\ufffd', '') : u)
}
