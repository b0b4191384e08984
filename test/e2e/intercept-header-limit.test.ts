/**
 * The request header limit inside an intercepted tunnel (docs/tls.md): HTTP/2 and HTTP/1.1 give
 * the same answer to the same request — many headers pass on both, a header section over 16 KiB
 * is 431 on both (as on the forward proxy) and each refusal has an audit line. Before, HTTP/2
 * reset the stream (ENHANCE_YOUR_CALM) past 128 headers, and nothing was logged.
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import http2 from 'node:http2'
import {after, before, describe, it} from 'node:test'
import {readFileSync} from 'node:fs'
import {makeSelfSignedCert, rawExchange, rawHttp, type RunningProxy, startHttpsUpstream, startProxy, tempDir, tlsExchange, tlsThroughProxy, until, type Upstream, writeTestCa} from './proxy-harness.js'

const hasCurl = spawnSync('curl', ['--version']).status === 0

async function curl(args: string[]): Promise<{status: number | null; stdout: string; stderr: string}> {
  return await new Promise((resolve) => {
    const p = spawn('curl', ['-sS', '--max-time', '10', ...args], {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    p.stdout.on('data', (c: Buffer) => (out += c.toString()))
    p.stderr.on('data', (c: Buffer) => (err += c.toString()))
    p.on('close', (status) => resolve({status, stdout: out, stderr: err}))
  })
}

describe('intercepted tunnel: one request header limit for HTTP/2 and HTTP/1.1', {timeout: 60_000, skip: !hasCurl && 'curl not installed'}, () => {
  let up: Upstream
  let proxy: RunningProxy
  let caFile: string

  before(async () => {
    const dir = tempDir('pl-hdr-limit-')
    const mat = makeSelfSignedCert(dir)
    up = await startHttpsUpstream(mat)
    const paths = writeTestCa(dir)
    caFile = paths.cert
    proxy = await startProxy([
      'forward_proxy:', '  enabled: true',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
      'tls_interception:', '  enabled: true', `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`,
    ].join('\n') + '\n', {env: {SSL_CERT_FILE: mat.certPath}})
  })

  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  const audit = (scanner: string): Array<Record<string, unknown>> =>
    proxy.stdout().split('\n').filter((l) => l.includes(`"scanner":"${scanner}"`)).map((l) => JSON.parse(l) as Record<string, unknown>)

  /**
   * One HTTP/2 request through the tunnel from a client that sends header blocks of any size (curl
   * and Node's client stop at 64 KiB; Go's sends up to the 1 MiB pipelock advertises): its status,
   * or the error that ended it.
   */
  const h2Request = async (headers: Record<string, string>): Promise<string> => {
    const socket = await tlsThroughProxy(proxy.port, `127.0.0.1:${up.port}`, readFileSync(caFile, 'utf8'), undefined, undefined, ['h2'])
    const session = http2.connect(`https://127.0.0.1:${up.port}`, {createConnection: () => socket, maxSendHeaderBlockLength: 8 * 1024 * 1024})
    session.on('error', () => undefined)
    try {
      return await new Promise<string>((resolve) => {
        const req = session.request({':path': '/kib', ...headers})
        req.on('response', (h) => resolve(String(h[':status'])))
        req.on('error', (e: Error & {code?: string}) => resolve(e.code ?? e.message))
        req.resume()
        req.end()
      })
    } finally {
      session.destroy()
    }
  }

  const through = (http: string[], headers: string[]): Promise<{status: number | null; stdout: string; stderr: string}> =>
    curl([...http, '-x', `http://${proxy.addr}`, '--cacert', caFile, '-o', '/dev/null', '-w', '%{http_code} %{http_version}', ...headers.flatMap((h) => ['-H', h]), `https://127.0.0.1:${up.port}/kib`])

  it('300 small headers pass on HTTP/2 and HTTP/1.1', async () => {
    const many = Array.from({length: 300}, (_, i) => `X-H${i}: v`)
    const h2 = await through([], many)
    assert.equal(h2.stdout, '200 2', h2.stderr)
    const h1 = await through(['--http1.1'], many)
    assert.equal(h1.stdout, '200 1.1', h1.stderr)
  })

  it('a header section over 16 KiB is 431 on HTTP/2, HTTP/1.1 and the forward proxy, and each refusal is logged', async () => {
    // 30 KB in two fields: over 16 KiB, under the 64 KiB curl sends in one HTTP/2 header block (docs/tls.md).
    const big = Array.from({length: 2}, (_, i) => `X-Filler-${i}: ${'a'.repeat(15_000)}`)
    const h2 = await through([], big)
    assert.equal(h2.stdout, '431 2', h2.stderr)
    const h1 = await through(['--http1.1'], big)
    assert.equal(h1.stdout, '431 1.1', h1.stderr)
    const forward = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`, headers: Object.fromEntries(Array.from({length: 2}, (_, i) => [`X-Filler-${i}`, 'a'.repeat(15_000)]))}).catch((e: Error) => ({status: e.message}))
    assert.equal(forward.status, 431)
    const target = `127.0.0.1:${up.port}`
    assert.ok(await until(async () => audit('header_limit').length === 3), proxy.stdout())
    // The listener's refusal has no target (no request line was taken): the client's address says who.
    assert.deepEqual(audit('header_limit').map((r) => [r.event, r.message, r.target ?? r.client_ip, r.reason, r.status_code]), [
      ['blocked', 'request header fields too large', target, 'request headers over 16384 bytes (HTTP/2)', 431],
      ['blocked', 'request header fields too large', target, 'request headers over 16384 bytes (HTTP/1.1)', 431],
      ['blocked', 'request header fields too large', '127.0.0.1', 'request headers over 16384 bytes (HTTP/1.1)', 431],
    ])
  })

  it('a malformed request and an Expect other than 100-continue are refused and logged, on the listener and in the tunnel', async () => {
    // The listener: a request line the parser refuses (400), an `Expect` Node refuses (417).
    const bad = await rawExchange(proxy.port, 'GET /x HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n')
    assert.match(bad, /^HTTP\/1\.1 400 Bad Request\r\n/)
    const expect = await rawExchange(proxy.port, `GET http://127.0.0.1:${up.port}/kib HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\nExpect: sk-secret-value\r\n\r\n`, {untilHeaders: true})
    assert.match(expect, /^HTTP\/1\.1 417 /)
    // In the tunnel: the same over HTTP/1.1 and the `Expect` over HTTP/2.
    const ca = readFileSync(caFile, 'utf8')
    const h1 = await tlsThroughProxy(proxy.port, `127.0.0.1:${up.port}`, ca)
    assert.match(await tlsExchange(h1, `GET /kib HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\nExpect: sk-secret-value\r\n\r\n`), /^HTTP\/1\.1 417 /)
    h1.destroy()
    const h1bad = await tlsThroughProxy(proxy.port, `127.0.0.1:${up.port}`, ca)
    assert.match(await tlsExchange(h1bad, 'GET /kib HTTP/1.1\r\nBad Header\r\n\r\n'), /^HTTP\/1\.1 400 Bad Request\r\n/)
    h1bad.destroy()
    assert.equal(await h2Request({expect: 'sk-secret-value'}), '417')
    const target = `127.0.0.1:${up.port}`
    const lines = (): Array<Record<string, unknown>> => [...audit('http_parser'), ...audit('expectation')]
    assert.ok(await until(async () => lines().length === 5), proxy.stdout())
    assert.deepEqual(lines().map((r) => [r.event, r.message, r.target ?? r.client_ip, r.reason, r.status_code]), [
      ['blocked', 'malformed request refused', '127.0.0.1', 'HPE_INVALID_HEADER_TOKEN (HTTP/1.1)', 400],
      ['blocked', 'malformed request refused', target, 'HPE_INVALID_HEADER_TOKEN (HTTP/1.1)', 400],
      ['blocked', 'request with an unsupported Expect refused', '127.0.0.1', 'Expect other than 100-continue (HTTP/1.1)', 417],
      ['blocked', 'request with an unsupported Expect refused', target, 'Expect other than 100-continue (HTTP/1.1)', 417],
      ['blocked', 'request with an unsupported Expect refused', target, 'Expect other than 100-continue (HTTP/2)', 417],
    ])
    // Nothing of the refused requests is echoed.
    assert.ok(!proxy.stdout().includes('sk-secret-value'))
  })

  it('an HTTP/2 header block over 64 KiB is 431 and logged too; one the HTTP/2 layer refuses ends the connection, logged', async () => {
    const before = audit('header_limit').length
    // 90 KB in three fields: more than curl sends in one block, less than Node's HTTP/2 layer reads.
    const large = Object.fromEntries(Array.from({length: 3}, (_, i) => [`x-filler-${i}`, 'a'.repeat(30_000)]))
    assert.equal(await h2Request(large), '431')
    assert.ok(await until(async () => audit('header_limit').length === before + 1), proxy.stdout())
    assert.equal(audit('header_limit').at(-1)!.reason, 'request headers over 16384 bytes (HTTP/2)')
    // 400 KB: the HTTP/2 layer ends the connection before any request is seen; the line says so.
    const huge = Object.fromEntries(Array.from({length: 40}, (_, i) => [`x-filler-${i}`, 'a'.repeat(10_000)]))
    assert.equal(await h2Request(huge), 'ERR_HTTP2_SESSION_ERROR')
    assert.ok(await until(async () => audit('h2_session_error').length === 1), proxy.stdout())
    const [line] = audit('h2_session_error')
    assert.deepEqual([line!.event, line!.message, line!.target], ['blocked', 'HTTP/2 connection ended by the protocol layer', `127.0.0.1:${up.port}`])
    assert.match(String(line!.reason), /^ERR_HTTP2_ERROR: /)
    // The tunnel's next connection is served as before.
    assert.equal(await h2Request({'x-small': 'v'}), '200')
  })
})
