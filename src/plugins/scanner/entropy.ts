/** Shannon entropy in bits per code point (§5.10, §25.3: iterate runes like the reference). */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0
  const counts = new Map<number, number>()
  let n = 0
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    counts.set(cp, (counts.get(cp) ?? 0) + 1)
    n++
  }
  let h = 0
  for (const c of counts.values()) {
    const p = c / n
    h -= p * Math.log2(p)
  }
  return h
}

/** Byte length of the UTF-8 encoding (Go `len(s)`). */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}
