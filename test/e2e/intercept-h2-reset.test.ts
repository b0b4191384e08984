/**
 * HTTP/2 streams reset before their request was judged, inside an intercepted tunnel (built
 * `pipelock run`, real CONNECT and TLS, Node's HTTP/2 client): each such request gets its audit
 * line (`client_closed`, with the reset's code), and nothing of it reaches the origin. Before, a
 * stream the HTTP/2 layer refused for a body breaking its content-length left no line at all: its
 * body was waited for forever (and its session counted it in flight for good).
 */
import assert from 'node:assert/strict'
import http2 from 'node:http2'
import {after, before, describe, it} from 'node:test'
import {auditEvents, interceptedUpstream, type RunningProxy, startProxy, tempDir, tlsThroughProxy, until, type Upstream} from './proxy-harness.js'

describe('intercepted tunnel: HTTP/2 streams reset before they are judged', {timeout: 60_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  let ca: string
  const reached: string[] = []

  before(async () => {
    const dir = tempDir('pl-h2-reset-')
    const u = await interceptedUpstream(dir)
    up = u.up
    ca = u.ca
    up.server.on('request', (req: {url?: string}) => reached.push(req.url ?? ''))
    proxy = await startProxy([
      'forward_proxy:', '  enabled: true',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
      'request_body_scanning:', '  enabled: true',
      'tls_interception:', '  enabled: true', `  ca_cert: ${u.paths.cert}`, `  ca_key: ${u.paths.key}`,
    ].join('\n') + '\n', {env: {SSL_CERT_FILE: u.upTls.certPath}})
  })

  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  /** One stream on a fresh HTTP/2 connection through the tunnel: `send` writes it; resolves when it closes. */
  const stream = async (headers: http2.OutgoingHttpHeaders, send: (s: http2.ClientHttp2Stream) => void): Promise<void> => {
    const socket = await tlsThroughProxy(proxy.port, `127.0.0.1:${up.port}`, ca, undefined, undefined, ['h2'])
    const session = http2.connect(`https://127.0.0.1:${up.port}`, {createConnection: () => socket})
    session.on('error', () => undefined)
    try {
      await new Promise<void>((resolve) => {
        const s = session.request(headers, {endStream: false})
        s.on('error', () => undefined)
        s.on('close', () => resolve())
        s.resume()
        send(s)
      })
      // A request the proxy might still forward: time to reach the origin.
      await new Promise((r) => setTimeout(r, 300))
    } finally {
      session.destroy()
    }
  }

  const closedLine = (path: string): Record<string, unknown> | undefined => auditEvents(proxy, 'client_closed').find((e) => e.url === `https://127.0.0.1:${up.port}${path}`)

  it('a body longer or shorter than its content-length: one client_closed line each, nothing forwarded', async () => {
    await stream({':method': 'POST', ':path': '/longer', 'content-length': '3'}, (s) => s.end('abcdef'))
    await stream({':method': 'POST', ':path': '/shorter', 'content-length': '30'}, (s) => s.end('abcdef'))
    for (const path of ['/longer', '/shorter']) {
      assert.ok(await until(async () => closedLine(path) !== undefined), `${path}: ${proxy.stdout()}`)
      const line = closedLine(path)!
      assert.deepEqual({method: line.method, detail: line.detail}, {method: 'POST', detail: 'HTTP/2 stream reset (PROTOCOL_ERROR) before the request was judged (nothing forwarded)'})
    }
    assert.deepEqual(reached, [])
  })
})
