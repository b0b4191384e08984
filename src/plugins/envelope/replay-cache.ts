/**
 * Nonce replay cache (spec §6.5): nonce → storedUntil, single use across all keys, bounded.
 * A min-heap on storedUntil makes sweeping and eviction O(log n) (the reference sweeps the whole
 * map per insert). Entries are kept until `expires + skew` (E7 fixed: a clock-ahead signature no
 * longer outlives its nonce), and the same cache is carried across reloads (E8 fixed).
 */
export class ReplayCache {
  private readonly until = new Map<string, number>()
  private readonly heap: Array<[number, string]> = []
  /** Live nonces evicted at capacity (E9, replicated: counted so an operator can see it). */
  liveEvictions = 0

  constructor(public maxEntries: number) {}

  get size(): number {
    return this.until.size
  }

  /** Records a nonce; false when it was already present (a replay). */
  admit(nonce: string, storedUntil: number, now: number): boolean {
    this.sweep(now)
    if (this.until.has(nonce)) return false
    while (this.until.size >= this.maxEntries && this.popMin() !== undefined) this.liveEvictions++
    this.until.set(nonce, storedUntil)
    this.push([storedUntil, nonce])
    return true
  }

  private sweep(now: number): void {
    while (this.heap.length > 0 && this.heap[0]![0] <= now) this.popMin()
  }

  /** Removes the entry with the smallest storedUntil; returns its nonce. */
  private popMin(): string | undefined {
    for (;;) {
      const top = this.heap[0]
      if (top === undefined) return undefined
      const last = this.heap.pop()!
      if (this.heap.length > 0) {
        this.heap[0] = last
        this.down(0)
      }
      // Lazy deletion: a heap entry whose map value differs is stale.
      if (this.until.get(top[1]) === top[0]) {
        this.until.delete(top[1])
        return top[1]
      }
    }
  }

  private push(e: [number, string]): void {
    const h = this.heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (h[p]![0] <= h[i]![0]) break
      ;[h[p], h[i]] = [h[i]!, h[p]!]
      i = p
    }
  }

  private down(i: number): void {
    const h = this.heap
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < h.length && h[l]![0] < h[m]![0]) m = l
      if (r < h.length && h[r]![0] < h[m]![0]) m = r
      if (m === i) return
      ;[h[m], h[i]] = [h[i]!, h[m]!]
      i = m
    }
  }
}
