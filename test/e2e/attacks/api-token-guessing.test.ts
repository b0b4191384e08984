/**
 * Attack class (issue 10 item 12): guessing the admin bearer token. After ten failures in a
 * minute a client gets 429 with Retry-After on the kill-switch and session APIs (main listener
 * and separate API listener); each failure is audited and counted. Issue 37 item 7: an agent on
 * the operator's address cannot lock the operator out — the right token passes when it is strong
 * (24 characters or more); a weak token keeps the strict lockout and start-up warns about it.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {freePort, rawHttp, startProxy, type RunningProxy} from '../proxy-harness.js'
import {attackConfig} from './attack-harness.js'

const TOKEN = 'attack-suite-admin-token-0123456789'

describe('attacks: admin API token guessing', {timeout: 60_000}, () => {
  let proxy: RunningProxy
  let apiPort: number
  before(async () => {
    apiPort = await freePort()
    proxy = await startProxy(attackConfig(['kill_switch:', `  api_token: ${TOKEN}`, `  api_listen: 127.0.0.1:${apiPort}`]))
  })
  after(async () => {
    await proxy?.stop()
  })

  it('the 11th attempt within a minute is 429 with Retry-After; the right strong token still passes', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 10; i++) {
      const path = i % 2 === 0 ? '/api/v1/killswitch/status' : '/api/v1/sessions'
      statuses.push((await rawHttp(apiPort, {path, headers: {authorization: `Bearer guess-${i}`}})).status)
    }
    assert.deepEqual(statuses, Array(10).fill(401))
    const wrong = await rawHttp(apiPort, {path: '/api/v1/killswitch/status', headers: {authorization: 'Bearer guess-10'}})
    assert.equal(wrong.status, 429)
    const right = await rawHttp(apiPort, {path: '/api/v1/killswitch/status', headers: {authorization: `Bearer ${TOKEN}`}})
    assert.equal(right.status, 200, 'the operator is not locked out by a guesser on the same address')
    assert.doesNotMatch(proxy.stderr(), /admin API token is shorter/)
    const wait = Number(wrong.headers['retry-after'])
    assert.ok(wait >= 1 && wait <= 60, String(right.headers['retry-after']))
    const m = await rawHttp(proxy.port, {path: '/metrics'})
    assert.match(m.body, /^pipelock_api_auth_failures_total 10$/m)
    assert.match(m.body, /^pipelock_api_auth_throttled_total 1$/m)
    assert.equal(proxy.stdout().match(/"event":"api_auth_failure"/g)?.length, 10)
    assert.match(proxy.stdout(), /"event":"api_auth_throttled"/)
    assert.ok(!proxy.stdout().includes('guess-'), 'a guessed token is never logged')
  })

  it('a weak token keeps the strict lockout, and start-up says so', async () => {
    const weakPort = await freePort()
    const weak = await startProxy(attackConfig(['kill_switch:', '  api_token: short-token', `  api_listen: 127.0.0.1:${weakPort}`]))
    try {
      assert.match(weak.stderr(), /WARNING: the admin API token is shorter than 24 characters: ten wrong guesses from an address lock that address out/)
      for (let i = 0; i < 10; i++) assert.equal((await rawHttp(weakPort, {path: '/api/v1/sessions', headers: {authorization: `Bearer guess-${i}`}})).status, 401)
      assert.equal((await rawHttp(weakPort, {path: '/api/v1/killswitch/status', headers: {authorization: 'Bearer short-token'}})).status, 429)
    } finally {
      await weak.stop()
    }
  })
})
