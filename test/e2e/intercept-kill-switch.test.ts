/**
 * The kill switch thrown while work is in flight inside an intercepted tunnel, through the built
 * `pipelock run` with real TLS: an inner request waiting on a slow HTTPS origin is answered
 * `503 kill switch active` (HTTP/1.1 and HTTP/2), recorded as one `kill_switch_deny` and not as
 * an upstream failure, and its upstream request is aborted; a relayed `wss://` connection is
 * closed 1008 with the `kill_switch_active` JSON. Only then is the tunnel torn down.
 *
 * A session terminate or reset does the same with the answer the forward proxy's cut requests
 * get: 403 `airlock_active`, `airlock: request cut: session terminated`, one recorded block, the
 * upstream aborted, and the tunnel counted as the one connection cut.
 */
import assert from 'node:assert/strict'
import {rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import type {AddressInfo, Socket} from 'node:net'
import path from 'node:path'
import tls from 'node:tls'
import {after, afterEach, before, describe, it} from 'node:test'
import WebSocket, {WebSocketServer} from 'ws'
import {runCli} from '../helpers/cli.js'
import {interceptingWebSocketConfig, makeSelfSignedCert, startProxy, tempDir, tlsThroughProxy, until, type RunningProxy} from './proxy-harness.js'

interface Origin {
  readonly port: number
  /** Resolves when the origin has a `/slow` request waiting; `aborted` when that request's connection went. */
  slow(): Promise<{aborted: Promise<void>}>
  close(): Promise<void>
}

/** An HTTPS origin: `/slow` never answers (until its client goes); a WebSocket upgrade echoes. */
async function origin(dir: string): Promise<Origin> {
  const material = makeSelfSignedCert(dir)
  const waiting: Array<(x: {aborted: Promise<void>}) => void> = []
  const server = https.createServer({key: material.key, cert: material.cert}, (req, res) => {
    if (req.url === '/slow') {
      const aborted = new Promise<void>((resolve) => res.once('close', resolve))
      waiting.shift()?.({aborted})
      return
    }
    res.writeHead(200, {'content-type': 'text/plain'}).end('ok\n')
  })
  const wss = new WebSocketServer({server, perMessageDeflate: false})
  wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, {binary: isBinary})))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    slow: () => new Promise((resolve) => waiting.push(resolve)),
    close: async () => {
      for (const c of wss.clients) c.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A CONNECT tunnel to `target` (with the CONNECT's `headers`), then TLS over it offering only `h2`. */
async function h2ThroughProxy(proxyPort: number, target: string, ca: string, headers: Record<string, string> = {}): Promise<tls.TLSSocket> {
  const raw = await new Promise<Socket>((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: target, agent: false, headers})
    req.once('connect', (res, socket) => (res.statusCode === 200 ? resolve(socket) : reject(new Error(`CONNECT ${res.statusCode}`))))
    req.once('error', reject)
    req.end()
  })
  return await new Promise((resolve, reject) => {
    const s = tls.connect({socket: raw, ca, servername: 'localhost', ALPNProtocols: ['h2']}, () => resolve(s))
    s.once('error', reject)
  })
}

/** The answer of one HTTP/2 request on `session`: status, block reason header, body; rejects on a stream error (an unclean end). */
function h2Answer(stream: http2.ClientHttp2Stream): Promise<{status: number; reason: unknown; body: string}> {
  return new Promise((resolve, reject) => {
    let status = 0
    let reason: unknown
    let body = ''
    stream.on('response', (h) => {
      status = Number(h[':status'])
      reason = h['x-pipelock-block-reason']
    })
    stream.setEncoding('utf8')
    stream.on('data', (c: string) => (body += c))
    stream.once('end', () => resolve({status, reason, body}))
    stream.once('error', reject)
  })
}

