/** `map.get(key)`, or `compute(key)` stored under `key` first: the per-scan caches of the scanners. */
export function memoised<K, V>(map: Map<K, V>, key: K, compute: (key: K) => V): V {
  let v = map.get(key)
  if (v === undefined) {
    v = compute(key)
    map.set(key, v)
  }
  return v
}
