/**
 * An upstream that cannot be reached keeps each transport's pinned 502 (`forward proxy fetch
 * failed`, `tunnel dial failed`, `WebSocket upstream dial failed`, `/fetch`'s JSON, the reverse
 * proxy's `upstream unavailable`), and with `explain_blocks` says why in `X-Pipelock-Hint`: the
 * cause classified from the error's code (upstream-cause.ts), the same words the audit line's
 * detail gives, never the request's query. Real sockets: a closed port, a `.invalid` name (the
 * DNS stage of the URL scan is off, `internal: []`, so the name reaches the dial), an HTTPS
 * upstream whose self-signed certificate the proxy does not trust (also behind an intercepted
 * tunnel, whose inner request answers `502 upstream error`), a WebSocket upstream that answers 404
 * to the upgrade.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {readFileSync} from 'node:fs'
import {
  auditEvents, freePort, makeSelfSignedCert, rawExchange, rawHttp, refusedHandshake, reverseListenPort, type RunningProxy, startHttpsUpstream, startProxy,
  startRoutedUpstream, tempDir, tlsExchange, tlsThroughProxy, until, type Upstream, writeTestCa,
} from './proxy-harness.js'

/** A value the request carries in its query, which no hint may echo (not shaped like a credential, which the URL scan would block). */
const MARKER = 'marker-' + 'q9w8e7r6'

const REFUSED = 'connection refused (ECONNREFUSED)'
const NO_NAME = 'DNS name not found (ENOTFOUND)'
const UNTRUSTED = 'upstream TLS certificate not trusted (self-signed) (DEPTH_ZERO_SELF_SIGNED_CERT)'
const REFUSED_HINT = `Upstream failed: ${REFUSED}. Nothing accepts connections on that host and port: check the port, and that the server is running.`
const NO_NAME_HINT = `Upstream failed: ${NO_NAME}. The host name does not resolve from the proxy: check its spelling, and the DNS the proxy uses.`
const UNTRUSTED_HINT = `Upstream failed: ${UNTRUSTED}. The TLS certificate of the upstream was not accepted (not trusted, expired, or for another name). If the server is yours, give it a certificate from a CA the proxy trusts.`
const UPGRADE_404 = 'upstream answered 404 to the WebSocket upgrade'
const UPGRADE_404_HINT = `Upstream failed: ${UPGRADE_404}. The upstream refused the WebSocket upgrade (it did not answer 101): check the path of the ws:// or wss:// URL, and that the server accepts WebSocket there.`

const CONFIG = (explain: boolean): string =>
  [
    `explain_blocks: ${explain}`,
    'internal: []',
    'forward_proxy:', '  enabled: true',
    'websocket_proxy:', '  enabled: true',
    'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
    'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
  ].join('\n') + '\n'

/**
 * The detail of the audit `error` line of the one failed request to `target` (its `url` or, for
 * CONNECT, its `target`), once written (the log is flushed in batches).
 */
async function auditDetail(proxy: RunningProxy, target: string): Promise<string> {
  const of = (): Array<Record<string, unknown>> => auditEvents(proxy, 'error').filter((e) => e.url === target || e.target === target)
  await until(async () => of().length > 0, 5000)
  const lines = of()
  assert.equal(lines.length, 1, proxy.stdout())
  return String(lines[0]!.detail)
}

