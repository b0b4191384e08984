/** `map.get(key)`, or `compute(key)` stored under `key` first: the per-scan caches of the scanners. */
export function memoised<K, V>(map: Map<K, V>, key: K, compute: (key: K) => V): V {
  let v = map.get(key)
  if (v === undefined) {
    v = compute(key)
    map.set(key, v)
  }
  return v
}

/**
 * `f` remembering its last call: the same text asked again (`===`) gets the reading it got,
 * without `f` running. For pure functions of a text that one scan asks twice in a row of the same
 * text (a binary body's text runs: text DLP's seed-phrase step, then the injection scan). Texts
 * longer than `maxLength` code units are not remembered: what stays alive between scans is a text
 * of at most that length and its reading (which `f` may make longer: NFKC expands some characters).
 */
export function rememberingLast(f: (s: string) => string, maxLength = 1 << 16): (s: string) => string {
  let lastIn: string | undefined
  let lastOut = ''
  return (s) => {
    if (s === lastIn) return lastOut
    const out = f(s)
    if (s.length <= maxLength) {
      lastIn = s
      lastOut = out
    }
    return out
  }
}
