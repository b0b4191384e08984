/**
 * The short strings a window proof keeps per key and replaces on every fragment (form tails,
 * needle tail, open segment, seed tails, the base64 track's carry and last units), stored as
 * code units in one array per proof that is rewritten in place (one byte per unit while all are
 * below 256). As fresh strings they were ≈ 750 bytes per request of a 2 KiB URL that outlived the
 * next scavenge (the key's state lives for minutes) and were copied twice, into survivor space
 * and then old space (issue 15, round 9).
 *
 * Slots are read as strings (decoded once, then cached) and written as strings (cached); `flush`
 * writes the changed slots' units back and drops every cached string, so the strings of one
 * fragment's work die young. The proof flushes at the end of each public call.
 */

export class TailArena {
  /** One byte per unit while every unit is below 256 (the usual ASCII tails: half the memory), else two. */
  private units: Uint8Array | Uint16Array = new Uint8Array(0)
  /** Each slot's length in code units; slot i starts at the sum of the lengths before it. */
  private readonly lengths: number[]
  /** The slots read or written since the last flush (made per call and dropped: not kept per key). */
  private cache: Array<string | undefined> | null = null
  private changed = false

  constructor(slots: number) {
    this.lengths = new Array<number>(slots).fill(0)
  }

  /** The slot's length in code units (no decoding). */
  length(slot: number): number {
    return this.cache?.[slot]?.length ?? this.lengths[slot]!
  }

  get(slot: number): string {
    const cache = (this.cache ??= new Array<string | undefined>(this.lengths.length).fill(undefined))
    const c = cache[slot]
    if (c !== undefined) return c
    const n = this.lengths[slot]!
    let at = 0
    for (let i = 0; i < slot; i++) at += this.lengths[i]!
    const s = n === 0 ? '' : unitsToString(this.units.subarray(at, at + n))
    cache[slot] = s
    return s
  }

  set(slot: number, s: string): void {
    ;(this.cache ??= new Array<string | undefined>(this.lengths.length).fill(undefined))[slot] = s
    this.changed = true
  }

  /** Writes the slots set since the last flush and drops the cached strings. */
  flush(): void {
    if (this.changed) {
      let total = 0
      let wide = false
      for (let i = 0; i < this.lengths.length; i++) {
        const s = this.get(i)
        total += s.length
        for (let j = 0; j < s.length && !wide; j++) if (s.charCodeAt(j) > 0xff) wide = true
      }
      // Grown to what is needed plus a little, or to two bytes per unit; shrunk only when far
      // larger or back to one byte (each new array would itself survive a scavenge).
      const fits = total <= this.units.length && this.units.length <= 4 * total + 256 && wide === this.units instanceof Uint16Array
      const units = fits ? this.units : wide ? new Uint16Array(total + 16) : new Uint8Array(total + 16)
      let at = 0
      for (let i = 0; i < this.lengths.length; i++) {
        const s = this.cache![i]!
        for (let j = 0; j < s.length; j++) units[at + j] = s.charCodeAt(j)
        at += s.length
        this.lengths[i] = s.length
      }
      this.units = units
      this.changed = false
    }
    this.cache = null
  }

  /** Approximate bytes held: the array's units. */
  get size(): number {
    return this.units.byteLength
  }
}

/**
 * The code units as a string. fromCharCode maps each unit to itself, lone surrogates included, so
 * the string comes back unit for unit; it is applied in chunks because one call with the whole
 * array overflows V8's stack past ≈ 120,000 arguments, and a slot that a proof gave up on can hold
 * a tail that long when `max_buffer_bytes` is configured above its 64 KiB default.
 */
export function unitsToString(units: Uint8Array | Uint16Array): string {
  const CHUNK = 8192
  if (units.length <= CHUNK) return String.fromCharCode.apply(null, units as unknown as number[])
  let s = ''
  for (let i = 0; i < units.length; i += CHUNK) s += String.fromCharCode.apply(null, units.subarray(i, i + CHUNK) as unknown as number[])
  return s
}
