/**
 * Session admin API (runtime spec §12) on the built `pipelock run`, real sockets: processing
 * order (method → auth → rate limit → key → lookup), every endpoint's answer, strict bodies,
 * the airlock refusal while disabled, and `session_admin` audit events.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import {after, before, describe, it} from 'node:test'
import {parse, stringify} from 'yaml'
import {runCli} from '../helpers/cli.js'
import {freePort, presetConfig, rawHttp, startHttpUpstream, startProxy, until, type RunningProxy, type Upstream} from './proxy-harness.js'

const TOKEN = 'session-api-test-token'
const AUTH = {Authorization: `Bearer ${TOKEN}`}

function balanced(): string {
  const c = presetConfig('balanced')
  c.ssrf = {ip_allowlist: ['127.0.0.1/32']}
  c.fetch_proxy.monitoring.blocklist = [...c.fetch_proxy.monitoring.blocklist, 'localhost']
  c.kill_switch.api_token = TOKEN
  return stringify(c)
}

async function api(port: number, method: string, path: string, opts: {body?: string; headers?: Record<string, string>} = {}) {
  return await new Promise<{status: number; headers: http.IncomingHttpHeaders; body: string; json: () => any}>((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, method, path, headers: {...AUTH, ...opts.headers}, agent: false}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        resolve({status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body)})
      })
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** The balanced preset with the admin API on its own listener. */
async function startWithApiListener(): Promise<{proxy: RunningProxy; apiPort: number}> {
  const apiPort = await freePort()
  const cfg = parse(balanced()) as Record<string, any>
  cfg.kill_switch.api_listen = `127.0.0.1:${apiPort}`
  return {proxy: await startProxy(stringify(cfg)), apiPort}
}

const key = (agent: string) => encodeURIComponent(`${agent}|127.0.0.1`)

