/**
 * The sliding-window rate limiter skips expired entries with a head index and compacts in one
 * copy (issue 18) instead of splicing the front per request, and the data budget keeps a running
 * sum instead of filtering its window per check; each must answer exactly as its old version on
 * every call, with long windows, many keys, limits hit and time jumps (the clock is wall time).
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {Clock} from '../../../src/plugins/canonical/index.js'
import {DataBudget, RateLimiter} from '../../../src/plugins/scanner/rate-limit.js'
import {prng} from './fixtures.js'

const WINDOW_NS = 60_000_000_000n

/** The previous rate limiter (front splice per request): the oracle. */
class RateLimiterReference {
  private readonly windows = new Map<string, bigint[]>()
  constructor(private readonly clock: Clock) {}

  checkAndRecord(key: string, limit: number): boolean {
    const max = limit <= 0 ? 60 : limit
    const now = this.clock.nowNanos()
    let w = this.windows.get(key)
    if (w === undefined) {
      w = []
      this.windows.set(key, w)
    }
    let expired = 0
    while (expired < w.length && now - w[expired]! >= WINDOW_NS) expired++
    if (expired > 0) w.splice(0, expired)
    if (w.length >= max) return false
    w.push(now)
    return true
  }
}

/** The previous data budget (filter per call): the oracle. */
class DataBudgetReference {
  private readonly windows = new Map<string, Array<{t: bigint; bytes: number}>>()
  constructor(private readonly clock: Clock) {}

  private current(key: string): Array<{t: bigint; bytes: number}> {
    const now = this.clock.nowNanos()
    const w = (this.windows.get(key) ?? []).filter((e) => now - e.t < WINDOW_NS)
    this.windows.set(key, w)
    return w
  }

  isExhausted(key: string, limit: number): boolean {
    if (limit <= 0) return false
    return this.current(key).reduce((a, e) => a + e.bytes, 0) >= limit
  }

  record(key: string, bytes: number): void {
    if (bytes <= 0) return
    const w = this.current(key)
    w.push({t: this.clock.nowNanos(), bytes})
  }
}