function events(p: RunningProxy, name: string): Array<Record<string, unknown>> {
  return p
    .stdout()
    .split('\n')
    .filter((l) => l.includes(`"event":"${name}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}


/** The values of the Connection headers of a raw HTTP/1.1 answer's head, comma-joined. */
function connectionHeaders(raw: string): string {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'))
  return head.split('\r\n').slice(1).filter((l) => /^connection:/i.test(l)).map((l) => l.slice(l.indexOf(':') + 1).trim()).join(', ')
}

/** The proxy's audit lines of the `/slow` request written since `from` lines of its stdout. */
function slowLines(proxy: RunningProxy, from: number): string[] {
  return proxy.stdout().split('\n').slice(from).filter((l) => l.includes('/slow'))
}

/**
 * A tunnel through `proxy` to `up` with `GET /slow` written inside it (HTTP/1.1) and waiting at
 * the origin: the socket, what the client has read so far, its close, and the origin's abort.
 */
async function waitingInTunnel(proxy: RunningProxy, up: Origin, ca: string, headers?: Record<string, string>) {
  const s = await tlsThroughProxy(proxy.port, `localhost:${up.port}`, ca, undefined, headers)
  let got = ''
  s.on('data', (c: Buffer) => (got += c.toString('latin1')))
  const closed = new Promise<void>((resolve) => s.once('close', resolve))
  const waiting = up.slow()
  s.write(`GET /slow HTTP/1.1\r\nHost: localhost:${up.port}\r\n\r\n`)
  const {aborted} = await waiting
  return {read: (): string => got, closed, aborted}
}

/**
 * A slow HTTPS origin and a proxy intercepting TLS in a fresh dir, with a fetch timeout far beyond
 * the tests (only the cut under test can end a waiting request) and `extra(dir)` config lines.
 */
async function interceptRig(prefix: string, extra: (dir: string) => string[]): Promise<{dir: string; up: Origin; proxy: RunningProxy; ca: string}> {
  const dir = tempDir(prefix)
  const up = await origin(dir)
  const intercepting = interceptingWebSocketConfig(dir)
  const config = intercepting.config + ['fetch_proxy:', '  timeout_seconds: 60', ...extra(dir)].join('\n') + '\n'
  const proxy = await startProxy(config, {env: {SSL_CERT_FILE: path.join(dir, 'cert.pem')}, dir: tempDir()})
  return {dir, up, proxy, ca: intercepting.ca}
}

describe('the kill switch answers in-flight work inside an intercepted tunnel before tearing it down', {timeout: 60_000}, () => {
  let up: Origin
  let proxy: RunningProxy
  let ca: string
  let sentinel: string

  before(async () => {
    const rig = await interceptRig('pl-intercept-ks-inflight-', (dir) => ['kill_switch:', `  sentinel_file: ${JSON.stringify(path.join(dir, 'kill'))}`])
    ;({up, proxy, ca} = rig)
    sentinel = path.join(rig.dir, 'kill')
  })

  afterEach(async () => {
    rmSync(sentinel, {force: true})
    // The switch is off again (polled every 250 ms) before the next test opens a tunnel.
    assert.ok(await until(async () => (await fetch(`http://${proxy.addr}/health`)).status === 200, 3000))
  })

  after(async () => {
    rmSync(sentinel, {force: true})
    await proxy?.stop()
    await up?.close()
  })

  it('HTTP/1.1: the waiting request gets 503 `kill switch active`, one kill_switch_deny, its upstream aborted, then the tunnel closes', async () => {
    const from = proxy.stdout().split('\n').length - 1
    const {read, closed, aborted} = await waitingInTunnel(proxy, up, ca)
    writeFileSync(sentinel, '')
    await closed
    assert.match(read(), /^HTTP\/1\.1 503 Service Unavailable\r\n/)
    assert.match(read(), /\r\nX-Pipelock-Block-Reason: kill_switch_active\r\n/i)
    // The tunnel closes behind this answer: it offers no keep-alive.
    assert.equal(connectionHeaders(read()), 'close')
    assert.ok(read().endsWith('\r\n\r\nkill switch active\n'), read())
    await aborted
    assert.ok(await until(async () => events(proxy, 'kill_switch_deny').some((e) => e.url === `https://localhost:${up.port}/slow`), 2000))
    const lines = slowLines(proxy, from)
    assert.equal(lines.filter((l) => l.includes('"event":"kill_switch_deny"')).length, 1, lines.join('\n'))
    assert.equal(lines.filter((l) => l.includes('upstream request failed')).length, 0, lines.join('\n'))
    const deny = JSON.parse(lines.find((l) => l.includes('"event":"kill_switch_deny"'))!) as Record<string, unknown>
    assert.equal(deny.transport, 'intercept')
  })

  it('HTTP/2: the waiting stream gets 503 `kill switch active` and ends cleanly; one kill_switch_deny, no upstream failure', async () => {
    const from = proxy.stdout().split('\n').length - 1
    const s = await h2ThroughProxy(proxy.port, `localhost:${up.port}`, ca)
    const session = http2.connect(`https://localhost:${up.port}`, {createConnection: () => s})
    session.on('error', () => undefined)
    const waiting = up.slow()
    const answer = h2Answer(session.request({':path': '/slow'}))
    const {aborted} = await waiting
    writeFileSync(sentinel, '')
    assert.deepEqual(await answer, {status: 503, reason: 'kill_switch_active', body: 'kill switch active\n'})
    await aborted
    // The tunnel goes right after the answer.
    assert.ok(await until(async () => s.destroyed, 2000))
    session.destroy()
    assert.ok(await until(async () => slowLines(proxy, from).some((l) => l.includes('"event":"kill_switch_deny"')), 2000))
    const lines = slowLines(proxy, from)
    assert.equal(lines.filter((l) => l.includes('"event":"kill_switch_deny"')).length, 1, lines.join('\n'))
    assert.equal(lines.filter((l) => l.includes('upstream request failed')).length, 0, lines.join('\n'))
  })

  it('a relayed wss:// connection is closed 1008 with the kill_switch_active JSON', async () => {
    const s = await tlsThroughProxy(proxy.port, `localhost:${up.port}`, ca)
    const ws = new WebSocket(`wss://localhost:${up.port}/`, {perMessageDeflate: false, createConnection: () => s})
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())))
    ws.send('before the switch')
    assert.equal(await echoed, 'before the switch')
    const closed = new Promise<{code: number; reason: string}>((resolve) => ws.once('close', (code, reason) => resolve({code, reason: reason.toString()})))
    writeFileSync(sentinel, '')
    const c = await closed
    assert.equal(c.code, 1008)
    assert.deepEqual(JSON.parse(c.reason), {block_reason: 'kill_switch_active', version: '1', severity: 'critical', retry: 'transient', layer: 'kill_switch'})
    assert.ok(await until(async () => s.destroyed, 2000))
  })
})

