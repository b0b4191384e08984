/**
 * HTTP/2 inside an intercepted tunnel (built `pipelock run`, real CONNECT and TLS, Node's HTTP/2
 * client), where it differs from HTTP/1.1:
 *
 * - a stream reset before its request was judged gets its audit line (`client_closed`, with the
 *   reset's code) and nothing of it reaches the origin. Before, a stream the HTTP/2 layer refused
 *   for a body breaking its content-length left no line at all: its body was waited for forever
 *   (and its session counted it in flight for good);
 * - an origin's response with a field HTTP/2 cannot carry (a duplicated `ETag`, `HTTP2-Settings`)
 *   is answered, as over HTTP/1.1. Before, the agent got no answer (or a 500) while the request
 *   was recorded as allowed;
 * - an event stream the agent resets lets its upstream go. Before, the relay read on for as long
 *   as the origin sent events, after the reset and even after the tunnel closed;
 * - a stream the agent resets while the origin is asked: the upstream request is aborted and the
 *   line is `client_closed`. Before, it read `upstream request failed` (502, the upstream blamed);
 * - request trailers (read by no check) never reach the origin;
 * - a CONNECT inside the tunnel (HTTP/2's, and HTTP/1.1's alongside) is refused 405 and
 *   recorded. Before, Node answered the one 405 and dropped the other's connection, unlogged.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import http2 from 'node:http2'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {auditEvents, interceptingConfig, makeSelfSignedCert, type RunningProxy, startProxy, tempDir, tlsExchange, tlsThroughProxy, until, writeTestCa} from './proxy-harness.js'

describe('intercepted tunnel: HTTP/2 streams', {timeout: 60_000}, () => {
  let origin: https.Server
  let up: {port: number}
  let proxy: RunningProxy
  let ca: string
  const reached: string[] = []
  let eventsClosed = false
  let slowClosed = false
  /** What the origin received of each request: its header and trailer fields, its body. */
  const received: Record<string, {fields: string; body: string}> = {}

  before(async () => {
    const dir = tempDir('pl-h2-')
    const tls = makeSelfSignedCert(dir)
    origin = https.createServer({key: tls.key, cert: tls.cert}, (req, res) => {
      reached.push(req.url ?? '')
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => (received[req.url ?? ''] = {fields: [...req.rawHeaders, ...req.rawTrailers].join('\n'), body: Buffer.concat(chunks).toString()}))
      // Never answered: the test resets the stream while the proxy waits on it.
      if (req.url === '/slow') return void res.once('close', () => (slowClosed = true))
      if (req.url === '/events') {
        // An event stream without end: an event every 50 ms until the proxy lets it go.
        res.writeHead(200, {'content-type': 'text/event-stream'})
        const tick = setInterval(() => res.write('data: tick\n\n'), 50)
        return void res.once('close', () => {
          clearInterval(tick)
          eventsClosed = true
        })
      }
      // Two ETag and Content-Type lines, and a field only an HTTP/1.1 upgrade uses.
      if (req.url === '/fields') res.writeHead(200, [['ETag', '"one"'], ['ETag', '"two"'], ['Content-Type', 'text/plain'], ['Content-Type', 'text/html'], ['HTTP2-Settings', 'AAMAAABkAAQAoAAAAAIAAAAA'], ['Vary', 'Accept'], ['Vary', 'Origin']].flat())
      res.end('ok\n')
    })
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve))
    up = origin.address() as AddressInfo
    const paths = writeTestCa(dir)
    ca = readFileSync(paths.cert, 'utf8')
    proxy = await startProxy(interceptingConfig(paths, ['request_body_scanning:', '  enabled: true']), {env: {SSL_CERT_FILE: tls.certPath}})
  })

  after(async () => {
    await proxy?.stop()
    origin?.closeAllConnections()
    await new Promise((resolve) => origin?.close(resolve))
  })

  /** One stream on a fresh HTTP/2 connection through the tunnel: `send` writes it; its answer once it closes. */
  const stream = async (headers: http2.OutgoingHttpHeaders, send: (s: http2.ClientHttp2Stream) => void, waitForTrailers = false): Promise<{headers: http2.IncomingHttpHeaders; body: string}> => {
    const socket = await tlsThroughProxy(proxy.port, `127.0.0.1:${up.port}`, ca, undefined, undefined, ['h2'])
    const session = http2.connect(`https://127.0.0.1:${up.port}`, {createConnection: () => socket})
    session.on('error', () => undefined)
    try {
      const answer = await new Promise<{headers: http2.IncomingHttpHeaders; body: string}>((resolve) => {
        const got = {headers: {}, body: ''}
        const s = session.request(headers, {endStream: false, waitForTrailers})
        s.on('response', (h) => (got.headers = h))
        s.on('data', (c: Buffer) => (got.body += c.toString()))
        s.on('error', () => undefined)
        s.on('close', () => resolve(got))
        // An answer that never comes: the stream is given up after 5 s.
        setTimeout(() => s.close(), 5000).unref()
        send(s)
      })
      // A request the proxy might still forward: time to reach the origin.
      await new Promise((r) => setTimeout(r, 300))
      return answer
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

  it('a response field HTTP/2 cannot carry: answered all the same, as recorded', async () => {
    const r = await stream({':path': '/fields'}, (s) => s.end())
    assert.deepEqual({status: r.headers[':status'], etag: r.headers.etag, type: r.headers['content-type'], settings: r.headers['http2-settings'], vary: r.headers.vary, body: r.body}, {
      status: 200, etag: '"one"', type: 'text/plain', settings: undefined, vary: 'Accept, Origin', body: 'ok\n',
    })
    assert.ok(await until(async () => auditEvents(proxy, 'allowed').some((e) => e.url === `https://127.0.0.1:${up.port}/fields` && e.status_code === 200)), proxy.stdout())
    assert.equal(auditEvents(proxy, 'error').length, 0, proxy.stdout())
  })
  it('a CONNECT inside the tunnel, over HTTP/2 and HTTP/1.1: 405, recorded, nothing reaches the origin', async () => {
    const before = reached.length
    const h2 = await stream({':method': 'CONNECT', ':authority': 'inner.example:443'}, (s) => s.end())
    assert.deepEqual({status: h2.headers[':status'], reason: h2.headers['x-pipelock-block-reason'], body: h2.body}, {
      status: 405, reason: 'bad_request', body: 'blocked: CONNECT inside an intercepted tunnel is not supported\n',
    })
    const s = await tlsThroughProxy(proxy.port, `127.0.0.1:${up.port}`, ca)
    const h1 = await tlsExchange(s, 'CONNECT other.example:443 HTTP/1.1\r\nHost: other.example:443\r\n\r\n')
    s.destroy()
    assert.match(h1, /^HTTP\/1.1 405 Method Not Allowed\r\n/)
    assert.ok(h1.endsWith('\r\n\r\nblocked: CONNECT inside an intercepted tunnel is not supported\n'), h1)
    const refused = (): Array<Record<string, unknown>> => auditEvents(proxy, 'blocked').filter((e) => e.scanner === 'intercept_connect')
    assert.ok(await until(async () => refused().length === 2), proxy.stdout())
    assert.deepEqual(refused().map((e) => [e.method, e.url, e.block_reason, e.status_code]), [
      ['CONNECT', 'https://inner.example:443/', 'bad_request', 405],
      ['CONNECT', 'https://other.example:443/', 'bad_request', 405],
    ])
    assert.equal(reached.length, before)
  })
  it('an event stream the agent resets: its upstream is let go', async () => {
    const r = await stream({':path': '/events'}, (s) => {
      s.end()
      let events = 0
      s.on('data', () => ++events === 2 && s.close(http2.constants.NGHTTP2_CANCEL))
    })
    assert.match(r.body, /^data: tick\n\n/)
    assert.ok(await until(async () => eventsClosed, 2000), 'the origin\'s event stream still open 2 s after the reset')
  })
  it('request trailers, which no check reads, never reach the origin', async () => {
    const secret = 'AKIA' + 'Q3EGRZ7NXPLM4TWB'
    const r = await stream({':method': 'POST', ':path': '/trailers', 'content-type': 'text/plain'}, (s) => {
      s.on('wantTrailers', () => s.sendTrailers({'x-trailer': secret}))
      s.end('clean body')
    }, true)
    assert.equal(r.headers[':status'], 200)
    assert.equal(received['/trailers']?.body, 'clean body')
    assert.doesNotMatch(received['/trailers']!.fields, /x-trailer|AKIA/i)
  })
  it('a stream reset while its upstream is asked: the upstream request aborted, recorded as the agent\'s hang-up', async () => {
    await stream({':path': '/slow'}, (s) => {
      s.end()
      const asked = setInterval(() => reached.includes('/slow') && (clearInterval(asked), s.close(http2.constants.NGHTTP2_CANCEL)), 20)
    })
    assert.ok(await until(async () => slowClosed && closedLine('/slow') !== undefined), proxy.stdout())
    assert.equal(closedLine('/slow')!.detail, 'client closed the connection before the upstream answered (its request aborted)')
    assert.equal(auditEvents(proxy, 'error').length, 0, proxy.stdout())
  })
})
