/**
 * The sliding-window rate limiter skips expired entries with a head index and compacts in one
 * copy (issue 18) instead of splicing the front per request; it must answer exactly as the old
 * splice version on every call, with long windows, many keys, limits hit and time jumps.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {RateLimiter, RateLimiterReference} from '../../../src/plugins/scanner/rate-limit.js'
import {prng} from './fixtures.js'

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
})
