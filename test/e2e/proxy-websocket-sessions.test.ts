/**
 * The session layer on WebSocket connections, through the built `pipelock run`, real sockets and
 * the `ws` client: cross-request detection on every client message (operations §5.4) — a
 * blocking finding closes the relay with 1008 `cross_request_deny`, and the same traffic without
 * the section is relayed; the airlock (OP §6 item 4) — moving the session to `hard` through the
 * admin API cuts its live WebSocket at once with 1008 `airlock_active`, and a reset or terminate
 * does too, recorded as what it was (`connection cut: session terminated`); agent profiles — a
 * profile's own mode and allowlist judge the `/ws` handshake of its agent (OP §2.4).
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'
import WebSocket, {WebSocketServer} from 'ws'
import {stringify} from 'yaml'
import {baseConfig, echoedWebSocket, presetConfig, type RunningProxy, startProxy, until} from './proxy-harness.js'

function config(cee: boolean): string {
  const lines = ['ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', 'websocket_proxy:', '  enabled: true']
  if (cee) {
    lines.push(
      'cross_request_detection:',
      '  enabled: true',
      '  action: block',
      '  entropy_budget: {enabled: true, bits_per_window: 2000, window_minutes: 5, action: block}',
      '  fragment_reassembly: {enabled: false}',
    )
  }
  return baseConfig(lines.join('\n'))
}

async function echoServer(): Promise<{port: number; closes: Array<{code: number; reason: string}>; close: () => Promise<void>}> {
  const wss = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false})
  // How each relayed connection was closed toward the origin (the proxy's upstream close reason).
  const closes: Array<{code: number; reason: string}> = []
  wss.on('connection', (ws) => {
    ws.on('message', (d, isBinary) => ws.send(d, {binary: isBinary}))
    ws.on('close', (code, reason) => closes.push({code, reason: reason.toString()}))
  })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  return {
    port: (wss.address() as AddressInfo).port,
    closes,
    close: async () => {
      for (const c of wss.clients) c.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}

/**
 * The i-th high-entropy message: 96 bytes derived from a fixed seed, as base64url. Deterministic on
 * purpose — random bytes now and then spell something a DLP pattern matches (a CI run was closed
 * `dlp_match` on its fifth message), which made the outcome depend on luck.
 */
function message(i: number): string {
  const h = (tag: string) => createHash('sha512').update(`ws-cee-${i}-${tag}`).digest()
  return Buffer.concat([h('a'), h('b')]).subarray(0, 96).toString('base64url')
}