describe('pipelock run: session admin API', {timeout: 60_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  let base: string
  const fwd = async (url: string, agent: string, method = 'GET') => await rawHttp(proxy.port, {method, path: url, headers: {'X-Pipelock-Agent': agent}})
  before(async () => {
    up = await startHttpUpstream()
    base = `http://127.0.0.1:${up.port}`
    proxy = await startProxy(balanced())
    // alpha: two blocks → elevated; beta: clean; anonymous: one clean request.
    for (let i = 0; i < 2; i++) assert.equal((await fwd(`http://localhost:${up.port}/x`, 'alpha')).status, 403)
    assert.equal((await fwd(`${base}/kib`, 'beta')).status, 200)
    assert.equal((await rawHttp(proxy.port, {path: `${base}/kib`})).status, 200)
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('checks the method first, then the token', async () => {
    const m = await api(proxy.port, 'POST', '/api/v1/sessions', {headers: {Authorization: 'Bearer wrong'}})
    assert.equal(m.status, 405)
    assert.equal(m.headers.allow, 'GET')
    const r = await api(proxy.port, 'GET', '/api/v1/sessions', {headers: {Authorization: 'Bearer wrong'}})
    assert.equal(r.status, 401)
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="pipelock"')
    assert.equal(r.body, 'unauthorized\n')
    assert.equal((await api(proxy.port, 'GET', '/api/v1/adaptive/status', {headers: {Authorization: ''}})).status, 401)
  })

  it('lists sessions, identity first then by key, with the tier filter', async () => {
    const r = await api(proxy.port, 'GET', '/api/v1/sessions')
    assert.equal(r.status, 200)
    const j = r.json()
    assert.equal(j.count, 3)
    assert.deepEqual(j.sessions.map((s: any) => s.key), ['127.0.0.1', 'alpha|127.0.0.1', 'beta|127.0.0.1'])
    const alpha = j.sessions[1]
    assert.deepEqual(Object.keys(alpha), [
      'key', 'agent', 'client_ip', 'kind', 'current_task_id', 'threat_score', 'escalation_level', 'block_all', 'airlock_tier', 'taint_level', 'contaminated', 'last_activity',
    ])
    assert.equal(alpha.agent, 'alpha')
    assert.equal(alpha.kind, 'identity')
    assert.equal(alpha.threat_score, 6)
    assert.equal(alpha.escalation_level, 'elevated')
    assert.equal(alpha.airlock_tier, 'none')
    assert.match(alpha.last_activity, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/)
    assert.equal((await api(proxy.port, 'GET', '/api/v1/sessions?tier=normal')).json().count, 3)
    assert.equal((await api(proxy.port, 'GET', '/api/v1/sessions?tier=hard')).json().count, 0)
    const bad = await api(proxy.port, 'GET', '/api/v1/sessions?tier=purple')
    assert.equal(bad.status, 400)
  })

  it('inspects and explains one session; bad keys are 400, unknown ones 404', async () => {
    const d = await api(proxy.port, 'GET', `/api/v1/sessions/${key('alpha')}`)
    assert.equal(d.status, 200)
    const j = d.json()
    assert.equal(j.escalation_level_int, 1)
    assert.equal(j.in_flight, 0)
    assert.equal(j.airlock_entered_at, null)
    assert.deepEqual(j.recent_events.map((e: any) => e.kind), ['signal', 'signal', 'escalation'])
    assert.equal(j.recent_events[0].type, 'block')
    const e = (await api(proxy.port, 'GET', `/api/v1/sessions/${key('alpha')}/explain`)).json()
    assert.equal(e.reason, 'session not quarantined')
    assert.equal(e.tier, 'none')
    assert.equal(e.escalation_level, 'elevated')
    assert.equal(e.evidence_kind, 'elevated')
    const nf = await api(proxy.port, 'GET', `/api/v1/sessions/${key('nobody')}`)
    assert.equal(nf.status, 404)
    assert.equal(nf.body, 'session not found\n')
    for (const p of ['/api/v1/sessions/', '/api/v1/sessions/a%2Fb', '/api/v1/sessions/a/explain/x', '/api/v1/sessions/%E0%A4%A']) {
      const r = await api(proxy.port, 'GET', p)
      assert.equal(r.status, 400, p)
      assert.equal(r.body, 'missing or invalid session key in URL path\n')
    }
  })

  it('task clears taint; trust grants let a tainted session mutate a protected path', async () => {
    assert.equal((await fwd(`${base}/page`, 'beta')).status, 200)
    assert.equal((await fwd(`${base}/api/auth/login`, 'beta', 'POST')).status, 403)
    assert.equal((await api(proxy.port, 'GET', `/api/v1/sessions/${key('beta')}`)).json().contaminated, true)
    const bad = await api(proxy.port, 'POST', `/api/v1/sessions/${key('beta')}/trust`, {body: JSON.stringify({scope: 'task', action_match: '*/auth/*', expires_at: '2001-01-01T00:00:00Z'})})
    assert.equal(bad.status, 400)
    assert.equal(bad.body, 'invalid request body: expires_at must be in the future\n')
    const unknown = await api(proxy.port, 'POST', `/api/v1/sessions/${key('beta')}/trust`, {body: '{"scope":"task","action_match":"*","expires_at":"2999-01-01T00:00:00Z","extra":1}'})
    assert.equal(unknown.status, 400)
    assert.equal(unknown.body, 'invalid request body: unknown field "extra"\n')
    const t = await api(proxy.port, 'POST', `/api/v1/sessions/${key('beta')}/trust`, {
      body: JSON.stringify({scope: 'task', action_match: '*/auth/*', expires_at: '2999-01-01T00:00:00Z', granted_by: 'ops', reason: 'login test'}),
    })
    assert.equal(t.status, 200, t.body)
    assert.deepEqual(t.json(), {key: 'beta|127.0.0.1', scope: 'task', task_id: t.json().task_id, action_match: '*/auth/*', expires_at: '2999-01-01T00:00:00Z', granted_by: 'ops', reason: 'login test'})
    assert.equal((await fwd(`${base}/api/auth/login`, 'beta', 'POST')).status, 200)
    const task = await api(proxy.port, 'POST', `/api/v1/sessions/${key('beta')}/task`, {body: '{"label":"next"}'})
    assert.equal(task.status, 200)
    const tj = task.json()
    assert.equal(tj.taint_cleared, true)
    assert.equal(tj.runtime_overrides_cleared, 1)
    assert.equal(tj.current_task_label, 'next')
    assert.notEqual(tj.current_task_id, tj.previous_task_id)
    const after = (await api(proxy.port, 'GET', `/api/v1/sessions/${key('beta')}`)).json()
    assert.equal(after.contaminated, false)
    assert.equal(after.current_task_label, 'next')
    // beta is an unbound name: the most tainted session of its address judges it, and the anonymous
    // session of 127.0.0.1 read /kib before; a new task there too leaves the address clean.
    assert.equal((await api(proxy.port, 'POST', `/api/v1/sessions/${encodeURIComponent('127.0.0.1')}/task`, {body: '{}'})).status, 200)
    assert.equal((await fwd(`${base}/api/auth/login`, 'beta', 'POST')).status, 200, 'a fresh task is clean')
  })

  it('with airlock disabled, refuses entering a tier (409) and answers the no-op release to none', async () => {
    const r = await api(proxy.port, 'POST', `/api/v1/sessions/${key('alpha')}/airlock`, {body: '{"tier":"hard"}'})
    assert.equal(r.status, 409)
    assert.equal(r.body, 'airlock is disabled (airlock.enabled: false); session stays at tier none (requested hard)\n')
    const n = await api(proxy.port, 'POST', `/api/v1/sessions/${key('alpha')}/airlock`, {body: '{"tier":"normal"}'})
    const {previous_escalation_level: _p, escalation_level: _l, ...tiers} = n.json()
    assert.deepEqual(tiers, {key: 'alpha|127.0.0.1', previous_tier: 'none', new_tier: 'none', changed: false, block_all: false})
    assert.equal((await api(proxy.port, 'POST', `/api/v1/sessions/${key('alpha')}/airlock`, {body: '{"tier":"x"}'})).status, 400)
    assert.equal((await api(proxy.port, 'POST', `/api/v1/sessions/${key('alpha')}/airlock`, {body: '{"tier":"none"} {}'})).status, 400, 'exactly one JSON value')
  })

  it('whoami, reset, adaptive status and flush', async () => {
    const w = await api(proxy.port, 'GET', '/api/v1/adaptive/whoami', {headers: {'X-Pipelock-Agent': 'alpha'}})
    assert.deepEqual(w.json(), {
      client_ip: '127.0.0.1', agent: 'alpha', session_key: 'alpha|127.0.0.1', exists: true, classification: 'observe', escalation_level: 'elevated',
      escalation_level_int: 1, threat_score: 6, block_all: false, airlock_tier: 'none', lockdown_ttl_seconds: 1800,
    })
    const st = (await api(proxy.port, 'GET', '/api/v1/adaptive/status')).json()
    assert.equal(st.max_escalation_level, 'elevated')
    assert.equal(st.sessions_by_level.elevated, 1)
    assert.equal(st.recent_signal_counts.block, 3, "alpha's two blocks and beta's authority_mismatch")
    assert.equal(st.sessions.length, 1)
    const r = await api(proxy.port, 'POST', `/api/v1/sessions/${key('alpha')}/reset`)
    assert.deepEqual(r.json(), {key: 'alpha|127.0.0.1', reset: true, previous_level: 'elevated', previous_score: 6, ip_state_cleared: true, cee_state_cleared: false, connections_cut: 0})
    assert.equal((await api(proxy.port, 'GET', '/api/v1/adaptive/whoami', {headers: {'X-Pipelock-Agent': 'alpha'}})).json().classification, 'allow')
    const f = await api(proxy.port, 'POST', '/api/v1/adaptive/flush', {body: '{}'})
    assert.deepEqual(f.json(), {flushed: true, identity_sessions: 3, skipped_invocations: 0, ip_domain_state_cleared: true, levels_reset: 1, airlock_tiers_kept: 0})
    assert.equal((await api(proxy.port, 'POST', '/api/v1/adaptive/flush', {body: '{"x":1}'})).status, 400)
  })

  it('rate limits each action to 10 per minute; terminate removes the session', async () => {
    // One explain call was made above: nine more fit in the window, the next is refused.
    for (let i = 0; i < 9; i++) assert.equal((await api(proxy.port, 'GET', `/api/v1/sessions/${key('alpha')}/explain`)).status, 200)
    const r = await api(proxy.port, 'GET', `/api/v1/sessions/${key('alpha')}/explain`)
    assert.equal(r.status, 429)
    assert.equal(r.headers['retry-after'], '60')
    assert.equal(r.body, 'rate limit exceeded\n')
    for (let i = 0; i < 12; i++) assert.equal((await api(proxy.port, 'GET', '/api/v1/sessions')).status, 200, 'list is not limited')
    const t = await api(proxy.port, 'POST', `/api/v1/sessions/${key('alpha')}/terminate`)
    assert.deepEqual(t.json(), {key: 'alpha|127.0.0.1', terminated: true, previous_tier: 'none', previous_level: 'normal', previous_score: 0, ip_state_cleared: true, cee_state_cleared: false, connections_cut: 0})
    assert.equal((await api(proxy.port, 'GET', `/api/v1/sessions/${key('alpha')}`)).status, 404)
  })

  it('audits every call as session_admin', async () => {
    const admin = (): Array<Record<string, any>> => proxy.stdout().split('\n').filter((l) => l.includes('"event":"session_admin"')).map((l) => JSON.parse(l))
    // stdout arrives after the HTTP answers: wait for the last call's line.
    await until(async () => admin().some((e) => e.action === 'terminate'), 3000)
    assert.ok(admin().length > 20)
    assert.ok(admin().some((e) => e.action === 'terminate' && e.key === 'alpha|127.0.0.1' && e.status === 200 && e.result === 'ok' && e.client_ip === '127.0.0.1'))
    assert.ok(admin().some((e) => e.action === 'list' && e.status === 401 && e.result === 'unauthorized'))
  })
})

describe('pipelock run: session admin API on kill_switch.api_listen', {timeout: 30_000}, () => {
  let proxy: RunningProxy
  let apiPort: number
  before(async () => {
    const started = await startWithApiListener()
    proxy = started.proxy
    apiPort = started.apiPort
  })
  after(async () => {
    await proxy?.stop()
  })

  it('serves the session endpoints on the API listener only', async () => {
    const r = await api(apiPort, 'GET', '/api/v1/sessions')
    assert.equal(r.status, 200)
    assert.deepEqual(r.json(), {sessions: [], count: 0})
    assert.equal((await api(apiPort, 'GET', '/api/v1/adaptive/whoami')).json().exists, false)
    assert.equal((await api(proxy.port, 'GET', '/api/v1/sessions')).status, 404)
  })
})

describe('pipelock session / adaptive CLI against the live admin API', {timeout: 60_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  let apiUrl: string
  const cli = (args: string[], token = TOKEN) => runCli([...args, '--api-url', apiUrl], {env: {PIPELOCK_KILLSWITCH_API_TOKEN: token, HOME: proxy.dir}})
  before(async () => {
    up = await startHttpUpstream()
    const started = await startWithApiListener()
    proxy = started.proxy
    apiUrl = `127.0.0.1:${started.apiPort}`
    // Two blocklist hits: 3.0 + 3.0 ≥ 5.0 → the session of agent "alpha" is elevated.
    for (let i = 0; i < 2; i++) {
      const r = await rawHttp(proxy.port, {path: `http://localhost:${up.port}/x`, headers: {'X-Pipelock-Agent': 'alpha'}})
      assert.equal(r.status, 403)
    }
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('lists, inspects, releases and terminates a real session; adaptive status agrees', () => {
    const list = cli(['session', 'list', '--json'])
    assert.equal(list.status, 0, list.stderr)
    const j = JSON.parse(list.stdout) as {count: number; sessions: Array<Record<string, unknown>>}
    assert.equal(j.count, 1)
    assert.equal(j.sessions[0]!.key, 'alpha|127.0.0.1')
    assert.equal(j.sessions[0]!.escalation_level, 'elevated')
    assert.equal(j.sessions[0]!.threat_score, 6)

    const human = cli(['session', 'list'])
    assert.equal(human.status, 0, human.stderr)
    const rows = human.stdout.trimEnd().split('\n')
    assert.match(rows[0]!, /^KEY\s+AGENT\s+IP\s+TIER\s+ESCALATION\s+SCORE\s+LAST-ACTIVE$/)
    assert.match(rows[1]!, /^alpha\|127\.0\.0\.1\s+alpha\s+127\.0\.0\.1\s+none\s+elevated\s+6\.00\s+\S+/)

    const inspect = cli(['session', 'inspect', 'alpha|127.0.0.1'])
    assert.equal(inspect.status, 0, inspect.stderr)
    assert.equal(inspect.stdout.split('\n')[0], 'Session alpha|127.0.0.1')
    assert.ok(inspect.stdout.includes('\n  escalation:      elevated (1)\n'), inspect.stdout)
    assert.ok(inspect.stdout.includes('\n  threat_score:    6.00\n'), inspect.stdout)

    const status = cli(['adaptive', 'status'])
    assert.equal(status.status, 0, status.stderr)
    assert.equal(status.stdout.split('\n')[0], 'adaptive status: sessions=1 max_level=elevated ttl_seconds=1800')
    assert.equal(status.stdout.split('\n')[1], 'levels: normal=0 elevated=1 high=0 critical=0')

    const release = cli(['session', 'release', 'alpha|127.0.0.1'])
    assert.equal(release.status, 0, release.stderr)
    assert.equal(release.stdout, 'released alpha|127.0.0.1: none -> none (changed=false)\n')

    const term = cli(['session', 'terminate', 'alpha|127.0.0.1'])
    assert.equal(term.status, 0, term.stderr)
    // alpha holds no tunnel or WebSocket: nothing was cut, so no warning.
    assert.equal(term.stderr, '')
    assert.match(term.stdout, /^terminated alpha\|127\.0\.0\.1: previous_tier=none level=elevated score=6\.00 /)
    // Terminate is a reset that also forgets the session (docs/run.md): it is gone now.
    const gone = cli(['session', 'inspect', 'alpha|127.0.0.1'])
    assert.equal(gone.status, 1)
    assert.ok(gone.stderr.includes('session not found'), gone.stderr)
  })

  it('a wrong token and an unknown session exit as documented', () => {
    const bad = cli(['session', 'list'], 'not-the-token')
    assert.equal(bad.status, 2)
    assert.equal(bad.stdout, '')
    const missing = cli(['session', 'inspect', 'nobody|127.0.0.1'])
    assert.equal(missing.status, 1)
    assert.ok(missing.stderr.includes('session not found'), missing.stderr)
  })
})
