/**
 * What `pipelock run` answers on its edges (docs/run.md, "Block responses" and the /ws handshake): a `/fetch` over
 * `fetch_proxy.max_response_mb` is a block in its JSON as in its headers; a `/fetch` with the wrong
 * method names the one it takes (`Allow`); the `/ws` handshake's scheme and connection-cap refusals
 * carry hints of their own under `explain_blocks`; a rate-limited request says when to retry
 * (`Retry-After`) on every transport. Built CLI, real sockets, local upstreams.
 */
import assert from 'node:assert/strict'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'
import WebSocket, {WebSocketServer} from 'ws'
import {OTHER_HINTS, WS_CAPACITY_HINT, WS_SCHEME_HINT} from '../../src/plugins/proxy/hints.js'
import {rawExchange, rawHttp, refusedHandshake, type RunningProxy, startProxy, startRoutedUpstream, type Upstream} from './proxy-harness.js'

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

  it('/ws at its connection cap is a 503 with the capacity hint (not the rate-limit one) and a Retry-After', async () => {
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
      assert.equal(r.headers['retry-after'], '5')
    } finally {
      open.terminate()
    }
  })
})

/** An origin that answers every request 200 `ok`. */
async function okUpstream(): Promise<Upstream> {
  return await startRoutedUpstream((_req, res) => {
    res.writeHead(200, {'content-type': 'text/plain'})
    res.end('ok\n')
  })
}

describe('run: a rate-limited request says when to retry', {timeout: 60_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  before(async () => {
    up = await okUpstream()
    const config = [
      'forward_proxy:', '  enabled: true',
      'websocket_proxy:', '  enabled: true',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 1',
    ].join('\n') + '\n'
    proxy = await startProxy(config)
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  /** A Retry-After within the limiter's 60 s window: whole seconds, 1 to 60. */
  function assertRetryAfter(value: string | undefined, what: string): void {
    assert.match(value ?? '', /^[1-9][0-9]?$/, `${what}: Retry-After ${value}`)
    assert.ok(Number(value) <= 60, `${what}: Retry-After ${value}`)
  }

  it('429 on /fetch, the forward proxy, CONNECT and the /ws handshake carries Retry-After', async () => {
    const target = `http://127.0.0.1:${up.port}/`
    const first = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(target)}`})
    assert.equal(first.status, 200, first.body)
    assert.equal(first.headers['retry-after'], undefined)

    const fetched = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(target)}`})
    assert.equal(fetched.status, 429, fetched.body)
    assert.equal(fetched.headers['x-pipelock-block-reason'], 'rate_limit')
    assertRetryAfter(fetched.headers['retry-after'] as string | undefined, '/fetch')
    assert.equal(JSON.parse(fetched.body).block_reason, 'rate limit exceeded for 127.0.0.1')

    const forward = await rawHttp(proxy.port, {path: target})
    assert.equal(forward.status, 429, forward.body)
    assertRetryAfter(forward.headers['retry-after'] as string | undefined, 'forward')
    assert.equal(forward.body, 'blocked: rate limit exceeded for 127.0.0.1\n')

    const connect = await rawExchange(proxy.port, `CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\n\r\n`)
    assert.match(connect, /^HTTP\/1\.1 429 /)
    assertRetryAfter(/\r\nRetry-After: ([^\r]*)\r\n/i.exec(connect)?.[1], 'CONNECT')

    const ws = await refusedHandshake(proxy, `ws://127.0.0.1:${up.port}/`)
    assert.equal(ws.status, 429, ws.body)
    assertRetryAfter(ws.headers['retry-after'] as string | undefined, '/ws')
  })
})

describe('run: a spent agent budget says when its window resets', {timeout: 60_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  before(async () => {
    up = await startRoutedUpstream((req, res) => {
      res.writeHead(200, {'content-type': 'text/plain'})
      res.end(req.url === '/kib' ? 'k'.repeat(1024) : 'ok\n')
    })
    const config = [
      'forward_proxy:', '  enabled: true',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
      'agents:',
      '  windowed:', '    source_cidrs: ["127.0.0.5/32"]', '    budget:', '      max_requests_per_session: 1', '      window_minutes: 2',
      '  forever:', '    source_cidrs: ["127.0.0.6/32"]', '    budget:', '      max_requests_per_session: 1',
      '  bytes:', '    source_cidrs: ["127.0.0.7/32", "127.0.0.8/32"]', '    budget:', '      max_bytes_per_session: 1500', '      window_minutes: 1',
      '  _default: {}',
    ].join('\n') + '\n'
    proxy = await startProxy(config)
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('429 data_budget carries Retry-After up to window_minutes, and none for a budget with no window', async () => {
    const path = `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/`)}`
    assert.equal((await rawHttp(proxy.port, {path, from: '127.0.0.5'})).status, 200)
    const windowed = await rawHttp(proxy.port, {path, from: '127.0.0.5'})
    assert.equal(windowed.status, 429, windowed.body)
    assert.equal(windowed.headers['x-pipelock-block-reason'], 'data_budget')
    const wait = Number(windowed.headers['retry-after'])
    assert.ok(Number.isInteger(wait) && wait >= 110 && wait <= 121, `Retry-After ${windowed.headers['retry-after']}`)
    assert.equal((await rawHttp(proxy.port, {path, from: '127.0.0.6'})).status, 200)
    const forever = await rawHttp(proxy.port, {path, from: '127.0.0.6'})
    assert.equal(forever.status, 429, forever.body)
    assert.equal(forever.headers['retry-after'], undefined)
  })

  it('a response body over the bytes left in the budget: 429 data_budget with Retry-After up to window_minutes, on /fetch and the forward proxy', async () => {
    const kib = `http://127.0.0.1:${up.port}/kib`
    // Each client its own session: 1 KiB read whole, then 1 KiB over the 476 bytes left.
    for (const [path, from] of [[`/fetch?url=${encodeURIComponent(kib)}`, '127.0.0.7'], [kib, '127.0.0.8']] as const) {
      assert.equal((await rawHttp(proxy.port, {path, from})).status, 200)
      const over = await rawHttp(proxy.port, {path, from})
      assert.equal(over.status, 429, over.body)
      assert.equal(over.headers['x-pipelock-block-reason'], 'data_budget')
      assert.match(over.body, /response size 477 exceeds byte budget 476/)
      const wait = Number(over.headers['retry-after'])
      assert.ok(Number.isInteger(wait) && wait >= 50 && wait <= 61, `${path}: Retry-After ${over.headers['retry-after']}`)
    }
  })
})