/** Sends high-entropy messages until the relay closes or `n` were echoed; returns how it ended. */
async function exfiltrate(proxy: RunningProxy, port: number, n: number): Promise<{echoed: number; code?: number; reason?: string}> {
  const ws = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(`ws://127.0.0.1:${port}/`)}`, {headers: {'X-Pipelock-Agent': 'ws-cee'}})
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  let echoed = 0
  return await new Promise((resolve) => {
    ws.on('close', (code, reason) => resolve({echoed, code, reason: reason.toString()}))
    ws.on('message', () => {
      echoed++
      if (echoed === n) {
        ws.close()
        resolve({echoed})
        return
      }
      ws.send(message(echoed))
    })
    ws.send(message(0))
  })
}

describe('pipelock run: cross-request detection on /ws messages', {timeout: 60_000}, () => {
  let echo: Awaited<ReturnType<typeof echoServer>>
  let withCee: RunningProxy
  let without: RunningProxy
  before(async () => {
    echo = await echoServer()
    withCee = await startProxy(config(true))
    without = await startProxy(config(false))
  })
  after(async () => {
    await withCee?.stop()
    await without?.stop()
    await echo?.close()
  })

  it('a session over its entropy budget is closed 1008 cross_request_deny; without the section the messages pass', async () => {
    // 128 characters of base64url ≈ 768 bits each: a 2000-bit budget is spent by the third message.
    const r = await exfiltrate(withCee, echo.port, 10)
    assert.equal(r.code, 1008, JSON.stringify(r))
    assert.ok(r.echoed >= 1 && r.echoed < 10, `echoed ${r.echoed} before the close`)
    const reason = JSON.parse(r.reason ?? '{}') as Record<string, string>
    assert.equal(reason.block_reason, 'cross_request_deny')
    assert.equal(reason.layer, 'cross_request')
    const plain = await exfiltrate(without, echo.port, 10)
    assert.deepEqual(plain, {echoed: 10})
  })
})

const TOKEN = 'ws-airlock-token'

/** POSTs `body` to the session admin API path `verb` of `key`; resolves with the status and the JSON answer. */
async function sessionAction(proxy: RunningProxy, key: string, verb: string, body = ''): Promise<{status: number; json: Record<string, unknown>}> {
  return await new Promise((resolve, reject) => {
    const req = http.request(
      {host: '127.0.0.1', port: proxy.port, method: 'POST', path: `/api/v1/sessions/${encodeURIComponent(key)}/${verb}`, headers: {Authorization: `Bearer ${TOKEN}`}, agent: false},
      (res) => {
        let text = ''
        res.on('data', (c: Buffer) => (text += c.toString()))
        res.on('end', () => resolve({status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown>}))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** The audit lines of `event` whose `reason` is a session cut of a connection, from `from` lines of stdout on. */
function cutLines(proxy: RunningProxy, from: number): Array<Record<string, unknown>> {
  return proxy
    .stdout()
    .split('\n')
    .slice(from)
    .filter((l) => l.includes('connection cut: '))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

function airlockConfig(): string {
  const c = presetConfig('balanced')
  c.ssrf = {ip_allowlist: ['127.0.0.1/32']}
  c.kill_switch.api_token = TOKEN
  c.websocket_proxy = {enabled: true}
  c.airlock = {enabled: true, triggers: {on_elevated: 'soft', on_high: 'hard', on_critical: 'drain'}}
  return stringify(c)
}

interface AirlockRig {
  readonly echo: Awaited<ReturnType<typeof echoServer>>
  readonly proxy: RunningProxy
  stop(): Promise<void>
}

/** An echo origin and a proxy running `airlockConfig()`. */
async function airlockRig(): Promise<AirlockRig> {
  const echo = await echoServer()
  const proxy = await startProxy(airlockConfig())
  return {
    echo,
    proxy,
    stop: async () => {
      await proxy.stop()
      await echo.close()
    },
  }
}

describe('pipelock run: the airlock cuts a live /ws connection', {timeout: 60_000}, () => {
  let rig: AirlockRig
  before(async () => (rig = await airlockRig()))
  after(async () => await rig?.stop())

  it('moving the session to hard closes its WebSocket with 1008 airlock_active', async () => {
    const {closed} = await echoedWebSocket(rig.proxy.addr, `ws://127.0.0.1:${rig.echo.port}/`, 'ws-air')
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {host: '127.0.0.1', port: rig.proxy.port, method: 'POST', path: `/api/v1/sessions/${encodeURIComponent('ws-air|127.0.0.1')}/airlock`, headers: {Authorization: `Bearer ${TOKEN}`}, agent: false},
        (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        },
      )
      req.on('error', reject)
      req.end('{"tier":"hard"}')
    })
    assert.equal(status, 200)
    const c = await closed
    assert.equal(c.code, 1008)
    const reason = JSON.parse(c.reason) as Record<string, string>
    assert.equal(reason.block_reason, 'airlock_active')
    assert.equal(reason.layer, 'airlock')
    assert.ok(await until(async () => rig.echo.closes.some((x) => x.reason === 'session quarantined at airlock tier hard'), 2000), JSON.stringify(rig.echo.closes))
    assert.ok(await until(async () => cutLines(rig.proxy, 0).some((l) => l.event === 'ws_blocked' && l.reason === 'connection cut: session quarantined at airlock tier hard'), 2000), rig.proxy.stdout())
    // A new handshake of the quarantined session is refused, and told it is the WebSocket (a GET
    // the hard tier would let through on the forward rig.proxy) that the tier refuses.
    const refused = await new Promise<{status: number; block: unknown; body: string}>((resolve, reject) => {
      const again = new WebSocket(`ws://${rig.proxy.addr}/ws?url=${encodeURIComponent(`ws://127.0.0.1:${rig.echo.port}/`)}`, {headers: {'X-Pipelock-Agent': 'ws-air'}})
      again.once('open', () => reject(new Error('handshake was not refused')))
      again.once('unexpected-response', (_req, res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve({status: res.statusCode ?? 0, block: res.headers['x-pipelock-block-reason'], body}))
      })
      again.once('error', reject)
    })
    assert.deepEqual(refused, {status: 403, block: 'airlock_active', body: 'WebSocket blocked: airlock: hard tier blocks new WebSocket connections\n'})
  })
})

