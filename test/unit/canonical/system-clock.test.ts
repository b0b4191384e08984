import assert from 'node:assert/strict'
import {test} from 'node:test'
import {systemClock} from '../../../src/plugins/canonical/index.js'

test('systemClock never goes back and stays within a few milliseconds of the wall clock', () => {
  let last = systemClock.nowNanos()
  const until = Date.now() + 300
  let readings = 0
  while (Date.now() < until) {
    const t = systemClock.nowNanos()
    assert.ok(t > last, `reading ${readings}: ${t} after ${last}`)
    last = t
    readings++
  }
  assert.ok(readings > 1000)
  const wall = BigInt(Date.now()) * 1_000_000n
  const drift = last > wall ? last - wall : wall - last
  assert.ok(drift < 5_000_000n, `drift ${drift} ns`)
})
