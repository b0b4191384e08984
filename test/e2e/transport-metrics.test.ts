/**
 * Transport metrics (transports §2.13, §3.9) scraped from the built `pipelock run` after real
 * traffic: every kind of block inside an intercepted tunnel lands in
 * `pipelock_tls_request_blocked_total` / `pipelock_tls_response_blocked_total` under its reason,
 * and `/ws` relays feed the `pipelock_ws_*` families. One instance, its own traffic, exact counts.
 */
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import tls from 'node:tls'
import WebSocket, {WebSocketServer} from 'ws'
import {interceptedUpstream, rawHttp, type RunningProxy, startProxy, tempDir, tlsExchange, tlsThroughProxy, until, type Upstream} from './proxy-harness.js'

const AWS_KEY = 'AKIA' + 'Z7Q2W9E4R1T6Y3U8'

/** One HTTP/1.1 exchange on an open TLS socket; the status code of the answer. */
async function status(s: tls.TLSSocket, raw: string): Promise<number> {
  return Number((await tlsExchange(s, raw)).slice(9, 12))
}

/** `name{labels} value` lines of one scrape, as a map. */
function samples(text: string): Map<string, number> {
  const m = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    m.set(line.slice(0, i), Number(line.slice(i + 1)))
  }
  return m
}

