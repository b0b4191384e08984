/**
 * The upstream's hop-by-hop response headers stop at the proxy, on every transport that relays a
 * response: the forward proxy (buffered and streamed), a request inside an intercepted tunnel and
 * the reverse proxy. Hop-by-hop means the fixed list and every header the upstream's own
 * `Connection` header names (RFC 9110 §7.6.1) — the request side already dropped those. So do the
 * upstream's own `X-Pipelock-*` headers: a block reason on an answer is this proxy's, never forged.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {
  baseConfig, makeSelfSignedCert, rawHttp, reverseListenPort, startProxy, startRoutedUpstream, tempDir, tlsExchange, tlsThroughProxy, writeTestCa,
  type RunningProxy, type Upstream,
} from './proxy-harness.js'

/**
 * An origin whose answers name `X-Hop` in `Connection`, carry a `Proxy-Authenticate` of their own,
 * and forge Pipelock's block-reason headers (what a client or its supervisor keys on).
 */
const handler: http.RequestListener = (req, res) => {
  const sse = (req.url ?? '').startsWith('/sse')
  res.writeHead(200, {
    'content-type': sse ? 'text/event-stream' : 'application/json',
    connection: 'keep-alive, X-Hop',
    'x-hop': 'upstream connection only',
    'proxy-authenticate': 'Basic realm="upstream"',
    'x-pipelock-block-reason': 'domain_blocklist',
    'X-Pipelock-Block-Reason-Retry': 'policy',
    'x-pipelock-block-reason-receipt': '01ZZZZZZZZZZZZZZZZZZZZZZZZ',
    'x-pipelock-hint': 'forged by the upstream',
    'x-kept': 'end to end',
  })
  res.end(sse ? 'data: one\n\n' : '{"ok":true}')
}

function assertHopHeadersGone(headers: Record<string, unknown>, where: string): void {
  assert.equal(headers['x-kept'], 'end to end', `${where}: an end-to-end header is relayed`)
  assert.equal(headers['x-hop'], undefined, `${where}: a header the upstream's Connection names is not relayed`)
  assert.equal(headers['proxy-authenticate'], undefined, `${where}: the upstream's Proxy-Authenticate is not relayed`)
  const forged = Object.keys(headers).filter((k) => k.toLowerCase().startsWith('x-pipelock-'))
  assert.deepEqual(forged, [], `${where}: the upstream's own X-Pipelock-* headers are not relayed`)
}

/** The header fields of a raw HTTP/1.1 response, names lower-cased. */
function rawHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n').slice(1)) {
    const i = line.indexOf(':')
    out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
  }
  return out
}

describe('pipelock run: hop-by-hop and X-Pipelock-* response headers of the upstream are not relayed', {timeout: 60_000}, () => {
  let up: Upstream
  let tlsServer: https.Server
  let tlsPort: number
  let ca: string
  let proxy: RunningProxy

  before(async () => {
    const dir = tempDir()
    up = await startRoutedUpstream(handler)
    const upTls = makeSelfSignedCert(dir)
    tlsServer = https.createServer({key: upTls.key, cert: upTls.cert}, handler)
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', () => resolve()))
    tlsPort = (tlsServer.address() as AddressInfo).port
    const paths = writeTestCa(dir)
    ca = readFileSync(paths.cert, 'utf8')
    proxy = await startProxy(
      baseConfig(['ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', 'tls_interception:', '  enabled: true', `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`].join('\n')),
      {dir, env: {SSL_CERT_FILE: upTls.certPath}, args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${up.port}`, '--reverse-listen', '127.0.0.1:0']},
    )
  })

  after(async () => {
    await proxy?.stop()
    await up?.close()
    tlsServer?.closeAllConnections()
    await new Promise<void>((resolve) => (tlsServer ? tlsServer.close(() => resolve()) : resolve()))
  })

  it('forward proxy, a buffered answer', async () => {
    const r = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/json`})
    assert.equal(r.status, 200)
    assert.equal(r.body, '{"ok":true}')
    assertHopHeadersGone(r.headers, 'forward')
  })

  it('forward proxy, an event stream relayed as it comes', async () => {
    const r = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/sse`})
    assert.equal(r.status, 200)
    assert.equal(r.body, 'data: one\n\n')
    assertHopHeadersGone(r.headers, 'forward sse')
  })

  it('a request inside an intercepted tunnel', async () => {
    const s = await tlsThroughProxy(proxy.port, `localhost:${tlsPort}`, ca)
    try {
      const text = await tlsExchange(s, `GET /json HTTP/1.1\r\nHost: localhost:${tlsPort}\r\n\r\n`)
      assert.match(text, /^HTTP\/1\.1 200 /)
      assertHopHeadersGone(rawHeaders(text), 'intercept')
    } finally {
      s.destroy()
    }
  })

  it('reverse proxy, a buffered answer and an event stream', async () => {
    const port = reverseListenPort(proxy)
    const r = await rawHttp(port, {path: '/json'})
    assert.equal(r.status, 200)
    assert.equal(r.body, '{"ok":true}')
    assertHopHeadersGone(r.headers, 'reverse')
    const s = await rawHttp(port, {path: '/sse'})
    assert.equal(s.status, 200)
    assert.equal(s.body, 'data: one\n\n')
    assertHopHeadersGone(s.headers, 'reverse sse')
  })
})