/** The head of a raw CONNECT answer. */
async function connect(proxy: RunningProxy, target: string): Promise<string> {
  return await rawExchange(proxy.port, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`)
}

describe('explain_blocks: an unreachable upstream says why', {timeout: 90_000}, () => {
  let proxy: RunningProxy
  let closed: number
  let reversePort: number
  let tlsUp: Upstream
  let notWs: Upstream
  before(async () => {
    closed = await freePort()
    tlsUp = await startHttpsUpstream(makeSelfSignedCert(tempDir()))
    notWs = await startRoutedUpstream((_req, res) => {
      res.writeHead(404, {'content-type': 'text/plain'})
      res.end('no socket here\n')
    })
    proxy = await startProxy(CONFIG(true), {args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${closed}/`, '--reverse-listen', '127.0.0.1:0']})
    reversePort = reverseListenPort(proxy)
  })
  after(async () => {
    await proxy?.stop()
    await tlsUp?.close()
    await notWs?.close()
  })

  it('a closed port: every transport keeps its 502 text, hints connection refused, and the audit line says the same', async () => {
    const target = `http://127.0.0.1:${closed}/x`
    const forward = await rawHttp(proxy.port, {path: target})
    assert.deepEqual([forward.status, forward.body, forward.headers['x-pipelock-hint']], [502, 'forward proxy fetch failed\n', REFUSED_HINT])
    assert.equal(await auditDetail(proxy, target), `forward proxy fetch failed: ${REFUSED}`)

    const fetched = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${closed}/f`)}`})
    assert.equal(fetched.status, 502)
    assert.deepEqual(JSON.parse(fetched.body), {url: `http://127.0.0.1:${closed}/f`, error: `fetch failed: ${REFUSED}`, blocked: false, hint: REFUSED_HINT})
    assert.equal(fetched.headers['x-pipelock-hint'], REFUSED_HINT)
    assert.equal(await auditDetail(proxy, `http://127.0.0.1:${closed}/f`), `fetch failed: ${REFUSED}`)

    const tunnel = await connect(proxy, `127.0.0.1:${closed}`)
    assert.match(tunnel, /^HTTP\/1\.1 502 Bad Gateway\r\n/)
    assert.ok(tunnel.endsWith('\r\n\r\ntunnel dial failed\n'), tunnel)
    assert.ok(tunnel.includes(`\r\nX-Pipelock-Hint: ${REFUSED_HINT}\r\n`), tunnel)
    assert.equal(await auditDetail(proxy, `127.0.0.1:${closed}`), `tunnel dial failed: ${REFUSED}`)

    const ws = await refusedHandshake(proxy, `ws://127.0.0.1:${closed}/sock`)
    assert.deepEqual([ws.status, ws.body, ws.headers['x-pipelock-hint']], [502, 'WebSocket upstream dial failed\n', REFUSED_HINT])
    assert.equal(await auditDetail(proxy, `ws://127.0.0.1:${closed}/sock`), `upstream dial: ${REFUSED}`)

    const reverse = await rawHttp(reversePort, {path: '/r'})
    assert.equal(reverse.status, 502)
    assert.deepEqual(JSON.parse(reverse.body), {error: 'upstream unavailable', blocked: false, block_reason: '', direction: ''})
    assert.equal(reverse.headers['x-pipelock-hint'], REFUSED_HINT)
    assert.equal(await auditDetail(proxy, `http://127.0.0.1:${closed}/r`), `reverse proxy upstream failed: ${REFUSED}`)
  })

  it('a name that does not resolve: the hint says DNS name not found on forward, /fetch, CONNECT and /ws', async () => {
    const forward = await rawHttp(proxy.port, {path: 'http://nowhere.invalid/x'})
    assert.deepEqual([forward.status, forward.body, forward.headers['x-pipelock-hint']], [502, 'forward proxy fetch failed\n', NO_NAME_HINT])
    assert.equal(await auditDetail(proxy, 'http://nowhere.invalid/x'), `forward proxy fetch failed: ${NO_NAME}`)

    const fetched = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent('http://nowhere.invalid/f')}`})
    assert.equal(fetched.status, 502)
    assert.equal(JSON.parse(fetched.body).error, `fetch failed: ${NO_NAME}`)
    assert.equal(fetched.headers['x-pipelock-hint'], NO_NAME_HINT)

    const tunnel = await connect(proxy, 'nowhere.invalid:443')
    assert.match(tunnel, /^HTTP\/1\.1 502 Bad Gateway\r\n/)
    assert.ok(tunnel.includes(`\r\nX-Pipelock-Hint: ${NO_NAME_HINT}\r\n`), tunnel)
    assert.equal(await auditDetail(proxy, 'nowhere.invalid:443'), `tunnel dial failed: ${NO_NAME}`)

    const ws = await refusedHandshake(proxy, 'ws://nowhere.invalid/sock')
    assert.deepEqual([ws.status, ws.body, ws.headers['x-pipelock-hint']], [502, 'WebSocket upstream dial failed\n', NO_NAME_HINT])
    assert.equal(await auditDetail(proxy, 'ws://nowhere.invalid/sock'), `upstream dial: ${NO_NAME}`)
  })

  it('an upstream certificate the proxy does not trust: the hint names the TLS certificate on forward, /fetch and wss', async () => {
    const target = `https://127.0.0.1:${tlsUp.port}/page`
    const forward = await rawHttp(proxy.port, {path: target})
    assert.deepEqual([forward.status, forward.body, forward.headers['x-pipelock-hint']], [502, 'forward proxy fetch failed\n', UNTRUSTED_HINT])
    assert.equal(await auditDetail(proxy, target), `forward proxy fetch failed: ${UNTRUSTED}`)

    const fetched = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`https://127.0.0.1:${tlsUp.port}/f`)}`})
    assert.equal(fetched.status, 502)
    assert.equal(fetched.headers['x-pipelock-hint'], UNTRUSTED_HINT)

    const ws = await refusedHandshake(proxy, `wss://127.0.0.1:${tlsUp.port}/sock`)
    assert.deepEqual([ws.status, ws.body, ws.headers['x-pipelock-hint']], [502, 'WebSocket upstream dial failed\n', UNTRUSTED_HINT])
    assert.equal(await auditDetail(proxy, `wss://127.0.0.1:${tlsUp.port}/sock`), `upstream dial: ${UNTRUSTED}`)
  })

  it('a WebSocket upstream that answers 404 to the upgrade: the hint names the status, never the query', async () => {
    const target = `ws://127.0.0.1:${notWs.port}/sock?room=${MARKER}`
    const ws = await refusedHandshake(proxy, target)
    assert.deepEqual([ws.status, ws.body, ws.headers['x-pipelock-hint']], [502, 'WebSocket upstream dial failed\n', UPGRADE_404_HINT])
    assert.equal(await auditDetail(proxy, target), `upstream dial: ${UPGRADE_404}`)
    // The forward proxy to a closed port, its query holding the same value: the hint is the code's words only.
    const forward = await rawHttp(proxy.port, {path: `http://127.0.0.1:${closed}/q?room=${MARKER}`})
    assert.equal(forward.headers['x-pipelock-hint'], REFUSED_HINT)
    assert.ok(!JSON.stringify([ws.headers, forward.headers]).includes(MARKER))
  })
})