describe('transport metrics after real traffic', {timeout: 60_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  let ca: string
  let wss: WebSocketServer
  let wsServer: http.Server
  let wsPort: number

  before(async () => {
    const dir = tempDir('pl-tmetrics-')
    const u = await interceptedUpstream(dir)
    ;({up, ca} = u)
    const {upTls, paths} = u
    wsServer = http.createServer()
    wss = new WebSocketServer({server: wsServer, perMessageDeflate: false})
    wss.on('connection', (ws) => ws.on('message', (d, binary) => ws.send(d, {binary})))
    await new Promise<void>((r) => wsServer.listen(0, '127.0.0.1', () => r()))
    wsPort = (wsServer.address() as AddressInfo).port
    proxy = await startProxy([
      'forward_proxy:', '  enabled: true',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
      'request_body_scanning:', '  enabled: true', '  action: block',
      'response_scanning:', '  action: block',
      'websocket_proxy:', '  enabled: true',
      'tls_interception:', '  enabled: true', `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`,
    ].join('\n') + '\n', {env: {SSL_CERT_FILE: upTls.certPath}, dir: tempDir()})
  })

  after(async () => {
    await proxy?.stop()
    await up?.close()
    for (const c of wss?.clients ?? []) c.terminate()
    wss?.close()
    await new Promise<void>((r) => (wsServer ? wsServer.close(() => r()) : r()))
  })

  it('every block inside an intercepted tunnel is counted under its reason (request and response side)', async () => {
    const host = `localhost:${up.port}`
    const s = await tlsThroughProxy(proxy.port, host, ca)
    assert.equal(await status(s, `GET /kib HTTP/1.1\r\nHost: ${host}\r\n\r\n`), 200)
    assert.equal(await status(s, `GET /kib HTTP/1.1\r\nHost: other.example:${up.port}\r\n\r\n`), 403)
    assert.equal(await status(s, `GET /kib?k=${AWS_KEY} HTTP/1.1\r\nHost: ${host}\r\n\r\n`), 403)
    const body = JSON.stringify({k: AWS_KEY})
    assert.equal(await status(s, `POST /echo HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`), 403)
    assert.equal(await status(s, `GET /injection HTTP/1.1\r\nHost: ${host}\r\n\r\n`), 403)
    assert.equal(await status(s, `GET /gzip HTTP/1.1\r\nHost: ${host}\r\n\r\n`), 403)
    s.destroy()

    const m = samples((await rawHttp(proxy.port, {path: '/metrics'})).body)
    assert.equal(m.get('pipelock_tls_intercept_total{outcome="intercepted"}'), 1)
    assert.equal(m.get('pipelock_tls_handshake_duration_seconds_count{side="client"}'), 1)
    assert.equal(m.get('pipelock_tls_handshake_duration_seconds_bucket{side="client",le="+Inf"}'), 1)
    assert.equal(m.get('pipelock_tls_request_blocked_total{reason="authority_mismatch"}'), 1)
    assert.equal(m.get('pipelock_tls_request_blocked_total{reason="url_scan"}'), 1)
    assert.equal(m.get('pipelock_tls_request_blocked_total{reason="body_dlp"}'), 1)
    assert.equal(m.get('pipelock_tls_request_blocked_total{reason="contract"}'), 0)
    assert.equal(m.get('pipelock_tls_response_blocked_total{reason="injection"}'), 1)
    assert.equal(m.get('pipelock_tls_response_blocked_total{reason="compressed"}'), 1)
    // Bounded: only the fixed reason sets are ever rendered.
    const reasons = [...m.keys()].filter((k) => k.startsWith('pipelock_tls_request_blocked_total')).length
    assert.equal(reasons, 18)
  })

  it('the WebSocket proxy feeds ws_connections, active, duration, bytes, frames and scan hits', async () => {
    const base = `ws://127.0.0.1:${proxy.port}/ws?url=`
    // A handshake the URL scan blocks (a secret in the target's query).
    const refused = new WebSocket(base + encodeURIComponent(`ws://127.0.0.1:${wsPort}/?k=${AWS_KEY}`), {perMessageDeflate: false})
    const refusedStatus = await new Promise<number>((resolve) => {
      refused.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0))
      refused.once('error', () => undefined)
    })
    assert.equal(refusedStatus, 403)

    const open = async (): Promise<WebSocket> => {
      const ws = new WebSocket(base + encodeURIComponent(`ws://127.0.0.1:${wsPort}/`), {perMessageDeflate: false})
      await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))
      return ws
    }
    // A clean relay the client ends: one text message each way, 5 bytes each.
    const clean = await open()
    const echoed = new Promise<string>((resolve) => clean.once('message', (d) => resolve(d.toString())))
    clean.send('hello')
    assert.equal(await echoed, 'hello')
    const mid = samples((await rawHttp(proxy.port, {path: '/metrics'})).body)
    assert.equal(mid.get('pipelock_ws_active_connections'), 1)
    await new Promise((resolve) => (clean.once('close', resolve), clean.close(1000, 'bye')))
    // A relay the proxy ends: a secret in a client message.
    const dirty = await open()
    const code = await new Promise<number>((resolve) => (dirty.once('close', (c) => resolve(c)), dirty.send(`key ${AWS_KEY}`)))
    assert.equal(code, 1008)

    let m = new Map<string, number>()
    assert.ok(await until(async () => {
      m = samples((await rawHttp(proxy.port, {path: '/metrics'})).body)
      return m.get('pipelock_ws_active_connections') === 0 && m.get('pipelock_ws_duration_seconds_count') === 2
    }, 5000), 'both relays closed')
    assert.equal(m.get('pipelock_ws_connections_total{result="blocked"}'), 2)
    assert.equal(m.get('pipelock_ws_connections_total{result="completed"}'), 1)
    assert.equal(m.get('pipelock_ws_bytes_total{direction="client_to_server"}'), 5)
    assert.equal(m.get('pipelock_ws_bytes_total{direction="server_to_client"}'), 5)
    assert.equal(m.get('pipelock_ws_frames_total{type="text"}'), 3)
    assert.equal(m.get('pipelock_ws_frames_total{type="binary"}'), 0)
    assert.ok((m.get('pipelock_ws_frames_total{type="control"}') ?? 0) >= 1, 'the close frames read')
    assert.equal(m.get('pipelock_ws_scan_hits_total{scanner="dlp"}'), 1)
    assert.equal(m.get('pipelock_ws_scan_hits_total{scanner="injection"}'), 0)
  })
})
