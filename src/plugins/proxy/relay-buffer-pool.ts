/**
 * Read buffers of CONNECT download relays (tunnel-relay.ts), kept from one tunnel for the next.
 * Every relayed tunnel takes a 128 KiB buffer and a bulk download a 512 KiB one; allocated fresh,
 * they are V8 "external memory": a stream of tunnels adds 640 KiB each and V8 answers the growth
 * with full (mark-compact) collections — one per ≈ 60 bulk tunnels, ≈ 25 ms of marking on a loaded
 * machine (`--trace-gc` of the `connect` bench), plus the page faults of
 * touching a fresh buffer. Kept buffers are used again instead: no growth, no collection.
 *
 * A buffer comes back only once nothing can touch it any more: the relay gives its buffers back
 * when both of the tunnel's sockets have closed (their handles are gone: no read lands in a buffer
 * and no write reads one after that). What a kept buffer still holds is never sent: a relay writes
 * only the bytes a read put there (as with `Buffer.allocUnsafe`, whose memory is not cleared either).
 * At most `keep` buffers of each size are kept; the rest are left to the garbage collector.
 */
export class RelayBufferPool {
  private readonly free = new Map<number, Buffer[]>()

  constructor(private readonly keep = 8) {}

  /** A buffer of `bytes` (uninitialised, or one given back). */
  take(bytes: number): Buffer {
    return this.free.get(bytes)?.pop() ?? Buffer.allocUnsafe(bytes)
  }

  /** Gives back a buffer no socket references any more. */
  give(buf: Buffer): void {
    let list = this.free.get(buf.length)
    if (list === undefined) this.free.set(buf.length, (list = []))
    if (list.length < this.keep && !list.includes(buf)) list.push(buf)
  }

  /** How many buffers of `bytes` are kept (tests). */
  kept(bytes: number): number {
    return this.free.get(bytes)?.length ?? 0
  }
}
