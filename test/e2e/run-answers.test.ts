/**
 * What `pipelock run` answers on its edges (docs/run.md, "Block responses" and the /ws handshake): a `/fetch` over
 * `fetch_proxy.max_response_mb` is a block in its JSON as in its headers; a `/fetch` with the wrong
 * method names the one it takes (`Allow`); the `/ws` handshake's scheme and connection-cap refusals
 * carry hints of their own under `explain_blocks`. Built CLI, real sockets, local upstreams.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'
import WebSocket, {WebSocketServer} from 'ws'
import {OTHER_HINTS, WS_CAPACITY_HINT, WS_SCHEME_HINT} from '../../src/plugins/proxy/hints.js'
import {rawHttp, type RunningProxy, startProxy, startRoutedUpstream, type Upstream} from './proxy-harness.js'

/** A `/ws` handshake the proxy refuses: its status, headers and body as the `ws` client saw them. */
function refusedHandshake(proxy: RunningProxy, target: string): Promise<{status: number; headers: http.IncomingHttpHeaders; body: string}> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(target)}`)
    ws.once('open', () => {
      ws.terminate()
      reject(new Error('handshake was not refused'))
    })
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body}))
    })
    ws.once('error', reject)
  })
}

describe('run: /fetch and /ws answers', {timeout: 60_000}, () => {
  let up: Upstream
  let wss: WebSocketServer
  let wsPort: number
  let proxy: RunningProxy
  before(async () => {
    // 1 MiB and one byte: over max_response_mb: 1.
    const big = Buffer.alloc(1024 * 1024 + 1, 0x61)
    up = await startRoutedUpstream((_req, res) => {
      res.writeHead(200, {'content-type': 'text/plain', 'content-length': String(big.length)})
      res.end(big)
    })
    wss = new WebSocketServer({host: '127.0.0.1', port: 0})
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    wsPort = (wss.address() as AddressInfo).port
    wss.on('connection', (s) => s.on('message', (m) => s.send(m)))
    const config = [
      'explain_blocks: true',
      'websocket_proxy:', '  enabled: true', '  max_concurrent_connections: 1',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  max_response_mb: 1', '  monitoring:', '    max_requests_per_minute: 100000',
    ].join('\n') + '\n'
    proxy = await startProxy(config)
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
    for (const c of wss?.clients ?? []) c.terminate()
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()))
  })

  it('a /fetch response over max_response_mb is a block in its JSON too (blocked: true, block_reason)', async () => {
    const r = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/big`)}`})
    assert.equal(r.status, 502)
    assert.equal(r.headers['x-pipelock-block-reason'], 'data_budget')
    assert.equal(r.headers['x-pipelock-block-reason-layer'], 'response_size')
    assert.equal(r.headers['x-pipelock-hint'], OTHER_HINTS.response_size)
    assert.deepEqual(JSON.parse(r.body), {
      url: `http://127.0.0.1:${up.port}/big`, blocked: true, block_reason: 'response exceeds 1 MB', hint: OTHER_HINTS.response_size,
    })
  })

  it('a /fetch with a method other than GET is a 405 naming GET in Allow', async () => {
    const r = await rawHttp(proxy.port, {method: 'POST', path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/`)}`, body: ''})
    assert.equal(r.status, 405)
    assert.equal(r.headers.allow, 'GET')
    assert.equal(r.body, '{"error":"only GET allowed","blocked":false}\n')
  })

  it('/ws given an http(s) target is a 400 with the /ws scheme hint, not the http/https one', async () => {
    const r = await refusedHandshake(proxy, `http://127.0.0.1:${wsPort}/`)
    assert.equal(r.status, 400)
    assert.equal(r.body, 'invalid URL: must be ws or wss\n')
    assert.equal(r.headers['x-pipelock-block-reason'], 'scheme_blocked')
    assert.equal(r.headers['x-pipelock-hint'], WS_SCHEME_HINT)
  })

  it('/ws at its connection cap is a 503 with the capacity hint, not the rate-limit one', async () => {
    const open = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(`ws://127.0.0.1:${wsPort}/`)}`)
    await new Promise((resolve, reject) => {
      open.once('open', resolve)
      open.once('error', reject)
    })
    try {
      const r = await refusedHandshake(proxy, `ws://127.0.0.1:${wsPort}/`)
      assert.equal(r.status, 503)
      assert.equal(r.body, 'too many active WebSocket connections\n')
      assert.equal(r.headers['x-pipelock-block-reason'], 'rate_limit')
      assert.equal(r.headers['x-pipelock-block-reason-layer'], 'ratelimit')
      assert.equal(r.headers['x-pipelock-hint'], WS_CAPACITY_HINT)
    } finally {
      open.terminate()
    }
  })
})
