/**
 * The proxy's millisecond clock (wall-millis.ts): readings never go back, so request durations
 * are never negative — also when the wall clock's millisecond and the monotonic clock's digits
 * below it disagree, which made `tunnel_open` lines carry a negative `duration_ms`.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {WallMillis} from '../../../src/plugins/proxy/wall-millis.js'

describe('WallMillis', () => {
  it('consecutive readings of the system clocks never go back', () => {
    const c = new WallMillis()
    let last = c.nowMs()
    for (let i = 0; i < 200_000; i++) {
      const t = c.nowMs()
      assert.ok(t >= last, `reading ${i} went back: ${t} < ${last}`)
      last = t
    }
    // Read between two wall-clock readings: a busy machine may pause this process between any two
    // calls, which widens the bracket but never moves the reading out of it.
    const before = Date.now()
    const t = c.nowMs()
    const after = Date.now()
    assert.ok(t >= last, `the last reading went back: ${t} < ${last}`)
    assert.ok(t >= before - 3 && t <= after + 3, `stays on the wall clock: ${t} read between ${before} and ${after}`)
  })

  it('holds steady when the wall clock ticks over a millisecond the monotonic digits have not', () => {
    // Wall 1000 ms while the monotonic clock reads x.9 ms, then wall 1001 ms with x+1.1: the old
    // reading (wall ms + monotonic digits mod 1 ms) went 1000.9 → 1001.1 → 1000.95 (back).
    const walls = [1000, 1000, 1001, 1001]
    const monos = [0, 0.9, 1.1, 0.95 + 1]
    let i = 0
    const c = new WallMillis(() => walls[Math.min(i, walls.length - 1)]!, () => monos[Math.min(i++, monos.length - 1)]!)
    const got = [c.nowMs(), c.nowMs(), c.nowMs()]
    for (let k = 1; k < got.length; k++) assert.ok(got[k]! >= got[k - 1]!, `${got.join(' ')}`)
  })

  it('keeps microsecond digits and follows the wall clock when the two drift apart', () => {
    let wall = 5_000
    let mono = 0
    const c = new WallMillis(() => wall, () => mono)
    mono = 0.25
    assert.equal(c.nowMs(), 5000.25)
    // The wall clock jumped 10 s ahead (NTP step, a suspended machine): taken.
    wall = 15_000
    mono = 0.5
    assert.equal(c.nowMs(), 15_000)
    // A small step back is held at the last reading; a step back of more than a second is taken.
    wall = 14_990
    mono = 0.6
    assert.equal(c.nowMs(), 15_000)
    wall = 10_000
    mono = 0.7
    assert.equal(c.nowMs(), 10_000)
  })
})
