/**
 * `explain_blocks: true` puts `X-Pipelock-Hint` on the blocks of every transport (operations.md,
 * "Explained blocks"): the same blocked target gets the same hint on /fetch, the forward proxy,
 * CONNECT and the `/ws` handshake, and the reverse proxy's request- and response-side blocks carry
 * the hint of the check that decided (a body DLP hit the body hint, not the URL one). Built CLI,
 * real clients (the `ws` package, node:http) against local upstreams.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {OTHER_HINTS, UNSCANNABLE_BODY_HINT, URL_HINTS} from '../../src/plugins/proxy/hints.js'
import {readFileSync} from 'node:fs'
import {
  makeSelfSignedCert, rawExchange, rawHttp, refusedHandshake, reverseListenPort, type RunningProxy, startHttpsUpstream, startHttpUpstream, startProxy, startRoutedUpstream, tempDir,
  tlsExchange, tlsThroughProxy, type Upstream, writeTestCa,
} from './proxy-harness.js'

const AWS_KEY = ['AKIA', 'Q3EGRZ7NXPLM', '4TWB'].join('')
/** A value only the test's own (configured, not core) critical pattern matches. */
const OWN_TOKEN = 'zqtok_' + 'k4m9x2p7w5r8t3v6'
const CORE_HINT = 'Core DLP pattern matched. This is a critical credential detection that cannot be disabled.'

