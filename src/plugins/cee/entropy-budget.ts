/**
 * Entropy budget per key over a sliding window (operations §5.4), in `payloadBits` (entropy-bits.ts).
 */
import {payloadBits} from './entropy-bits.js'
import {LruMap, type SweepPass} from './lru.js'

interface Entry {
  readonly bits: number
  readonly atMs: number
}

class KeyWindow {
  entries: Entry[] = []
  head = 0
  total = 0

  prune(cutoffMs: number): void {
    // Entries at or before the cutoff have left (now − window, now].
    while (this.head < this.entries.length && this.entries[this.head]!.atMs <= cutoffMs) {
      this.total -= this.entries[this.head]!.bits
      this.head++
    }
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head)
      this.head = 0
    }
    if (this.head === this.entries.length) this.total = 0 // no float drift once empty
  }

  get empty(): boolean {
    return this.head === this.entries.length
  }
}

export class EntropyBudget {
  private readonly keys: LruMap<KeyWindow>

  constructor(private readonly budgetBits: number, private readonly windowMs: number, cap: number) {
    this.keys = new LruMap(cap)
  }

  get activeKeys(): number {
    return this.keys.size
  }

  /** Records the two streams (each its own entry) and answers whether the window's sum reaches the budget. */
  record(key: string, streams: readonly string[], nowMs: number): {exceeded: boolean; usage: number} {
    const w = this.keys.touch(key, () => new KeyWindow())
    w.prune(nowMs - this.windowMs)
    for (const s of streams) {
      const bits = payloadBits(s)
      if (bits <= 0) continue
      w.entries.push({bits, atMs: nowMs})
      w.total += bits
    }
    return {exceeded: w.total >= this.budgetBits, usage: w.total}
  }

  /** Whether the key's budget is already exceeded (CONNECT records nothing, §5.4). */
  exceeded(key: string, nowMs: number): boolean {
    const w = this.keys.peek(key)
    if (w === undefined) return false
    w.prune(nowMs - this.windowMs)
    return w.total >= this.budgetBits
  }

  get budget(): number {
    return this.budgetBits
  }

  clear(key: string): boolean {
    return this.keys.delete(key)
  }

  /** Drops expired entries and empty keys. */
  sweep(nowMs: number): void {
    this.sweepPass().step(Infinity, nowMs)
  }

  /** `sweep` a slice at a time: each step drops expired entries and empty keys of up to `max` keys. */
  sweepPass(): SweepPass {
    return this.keys.pass((k, w, nowMs) => {
      w.prune(nowMs - this.windowMs)
      if (w.empty) this.keys.delete(k)
    })
  }
}