// Its own proxy: the hard tier above holds every unbound agent of 127.0.0.1 (its client address).
describe('pipelock run: a reset or terminate cuts a live /ws connection and says which', {timeout: 60_000}, () => {
  let rig: AirlockRig
  before(async () => (rig = await airlockRig()))
  after(async () => await rig?.stop())

  for (const [verb, why] of [['terminate', 'session terminated'], ['reset', 'session reset']] as const) {
    it(`a ${verb} closes the WebSocket 1008 airlock_active and records the cut as \`connection cut: ${why}\`, not as a quarantine`, async () => {
      const agent = `ws-${verb}`
      const from = rig.proxy.stdout().split('\n').length - 1
      const before = rig.echo.closes.length
      const {closed} = await echoedWebSocket(rig.proxy.addr, `ws://127.0.0.1:${rig.echo.port}/`, agent)
      const r = await sessionAction(rig.proxy, `${agent}|127.0.0.1`, verb)
      assert.equal(r.status, 200)
      assert.equal(r.json.connections_cut, 1)
      const c = await closed
      assert.deepEqual({code: c.code, reason: JSON.parse(c.reason) as unknown}, {code: 1008, reason: {block_reason: 'airlock_active', version: '1', severity: 'critical', retry: 'transient', layer: 'airlock'}})
      assert.ok(await until(async () => rig.echo.closes.length > before, 2000))
      assert.deepEqual(rig.echo.closes.slice(before), [{code: 1008, reason: why}])
      assert.ok(await until(async () => cutLines(rig.proxy, from).some((l) => l.event === 'ws_blocked'), 2000), rig.proxy.stdout())
      const lines = cutLines(rig.proxy, from)
      assert.deepEqual(lines.filter((l) => l.event === 'ws_blocked').map((l) => [l.reason, l.direction, l.scanner]), [[`connection cut: ${why}`, 'client_to_server', 'airlock']])
      assert.equal(rig.proxy.stdout().split('\n').slice(from).filter((l) => l.includes('session quarantined')).length, 0)
    })
  }
})

describe('pipelock run: an agent profile judges its /ws handshakes', {timeout: 60_000}, () => {
  let echo: Awaited<ReturnType<typeof echoServer>>
  let proxy: RunningProxy
  before(async () => {
    echo = await echoServer()
    // The base config lets the loopback upstream through; the `locked` profile is strict mode
    // with an allowlist that does not name it.
    proxy = await startProxy(config(false) + 'agents:\n  locked:\n    mode: strict\n    api_allowlist: [api.example.com]\n')
  })
  after(async () => {
    await proxy?.stop()
    await echo?.close()
  })

  const handshake = (agent: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(`ws://127.0.0.1:${echo.port}/`)}`, {headers: {'X-Pipelock-Agent': agent}})
      ws.once('open', () => {
        ws.close()
        resolve(101)
      })
      ws.once('unexpected-response', (_req, res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      ws.once('error', reject)
    })

  it('the profile in strict mode refuses a host outside its allowlist; another agent connects', async () => {
    assert.equal(await handshake('locked'), 403)
    assert.equal(await handshake('someone-else'), 101)
  })
})