describe('explain_blocks: the hint on every transport', {timeout: 60_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  let reversePort: number
  before(async () => {
    up = await startHttpUpstream()
    const config = [
      'explain_blocks: true',
      'forward_proxy:', '  enabled: true',
      'websocket_proxy:', '  enabled: true',
      'request_body_scanning:', '  enabled: true', '  max_body_bytes: 4096',
      'response_scanning:', '  action: block',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
      'dlp:', '  patterns:', '    - {name: "Test Token", regex: \'zqtok_[a-z0-9]{16}\', severity: critical}',
    ].join('\n') + '\n'
    proxy = await startProxy(config, {args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${up.port}/`, '--reverse-listen', '127.0.0.1:0']})
    reversePort = reverseListenPort(proxy)
    assert.ok(reversePort > 0, proxy.stderr())
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('a blocklisted host gets the blocklist hint on /fetch, forward, CONNECT and the /ws handshake', async () => {
    const hint = URL_HINTS.blocklist
    const fetched = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent('https://pastebin.com/raw/x')}`})
    assert.equal(fetched.status, 403)
    assert.equal(fetched.headers['x-pipelock-hint'], hint)
    const forward = await rawHttp(proxy.port, {path: 'http://pastebin.com/raw/x'})
    assert.equal(forward.status, 403)
    assert.equal(forward.headers['x-pipelock-hint'], hint)
    const connect = await rawExchange(proxy.port, 'CONNECT pastebin.com:443 HTTP/1.1\r\nHost: pastebin.com:443\r\n\r\n')
    assert.match(connect, /^HTTP\/1\.1 403 /)
    assert.ok(connect.includes(`X-Pipelock-Hint: ${hint}\r\n`), connect)
    const ws = await refusedHandshake(proxy, 'wss://pastebin.com/socket')
    assert.equal(ws.status, 403, ws.body)
    assert.equal(ws.headers['x-pipelock-block-reason'], 'domain_blocklist')
    assert.equal(ws.headers['x-pipelock-hint'], hint)
  })

  it('a /ws target with a secret in its query gets the core DLP hint, never the secret', async () => {
    const ws = await refusedHandshake(proxy, `ws://127.0.0.1:${up.port}/?k=${AWS_KEY}`)
    assert.equal(ws.status, 403, ws.body)
    assert.equal(ws.headers['x-pipelock-hint'], URL_HINTS.core_dlp)
    assert.ok(!JSON.stringify(ws).includes(AWS_KEY))
  })

  it('the reverse proxy hints its URL DLP, header DLP, body DLP and response blocks with the hint of the check that decided', async () => {
    const url = await rawHttp(reversePort, {path: `/x?k=${OWN_TOKEN}`})
    assert.equal(url.status, 403, url.body)
    assert.equal(url.headers['x-pipelock-block-reason-layer'], 'dlp')
    assert.equal(url.headers['x-pipelock-hint'], "A DLP pattern matched this URL. If false positive, add this host to that pattern's exempt_domains.")
    const header = await rawHttp(reversePort, {path: '/x', headers: {'X-Api-Key': OWN_TOKEN}})
    assert.equal(header.status, 403, header.body)
    assert.equal(header.headers['x-pipelock-block-reason-layer'], 'dlp')
    assert.equal(header.headers['x-pipelock-hint'], 'A DLP pattern matched a request header. Review request_body_scanning.sensitive_headers / ignore_headers.')
    const body = await rawHttp(reversePort, {method: 'POST', path: '/echo', headers: {'content-type': 'text/plain'}, body: `key ${OWN_TOKEN}`})
    assert.equal(body.status, 403, body.body)
    assert.equal(body.headers['x-pipelock-hint'], OTHER_HINTS.body_dlp)
    const page = await rawHttp(reversePort, {path: '/injection'})
    assert.equal(page.status, 403, page.body)
    assert.equal(page.headers['x-pipelock-block-reason'], 'prompt_injection')
    assert.equal(page.headers['x-pipelock-hint'], OTHER_HINTS.response_scan)
    for (const r of [url, header, body]) assert.ok(!JSON.stringify(r).includes(OWN_TOKEN))
  })

  it('a core DLP finding in the URL gets the core hint on the reverse and forward proxies; in a header or body the hint of what can lift it', async () => {
    const reverse = [
      await rawHttp(reversePort, {path: `/x?k=${AWS_KEY}`}),
      await rawHttp(reversePort, {path: '/x', headers: {'X-Api-Key': AWS_KEY}}),
      await rawHttp(reversePort, {method: 'POST', path: '/echo', headers: {'content-type': 'text/plain'}, body: `key ${AWS_KEY}`}),
    ]
    const forward = [
      await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/x?k=${AWS_KEY}`}),
      await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/x`, headers: {'X-Api-Key': AWS_KEY}}),
      await rawHttp(proxy.port, {method: 'POST', path: `http://127.0.0.1:${up.port}/echo`, headers: {'content-type': 'text/plain'}, body: `key ${AWS_KEY}`}),
    ]
    const HEADER_HINT = 'A DLP pattern matched a request header. Review request_body_scanning.sensitive_headers / ignore_headers.'
    assert.deepEqual(reverse.map((r) => [r.status, r.headers['x-pipelock-block-reason-layer'], r.headers['x-pipelock-hint']]), [
      [403, 'dlp', CORE_HINT], [403, 'dlp', HEADER_HINT], [403, 'dlp', OTHER_HINTS.body_dlp],
    ])
    assert.deepEqual(forward.map((r) => [r.status, r.headers['x-pipelock-block-reason-layer'], r.headers['x-pipelock-hint']]), [
      [403, 'core_dlp', CORE_HINT], [403, 'header_dlp', HEADER_HINT], [403, 'body_dlp', OTHER_HINTS.body_dlp],
    ])
    for (const r of [...reverse, ...forward]) assert.ok(!JSON.stringify(r).includes(AWS_KEY))
  })

  it('a body refused because it cannot be scanned gets the hint that says so, not the suppress hint of a DLP match, on the forward and reverse proxies', async () => {
    const bodies: Array<{headers: Record<string, string>; body: string; detail: string}> = [
      {headers: {'content-type': 'text/plain', 'content-encoding': 'gzip'}, body: 'not really gzip', detail: 'compressed bodies cannot be scanned'},
      {headers: {'content-type': 'text/plain'}, body: 'x'.repeat(5000), detail: 'request body exceeds max_body_bytes (4096)'},
      {headers: {'content-type': 'application/json'}, body: '{"a":', detail: 'invalid JSON body'},
    ]
    for (const b of bodies) {
      const forward = await rawHttp(proxy.port, {method: 'POST', path: `http://127.0.0.1:${up.port}/echo`, headers: b.headers, body: b.body})
      const reverse = await rawHttp(reversePort, {method: 'POST', path: '/echo', headers: b.headers, body: b.body})
      for (const [where, r] of [['forward', forward], ['reverse', reverse]] as const) {
        assert.equal(r.status, 403, `${where} ${b.detail}: ${r.body}`)
        // The reason code stays the reference's (an unscannable body is refused under dlp_match).
        assert.equal(r.headers['x-pipelock-block-reason'], 'dlp_match', `${where} ${b.detail}`)
        assert.ok(r.body.includes(b.detail), `${where}: ${r.body}`)
        assert.equal(r.headers['x-pipelock-hint'], UNSCANNABLE_BODY_HINT, `${where} ${b.detail}`)
      }
    }
  })
})

