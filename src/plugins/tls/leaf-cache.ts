/**
 * The leaf cache (transports.md §2.5): key = lower-cased host; entry lives until insertion +
 * TTL, and is re-minted once less than 10 % of the TTL is left (the reference serves a leaf
 * 1 s from expiry; §6 #10 fixed). Over the cap: expired entries go first, then the earliest to
 * expire — with one TTL that is insertion order, so a Map gives O(1) eviction (hits do not
 * refresh: FIFO, not LRU). Minting is synchronous (≈ 0.3 ms), so two requests for one host in
 * the same turn cannot both mint: single flight holds without a promise map.
 */
import type {LoadedCa} from './ca.js'
import {mintLeaf, type Leaf} from './leaf.js'

export interface LeafCacheOptions {
  readonly ca: LoadedCa
  readonly ttlMs: number
  readonly maxEntries: number
  readonly nowMs: () => number
}

interface Entry {
  readonly leaf: Leaf
  readonly expiresAt: number
  readonly renewAt: number
}

export class LeafCache {
  private readonly entries = new Map<string, Entry>()
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
    const hit = this.entries.get(key)
    if (hit !== undefined && now < hit.renewAt) return hit.leaf
    if (hit !== undefined) this.entries.delete(key)
    const leaf = mintLeaf(key, this.o.ca, this.o.ttlMs, now)
    this.minted++
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
