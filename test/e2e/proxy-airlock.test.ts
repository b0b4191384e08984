/**
 * Airlock (runtime §15, operations §6) on the built `pipelock run`, real sockets: the admin API
 * moves a session holding a live CONNECT tunnel to hard (tunnel cut, new CONNECT 403 before
 * dialling, fetch 200, forward GET 200 / POST 403), to drain (fetch 403), and back; escalation
 * edges enter the airlock on their own; gauges stay right through reset and terminate; every
 * denial and every tier change is a signed receipt in a chain that verifies; and the operator
 * CLI (`session release --to soft`, `session recover`) drives the same server.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {stringify} from 'yaml'
import {encodePrivateKeyText, encodePublicKeyText, goPrivateKey, keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {openTunnel, presetConfig, rawHttp, startHttpUpstream, startProxy, tcpUpstream, tempDir, type RunningProxy, type Upstream} from './proxy-harness.js'

const TOKEN = 'airlock-test-token'
const signingKey = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-airlock-key').digest())

function config(dir: string): string {
  const c = presetConfig('balanced')
  c.ssrf = {ip_allowlist: ['127.0.0.1/32']}
  c.fetch_proxy.monitoring.blocklist = [...c.fetch_proxy.monitoring.blocklist, 'localhost']
  c.fetch_proxy.monitoring.max_requests_per_minute = 100000
  c.kill_switch.api_token = TOKEN
  c.forward_proxy.raw_tunnel_hosts = ['127.0.0.1']
  c.forward_proxy.sni_verification = false
  // Not under test here: with taint on, every POST after a read from the (untrusted) loopback
  // upstream is an ask, a 403 without an approver (docs/taint.md, matrix row 8).
  c.taint = {...c.taint, enabled: false}
  c.airlock = {enabled: true, triggers: {on_elevated: 'soft', on_high: 'hard', on_critical: 'drain'}, timers: {soft_minutes: 5, hard_minutes: 15, drain_minutes: 0, drain_timeout_seconds: 30}}
  c.flight_recorder = {enabled: true, dir: path.join(dir, 'evidence'), signing_key_path: path.join(dir, 'receipt.key')}
  return stringify(c)
}

async function api(port: number, method: string, p: string, body?: string) {
  return await new Promise<{status: number; body: string; json: () => any}>((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, method, path: p, headers: {Authorization: `Bearer ${TOKEN}`}, agent: false}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text)})
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** A raw CONNECT exchange: the status line and body of a refusal (or `200` once established). */
async function connectOnce(proxyPort: number, target: string, agent: string): Promise<{head: string; body: string}> {
  const net = await import('node:net')
  return await new Promise((resolve, reject) => {
    const s = net.connect({host: '127.0.0.1', port: proxyPort})
    let buf = ''
    s.on('data', (c: Buffer) => {
      buf += c.toString('latin1')
      if (buf.startsWith('HTTP/1.1 200')) {
        s.destroy()
        resolve({head: buf.split('\r\n')[0]!, body: ''})
      }
    })
    s.on('error', reject)
    s.on('close', () => {
      const i = buf.indexOf('\r\n\r\n')
      resolve({head: buf.slice(0, i < 0 ? buf.length : i), body: i < 0 ? '' : buf.slice(i + 4)})
    })
    s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nX-Pipelock-Agent: ${agent}\r\n\r\n`)
  })
}

const enc = (agent: string) => encodeURIComponent(`${agent}|127.0.0.1`)

describe('pipelock run: airlock', {timeout: 90_000}, () => {
  let up: Upstream
  let echo: {port: number; close: () => Promise<void>}
  let proxy: RunningProxy
  let dir = ''
  const fwd = async (agent: string, p: string, method = 'GET') => await rawHttp(proxy.port, {method, path: `http://127.0.0.1:${up.port}${p}`, headers: {'X-Pipelock-Agent': agent}})
  const metrics = async () => (await rawHttp(proxy.port, {path: '/metrics'})).body

  before(async () => {
    dir = tempDir('pipelock-airlock-')
    writeFileSync(path.join(dir, 'receipt.key'), encodePrivateKeyText(goPrivateKey(signingKey)), {mode: 0o600})
    writeFileSync(path.join(dir, 'receipt.pub'), encodePublicKeyText(signingKey.publicKey))
    up = await startHttpUpstream()
    echo = await tcpUpstream((s) => s.on('data', (c: Buffer) => s.write(c)))
    proxy = await startProxy(config(dir), {dir})
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
    await echo?.close()
  })

  it('hard cuts a live tunnel and refuses new CONNECTs and writes; drain refuses fetch; release restores traffic', async () => {
    assert.equal((await fwd('ops', '/kib')).status, 200)
    const t = await openTunnel(proxy.port, echo.port)
    const detail = await api(proxy.port, 'GET', `/api/v1/sessions/${encodeURIComponent('127.0.0.1')}`)
    assert.equal(detail.status, 200)
    assert.equal(detail.json().in_flight, 1, 'the open tunnel counts in flight')

    const moved = await api(proxy.port, 'POST', `/api/v1/sessions/${encodeURIComponent('127.0.0.1')}/airlock`, '{"tier":"hard"}')
    assert.deepEqual(moved.json(), {key: '127.0.0.1', previous_tier: 'none', new_tier: 'hard', changed: true, previous_escalation_level: 'normal', escalation_level: 'normal', block_all: false})
    const lived = await Promise.race([t.closed, new Promise<number>((r) => setTimeout(() => r(-1), 5000))])
    assert.notEqual(lived, -1, 'entering hard cut the live tunnel')

    // Anonymous traffic from 127.0.0.1 is session `127.0.0.1`.
    const c = await connectOnce(proxy.port, `127.0.0.1:${echo.port}`, '')
    assert.equal(c.head.split('\r\n')[0], 'HTTP/1.1 403 Forbidden (blocked by pipelock: airlock_active)')
    assert.match(c.head, /X-Pipelock-Block-Reason: airlock_active/)
    assert.doesNotMatch(c.head, /X-Pipelock-Block-Reason-Layer/, 'no layer header on airlock denials')
    assert.match(c.head, /X-Pipelock-Block-Reason-Receipt: /, 'the denial names its receipt')
    assert.equal(c.body, 'airlock: CONNECT blocked during quarantine\n')
    const post = await rawHttp(proxy.port, {method: 'POST', path: `http://127.0.0.1:${up.port}/echo`})
    assert.equal(post.status, 403)
    assert.equal(post.body, 'airlock: airlock: hard tier blocks write methods on forward proxy\n')
    assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})).status, 200, 'forward GET passes at hard')
    // A GET that asks for a write is one: a body sends data, an override names the method performed.
    const getWithBody = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/echo`, headers: {'content-type': 'text/plain', 'content-length': '5'}, body: 'hello'})
    assert.equal(getWithBody.status, 403)
    assert.equal(getWithBody.body, 'airlock: airlock: hard tier blocks write methods on forward proxy\n')
    const overridden = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`, headers: {'X-HTTP-Method-Override': 'DELETE'}})
    assert.equal(overridden.status, 403)
    assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib?_method=PUT`})).status, 403)
    assert.equal((await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/page`)}`})).status, 200, 'fetch passes at hard')

    await api(proxy.port, 'POST', `/api/v1/sessions/${encodeURIComponent('127.0.0.1')}/airlock`, '{"tier":"drain"}')
    const f = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/page`)}`})
    assert.equal(f.status, 403)
    assert.equal(JSON.parse(f.body).block_reason, 'session in airlock drain')
    assert.equal(f.headers['x-pipelock-block-reason'], 'airlock_active')
    const ex = (await api(proxy.port, 'GET', `/api/v1/sessions/${encodeURIComponent('127.0.0.1')}/explain`)).json()
    assert.equal(ex.tier, 'drain')
    assert.equal(ex.reason, 'session quarantined at airlock tier drain')
    assert.equal(ex.trigger, 'manual')
    assert.equal(ex.trigger_source, 'admin_api')
    assert.equal(ex.next_deescalation_tier, 'hard')
    assert.equal(Date.parse(ex.next_deescalation_at) - Date.parse(ex.entered_at), 30_000, 'drain_minutes 0 + drain_timeout_seconds 30 → 30 s')

    let m = await metrics()
    assert.match(m, /^pipelock_airlock_sessions\{tier="drain"\} 1$/m)
    assert.match(m, /^pipelock_airlock_denials_total\{tier="hard",transport="connect",action_class="CONNECT"\} 1$/m)
    assert.match(m, /^pipelock_airlock_denials_total\{tier="hard",transport="forward",action_class="POST"\} 1$/m)
    assert.match(m, /^pipelock_airlock_denials_total\{tier="hard",transport="forward",action_class="GET"\} 1$/m, 'the GET with a body')
    assert.match(m, /^pipelock_airlock_denials_total\{tier="hard",transport="forward",action_class="DELETE"\} 1$/m)
    assert.match(m, /^pipelock_airlock_denials_total\{tier="hard",transport="forward",action_class="PUT"\} 1$/m)
    assert.match(m, /^pipelock_airlock_denials_total\{tier="drain",transport="fetch",action_class="read"\} 1$/m)
    assert.match(m, /^pipelock_airlock_transitions_total\{from="none",to="hard",trigger="api"\} 1$/m)
    assert.match(m, /^pipelock_airlock_drain_completed_total 1$/m, 'nothing was in flight when drain began')

    const rel = await api(proxy.port, 'POST', `/api/v1/sessions/${encodeURIComponent('127.0.0.1')}/airlock`, '{"tier":"normal"}')
    assert.deepEqual(rel.json(), {key: '127.0.0.1', previous_tier: 'drain', new_tier: 'none', changed: true, previous_escalation_level: 'normal', escalation_level: 'normal', block_all: false})
    assert.equal((await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/page`)}`})).status, 200)
    const t2 = await openTunnel(proxy.port, echo.port)
    t2.socket.destroy()
    m = await metrics()
    assert.match(m, /^pipelock_airlock_sessions\{tier="drain"\} 0$/m)
  })

  it('escalation edges enter the airlock by the triggers; the status counts tiers; reset and terminate keep gauges right', async () => {
    // Two URL blocks: score 6 ≥ 5 → elevated → on_elevated: soft.
    for (let i = 0; i < 2; i++) assert.equal((await rawHttp(proxy.port, {path: `http://localhost:${up.port}/x`, headers: {'X-Pipelock-Agent': 'evil'}})).status, 403)
    let d = (await api(proxy.port, 'GET', `/api/v1/sessions/${enc('evil')}`)).json()
    assert.equal(d.escalation_level, 'elevated')
    assert.equal(d.airlock_tier, 'soft')
    const ex = (await api(proxy.port, 'GET', `/api/v1/sessions/${enc('evil')}/explain`)).json()
    assert.equal(ex.trigger, 'on_elevated')
    assert.equal(ex.trigger_source, 'airlock_triggers')
    assert.ok(d.recent_events.some((e: any) => e.kind === 'airlock_enter' && e.detail === 'none->soft'))
    // Soft observes only.
    assert.equal((await fwd('evil', '/echo', 'POST')).status, 200)
    const st = (await api(proxy.port, 'GET', '/api/v1/adaptive/status')).json()
    assert.equal(st.airlock_tiers.soft, 1)
    assert.ok(proxy.stdout().includes('"event":"airlock_enter"'), 'audit airlock_enter')

    const r = await api(proxy.port, 'POST', `/api/v1/sessions/${enc('evil')}/reset`)
    assert.equal(r.status, 200)
    d = (await api(proxy.port, 'GET', `/api/v1/sessions/${enc('evil')}`)).json()
    assert.equal(d.airlock_tier, 'none')
    await api(proxy.port, 'POST', `/api/v1/sessions/${enc('evil')}/airlock`, '{"tier":"hard"}')
    const term = (await api(proxy.port, 'POST', `/api/v1/sessions/${enc('evil')}/terminate`)).json()
    assert.equal(term.previous_tier, 'hard')
    const m = await metrics()
    assert.match(m, /^pipelock_airlock_sessions\{tier="soft"\} 0$/m)
    assert.match(m, /^pipelock_airlock_sessions\{tier="hard"\} 0$/m)
    assert.match(m, /^pipelock_airlock_transitions_total\{from="none",to="soft",trigger="adaptive"\} 1$/m)
  })

  it('the CLI releases to soft and recovers on the running proxy (exact output)', async () => {
    assert.equal((await fwd('cli', '/kib')).status, 200)
    await api(proxy.port, 'POST', `/api/v1/sessions/${enc('cli')}/airlock`, '{"tier":"drain"}')
    const flags = ['--api-url', `127.0.0.1:${proxy.port}`, '--api-token', TOKEN]
    const r = runCli(['session', 'release', 'cli|127.0.0.1', '--to', 'soft', ...flags])
    assert.equal(r.stderr, '')
    assert.equal(r.stdout, 'released cli|127.0.0.1: drain -> soft (changed=true)\n')
    assert.equal(r.status, 0)
    const up2 = runCli(['session', 'release', 'cli|127.0.0.1', '--to', 'soft', ...flags])
    assert.equal(up2.stdout, 'released cli|127.0.0.1: soft -> soft (changed=false)\n')
    const rec = runCli(['session', 'recover', 'cli|127.0.0.1', '--choice', 'release-none', ...flags])
    assert.equal(rec.status, 0, rec.stderr)
    assert.match(rec.stdout, /^== inspect ==\nSession cli\|127\.0\.0\.1\n/)
    assert.match(rec.stdout, /\n== explain ==\nSession cli\|127\.0\.0\.1 explanation\n {2}tier: {14}soft\n {2}reason: {12}session quarantined at airlock tier soft\n {2}trigger: {11}manual \(source=admin_api\)\n/)
    assert.match(rec.stdout, /\n {2}next_deescalation: tier=none at=\S+ \(in 4m[0-5]\ds\)\n\nreleased cli\|127\.0\.0\.1: soft -> none \(changed=true\)\n$/)
    assert.equal((await api(proxy.port, 'GET', `/api/v1/sessions/${enc('cli')}`)).json().airlock_tier, 'none')
  })

  it('every denial and tier change is a signed receipt in a chain that verifies', async () => {
    assert.equal(await proxy.stop(), 0)
    const evidence = path.join(dir, 'evidence')
    const v = runCli(['verify-receipt', '--chain', evidence, '--key', path.join(dir, 'receipt.pub'), '--json'])
    assert.equal(v.status, 0, v.stdout + v.stderr)
    assert.equal(JSON.parse(v.stdout).valid, true)
    const records = readdirSync(evidence).sort().flatMap((f) => readFileSync(path.join(evidence, f), 'utf8').trim().split('\n'))
      .filter((l) => l.includes('"type":"action_receipt"')).map((l) => JSON.parse(l).detail.action_record)
    const airlock = records.filter((r) => r.layer === 'airlock')
    const tiers = airlock.filter((r) => r.transport === 'airlock').map((r) => `${r.target} ${r.pattern} ${r.verdict}`)
    assert.deepEqual(tiers.slice(0, 3), ['127.0.0.1 none->hard (api) block', '127.0.0.1 hard->drain (api) block', '127.0.0.1 drain->none (api) allow'])
    assert.ok(tiers.includes('evil|127.0.0.1 none->soft (adaptive) block'))
    const denials = airlock.filter((r) => r.transport !== 'airlock').map((r) => `${r.transport} ${r.method} ${r.verdict}`)
    // A receipt names the request line's method; the GETs with a body or an override were refused as writes.
    assert.deepEqual(denials, ['connect CONNECT block', 'forward POST block', 'forward GET block', 'forward GET block', 'forward GET block', 'fetch GET block'])
  })
})