describe('explain_blocks: the blocks answered outside the gate carry their hint too', {timeout: 60_000}, () => {
  const TOKEN = 'explain-e2e-admin-token-0123456789'
  let up: Upstream
  let tlsUp: Upstream
  let proxy: RunningProxy
  let ca: string
  before(async () => {
    const dir = tempDir()
    // Two MiB of text: over fetch_proxy.max_response_mb (1).
    up = await startRoutedUpstream((req, res) => {
      res.writeHead(200, {'content-type': 'text/plain'})
      res.end(req.url === '/big' ? 'x'.repeat(2 * 1024 * 1024) : 'ok')
    })
    const upTls = makeSelfSignedCert(dir)
    tlsUp = await startHttpsUpstream(upTls)
    const paths = writeTestCa(dir)
    ca = readFileSync(paths.cert, 'utf8')
    const config = [
      'explain_blocks: true',
      'forward_proxy:', '  enabled: true',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'trusted_domains: ["localhost"]',
      'fetch_proxy:', '  max_response_mb: 1', '  monitoring:', '    max_requests_per_minute: 100000',
      'session_profiling:', '  enabled: true',
      'airlock:', '  enabled: true',
      'kill_switch:', `  api_token: ${TOKEN}`,
      'tls_interception:', '  enabled: true', `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`,
    ].join('\n') + '\n'
    proxy = await startProxy(config, {dir, env: {SSL_CERT_FILE: upTls.certPath}})
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
    await tlsUp?.close()
  })

  it('each of these blocks has a hint of its own', () => {
    for (const layer of ['response_size', 'tunnel_plaintext', 'tls_authority_mismatch', 'intercept_websocket', 'kill_switch', 'airlock']) assert.ok(OTHER_HINTS[layer], layer)
  })

  it('/fetch of a response over max_response_mb: the response-size hint, in the header and the JSON', async () => {
    const r = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/big`)}`})
    assert.equal(r.status, 502, r.body)
    assert.equal(r.headers['x-pipelock-block-reason'], 'data_budget')
    assert.equal(r.headers['x-pipelock-hint'], OTHER_HINTS.response_size)
    assert.equal(JSON.parse(r.body).hint, OTHER_HINTS.response_size)
  })

  it('plain text inside a CONNECT tunnel: the tunnel hint', async () => {
    const got = await rawExchange(proxy.port, `CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\n\r\nGET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
    assert.match(got, /HTTP\/1\.1 403 Forbidden\r\n/, got)
    assert.ok(got.includes('X-Pipelock-Block-Reason-Layer: tunnel_plaintext\r\n'), got)
    assert.ok(got.includes(`X-Pipelock-Hint: ${OTHER_HINTS.tunnel_plaintext}\r\n`), got)
  })

  it('a request inside an intercepted tunnel for another host: the authority hint', async () => {
    const s = await tlsThroughProxy(proxy.port, `localhost:${tlsUp.port}`, ca)
    try {
      const text = await tlsExchange(s, `GET /kib HTTP/1.1\r\nHost: other.example:${tlsUp.port}\r\n\r\n`)
      assert.match(text, /^HTTP\/1\.1 403 /, text)
      assert.ok(text.includes('X-Pipelock-Block-Reason: authority_mismatch\r\n'), text)
      assert.ok(text.includes(`X-Pipelock-Hint: ${OTHER_HINTS.tls_authority_mismatch}\r\n`), text)
    } finally {
      s.destroy()
    }
  })

  it('a WebSocket upgrade inside an intercepted tunnel without the WebSocket proxy: the hint that names the setting', async () => {
    const s = await tlsThroughProxy(proxy.port, `localhost:${tlsUp.port}`, ca)
    try {
      const text = await tlsExchange(s, `GET /socket HTTP/1.1\r\nHost: localhost:${tlsUp.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`)
      assert.match(text, /^HTTP\/1\.1 403 /, text)
      assert.ok(text.includes('X-Pipelock-Block-Reason: not_enabled\r\n'), text)
      assert.ok(text.includes(`X-Pipelock-Hint: ${OTHER_HINTS.intercept_websocket}\r\n`), text)
    } finally {
      s.destroy()
    }
  })

  it('an upgrade sent to the forward proxy while the kill switch is on: the kill-switch hint', async () => {
    const on = await rawHttp(proxy.port, {method: 'POST', path: '/api/v1/killswitch', headers: {authorization: `Bearer ${TOKEN}`}, body: '{"active":true}'})
    assert.equal(on.status, 200, on.body)
    try {
      const got = await rawExchange(proxy.port, `GET http://127.0.0.1:${up.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`)
      assert.ok(got.includes('X-Pipelock-Block-Reason: kill_switch_active\r\n'), got)
      assert.ok(got.includes(`X-Pipelock-Hint: ${OTHER_HINTS.kill_switch}\r\n`), got)
      // The listener's own paths, as before.
      const stats = await rawHttp(proxy.port, {path: '/stats'})
      assert.equal(stats.status, 503)
      assert.equal(stats.headers['x-pipelock-hint'], OTHER_HINTS.kill_switch)
    } finally {
      await rawHttp(proxy.port, {method: 'POST', path: '/api/v1/killswitch', headers: {authorization: `Bearer ${TOKEN}`}, body: '{"active":false}'})
    }
  })

  it('a session the airlock holds: the airlock hint on the forward proxy and CONNECT', async () => {
    const held = await rawHttp(proxy.port, {method: 'POST', path: '/api/v1/sessions/127.0.0.1/airlock', headers: {authorization: `Bearer ${TOKEN}`}, body: '{"tier":"drain"}'})
    assert.equal(held.status, 200, held.body)
    try {
      const forward = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/`})
      assert.equal(forward.status, 403, forward.body)
      assert.equal(forward.headers['x-pipelock-block-reason'], 'airlock_active')
      assert.equal(forward.headers['x-pipelock-hint'], OTHER_HINTS.airlock)
      const connect = await rawExchange(proxy.port, `CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\n\r\n`)
      assert.match(connect, /^HTTP\/1\.1 403 /, connect)
      assert.ok(connect.includes(`X-Pipelock-Hint: ${OTHER_HINTS.airlock}\r\n`), connect)
    } finally {
      await rawHttp(proxy.port, {method: 'POST', path: '/api/v1/sessions/127.0.0.1/airlock', headers: {authorization: `Bearer ${TOKEN}`}, body: '{"tier":"none"}'})
    }
  })
})
