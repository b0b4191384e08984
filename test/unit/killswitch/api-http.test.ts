import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {test} from 'node:test'
import {KillSwitchApi, KillSwitchController} from '../../../src/plugins/killswitch/index.js'

async function withApi(token: string, fn: (port: number, ks: KillSwitchController, clock: {ms: number}) => Promise<void>): Promise<void> {
  const ks = new KillSwitchController({enabled: false, sentinelFile: '', message: 'stop'})
  const clock = {ms: 0}
  const api = new KillSwitchApi({controller: ks, token: () => token, nowMs: () => clock.ms})
  const server = http.createServer((req, res) => {
    if (!api.handle(req, res, (req.url ?? '').split('?')[0]!, '127.0.0.1')) res.end('nope')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  try {
    await fn((server.address() as AddressInfo).port, ks, clock)
  } finally {
    server.close()
  }
}

async function call(port: number, method: string, path: string, body?: string, token?: string): Promise<{status: number; body: string; headers: http.IncomingHttpHeaders}> {
  return await new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, method, path, agent: false, headers: token ? {Authorization: `Bearer ${token}`} : {}}, (res) => {
      let b = ''
      res.on('data', (c) => (b += c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body: b, headers: res.headers}))
    })
    req.on('error', reject)
    req.end(body)
  })
}

test('API without a token answers 503 not configured', async () => {
  await withApi('', async (port) => {
    const r = await call(port, 'GET', '/api/v1/killswitch/status')
    assert.equal(r.status, 503)
    assert.equal(r.body, 'kill switch API not configured (no api_token)\n')
  })
})

test('toggles: 10 per fixed 60 s window, then 429 with Retry-After; status is not limited', async () => {
  await withApi('tok', async (port, ks, clock) => {
    for (let i = 0; i < 10; i++) assert.equal((await call(port, 'POST', '/api/v1/killswitch', `{"active":${i % 2 === 0}}`, 'tok')).status, 200)
    const limited = await call(port, 'POST', '/api/v1/killswitch', '{"active":true}', 'tok')
    assert.equal(limited.status, 429)
    assert.equal(limited.headers['retry-after'], '60')
    assert.equal((await call(port, 'GET', '/api/v1/killswitch/status', undefined, 'tok')).status, 200)
    clock.ms += 60_000
    assert.equal((await call(port, 'POST', '/api/v1/killswitch', '{"active":true}', 'tok')).status, 200)
    assert.equal(ks.status().source, 'api')
  })
})

test('bodies over 1 KiB, wrong methods and bad tokens are refused', async () => {
  await withApi('tok', async (port, ks) => {
    const big = await call(port, 'POST', '/api/v1/killswitch', `{"active":true,"pad":"${'x'.repeat(2000)}"}`, 'tok')
    assert.equal(big.status, 400)
    assert.equal(big.body, 'request body too large\n')
    const wrong = await call(port, 'PUT', '/api/v1/killswitch/status', undefined, 'tok')
    assert.equal(wrong.status, 405)
    assert.equal(wrong.headers.allow, 'GET')
    const bad = await call(port, 'POST', '/api/v1/killswitch', '{"active":true}', 'nope')
    assert.equal(bad.status, 401)
    assert.equal(bad.body, 'unauthorized\n')
    assert.equal(ks.isActive(), false)
  })
})