describe('rate limiter: head index equals the front-splice reference', () => {
  it('300,000 calls over 3 keys, bursts, idle gaps past the window, a clock step back, limits 0, 50 and 100,000', () => {
    const r = prng(5150)
    let now = 1_000_000_000_000n
    const clock = {nowNanos: () => now}
    const fast = new RateLimiter(clock)
    const ref = new RateLimiterReference(clock)
    let allowed = 0
    let refused = 0
    for (let i = 0; i < 300_000; i++) {
      const x = r()
      // Mostly sub-millisecond steps (thousands of live entries), sometimes a long gap.
      if (x < 0.0005) now += 61_000_000_000n
      else if (x < 0.0007) now -= 2_000_000_000n
      else now += BigInt(Math.floor(r() * 400_000))
      const key = ['a.example', 'b.example', 'c.example'][Math.floor(r() * 3)]!
      const limit = key === 'a.example' ? 100_000 : key === 'b.example' ? 50 : 0
      const want = ref.checkAndRecord(key, limit)
      assert.equal(fast.checkAndRecord(key, limit), want, `call ${i}`)
      if (want) allowed++
      else refused++
    }
    assert.ok(allowed > 1000 && refused > 1000, `allowed ${allowed}, refused ${refused}: both paths must be exercised`)
  })

  it('times kept as numbers after a base: clock jumps of weeks to centuries either way, rebases and the absolute fallback', () => {
    // Entries are nanoseconds after a per-window base in plain numbers (exact within ±2^53); a
    // jump past ±2^52 ns rebases, and a live entry that cannot be rebased exactly sends the
    // window back to absolute BigInt times until it empties. Each must answer as the reference.
    const r = prng(7170)
    let now = 1_700_000_000_000_000_000n
    const clock = {nowNanos: () => now}
    const fast = new RateLimiter(clock)
    const ref = new RateLimiterReference(clock)
    const big = [2n ** 52n - 1n, 2n ** 52n, 2n ** 52n + 1n, 2n ** 53n + 7n, 2n ** 60n, 61_000_000_000n * 90_000n]
    let jumps = 0
    let refused = 0
    for (let i = 0; i < 200_000; i++) {
      const x = r()
      if (x < 0.002) {
        const j = big[Math.floor(r() * big.length)]!
        now += r() < 0.5 ? j : -j
        jumps++
      } else if (x < 0.003) now -= BigInt(Math.floor(r() * 59_000_000_000))
      else now += BigInt(Math.floor(r() * 2_000_000_000))
      const key = ['a.example', 'b.example'][Math.floor(r() * 2)]!
      const limit = key === 'a.example' ? 40 : 1000
      const want = ref.checkAndRecord(key, limit)
      assert.equal(fast.checkAndRecord(key, limit), want, `call ${i}`)
      if (!want) refused++
    }
    assert.ok(jumps > 200 && refused > 1000, `jumps ${jumps}, refused ${refused}`)
  })

  it('a window just under and just over the rebase distance, entries a few ns apart', () => {
    let now = 0n
    const clock = {nowNanos: () => now}
    const fast = new RateLimiter(clock)
    const ref = new RateLimiterReference(clock)
    const steps = [1n, 59_999_999_999n, 1n, 2n ** 52n - 60_000_000_000n, 1n, 60_000_000_000n, 2n ** 52n, 1n, -(2n ** 53n), 3n, 2n ** 54n, -1n, 59_999_999_998n, 2n]
    for (let round = 0; round < 50; round++) {
      for (const s of steps) {
        now += s
        for (const limit of [3, 5]) {
          const key = `k${limit}`
          assert.equal(fast.checkAndRecord(key, limit), ref.checkAndRecord(key, limit), `round ${round}, step ${s}, limit ${limit}`)
        }
      }
    }
  })

  it('a live time more than 2^53 ns from now at a rebase is kept exactly (the absolute fallback)', () => {
    // Times at odd nanoseconds, then a step back of 2^54 + 1: relative to the new now they are
    // ≈ 2^54 + odd, which a double rounds. Stepping forward to within a nanosecond of their
    // expiry tells an exact window from a rounded one.
    const T = 1_700_000_000_000_000_001n
    const J = 2n ** 54n + 1n
    for (const back of [J, J + 2n, 2n ** 60n + 3n]) {
      for (const edge of [-2n, -1n, 0n, 1n, 2n]) {
        let now = T
        const clock = {nowNanos: () => now}
        const fast = new RateLimiter(clock)
        const ref = new RateLimiterReference(clock)
        // Three times (T, T+1, T+1), the step back, then just before or after T+1's expiry, and more calls there.
        const at = [0n, 1n, 0n, -back, back + 59_999_999_999n + edge, 0n, 0n, 0n, 2n, 60_000_000_000n, 0n]
        for (const [i, step] of at.entries()) {
          now = i === 0 ? T : now + step
          assert.equal(fast.checkAndRecord('k', 3), ref.checkAndRecord('k', 3), `back ${back}, edge ${edge}, call ${i}`)
        }
      }
    }
  })

  it('data budget: 200,000 checks and records over 3 keys, with gaps past the window and clock steps back', () => {
    const r = prng(6160)
    let now = 5_000_000_000_000n
    const clock = {nowNanos: () => now}
    const fast = new DataBudget(clock)
    const ref = new DataBudgetReference(clock)
    let exhausted = 0
    let steppedBack = 0
    for (let i = 0; i < 200_000; i++) {
      const x = r()
      if (x < 0.0005) now += 61_000_000_000n
      else if (x < 0.001) {
        now -= BigInt(Math.floor(r() * 3_000_000_000))
        steppedBack++
      } else now += BigInt(Math.floor(r() * 600_000))
      const key = ['a.example', 'b.example', 'c.example'][Math.floor(r() * 3)]!
      if (r() < 0.5) {
        const bytes = Math.floor(r() * 4096) - 100
        fast.record(key, bytes)
        ref.record(key, bytes)
      } else {
        const limit = key === 'a.example' ? 50_000_000 : key === 'b.example' ? 200_000 : 0
        const want = ref.isExhausted(key, limit)
        assert.equal(fast.isExhausted(key, limit), want, `call ${i}`)
        if (want) exhausted++
      }
    }
    assert.ok(exhausted > 1000 && steppedBack > 50, `exhausted ${exhausted}, clock steps back ${steppedBack}`)
  })
})
