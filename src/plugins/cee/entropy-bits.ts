/**
 * `bits(payload)` of operations §5.4 — Shannon entropy over code points × UTF-8 byte length —
 * computed for every request's two streams (up to 64 KiB of body each). The scanner's
 * `shannonEntropy` counts code points in a Map; here ASCII code points are counted in a typed
 * array (a Map update per character was 40% of `admit` at 2 KiB URLs). The result is
 * bit-identical: the same counts, summed in the same order (first occurrence, as the Map
 * iterates), with the same arithmetic (`test/unit/cee/entropy-bits.test.ts` holds the scanner's
 * function as the oracle).
 */
import {utf8Length} from '../scanner/index.js'

/** Shannon entropy of `s` in bits per code point, exactly as the scanner's `shannonEntropy`. */
export function codePointEntropy(s: string): number {
  const n = s.length
  if (n === 0) return 0
  const ascii = new Int32Array(128)
  // Code points in first-occurrence order (the summation order of the Map-based oracle).
  const order: number[] = []
  let other: Map<number, number> | null = null
  let count = 0
  for (let i = 0; i < n; i++) {
    let cp = s.charCodeAt(i)
    count++
    if (cp < 128) {
      if (ascii[cp]++ === 0) order.push(cp)
      continue
    }
    // A well-formed surrogate pair is one code point; a lone surrogate is its own (as `for…of`).
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
      const lo = s.charCodeAt(i + 1)
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = (cp - 0xd800) * 0x400 + (lo - 0xdc00) + 0x10000
        i++
      }
    }
    other ??= new Map()
    const c = other.get(cp)
    if (c === undefined) {
      other.set(cp, 1)
      order.push(cp)
    } else other.set(cp, c + 1)
  }
  let h = 0
  for (const cp of order) {
    const p = (cp < 128 ? ascii[cp]! : other!.get(cp)!) / count
    h -= p * Math.log2(p)
  }
  return h
}

/** `bits(s)` = entropy per code point × UTF-8 byte length (mixed units, as the reference computes it). */
export function payloadBits(s: string): number {
  return s === '' ? 0 : codePointEntropy(s) * utf8Length(s)
}
