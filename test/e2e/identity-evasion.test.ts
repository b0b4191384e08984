/**
 * Issue 37 item 1 on the built `pipelock run`, real sockets: an agent cannot shed what it earned
 * by renaming itself or dropping `X-Pipelock-Agent`. A quarantine (airlock hard) and a spent
 * budget follow an unbound client's address on forward, CONNECT and /fetch; another address and a
 * listener-bound agent on the same address are judged by their own sessions; a name bound to a
 * listener or a source CIDR is refused from anywhere else, on every transport, with its own reason
 * and a signed receipt; an operator release lifts the address state for every name at once.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {stringify} from 'yaml'
import {encodePrivateKeyText, encodePublicKeyText, goPrivateKey, keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {freePort, otherHostAddress, presetConfig, rawHttp, startHttpUpstream, startProxy, tempDir, type RunningProxy, type Upstream} from './proxy-harness.js'

const TOKEN = 'identity-evasion-token'
const signingKey = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-identity-key').digest())

async function api(port: number, method: string, p: string, body?: string): Promise<{status: number; json: () => any}> {
  return await new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, method, path: p, headers: {Authorization: `Bearer ${TOKEN}`}, agent: false}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({status: res.statusCode ?? 0, json: () => JSON.parse(text)})
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** A CONNECT's status line and headers (the tunnel is closed at once when it is established). */
async function connectHead(port: number, target: string, headers: Record<string, string>, from = '127.0.0.1'): Promise<string> {
  return await new Promise((resolve, reject) => {
    const s = net.connect({host: '127.0.0.1', port, localAddress: from})
    let buf = ''
    s.on('data', (c: Buffer) => {
      buf += c.toString('latin1')
      const i = buf.indexOf('\r\n\r\n')
      if (i >= 0) {
        s.destroy()
        resolve(buf.slice(0, i))
      }
    })
    s.on('error', reject)
    s.on('close', () => resolve(buf))
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')
    s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${extra}\r\n`)
  })
}

describe('identity an agent cannot shed', {timeout: 90_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  let dir = ''
  let bound = 0
  const target = (p: string) => `http://127.0.0.1:${up.port}${p}`
  const fwd = async (p: string, o: {agent?: string; method?: string; from?: string; port?: number} = {}) =>
    await rawHttp(o.port ?? proxy.port, {method: o.method ?? 'GET', path: target(p), headers: o.agent === undefined ? {} : {'X-Pipelock-Agent': o.agent}, ...(o.from !== undefined ? {from: o.from} : {})})
  const fetchVia = async (agent: string, from?: string) =>
    await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(target('/page'))}&agent=${agent}`, ...(from !== undefined ? {from} : {})})

  before(async () => {
    dir = tempDir('pipelock-identity-')
    writeFileSync(path.join(dir, 'receipt.key'), encodePrivateKeyText(goPrivateKey(signingKey)), {mode: 0o600})
    writeFileSync(path.join(dir, 'receipt.pub'), encodePublicKeyText(signingKey.publicKey))
    up = await startHttpUpstream()
    bound = await freePort()
    const c = presetConfig('balanced') as any
    c.ssrf = {ip_allowlist: ['127.0.0.1/32']}
    c.fetch_proxy.monitoring.max_requests_per_minute = 100000
    c.kill_switch.api_token = TOKEN
    // Taint would refuse these POSTs on its own after a read from the loopback origin (untrusted).
    c.taint = {...c.taint, enabled: false}
    c.forward_proxy.raw_tunnel_hosts = ['127.0.0.1']
    c.forward_proxy.sni_verification = false
    c.airlock = {enabled: true, triggers: {on_elevated: 'soft', on_high: 'hard', on_critical: 'drain'}, timers: {soft_minutes: 5, hard_minutes: 15, drain_minutes: 0, drain_timeout_seconds: 30}}
    c.flight_recorder = {enabled: true, dir: path.join(dir, 'evidence'), signing_key_path: path.join(dir, 'receipt.key')}
    c.agents = {
      builder: {listeners: [`127.0.0.1:${bound}`]},
      ci: {source_cidrs: ['127.0.0.9/32']},
    }
    writeFileSync(path.join(dir, 'pipelock.yaml'), stringify(c))
    proxy = await startProxy(stringify(c), {dir})
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('a quarantine holds for the client address whatever name it sends next; release lifts it for every name', async () => {
    const from = '127.0.0.5'
    assert.equal((await fwd('/kib', {agent: 'evil', from})).status, 200)
    const moved = await api(proxy.port, 'POST', `/api/v1/sessions/${encodeURIComponent(`evil|${from}`)}/airlock`, '{"tier":"hard"}')
    assert.equal(moved.json().new_tier, 'hard')
    for (const agent of ['evil', 'nice', undefined]) {
      const post = await fwd('/echo', {method: 'POST', from, ...(agent !== undefined ? {agent} : {})})
      assert.equal(post.status, 403, `POST as ${agent ?? '(no header)'}`)
      assert.equal(post.headers['x-pipelock-block-reason'], 'airlock_active')
      const head = await connectHead(proxy.port, `127.0.0.1:${up.port}`, agent !== undefined ? {'X-Pipelock-Agent': agent} : {}, from)
      assert.match(head, /^HTTP\/1\.1 403 /, `CONNECT as ${agent ?? '(no header)'}`)
      assert.match(head, /X-Pipelock-Block-Reason: airlock_active/)
    }
    const renamed = await fwd('/echo', {method: 'POST', agent: 'nice', from})
    assert.equal(renamed.body, `airlock: client address ${from} in airlock hard (session evil|${from}; the identity is not bound)\n`)
    // Another loopback address is the same host (any local process may bind it): held too.
    const alias = await fwd('/echo', {method: 'POST', agent: 'nice', from: '127.0.0.6'})
    assert.equal(alias.status, 403)
    assert.equal(alias.body, `airlock: client address ${from} in airlock hard (session evil|${from}; the identity is not bound)\n`)
    // Another client host is its own; reads still pass at hard.
    assert.equal((await fwd('/echo', {method: 'POST', agent: 'nice', from: otherHostAddress()})).status, 200)
    assert.equal((await fwd('/kib', {agent: 'nice', from})).status, 200)
    // The operator releases the one session that earned it: every name is free again.
    await api(proxy.port, 'POST', `/api/v1/sessions/${encodeURIComponent(`evil|${from}`)}/airlock`, '{"tier":"none"}')
    assert.equal((await fwd('/echo', {method: 'POST', agent: 'nice', from})).status, 200)
    assert.match(await connectHead(proxy.port, `127.0.0.1:${up.port}`, {}, from), /^HTTP\/1\.1 200 /)
  })

  it('a listener-bound agent on a quarantined address is judged by its own session', async () => {
    assert.equal((await fwd('/kib')).status, 200)
    const moved = await api(proxy.port, 'POST', `/api/v1/sessions/${encodeURIComponent('127.0.0.1')}/airlock`, '{"tier":"hard"}')
    assert.equal(moved.status, 200, 'anonymous traffic from 127.0.0.1 opened session 127.0.0.1 before')
    assert.equal((await fwd('/echo', {method: 'POST', agent: 'someone'})).status, 403)
    assert.equal((await fwd('/echo', {method: 'POST', port: bound})).status, 200)
    await api(proxy.port, 'POST', `/api/v1/sessions/${encodeURIComponent('127.0.0.1')}/airlock`, '{"tier":"none"}')
  })

  it('a budget follows an unbound client across names and loopback addresses; another host has its own', async () => {
    // Unbound clients: a budget of three requests, held per client address.
    const budgeted = await startProxy(stringify({
      forward_proxy: {enabled: true}, ssrf: {ip_allowlist: ['127.0.0.1/32']}, fetch_proxy: {monitoring: {max_requests_per_minute: 100000}},
      agents: {_default: {budget: {max_requests_per_session: 3}}},
    }))
    try {
      const via = async (o: {agent?: string; from: string}) =>
        (await rawHttp(budgeted.port, {path: target('/kib'), headers: o.agent === undefined ? {} : {'X-Pipelock-Agent': o.agent}, from: o.from})).status
      const viaFetch = async (agent: string, from: string) =>
        (await rawHttp(budgeted.port, {path: `/fetch?url=${encodeURIComponent(target('/page'))}&agent=${agent}`, from})).status
      const from = '127.0.0.7'
      assert.deepEqual([await via({agent: 'a', from}), await viaFetch('b', from), await via({from: '127.0.0.1'})], [200, 200, 200])
      const fourth = await rawHttp(budgeted.port, {path: target('/kib'), headers: {'X-Pipelock-Agent': 'c'}, from: '127.0.0.8'})
      assert.equal(fourth.status, 429)
      assert.equal(fourth.headers['x-pipelock-block-reason'], 'data_budget')
      assert.equal(await via({agent: 'c', from: otherHostAddress()}), 200)
    } finally {
      await budgeted.stop()
    }
  })

  it('a name bound to a listener or a source CIDR is refused from anywhere else, on every transport, with a receipt', async () => {
    for (const name of ['builder', 'ci']) {
      const f = await fwd('/kib', {agent: name})
      assert.equal(f.status, 403, name)
      assert.equal(f.headers['x-pipelock-block-reason'], 'identity_not_bound')
      assert.match(String(f.headers['x-pipelock-block-reason-receipt']), /.+/)
      const q = await fetchVia(name)
      assert.equal(q.status, 403)
      assert.equal(JSON.parse(q.body).block_reason, `agent "${name}" is bound to its own listener or source CIDR; a request naming it from 127.0.0.1 is refused`)
      assert.match(await connectHead(proxy.port, `127.0.0.1:${up.port}`, {'X-Pipelock-Agent': name}), /^HTTP\/1\.1 403 [^]*X-Pipelock-Block-Reason: identity_not_bound/)
    }
    // The binding itself still works: the listener and the CIDR.
    assert.equal((await fwd('/kib', {port: bound, agent: 'ci'})).status, 200)
    assert.equal((await fwd('/kib', {agent: 'builder', from: '127.0.0.9'})).status, 200)
    const receipts = readdirSync(path.join(dir, 'evidence')).flatMap((f) => readFileSync(path.join(dir, 'evidence', f), 'utf8').trim().split('\n'))
    assert.ok(receipts.some((l) => l.includes('"identity"') && l.includes('builder')), `the refusal is a receipt:\n${receipts.filter((l) => l.includes('builder')).join('\n')}`)
  })
})
