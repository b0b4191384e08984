/**
 * operations.md §10.2 "Agents": two agent listeners and two source CIDRs (127.0.0.2/3; all of
 * 127/8 is loopback on Linux, clients pick their address with undici's `localAddress`), the
 * resolution order (listener > CIDR > header), `_default`, budget 429s on fetch and CONNECT, metric
 * label = profile, no admin routes on an agent port; then the spoof suite with a bound identity.
 */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {Agent, request} from 'undici'
import {freePort, rawExchange, rawHttp, startHttpUpstream, startProxy, tempDir, until, type RunningProxy, type Upstream} from './proxy-harness.js'

async function getFrom(localAddress: string, port: number, p: string, headers: Record<string, string> = {}): Promise<{status: number; body: string}> {
  const dispatcher = new Agent({localAddress})
  try {
    const r = await request(`http://127.0.0.1:${port}${p}`, {dispatcher, headers})
    return {status: r.statusCode, body: await r.body.text()}
  } finally {
    await dispatcher.close()
  }
}

function auditAgents(proxy: RunningProxy, requestPath: string): string[] {
  return proxy.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => typeof e.url === 'string' && (e.url as string).endsWith(`/${requestPath}`)).map((e) => String(e.agent))
}

function allFiles(dir: string, suffix = ''): string {
  let out = ''
  for (const f of readdirSync(dir, {withFileTypes: true, recursive: true})) {
    if (f.isFile() && f.name.endsWith(suffix)) out += readFileSync(path.join(f.parentPath, f.name), 'utf8')
  }
  return out
}

