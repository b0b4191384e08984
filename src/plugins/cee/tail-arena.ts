/**
 * The short strings a window proof keeps per key and replaces on every fragment (form tails,
 * needle tail, open segment, seed tails, the base64 track's carry and last units), stored as
 * UTF-16 code units in one array per proof that is rewritten in place. As fresh strings they were
 * ≈ 750 bytes per request of a 2 KiB URL that outlived the next scavenge (the key's state lives
 * for minutes) and were copied twice, into survivor space and then old space (issue 15, round 9).
 *
 * Slots are read as strings (decoded once, then cached) and written as strings (cached); `flush`
 * writes the changed slots' units back and drops every cached string, so the strings of one
 * fragment's work die young. The proof flushes at the end of each public call.
 */

const EMPTY = new Uint16Array(0)

export class TailArena {
  private units: Uint16Array = EMPTY
  /** Each slot's length in code units; slot i starts at the sum of the lengths before it. */
  private readonly lengths: number[]
  private readonly cache: Array<string | undefined>
  private changed = false

  constructor(slots: number) {
    this.lengths = new Array<number>(slots).fill(0)
    this.cache = new Array<string | undefined>(slots).fill(undefined)
  }

  /** The slot's length in code units (no decoding). */
  length(slot: number): number {
    return this.cache[slot]?.length ?? this.lengths[slot]!
  }

  get(slot: number): string {
    const c = this.cache[slot]
    if (c !== undefined) return c
    const n = this.lengths[slot]!
    let at = 0
    for (let i = 0; i < slot; i++) at += this.lengths[i]!
    // fromCharCode maps each unit to itself, lone surrogates included: the string comes back unit for unit.
    const s = n === 0 ? '' : String.fromCharCode.apply(null, this.units.subarray(at, at + n) as unknown as number[])
    this.cache[slot] = s
    return s
  }

  set(slot: number, s: string): void {
    this.cache[slot] = s
    this.changed = true
  }

  /** Writes the slots set since the last flush and drops the cached strings. */
  flush(): void {
    if (this.changed) {
      let total = 0
      for (let i = 0; i < this.lengths.length; i++) total += this.get(i).length
      // Grown to what is needed plus a little; shrunk only when far larger (each new array would
      // itself survive a scavenge).
      const units = total > this.units.length || this.units.length > 4 * total + 256 ? new Uint16Array(total + 32) : this.units
      let at = 0
      for (let i = 0; i < this.lengths.length; i++) {
        const s = this.cache[i]!
        for (let j = 0; j < s.length; j++) units[at + j] = s.charCodeAt(j)
        at += s.length
        this.lengths[i] = s.length
      }
      this.units = units
      this.changed = false
    }
    this.cache.fill(undefined)
  }

  /** Approximate bytes held: the array's units. */
  get size(): number {
    return 2 * this.units.length
  }
}
