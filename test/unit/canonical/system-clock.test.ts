import assert from 'node:assert/strict'
import {test} from 'node:test'
import {systemClock} from '../../../src/plugins/canonical/index.js'

// Each reading is bracketed by the wall clock read just before and just after it, so being
// descheduled between calls moves the bracket with the reading and proves nothing false.
test('systemClock never goes back and stays with the wall clock (each reading inside its own bracket, 3 ms either side)', () => {
  const SLACK = 3_000_000n
  let last = systemClock.nowNanos()
  const until = Date.now() + 300
  let readings = 0
  while (Date.now() < until) {
    const before = BigInt(Date.now()) * 1_000_000n
    const t = systemClock.nowNanos()
    const after = (BigInt(Date.now()) + 1n) * 1_000_000n
    assert.ok(t > last, `reading ${readings}: ${t} after ${last}`)
    assert.ok(t >= before - SLACK && t <= after + SLACK, `reading ${readings}: ${t} outside [${before}, ${after}] by more than 3 ms`)
    last = t
    readings++
  }
  assert.ok(readings > 1000)
})