describe('agent profiles: listeners, CIDRs, budgets', {timeout: 90_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  let pA = 0
  let pB = 0
  before(async () => {
    up = await startHttpUpstream()
    pA = await freePort()
    pB = await freePort()
    proxy = await startProxy([
      'forward_proxy:', '  enabled: true',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
      'kill_switch:', '  api_token: agents-e2e-token',
      'license_key: pipelock_lic_v1_ignored',
      'license_public_key: a1b2c3d4',
      'agents:',
      '  alpha:', `    listeners: ["127.0.0.1:${pA}"]`, '    budget:', '      max_requests_per_session: 2',
      '  beta:', `    listeners: ["127.0.0.1:${pB}"]`,
      '  gamma:', '    source_cidrs: ["127.0.0.2/32"]',
      '  delta:', '    source_cidrs: ["127.0.0.3/32"]', '    budget:', '      max_bytes_per_session: 1500',
      '  _default: {}',
    ].join('\n') + '\n')
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('prints each listener and says the licence key is ignored', () => {
    assert.ok(proxy.stderr().includes(`pipelock: agent "alpha" listening on 127.0.0.1:${pA}`), proxy.stderr())
    assert.ok(proxy.stderr().includes(`  Agent:  beta -> http://127.0.0.1:${pB}`))
    assert.ok(proxy.stderr().includes('pipelock: license_key, license_public_key ignored: agent profiles need no licence in this build'), proxy.stderr())
  })

  it('listener beats CIDR beats header; a bound name is refused elsewhere; an unknown header falls back to _default', async () => {
    const u = (tag: string): string => `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/${tag}`)}`
    assert.equal((await getFrom('127.0.0.2', pB, u('on-beta-from-gamma-ip'), {'x-pipelock-agent': 'alpha'})).status, 200)
    assert.equal((await getFrom('127.0.0.2', proxy.port, u('gamma-ip'), {'x-pipelock-agent': 'beta'})).status, 200)
    // beta is bound to its listener: naming it from the main port is refused (exclusive binding, issue 37).
    const named = await getFrom('127.0.0.1', proxy.port, u('header-beta'), {'x-pipelock-agent': 'beta'})
    assert.equal(named.status, 403)
    assert.equal(JSON.parse(named.body).block_reason, 'agent "beta" is bound to its own listener or source CIDR; a request naming it from 127.0.0.1 is refused')
    assert.equal((await getFrom('127.0.0.1', proxy.port, u('header-unknown'), {'x-pipelock-agent': 'stranger'})).status, 200)
    // The audit writer flushes asynchronously: wait for the last line.
    assert.ok(await until(async () => auditAgents(proxy, 'header-unknown').length > 0))
    assert.deepEqual(auditAgents(proxy, 'on-beta-from-gamma-ip'), ['beta'])
    assert.deepEqual(auditAgents(proxy, 'gamma-ip'), ['gamma'])
    assert.deepEqual(auditAgents(proxy, 'header-beta'), ['beta'])
    assert.deepEqual(auditAgents(proxy, 'header-unknown'), ['stranger'])
    const m = (await rawHttp(proxy.port, {path: '/metrics'})).body
    // The label is the profile: the self-declared `stranger` counts under _default.
    assert.match(m, /^pipelock_requests_total\{agent="_default",result="allowed"\} 1$/m)
    assert.match(m, /^pipelock_requests_total\{agent="gamma",result="allowed"\} 1$/m)
    assert.ok(!m.includes('stranger'))
  })

  it('request budget: the third request of a session is a 429 with the exact message', async () => {
    const p = `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/budget`)}`
    const statuses = [(await rawHttp(pA, {path: p})).status, (await rawHttp(pA, {path: p})).status]
    assert.deepEqual(statuses, [200, 200], proxy.stdout().split('\n').filter((l) => l.includes('/budget')).join('\n'))
    const third = await rawHttp(pA, {path: p})
    assert.equal(third.status, 429)
    assert.equal(JSON.parse(third.body).block_reason, 'request budget exceeded: 2/2 requests')
    assert.equal(third.headers['x-pipelock-block-reason'], 'data_budget')
    // Per session (quirk fixed): another client address on the same profile has its own budget.
    assert.equal((await getFrom('127.0.0.4', pA, p)).status, 200)
    const m = (await rawHttp(proxy.port, {path: '/metrics'})).body
    assert.match(m, /^pipelock_agent_budget_denials_total\{kind="requests",profile="alpha"\} 1$/m)
  })

  it('byte budget: the body over the budget is a 429; a spent budget refuses new CONNECT tunnels', async () => {
    const p = `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/kib`)}`
    const first = await getFrom('127.0.0.3', proxy.port, p)
    assert.equal(first.status, 200, first.body)
    const over = await getFrom('127.0.0.3', proxy.port, p)
    assert.equal(over.status, 429, over.body + proxy.stdout().split('\n').filter((l) => l.includes('/kib')).join('\n'))
    assert.equal(JSON.parse(over.body).block_reason, 'response size 477 exceeds byte budget 476')
    // CONNECT from a socket bound to 127.0.0.3 (undici's request() does not send CONNECT).
    const raw = await connectFrom('127.0.0.3', proxy.port, `CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\n\r\n`)
    assert.match(raw, /^HTTP\/1\.1 429 /)
    assert.ok(raw.includes('CONNECT blocked: byte budget exceeded: 1500/1500 bytes'), raw)
  })

  it('an agent listener never serves the admin API', async () => {
    const r = await rawHttp(pA, {path: '/api/v1/killswitch/status', headers: {authorization: 'Bearer agents-e2e-token'}})
    assert.equal(r.status, 404)
    assert.notEqual((await rawHttp(proxy.port, {path: '/api/v1/killswitch/status', headers: {authorization: 'Bearer agents-e2e-token'}})).status, 404)
  })
})

async function connectFrom(localAddress: string, port: number, data: string): Promise<string> {
  const net = await import('node:net')
  return await new Promise((resolve) => {
    const s = net.connect({host: '127.0.0.1', port, localAddress})
    let got = ''
    const t = setTimeout(() => s.destroy(), 3000)
    s.on('data', (c: Buffer) => (got += c.toString('latin1')))
    s.on('close', () => {
      clearTimeout(t)
      resolve(got)
    })
    s.on('error', () => undefined)
    s.write(data)
  })
}

describe('spoof suite: a bound identity is never replaced by a declared one', {timeout: 90_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  let dir = ''
  before(async () => {
    up = await startHttpUpstream()
    dir = tempDir('pipelock-spoof-')
    proxy = await startProxy([
      'forward_proxy:', '  enabled: true',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
      'session_profiling:', '  enabled: true',
      'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(dir, 'evidence'))}`,
      'default_agent_identity: deployment/my-agent',
      'bind_default_agent_identity: true',
      'agents:', '  evil:', '    mode: audit', '  deployment_my-agent: {}',
    ].join('\n') + '\n', {dir, args: ['--capture-output', path.join(dir, 'capture')]})
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('header and query naming another agent reach no audit log, session, receipt, capture, /stats or upstream header', async () => {
    const target = `http://127.0.0.1:${up.port}/headers`
    const f = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(target)}&agent=evil`, headers: {'x-pipelock-agent': 'evil'}})
    assert.equal(f.status, 200)
    const fw = await rawHttp(proxy.port, {path: `${target}?agent=evil`, headers: {'x-pipelock-agent': 'evil'}})
    assert.equal(fw.status, 200)
    // Outbound hygiene: the header is stripped; a forward target's own `?agent=` is left alone (Q-A4 fixed).
    assert.ok(!('x-pipelock-agent' in JSON.parse(fw.body)))
    assert.ok(up.server.listenerCount('request') > 0)
    const stats = (await rawHttp(proxy.port, {path: '/stats'})).body
    const metrics = (await rawHttp(proxy.port, {path: '/metrics'})).body
    await proxy.stop()
    const audit = proxy.stdout()
    for (const [where, text] of [['audit', audit], ['stats', stats], ['metrics', metrics], ['evidence', allFiles(path.join(dir, 'evidence'), '.jsonl')], ['capture', allFiles(path.join(dir, 'capture'))]] as const) {
      assert.ok(!/"agent":"evil"|evil\|127|agent="evil"|"evil":/.test(text), `the declared name reached ${where}`)
    }
    assert.ok(audit.includes('"agent":"deployment_my-agent"'), 'the bound identity is recorded')
    assert.ok(allFiles(path.join(dir, 'capture')).includes('deployment_my-agent'))
    assert.match(metrics, /agent="deployment_my-agent"/)
  })
})
void rawExchange
