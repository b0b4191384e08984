/**
 * Where the atoms of a regex source end: an escape, a character class. Read by the set layout
 * (pattern-set.ts, which cuts sources at their gaps) and the leetspeak candidates (leet-source.ts,
 * which rewrites atoms). The syntax is RE2's as the binding reads it.
 */

/** The end of the escape at `i` (a backslash): `\p{…}`, `\pL`, `\x{…}`, `\x41`, `\101` and `\Q…\E` whole. */
export function escapeEnd(source: string, i: number): number {
  const next = source[i + 1]
  if ((next === 'p' || next === 'P' || next === 'x') && source[i + 2] === '{') {
    const close = source.indexOf('}', i + 3)
    return close < 0 ? source.length : close + 1
  }
  if (next === 'p' || next === 'P') return Math.min(source.length, i + 3)
  if (next === 'x') return Math.min(source.length, i + 4)
  if (next !== undefined && next >= '0' && next <= '7') {
    let k = i + 2
    while (k < i + 4 && k < source.length && source[k]! >= '0' && source[k]! <= '7') k++
    return k
  }
  if (next === 'Q') {
    const end = source.indexOf('\\E', i + 2)
    return end < 0 ? source.length : end + 2
  }
  return Math.min(source.length, i + 2)
}

/** The end of the character class opening at `i`: `]` first is literal; `[:name:]` and escapes skipped. */
export function classEnd(source: string, i: number): number {
  let k = i + 1
  if (source[k] === '^') k++
  if (source[k] === ']') k++
  while (k < source.length && source[k] !== ']') {
    if (source[k] === '\\') k = escapeEnd(source, k)
    else if (source.startsWith('[:', k)) {
      const end = source.indexOf(':]', k + 2)
      k = end < 0 ? k + 1 : end + 2
    } else k++
  }
  return Math.min(source.length, k + 1)
}
