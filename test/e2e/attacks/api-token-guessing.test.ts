/**
 * Attack class (issue 10 item 12): guessing the admin bearer token. After ten failures in a
 * minute a client gets 429 with Retry-After on the kill-switch and session APIs (main listener
 * and separate API listener), even with the right token; each failure is audited and counted.
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

  it('the 11th attempt within a minute is 429 with Retry-After, even with the right token', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 10; i++) {
      const path = i % 2 === 0 ? '/api/v1/killswitch/status' : '/api/v1/sessions'
      statuses.push((await rawHttp(apiPort, {path, headers: {authorization: `Bearer guess-${i}`}})).status)
    }
    assert.deepEqual(statuses, Array(10).fill(401))
    const right = await rawHttp(apiPort, {path: '/api/v1/killswitch/status', headers: {authorization: `Bearer ${TOKEN}`}})
    assert.equal(right.status, 429)
    const wait = Number(right.headers['retry-after'])
    assert.ok(wait >= 1 && wait <= 60, String(right.headers['retry-after']))
    const m = await rawHttp(proxy.port, {path: '/metrics'})
    assert.match(m.body, /^pipelock_api_auth_failures_total 10$/m)
    assert.match(m.body, /^pipelock_api_auth_throttled_total 1$/m)
    assert.equal(proxy.stdout().match(/"event":"api_auth_failure"/g)?.length, 10)
    assert.match(proxy.stdout(), /"event":"api_auth_throttled"/)
    assert.ok(!proxy.stdout().includes('guess-'), 'a guessed token is never logged')
  })
})
