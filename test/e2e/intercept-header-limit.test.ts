/**
 * The request header limit inside an intercepted tunnel (docs/tls.md): HTTP/2 and HTTP/1.1 give
 * the same answer to the same request — many headers pass on both, a header section over 16 KiB
 * is 431 on both (as on the forward proxy) and each refusal has an audit line. Before, HTTP/2
 * reset the stream (ENHANCE_YOUR_CALM) past 128 headers, and nothing was logged.
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {after, before, describe, it} from 'node:test'
import {makeSelfSignedCert, rawHttp, type RunningProxy, startHttpsUpstream, startProxy, tempDir, until, type Upstream, writeTestCa} from './proxy-harness.js'

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
    // 30 KB in two fields: over 16 KiB, under the 64 KiB an HTTP/2 header block may hold (docs/tls.md).
    const big = Array.from({length: 2}, (_, i) => `X-Filler-${i}: ${'a'.repeat(15_000)}`)
    const h2 = await through([], big)
    assert.equal(h2.stdout, '431 2', h2.stderr)
    const h1 = await through(['--http1.1'], big)
    assert.equal(h1.stdout, '431 1.1', h1.stderr)
    const forward = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`, headers: Object.fromEntries(Array.from({length: 2}, (_, i) => [`X-Filler-${i}`, 'a'.repeat(15_000)]))}).catch((e: Error) => ({status: e.message}))
    assert.equal(forward.status, 431)
    const target = `127.0.0.1:${up.port}`
    const refusals = (): Array<Record<string, unknown>> =>
      proxy.stdout().split('\n').filter((l) => l.includes('"scanner":"header_limit"')).map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.ok(await until(async () => refusals().length === 2), proxy.stdout())
    assert.deepEqual(refusals().map((r) => [r.event, r.message, r.target, r.reason, r.status_code]), [
      ['blocked', 'request header fields too large', target, 'request headers over 16384 bytes (HTTP/2)', 431],
      ['blocked', 'request header fields too large', target, 'request headers over 16384 bytes (HTTP/1.1)', 431],
    ])
  })
})
