/**
 * Address-poisoning protection through the built CLI (scanners-extra §4): an agent POSTs a wallet
 * address through the forward proxy; one character off an allowlisted address is blocked with the
 * block vocabulary (layer `address_protection`), the allowlisted address itself passes, `warn`
 * forwards and leaves the audit event and metric, and `pipelock check` refuses what `run` refuses.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import WebSocket, {WebSocketServer} from 'ws'
import {runCli} from '../helpers/cli.js'
import {baseConfig, freePort, rawHttp, startHttpUpstream, startProxy, tempDir, type RunningProxy, type Upstream} from './proxy-harness.js'

const ALLOWED = '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'
const ONE_OFF = '0x5aaeb6053f3e94c9b9b09f33669435e7ef1beaed'

/** POST through the forward proxy (absolute-URI request line). */
async function post(proxyPort: number, url: string, body: string): Promise<{status: number; headers: http.IncomingHttpHeaders; body: string}> {
  return await new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port: proxyPort, method: 'POST', path: url, headers: {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body))}, agent: false}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8')}))
    })
    req.on('error', reject)
    req.end(body)
  })
}

function config(action: string, metricsPort: number, extra: string[] = []): string {
  return baseConfig([
    'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
    `metrics_listen: "127.0.0.1:${metricsPort}"`,
    'address_protection:', '  enabled: true', `  action: ${action}`, '  allowed_addresses:', `    - "${ALLOWED}"`,
    ...extra,
  ].join('\n'))
}

describe('address protection through the forward proxy', {timeout: 60_000}, () => {
  let up: Upstream
  before(async () => {
    up = await startHttpUpstream()
  })
  after(async () => {
    await up?.close()
  })

  it('blocks a wallet address one character off an allowlisted one; the allowlisted one passes', async () => {
    const metricsPort = await freePort()
    const proxy: RunningProxy = await startProxy(config('block', metricsPort))
    try {
      const target = `http://127.0.0.1:${up.port}/echo`
      const ok = await post(proxy.port, target, JSON.stringify({to: ALLOWED, amount: '1.5'}))
      assert.equal(ok.status, 200)
      assert.ok(ok.body.includes(ALLOWED), 'relayed to the upstream')
      const bad = await post(proxy.port, target, JSON.stringify({to: ONE_OFF, amount: '1.5'}))
      assert.equal(bad.status, 403)
      assert.equal(bad.headers['x-pipelock-block-reason'], 'dlp_match')
      assert.equal(bad.headers['x-pipelock-block-reason-layer'], 'address_protection')
      assert.ok(bad.body.includes('address poisoning detected: ETH address 0x5aaeb6...1beaed resembles allowlisted 0x5aaeb6...1beaed'), bad.body)
      const m = (await rawHttp(metricsPort, {path: '/metrics'})).body
      assert.ok(m.includes('pipelock_address_findings_total{chain="eth",verdict="lookalike"} 1'), m)
    } finally {
      await proxy.stop()
    }
  })

  it('action warn forwards the request and leaves an audit event', async () => {
    const metricsPort = await freePort()
    const proxy = await startProxy(config('warn', metricsPort))
    try {
      const r = await post(proxy.port, `http://127.0.0.1:${up.port}/echo`, JSON.stringify({note: `pay ${ONE_OFF}`}))
      assert.equal(r.status, 200)
      const line = proxy.stdout().split('\n').find((l) => l.includes('"event":"address_protection"'))
      assert.ok(line, proxy.stdout())
      const ev = JSON.parse(line) as Record<string, any>
      assert.deepEqual(ev.findings, [{chain: 'eth', verdict: 'lookalike', action: 'warn', address: '0x5aaeb6...1beaed'}])
      assert.equal(line.includes(ONE_OFF), false, 'the full address is not logged')
    } finally {
      await proxy.stop()
    }
  })

  it('check and run refuse an allowlist entry no enabled chain accepts, and all chains off', () => {
    const dir = tempDir()
    const bad = path.join(dir, 'bad.yaml')
    writeFileSync(bad, 'address_protection:\n  enabled: true\n  allowed_addresses: ["0x1234"]\n')
    const run = runCli(['run', '--config', bad, '--listen', '127.0.0.1:0'])
    const check = runCli(['check', '--config', bad])
    const message = 'invalid config: address_protection.allowed_addresses[0] "0x1234" is not a valid address for any enabled chain'
    assert.notEqual(run.status, 0)
    assert.ok(run.stderr.includes(message), run.stderr)
    assert.notEqual(check.status, 0)
    assert.ok(check.stderr.includes(message), check.stderr)
    const none = path.join(dir, 'none.yaml')
    writeFileSync(none, 'address_protection:\n  enabled: true\n  chains:\n    eth: false\n    btc: false\n    sol: false\n    bnb: false\n')
    for (const args of [['run', '--config', none, '--listen', '127.0.0.1:0'], ['check', '--config', none]]) {
      const r = runCli(args)
      assert.notEqual(r.status, 0)
      assert.ok(r.stderr.includes('address_protection.enabled is true but all chains are disabled (silent no-op)'), r.stderr)
    }
  })
})

