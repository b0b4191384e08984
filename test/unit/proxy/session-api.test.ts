import assert from 'node:assert/strict'
import http from 'node:http'
import {after, before, test} from 'node:test'
import {rfc3339, parseKey, SessionApi} from '../../../src/plugins/proxy/session-api.js'
import {ProxySessions} from '../../../src/plugins/proxy/session-gate.js'
import {defaultSessionSettings} from '../../../src/plugins/sessions/index.js'
import {serveApi} from '../../helpers/api-server.js'

let token = 'tok'
let sessions: ProxySessions | null = null
const audit: Array<Record<string, unknown>> = []
let server: http.Server
let port = 0

before(async () => {
  sessions = new ProxySessions(defaultSessionSettings(), {nowNanos: () => 1_700_000_000_123_000_000n}, () => ({event: (_l: string, _e: string, _m: string, f: Record<string, unknown>) => void audit.push(f)}) as never)
  const api = new SessionApi({
    token: () => token,
    sessions: () => sessions,
    nowMs: () => 0,
    audit: () => ({event: (_l: string, _e: string, _m: string, f: Record<string, unknown>) => void audit.push(f)}) as never,
    identify: (_req, ip) => ({agent: 'anonymous', key: ip}),
  })
  const served = await serveApi(api)
  server = served.server
  port = served.port
})
after(() => new Promise<void>((r) => server.close(() => r())))

async function call(method: string, path: string, body?: string, auth = `Bearer ${token}`) {
  return await new Promise<{status: number; body: string}>((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, method, path, headers: {Authorization: auth}, agent: false}, (res) => {
      let b = ''
      res.on('data', (c: Buffer) => (b += c.toString()))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body: b}))
    })
    req.on('error', reject)
    req.end(body)
  })
}

test('invocation sessions refuse reset/terminate/task/trust with the JSON guard (after lookup, before the body)', async () => {
  sessions!.manager.touch('mcp-stdio-42', 'anonymous', '')
  const k = encodeURIComponent('mcp-stdio-42')
  const r = await call('POST', `/api/v1/sessions/${k}/reset`)
  assert.equal(r.status, 400)
  assert.deepEqual(JSON.parse(r.body), {error: 'cannot reset invocation session; only identity sessions are resettable'})
  assert.deepEqual(JSON.parse((await call('POST', `/api/v1/sessions/${k}/terminate`, 'not json')).body), {error: 'cannot terminate invocation session; only identity sessions are terminable'})
  assert.equal((await call('POST', `/api/v1/sessions/${k}/task`)).status, 400)
  assert.equal((await call('POST', `/api/v1/sessions/${k}/trust`)).status, 400)
  assert.equal((await call('GET', `/api/v1/sessions/${k}`)).status, 200, 'inspecting is allowed')
  assert.deepEqual(JSON.parse((await call('POST', '/api/v1/adaptive/flush')).body), {flushed: true, identity_sessions: 0, skipped_invocations: 1, ip_domain_state_cleared: true, levels_reset: 0, airlock_tiers_kept: 0})
})

test('token emptied after start-up → 503; session profiling off → 503 (after auth)', async () => {
  token = ''
  const r = await call('GET', '/api/v1/sessions', undefined, 'Bearer tok')
  assert.equal(r.status, 503)
  assert.equal(r.body, 'session API not configured (no api_token)\n')
  token = 'tok'
  const saved = sessions
  sessions = null
  assert.equal((await call('GET', '/api/v1/sessions', undefined, 'Bearer nope')).status, 401)
  const d = await call('GET', '/api/v1/sessions')
  assert.equal(d.status, 503)
  assert.equal(d.body, 'session profiling disabled\n')
  sessions = saved
})

test('bodies over 64 KiB are read to the end and refused with 400; one byte less is parsed', async () => {
  sessions!.manager.touch('agent-b|10.0.0.9', 'agent-b', '10.0.0.9')
  const k = encodeURIComponent('agent-b|10.0.0.9')
  const pad = (n: number) => `{"label":"${'x'.repeat(n - 12)}"}`
  assert.equal(pad(65536).length, 65536)
  const big = await call('POST', `/api/v1/sessions/${k}/task`, pad(65537))
  assert.equal(big.status, 400)
  assert.equal(big.body, 'request body too large (max 65536 bytes)\n')
  const ok = await call('POST', `/api/v1/sessions/${k}/task`, pad(65536))
  assert.equal(ok.status, 200, ok.body)
})

test('paths it does not own are left to the caller', async () => {
  assert.equal((await call('GET', '/api/v1/killswitch')).status, 404)
  assert.equal((await call('GET', '/api/v1/adaptive/other')).status, 404)
})

test('keys and times', () => {
  assert.equal(parseKey('a%7C1.2.3.4'), 'a|1.2.3.4')
  assert.equal(parseKey(''), null)
  assert.equal(parseKey('a%2Fb'), null)
  assert.equal(parseKey('a%00b'), null)
  assert.equal(parseKey('%E0%A4%A'), null)
  assert.equal(rfc3339(1_700_000_000_000), '2023-11-14T22:13:20Z')
  assert.equal(rfc3339(1_700_000_000_120), '2023-11-14T22:13:20.12Z')
  assert.equal(rfc3339(1_700_000_000_123), '2023-11-14T22:13:20.123Z')
})
