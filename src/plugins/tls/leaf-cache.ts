/**
 * The leaf cache (transports.md §2.5): key = lower-cased host; entry lives until insertion +
 * TTL, and is re-minted once less than 10 % of the TTL is left (the reference serves a leaf
 * 1 s from expiry; §6 #10 fixed). Over the cap: expired entries go first, then the earliest to
 * expire — with one TTL that is insertion order, so a Map gives O(1) eviction (hits do not
 * refresh: FIFO, not LRU). `acquire` (the proxy's path) mints with the CA's signature off the
 * event loop, its main-thread steps paced by `pace`, and is single-flight: concurrent misses for one host share one mint. `get` mints
 * synchronously (≈ 0.3 ms; tools and tests).
 */
import type {LoadedCa} from './ca.js'
import type {Pace} from './certificate.js'
import {mintLeaf, mintLeafAsync, type Leaf} from './leaf.js'

export interface LeafCacheOptions {
  readonly ca: LoadedCa
  readonly ttlMs: number
  readonly maxEntries: number
  readonly nowMs: () => number
  /** Where a mint's main-thread steps run (the proxy's set-up queue); default: at once. */
  readonly pace?: Pace
}

interface Entry {
  readonly leaf: Leaf
  readonly expiresAt: number
  readonly renewAt: number
}

export class LeafCache {
  private readonly entries = new Map<string, Entry>()
  private readonly inflight = new Map<string, Promise<Leaf>>()
  minted = 0

  constructor(private readonly o: LeafCacheOptions) {}

  get size(): number {
    return this.entries.size
  }

  get ca(): LoadedCa {
    return this.o.ca
  }

  /** The leaf for `host`, minted on a miss or when due for renewal. Throws when minting fails. */
  get(host: string): Leaf {
    const key = host.toLowerCase()
    const now = this.o.nowMs()
    return this.fresh(key, now) ?? this.store(key, now, mintLeaf(key, this.o.ca, this.o.ttlMs, now))
  }

  /**
   * The cached leaf at once (no promise on the hot path), else a promise of the one mint in
   * flight for that host. Rejects when minting fails (a non-ASCII name).
   */
  acquire(host: string): Leaf | Promise<Leaf> {
    const key = host.toLowerCase()
    const now = this.o.nowMs()
    const hit = this.fresh(key, now)
    if (hit !== undefined) return hit
    let p = this.inflight.get(key)
    if (p === undefined) {
      p = mintLeafAsync(key, this.o.ca, this.o.ttlMs, now, this.o.pace)
        .then((leaf) => this.store(key, now, leaf))
        .finally(() => this.inflight.delete(key))
      this.inflight.set(key, p)
    }
    return p
  }

  /** A cached leaf not yet due for renewal (a due one is dropped). */
  private fresh(key: string, now: number): Leaf | undefined {
    const hit = this.entries.get(key)
    if (hit !== undefined && now < hit.renewAt) return hit.leaf
    if (hit !== undefined) this.entries.delete(key)
    return undefined
  }

  private store(key: string, now: number, leaf: Leaf): Leaf {
    this.minted++
    this.entries.delete(key)
    this.entries.set(key, {leaf, expiresAt: now + this.o.ttlMs, renewAt: now + this.o.ttlMs * 0.9})
    if (this.entries.size > this.o.maxEntries) this.evict(now)
    return leaf
  }

  private evict(now: number): void {
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k)
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.o.maxEntries) break
      this.entries.delete(k)
    }
  }
}
