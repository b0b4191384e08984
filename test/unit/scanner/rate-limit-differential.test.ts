/**
 * The sliding-window rate limiter skips expired entries with a head index and compacts in one
 * copy (issue 18) instead of splicing the front per request, and the data budget keeps a running
 * sum instead of filtering its window per check; each must answer exactly as its old version on
 * every call, with long windows, many keys, limits hit and time jumps (the clock is wall time).
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {DataBudget, DataBudgetReference, RateLimiter, RateLimiterReference} from '../../../src/plugins/scanner/rate-limit.js'
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