describe('a session terminate or reset answers the requests waiting inside an intercepted tunnel before tearing it down', {timeout: 60_000}, () => {
  const TOKEN = 'intercept-session-cut-token'
  let up: Origin
  let proxy: RunningProxy
  let ca: string

  before(async () => {
    ;({up, proxy, ca} = await interceptRig('pl-intercept-session-cut-', () => ['kill_switch:', `  api_token: ${TOKEN}`, 'session_profiling:', '  enabled: true']))
  })

  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  /** The one block recorded for `/slow` since `from`, once it is there. */
  const oneCutBlock = async (from: number, detail: string): Promise<void> => {
    assert.ok(await until(async () => slowLines(proxy, from).some((l) => l.includes('"event":"blocked"')), 2000), proxy.stdout())
    const lines = slowLines(proxy, from)
    const blocks = lines.filter((l) => l.includes('"event":"blocked"')).map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.deepEqual(blocks.map((e) => [e.url, e.reason, e.scanner, e.block_reason, e.status_code]), [[`https://localhost:${up.port}/slow`, detail, 'airlock', 'airlock_active', 403]], lines.join('\n'))
    assert.equal(lines.filter((l) => l.includes('upstream request failed')).length, 0, lines.join('\n'))
  }

  it('HTTP/1.1, `pipelock session terminate`: 403 `airlock: request cut: session terminated`, one block, the upstream aborted, one connection cut', async () => {
    const agent = 'tunnel-h1'
    const key = `${agent}|127.0.0.1`
    const from = proxy.stdout().split('\n').length - 1
    const {read, closed, aborted} = await waitingInTunnel(proxy, up, ca, {'X-Pipelock-Agent': agent})
    assert.deepEqual(runCli(['session', 'terminate', key, '--api-url', proxy.addr, '--api-token', TOKEN], {env: {...process.env, PIPELOCK_API_URL: '', PIPELOCK_CONFIG: ''}}), {
      status: 0,
      stderr: `WARNING: terminated session ${key} — 1 in-flight connection was cut.\n`,
      stdout: `terminated ${key}: previous_tier=none level=normal score=0.00 cee_cleared=false\n`,
    })
    await closed
    assert.match(read(), /^HTTP\/1\.1 403 Forbidden\r\n/)
    assert.match(read(), /\r\nX-Pipelock-Block-Reason: airlock_active\r\n/i)
    assert.equal(connectionHeaders(read()), 'close')
    assert.ok(read().endsWith('\r\n\r\nairlock: request cut: session terminated\n'), read())
    await aborted
    await oneCutBlock(from, 'request cut: session terminated')
  })

  it('HTTP/2, a reset through the admin API: the waiting stream gets the 403 and ends cleanly; connections_cut 1, one block, the upstream aborted', async () => {
    const agent = 'tunnel-h2'
    const key = `${agent}|127.0.0.1`
    const from = proxy.stdout().split('\n').length - 1
    const s = await h2ThroughProxy(proxy.port, `localhost:${up.port}`, ca, {'X-Pipelock-Agent': agent})
    const session = http2.connect(`https://localhost:${up.port}`, {createConnection: () => s})
    session.on('error', () => undefined)
    const waiting = up.slow()
    const answer = h2Answer(session.request({':path': '/slow'}))
    const {aborted} = await waiting
    const r = await fetch(`http://${proxy.addr}/api/v1/sessions/${encodeURIComponent(key)}/reset`, {method: 'POST', headers: {Authorization: `Bearer ${TOKEN}`}})
    assert.equal(r.status, 200)
    assert.equal(((await r.json()) as {connections_cut?: number}).connections_cut, 1)
    assert.deepEqual(await answer, {status: 403, reason: 'airlock_active', body: 'airlock: request cut: session reset\n'})
    await aborted
    // The tunnel goes right after the answer.
    assert.ok(await until(async () => s.destroyed, 2000))
    session.destroy()
    await oneCutBlock(from, 'request cut: session reset')
  })

  it('a wss:// relayed inside the tunnel, `pipelock session terminate`: closed 1008, and counted once with its tunnel (1 connection cut)', async () => {
    const agent = 'tunnel-wss'
    const key = `${agent}|127.0.0.1`
    const s = await tlsThroughProxy(proxy.port, `localhost:${up.port}`, ca, undefined, {'X-Pipelock-Agent': agent})
    const ws = new WebSocket(`wss://localhost:${up.port}/`, {perMessageDeflate: false, createConnection: () => s})
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())))
    ws.send('before the terminate')
    assert.equal(await echoed, 'before the terminate')
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    assert.deepEqual(runCli(['session', 'terminate', key, '--api-url', proxy.addr, '--api-token', TOKEN], {env: {...process.env, PIPELOCK_API_URL: '', PIPELOCK_CONFIG: ''}}), {
      status: 0,
      stderr: `WARNING: terminated session ${key} — 1 in-flight connection was cut.\n`,
      stdout: `terminated ${key}: previous_tier=none level=normal score=0.00 cee_cleared=false\n`,
    })
    assert.equal(await closed, 1008)
    assert.ok(await until(async () => s.destroyed, 2000))
  })
})
