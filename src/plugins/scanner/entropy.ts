/**
 * Shannon entropy of `s` in bits per code point (Go's range-over-string counting: a well-formed
 * surrogate pair is one code point, a lone surrogate its own). ASCII code points are counted in a
 * typed array rather than a Map (a Map update per character was 40% of CEE's `admit` at 2 KiB
 * URLs, bench: cee); counts are summed in first-occurrence order, the order of the Map-based
 * definition, so the result is bit-identical to it (test/unit/cee/entropy-bits.test.ts holds
 * that definition as the oracle).
 */
export function shannonEntropy(s: string): number {
  const n = s.length
  if (n === 0) return 0
  // The ASCII counts and the first-occurrence order live in module scratch arrays (the function
  // is synchronous and never re-entered): a fresh Int32Array and a growing order array per call
  // were garbage of every CEE `admit` and URL entropy check (bench: cee). Only the counts this call
  // raised are reset, at the end.
  const ascii = ASCII_COUNTS
  let order = ORDER
  let used = 0
  let other: Map<number, number> | null = null
  let count = 0
  for (let i = 0; i < n; i++) {
    let cp = s.charCodeAt(i)
    count++
    if (cp < 128) {
      if (ascii[cp]++ === 0) {
        if (used === order.length) order = growOrder(order)
        order[used++] = cp
      }
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
      if (used === order.length) order = growOrder(order)
      order[used++] = cp
    } else other.set(cp, c + 1)
  }
  let h = 0
  for (let k = 0; k < used; k++) {
    const cp = order[k]!
    const p = (cp < 128 ? ascii[cp]! : other!.get(cp)!) / count
    h -= p * Math.log2(p)
  }
  for (let k = 0; k < used; k++) if (order[k]! < 128) ascii[order[k]!] = 0
  return h
}

const ASCII_COUNTS: Int32Array = new Int32Array(128)
/** Room for every ASCII code point and some others; a text with more distinct ones grows it. */
let ORDER: Int32Array = new Int32Array(256)

function growOrder(order: Int32Array): Int32Array {
  const bigger = new Int32Array(order.length * 2)
  bigger.set(order)
  ORDER = bigger
  return bigger
}

/** Byte length of the UTF-8 encoding (Go `len(s)`). */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}