describe('explain_blocks off: an unreachable upstream has no hint', {timeout: 60_000}, () => {
  let proxy: RunningProxy
  before(async () => {
    proxy = await startProxy(CONFIG(false))
  })
  after(async () => {
    await proxy?.stop()
  })

  it('the 502s of forward, CONNECT and /ws carry no X-Pipelock-Hint; the audit line still says why', async () => {
    const closed = await freePort()
    const forward = await rawHttp(proxy.port, {path: `http://127.0.0.1:${closed}/x`})
    assert.deepEqual([forward.status, forward.headers['x-pipelock-hint']], [502, undefined])
    assert.equal(await auditDetail(proxy, `http://127.0.0.1:${closed}/x`), `forward proxy fetch failed: ${REFUSED}`)
    const tunnel = await connect(proxy, `127.0.0.1:${closed}`)
    assert.match(tunnel, /^HTTP\/1\.1 502 /)
    assert.ok(!tunnel.includes('X-Pipelock-Hint'), tunnel)
    assert.equal(await auditDetail(proxy, `127.0.0.1:${closed}`), `tunnel dial failed: ${REFUSED}`)
    const ws = await refusedHandshake(proxy, `ws://127.0.0.1:${closed}/`)
    assert.deepEqual([ws.status, ws.headers['x-pipelock-hint']], [502, undefined])
    assert.equal(await auditDetail(proxy, `ws://127.0.0.1:${closed}/`), `upstream dial: ${REFUSED}`)
  })
})

describe('explain_blocks inside an intercepted tunnel: the inner request\'s 502 says why', {timeout: 60_000}, () => {
  let proxy: RunningProxy
  let tlsUp: Upstream
  let ca: string
  before(async () => {
    const dir = tempDir()
    tlsUp = await startHttpsUpstream(makeSelfSignedCert(dir))
    const paths = writeTestCa(dir)
    ca = readFileSync(paths.cert, 'utf8')
    // The upstream's self-signed certificate is not in the proxy's trust (no SSL_CERT_FILE).
    proxy = await startProxy(CONFIG(true) + ['tls_interception:', '  enabled: true', `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`].join('\n') + '\n')
  })
  after(async () => {
    await proxy?.stop()
    await tlsUp?.close()
  })

  it('an upstream certificate the proxy does not trust: 502 upstream error with the TLS certificate hint', async () => {
    const s = await tlsThroughProxy(proxy.port, `127.0.0.1:${tlsUp.port}`, ca)
    const answer = await tlsExchange(s, `GET /page HTTP/1.1\r\nHost: 127.0.0.1:${tlsUp.port}\r\nConnection: close\r\n\r\n`)
    s.destroy()
    assert.match(answer, /^HTTP\/1\.1 502 /)
    assert.ok(answer.endsWith('\r\n\r\nupstream error\n'), answer)
    assert.ok(answer.toLowerCase().includes(`\r\nx-pipelock-hint: ${UNTRUSTED_HINT.toLowerCase()}\r\n`), answer)
    assert.equal(await auditDetail(proxy, `https://127.0.0.1:${tlsUp.port}/page`), `forward proxy fetch failed: ${UNTRUSTED}`)
  })
})
