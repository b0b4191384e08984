// Issue 10 item 12: failed bearer tokens throttled per client.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {AuthThrottle} from '../../../src/plugins/proxy/auth-throttle.js'

test('ten failures in a minute throttle that client until the oldest ages out; other clients are unaffected', () => {
  let now = 1_000_000
  const t = new AuthThrottle(() => now)
  for (let i = 0; i < 9; i++) {
    t.recordFailure('10.0.0.1')
    now += 1000
  }
  assert.equal(t.retryAfterSeconds('10.0.0.1'), 0)
  t.recordFailure('10.0.0.1')
  // The first failure was at 1_000_000, now is 1_009_000: it ages out 51 s from now.
  assert.equal(t.retryAfterSeconds('10.0.0.1'), 51)
  assert.equal(t.retryAfterSeconds('10.0.0.2'), 0)
  now += 51_000
  assert.equal(t.retryAfterSeconds('10.0.0.1'), 0)
})
