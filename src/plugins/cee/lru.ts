/**
 * A Map used as an LRU: a touched key moves to the end; creating a key beyond the cap evicts
 * the least recently used one (operations §5.2: 10 000 keys per structure).
 */
export class LruMap<V> {
  private readonly map = new Map<string, V>()
  constructor(private readonly cap: number, private readonly onEvict?: (value: V) => void) {}

  get size(): number {
    return this.map.size
  }

  /** The entry for `key`, created by `make` when absent (evicting the LRU key at the cap); marked most recent. */
  touch(key: string, make: () => V): V {
    const v = this.map.get(key)
    if (v !== undefined) {
      this.map.delete(key)
      this.map.set(key, v)
      return v
    }
    if (this.map.size >= this.cap) {
      const oldest = this.map.keys().next()
      if (!oldest.done) {
        const gone = this.map.get(oldest.value)!
        this.map.delete(oldest.value)
        this.onEvict?.(gone)
      }
    }
    const fresh = make()
    this.map.set(key, fresh)
    return fresh
  }

  peek(key: string): V | undefined {
    return this.map.get(key)
  }

  delete(key: string): boolean {
    return this.map.delete(key)
  }

  entries(): IterableIterator<[string, V]> {
    return this.map.entries()
  }

  clear(): void {
    this.map.clear()
  }
}
