import {after, before, beforeEach, test} from 'node:test'
import assert from 'node:assert/strict'
import {createServer} from 'node:net'
import {
  AdminClient,
  adaptiveFlush,
  explainSession,
  inspectSession,
  listSessions,
  releaseSession,
  sessionPath,
  showApproval,
  terminateSession,
} from '../../../src/plugins/admin-client/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {DETAIL_HELD, EXPLAIN_HELD, FakeAdminApi, SNAPSHOT_HELD} from '../../helpers/fake-admin-api.js'

// Real sockets on 127.0.0.1: the client against a §12-shaped fake server.

let api: FakeAdminApi
const KEY = 'shop-agent|10.0.0.5'
const ENC = '/api/v1/sessions/shop-agent%7C10.0.0.5'

before(async () => {
  api = await FakeAdminApi.start('tok')
})
after(async () => {
  await api.close()
})
beforeEach(() => api.reset())

function client(over: {token?: string; timeoutMs?: number; baseUrl?: string} = {}): AdminClient {
  return new AdminClient({baseUrl: over.baseUrl ?? api.url, token: over.token ?? 'tok', ...(over.timeoutMs === undefined ? {} : {timeoutMs: over.timeoutMs})})
}

async function rejects(p: Promise<unknown>, code: string, exit: number, message: string | RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof PipelockError, String(e))
    assert.equal(e.code, code)
    assert.equal(e.exitCode, exit)
    if (typeof message === 'string') assert.equal(e.message, message)
    else assert.match(e.message, message)
    return true
  })
}

test('session keys are one percent-encoded path segment; dot segments refused locally', () => {
  assert.equal(sessionPath('a|1.2.3.4'), '/api/v1/sessions/a%7C1.2.3.4')
  assert.equal(sessionPath('a|::1', 'explain'), '/api/v1/sessions/a%7C%3A%3A1/explain')
  assert.equal(sessionPath('x/y'), '/api/v1/sessions/x%2Fy')
  for (const bad of ['', '.', '..', 'a\u0000b']) assert.throws(() => sessionPath(bad), (e: unknown) => e instanceof PipelockError && e.code === 'ADMIN_ARGUMENT_INVALID')
})

test('GET with Bearer token; the decoded answer keeps the server JSON (order, newer fields) for --json', async () => {
  const body = {count: 1, sessions: [{...SNAPSHOT_HELD, added_in_v3: {x: 1}}], server_version: 'v9'}
  api.on('GET /api/v1/sessions?tier=hard', {body})
  const c = client()
  try {
    const r = await listSessions(c, 'hard')
    assert.equal(r.data.sessions[0]!.key, KEY)
    assert.equal(JSON.stringify(r.json), JSON.stringify(body))
  } finally {
    await c.close()
  }
  assert.deepEqual(api.requests, [{method: 'GET', path: '/api/v1/sessions?tier=hard', authorization: 'Bearer tok', contentType: undefined, body: ''}])
})

test('release: reads the tier from the (not rate-limited) session list, then POSTs {"tier":…} to …/airlock; refuses an upward move without POSTing', async () => {
  api.on('GET /api/v1/sessions', {body: {sessions: [SNAPSHOT_HELD], count: 1}}).on(`POST ${ENC}/airlock`, {body: {key: KEY, previous_tier: 'hard', new_tier: 'soft', changed: true}})
  const c = client()
  try {
    const r = await releaseSession(c, KEY, 'soft')
    assert.equal(r.data.new_tier, 'soft')
    assert.deepEqual(
      api.requests.map((q) => [q.method, q.path, q.contentType, q.body]),
      [
        ['GET', '/api/v1/sessions', undefined, ''],
        ['POST', `${ENC}/airlock`, 'application/json', '{"tier":"soft"}'],
      ],
    )
    api.requests.length = 0
    api.on('GET /api/v1/sessions', {body: {sessions: [{...SNAPSHOT_HELD, airlock_tier: 'none'}], count: 1}})
    await rejects(releaseSession(c, KEY, 'soft'), 'SESSION_RELEASE_REFUSED', 2, `refusing to escalate session ${KEY} from none to soft: release only lowers the airlock tier`)
    assert.deepEqual(api.requests.map((q) => q.method), ['GET'])
    // normal is none; equal tiers are sent (the server answers changed=false)
    api.on(`POST ${ENC}/airlock`, {body: {key: KEY, previous_tier: 'none', new_tier: 'none', changed: false}})
    assert.equal((await releaseSession(c, KEY, 'normal')).data.changed, false)
    // none is the lowest tier: sent without a read
    assert.deepEqual(api.requests.slice(-1).map((q) => [q.method, q.body]), [['POST', '{"tier":"none"}']])
  } finally {
    await c.close()
  }
})