// Issue 34: release must restore traffic. Its own proxy: the admin API's rate limits (10 inspects a minute) are per process.
describe('pipelock run: release of a session escalated to critical', {timeout: 90_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  let dir = ''
  const fwd = async (agent: string, p: string, method = 'GET') => await rawHttp(proxy.port, {method, path: `http://127.0.0.1:${up.port}${p}`, headers: {'X-Pipelock-Agent': agent}})

  before(async () => {
    dir = tempDir('pipelock-release-')
    writeFileSync(path.join(dir, 'receipt.key'), encodePrivateKeyText(goPrivateKey(signingKey)), {mode: 0o600})
    up = await startHttpUpstream()
    proxy = await startProxy(config(dir), {dir})
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('release of an agent escalated to critical restores traffic and explain agrees; the CLI finds the API from a config without api_listen', async () => {
    const key = 'crit|127.0.0.1'
    // Seven URL blocks: score 21 → critical (block_all) → on_critical: drain.
    for (let i = 0; i < 7; i++) assert.equal((await rawHttp(proxy.port, {path: `http://localhost:${up.port}/x`, headers: {'X-Pipelock-Agent': 'crit'}})).status, 403)
    let d = (await api(proxy.port, 'GET', `/api/v1/sessions/${enc('crit')}`)).json()
    assert.deepEqual([d.escalation_level, d.block_all, d.airlock_tier], ['critical', true, 'drain'])
    // The escalation events name the level and carry a severity string, not a number over the log level.
    const esc = proxy.stdout().split('\n').filter((l) => l.includes('"event":"adaptive_escalation"') && l.includes('"agent":"crit"')).map((l) => JSON.parse(l))
    assert.deepEqual(esc.map((e) => [e.level, e.to, e.severity]), [['warn', 'elevated', 'warn'], ['warn', 'high', 'warn'], ['warn', 'critical', 'critical']])

    // A CLI config with no api_listen: the API is on the main listener (fetch_proxy.listen).
    const cliCfg = path.join(dir, 'cli.yaml')
    writeFileSync(cliCfg, stringify({fetch_proxy: {listen: `0.0.0.0:${proxy.port}`}, kill_switch: {api_token: TOKEN}}), {mode: 0o600})
    const env = {PIPELOCK_API_URL: '', PIPELOCK_KILLSWITCH_API_TOKEN: '', PIPELOCK_CONFIG: ''}
    const before = runCli(['session', 'explain', key, '--config', cliCfg, '--json'], {env})
    assert.equal(before.status, 0, before.stderr)
    const xb = JSON.parse(before.stdout)
    assert.equal(xb.reason, 'session quarantined at airlock tier drain; escalation level critical blocks all requests (escalation_level)')
    assert.equal(xb.block_all, true)

    const r = runCli(['session', 'release', key, '--to', 'none', '--config', cliCfg], {env})
    assert.deepEqual(r, {status: 0, stderr: '', stdout: `released ${key}: drain -> none (changed=true)\n  escalation: critical -> normal\n`})
    // Traffic resumes on every transport; what explain says is what enforcement does.
    assert.equal((await fwd('crit', '/kib')).status, 200)
    assert.equal((await fwd('crit', '/echo', 'POST')).status, 200)
    assert.equal((await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/page`)}`, headers: {'X-Pipelock-Agent': 'crit'}})).status, 200)
    const after = JSON.parse(runCli(['session', 'explain', key, '--config', cliCfg, '--json'], {env}).stdout)
    assert.deepEqual([after.tier, after.reason, after.escalation_level, after.block_all], ['none', 'session not quarantined', 'normal', false])
    // State is kept (not a terminate): the events that escalated it are still there.
    d = (await api(proxy.port, 'GET', `/api/v1/sessions/${enc('crit')}`)).json()
    assert.ok(d.recent_events.some((e: any) => e.kind === 'escalation' && e.type === 'critical'))
    assert.ok(d.recent_events.some((e: any) => e.kind === 'deescalation' && e.detail === 'released critical -> normal by operator (airlock none)'))
    const down = proxy.stdout().split('\n').filter((l) => l.includes('"trigger":"operator_release"')).map((l) => JSON.parse(l))
    assert.deepEqual(down.map((e) => [e.event, e.session, e.from, e.to, e.direction]), [['adaptive_escalation', key, 'critical', 'normal', 'down']])

    // `session recover` choosing release to soft: the level drops to what soft admits (on_elevated: soft → elevated).
    for (let i = 0; i < 7; i++) assert.equal((await rawHttp(proxy.port, {path: `http://localhost:${up.port}/x`, headers: {'X-Pipelock-Agent': 'crit2'}})).status, 403)
    const rec = runCli(['session', 'recover', 'crit2|127.0.0.1', '--choice', 'release-soft', '--config', cliCfg], {env})
    assert.equal(rec.status, 0, rec.stderr)
    assert.match(rec.stdout, /\n {2}reason: {12}session quarantined at airlock tier drain; escalation level critical blocks all requests \(escalation_level\)\n/)
    assert.match(rec.stdout, /\nreleased crit2\|127\.0\.0\.1: drain -> soft \(changed=true\)\n {2}escalation: critical -> elevated\n$/)
    assert.equal((await fwd('crit2', '/echo', 'POST')).status, 200, 'soft observes only and elevated does not block all')
    const x2 = JSON.parse(runCli(['session', 'explain', 'crit2|127.0.0.1', '--config', cliCfg, '--json'], {env}).stdout)
    assert.deepEqual([x2.tier, x2.reason, x2.escalation_level, x2.block_all], ['soft', 'session quarantined at airlock tier soft', 'elevated', false])
  })

})
