/**
 * What `/fetch?agent=` names (docs/run.md): the agent in the answer and the audit log, while
 * `/stats` and `/metrics` count the request under its profile, `_default` without `agents:`.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {rawHttp, startProxy, until, type RunningProxy} from './proxy-harness.js'

describe('/fetch?agent= without agent profiles', {timeout: 30_000}, () => {
  let proxy: RunningProxy
  before(async () => {
    proxy = await startProxy(null)
  })
  after(async () => {
    await proxy?.stop()
  })

  it('names the agent in the answer and the audit log; /stats and /metrics say _default', async () => {
    // localhost is refused (internal address): no network needed, and the request is counted.
    const r = await rawHttp(proxy.port, {path: '/fetch?url=http://localhost/&agent=my-agent'})
    assert.equal(JSON.parse(r.body).agent, 'my-agent')
    assert.ok(await until(async () => proxy.stdout().includes('"agent":"my-agent"'), 3000), proxy.stdout())
    const stats = JSON.parse((await rawHttp(proxy.port, {path: '/stats'})).body)
    assert.deepEqual(Object.keys(stats.agents), ['_default'])
    const metrics = (await rawHttp(proxy.port, {path: '/metrics'})).body
    assert.match(metrics, /^pipelock_requests_total\{agent="_default",result="blocked"\} 1$/m)
    assert.ok(!metrics.includes('my-agent'))
  })
})