test('POST without a body for terminate and flush', async () => {
  api.on(`POST ${ENC}/terminate`, {body: {key: KEY, terminated: true, previous_tier: 'hard', previous_level: 'high', previous_score: 12, ip_state_cleared: true, cee_state_cleared: true}})
  api.on('POST /api/v1/adaptive/flush', {body: {flushed: true, identity_sessions: 2, skipped_invocations: 1, ip_domain_state_cleared: true}})
  const c = client()
  try {
    await terminateSession(c, KEY)
    await adaptiveFlush(c)
  } finally {
    await c.close()
  }
  assert.deepEqual(api.requests.map((q) => [q.method, q.path, q.body]), [
    ['POST', `${ENC}/terminate`, ''],
    ['POST', '/api/v1/adaptive/flush', ''],
  ])
})

test('status mapping: 401 → 2, 400 → 2, 404 → 1, 429 → 1 with Retry-After, 5xx → 1', async () => {
  const c = client()
  const bad = client({token: 'wrong'})
  try {
    await rejects(inspectSession(bad, KEY), 'ADMIN_API_UNAUTHORIZED', 2, 'admin API rejected the token (HTTP 401 unauthorized)')
    api.on(`GET ${ENC}`, {status: 404, body: 'session not found\n'})
    await rejects(inspectSession(c, KEY), 'SESSION_NOT_FOUND', 1, `session not found: ${KEY}`)
    // Any other 404 is a path the proxy does not serve: no admin token when it started.
    await rejects(adaptiveFlush(c), 'ADMIN_API_NOT_ENABLED', 1, `the admin API is not enabled on the proxy at ${api.url} (POST /api/v1/adaptive/flush answered HTTP 404: 404 page not found)`)
    // An unknown approval id is that, not an admin API that is off.
    api.on('GET /api/v1/approvals/ask-1', {status: 404, body: 'approval not found\n'})
    await rejects(showApproval(c, 'ask-1'), 'APPROVAL_NOT_FOUND', 1, 'approval not found (GET /api/v1/approvals/ask-1)')
    api.on(`POST ${ENC}/terminate`, {status: 400, body: {error: 'cannot terminate invocation session; only identity sessions are terminable'}})
    await rejects(terminateSession(c, KEY), 'ADMIN_API_BAD_REQUEST', 2, `admin API refused POST ${ENC}/terminate (HTTP 400): cannot terminate invocation session; only identity sessions are terminable`)
    api.on(`GET ${ENC}/explain`, {status: 429, headers: {'retry-after': '60'}, body: 'rate limit exceeded\n'})
    await rejects(explainSession(c, KEY), 'ADMIN_API_RATE_LIMITED', 1, 'rate limited; retry after 60 seconds')
    api.on(`GET ${ENC}/explain`, {status: 429, body: 'rate limit exceeded\n'})
    await rejects(explainSession(c, KEY), 'ADMIN_API_RATE_LIMITED', 1, 'rate limited; retry later')
    api.on('GET /api/v1/sessions', {status: 503, body: 'session profiling disabled\n'})
    await rejects(listSessions(c), 'ADMIN_API_HTTP_ERROR', 1, 'admin API error on GET /api/v1/sessions (HTTP 503): session profiling disabled')
    api.on('GET /api/v1/sessions', {status: 500, body: 'boom\u001b[2J\nsecond line'})
    await rejects(listSessions(c), 'ADMIN_API_HTTP_ERROR', 1, 'admin API error on GET /api/v1/sessions (HTTP 500): boom?[2J')
  } finally {
    await c.close()
    await bad.close()
  }
})

test('a 2xx body that is not the §12 shape is refused (required fields strict, extra fields ignored)', async () => {
  const c = client()
  try {
    const {threat_score: _drop, ...noScore} = DETAIL_HELD
    api.on(`GET ${ENC}`, {body: noScore})
    await rejects(inspectSession(c, KEY), 'ADMIN_API_RESPONSE_INVALID', 1, new RegExp(`^admin API answer to GET ${ENC} has an unexpected shape at threat_score: `))
    api.on(`GET ${ENC}`, {body: 'not json'})
    await rejects(inspectSession(c, KEY), 'ADMIN_API_RESPONSE_INVALID', 1, `admin API answer to GET ${ENC} is not JSON: not json`)
    api.on(`GET ${ENC}/explain`, {body: {...EXPLAIN_HELD, brand_new_field: [1, 2]}})
    assert.equal((await explainSession(c, KEY)).data.tier, 'hard')
  } finally {
    await c.close()
  }
})

test('network failures exit 1: refused connection, and no answer within the timeout', async () => {
  const closed = createServer()
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
  const port = (closed.address() as {port: number}).port
  await new Promise<void>((r) => closed.close(() => r()))
  const refused = client({baseUrl: `http://127.0.0.1:${port}`})
  await rejects(listSessions(refused), 'ADMIN_API_UNREACHABLE', 1, `cannot reach the admin API at http://127.0.0.1:${port}: ECONNREFUSED`)
  await refused.close()
  api.on('GET /api/v1/sessions', {hang: true})
  const slow = client({timeoutMs: 200})
  await rejects(listSessions(slow), 'ADMIN_API_UNREACHABLE', 1, `admin API at ${api.url} did not answer within 200ms`)
  await slow.close()
})