describe('address protection on WebSocket messages (/ws)', {timeout: 60_000}, () => {
  const received: string[] = []
  let wss: WebSocketServer
  let port = 0
  before(async () => {
    wss = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false})
    wss.on('connection', (ws) => ws.on('message', (data) => {
      received.push(data.toString())
      ws.send(data.toString())
    }))
    await new Promise<void>((r) => wss.once('listening', () => r()))
    port = (wss.address() as {port: number}).port
  })
  after(async () => {
    for (const c of wss.clients) c.terminate()
    await new Promise<void>((r) => wss.close(() => r()))
  })

  const open = (proxy: RunningProxy): Promise<WebSocket> => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(`ws://127.0.0.1:${port}/`)}`)
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
  const closed = (ws: WebSocket): Promise<{code: number; reason: string}> => new Promise((resolve) => ws.once('close', (code, reason) => resolve({code, reason: reason.toString()})))
  const echoed = (ws: WebSocket): Promise<string> => new Promise((resolve) => ws.once('message', (d) => resolve(d.toString())))

  it('an outbound message with a lookalike address closes 1008 (layer address_protection), also when fragmented; the allowlisted one passes', async () => {
    const metricsPort = await freePort()
    const proxy = await startProxy(config('block', metricsPort, ['websocket_proxy:', '  enabled: true']))
    try {
      received.length = 0
      const ws = await open(proxy)
      const good = JSON.stringify({method: 'eth_sendTransaction', params: [{to: ALLOWED, value: '0x1'}]})
      const back = echoed(ws)
      ws.send(good)
      assert.equal(await back, good)
      const c = closed(ws)
      ws.send(JSON.stringify({method: 'eth_sendTransaction', params: [{to: ONE_OFF, value: '0x1'}]}))
      const r = await c
      assert.equal(r.code, 1008)
      assert.deepEqual(JSON.parse(r.reason), {block_reason: 'dlp_match', version: '1', severity: 'critical', retry: 'none', layer: 'address_protection'})
      // A message sent in two fragments is judged whole (the address is cut in the middle).
      const ws2 = await open(proxy)
      const c2 = closed(ws2)
      const text = `send to ${ONE_OFF} now`
      ws2.send(text.slice(0, 20), {fin: false})
      ws2.send(text.slice(20), {fin: true})
      assert.equal((await c2).code, 1008)
      assert.deepEqual(received, [good], 'no poisoned message reached the server')
      const m = (await rawHttp(metricsPort, {path: '/metrics'})).body
      assert.ok(m.includes('pipelock_address_findings_total{chain="eth",verdict="lookalike"} 2'), m)
      const line = proxy.stdout().split('\n').find((l) => l.includes('"event":"address_protection"'))
      assert.ok(line !== undefined && line.includes('"direction":"client_to_server"'), proxy.stdout())
      assert.equal(proxy.stdout().includes(ONE_OFF), false, 'the full address is not logged')
    } finally {
      await proxy.stop()
    }
  })

  it('action warn forwards the message and leaves the audit event', async () => {
    const metricsPort = await freePort()
    const proxy = await startProxy(config('warn', metricsPort, ['websocket_proxy:', '  enabled: true']))
    try {
      const ws = await open(proxy)
      const msg = `pay ${ONE_OFF}`
      const back = echoed(ws)
      ws.send(msg)
      assert.equal(await back, msg)
      ws.close()
      const line = proxy.stdout().split('\n').find((l) => l.includes('"event":"address_protection"'))
      assert.ok(line, proxy.stdout())
      assert.deepEqual((JSON.parse(line) as {findings: unknown}).findings, [{chain: 'eth', verdict: 'lookalike', action: 'warn', address: '0x5aaeb6...1beaed'}])
    } finally {
      await proxy.stop()
    }
  })
})
