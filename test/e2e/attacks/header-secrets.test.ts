/**
 * Attack class (issue 37 item 3): a secret in any request header, not only the short list of
 * sensitive ones, with and without a zero-width space inside it — through the forward proxy,
 * intercepted HTTPS and the reverse proxy of the built CLI, with the default header settings.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'
import {githubToken} from '../../unit/scanner/fixtures.js'
import {makeSelfSignedCert, rawHttp, reverseListenPort, type RunningProxy, startHttpsUpstream, startProxy, tempDir, tlsExchange, tlsThroughProxy, type Upstream, writeTestCa} from '../proxy-harness.js'
import {attackConfig, startLoggingUpstream, type LoggingUpstream} from './attack-harness.js'

const SECRET = githubToken(37)
/** The same secret with a zero-width space inside (invisible; normalisation removes it). */
const HIDDEN = SECRET.slice(0, 10) + '\u200b' + SECRET.slice(10)

export const HEADER_NAMES = [
  'User-Agent', 'Referer', 'X-Foo', 'X-Request-Id', 'X-Correlation-Id', 'X-Client-Data', 'X-Debug-Info', 'X-Amz-Security-Token',
  'X-Csrf-Token', 'X-Session-Id', 'X-Trace', 'Accept-Language', 'From', 'Origin', 'If-None-Match', 'Cache-Control', 'Pragma',
  'Warning', 'Accept', 'DNT',
]

const valueFor = (name: string, secret: string): string => (name === 'Referer' || name === 'Origin' ? `http://example.com/p?t=${secret}` : `v ${secret}`)
/** Node writes header strings as latin1: a UTF-8 value goes as its bytes. */
const wire = (s: string): string => Buffer.from(s, 'utf8').toString('latin1')

const CASES = HEADER_NAMES.flatMap((name) => [[name, SECRET], [name, HIDDEN]] as const)

describe('attacks: secrets in any request header', {timeout: 180_000}, () => {
  let up: LoggingUpstream
  let https: Upstream
  let forward: RunningProxy
  let reverse: RunningProxy
  let reverseBase = 0
  let ca = ''

  before(async () => {
    const dir = tempDir('pl-header-secrets-')
    const upTls = makeSelfSignedCert(dir)
    up = await startLoggingUpstream()
    https = await startHttpsUpstream(upTls)
    const paths = writeTestCa(dir)
    ca = readFileSync(paths.cert, 'utf8')
    forward = await startProxy(attackConfig(['tls_interception:', '  enabled: true', `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`]), {env: {SSL_CERT_FILE: upTls.certPath}, dir: tempDir()})
    reverse = await startProxy(null, {dir: tempDir(), args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${up.port}/`, '--reverse-listen', '127.0.0.1:0']})
    reverseBase = reverseListenPort(reverse)
  })

  after(async () => {
    await forward?.stop()
    await reverse?.stop()
    await up?.close()
    await https?.close()
  })

  it('forward proxy: 20 header names, with and without a zero-width space: 403, nothing upstream', async () => {
    const passed: string[] = []
    for (const [name, secret] of CASES) {
      const r = await rawHttp(forward.port, {path: `http://127.0.0.1:${up.port}/`, headers: {[name]: wire(valueFor(name, secret))}})
      if (r.status !== 403) passed.push(`${name}${secret === HIDDEN ? ' (zero-width)' : ''}: ${r.status}`)
    }
    assert.deepEqual(passed, [])
    assert.ok(!up.received().includes(SECRET.slice(10)), 'the secret reached the upstream')
  })

  it('intercepted HTTPS: the same 40 requests inside CONNECT tunnels are refused', async () => {
    const passed: string[] = []
    for (const [name, secret] of CASES) {
      const s = await tlsThroughProxy(forward.port, `localhost:${https.port}`, ca)
      const got = await tlsExchange(s, `GET /kib HTTP/1.1\r\nHost: localhost:${https.port}\r\n${name}: ${valueFor(name, secret)}\r\nConnection: close\r\n\r\n`)
      s.destroy()
      const status = /^HTTP\/1\.1 (\d+)/.exec(got)?.[1] ?? got.slice(0, 40)
      if (status !== '403') passed.push(`${name}${secret === HIDDEN ? ' (zero-width)' : ''}: ${status}`)
    }
    assert.deepEqual(passed, [])
  })

  it('reverse proxy (default config): the same 40 requests are refused', async () => {
    up.reset()
    const passed: string[] = []
    for (const [name, secret] of CASES) {
      const r = await rawHttp(reverseBase, {path: '/', headers: {[name]: wire(valueFor(name, secret))}})
      if (r.status !== 403) passed.push(`${name}${secret === HIDDEN ? ' (zero-width)' : ''}: ${r.status}`)
    }
    assert.deepEqual(passed, [])
    assert.equal(up.requests.length, 0)
  })

  it('a secret as a header name (the upstream receives it lower-cased): 403 on the forward and reverse proxies, nothing upstream', async () => {
    up.reset()
    const names = [SECRET, `X-${SECRET}`, `${SECRET}-Id`]
    const passed: string[] = []
    for (const name of names) {
      for (const port of [forward.port, reverseBase]) {
        const r = await rawHttp(port, {path: port === forward.port ? `http://127.0.0.1:${up.port}/` : '/', headers: {[name]: '1'}})
        if (r.status !== 403) passed.push(`${name} via ${port === forward.port ? 'forward' : 'reverse'}: ${r.status}`)
      }
    }
    assert.deepEqual(passed, [])
    assert.equal(up.requests.length, 0)
  })

  it('a secret split across the cookies of one Cookie header, or between Cookie and Authorization, either way round: 403 on the forward and reverse proxies, nothing upstream', async () => {
    up.reset()
    const head = SECRET.slice(0, 20)
    const tail = SECRET.slice(20)
    const cases: Record<string, string>[] = [
      {Cookie: `a=${head}; b=${tail}`},
      {Cookie: `b=${tail}; a=${head}`},
      {Cookie: `${head}=${tail}`},
      {Cookie: `s=${head}`, Authorization: tail},
      {Authorization: head, Cookie: `t=${tail}; theme=dark`},
    ]
    const passed: string[] = []
    for (const headers of cases) {
      for (const port of [forward.port, reverseBase]) {
        const r = await rawHttp(port, {path: port === forward.port ? `http://127.0.0.1:${up.port}/` : '/', headers})
        if (r.status !== 403) passed.push(`${JSON.stringify(headers)} via ${port === forward.port ? 'forward' : 'reverse'}: ${r.status}`)
        else assert.equal(r.headers['x-pipelock-block-reason'], 'dlp_match')
      }
    }
    assert.deepEqual(passed, [])
    assert.equal(up.requests.length, 0)
  })

  it('ordinary headers still pass on every path', async () => {
    const ordinary = {
      'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36', Referer: 'https://example.com/search?q=weather', 'Accept-Language': 'en-GB,en;q=0.9', 'X-Request-Id': '4bf92f3577b34da6a3ce929d0e0e4736', 'If-None-Match': 'W/"5e15153d-120f"',
      Cookie: 'session=3f9a1c77e0b24d5a; theme=dark; lang=en-GB; _ga=GA1.2.1234567890.1700000000', Authorization: 'Bearer not-a-secret-just-a-word',
    }
    assert.equal((await rawHttp(forward.port, {path: `http://127.0.0.1:${up.port}/`, headers: ordinary})).status, 200)
    assert.equal((await rawHttp(reverseBase, {path: '/', headers: ordinary})).status, 200)
    const s = await tlsThroughProxy(forward.port, `localhost:${https.port}`, ca)
    const head = Object.entries(ordinary).map(([k, v]) => `${k}: ${v}\r\n`).join('')
    assert.match(await tlsExchange(s, `GET /kib HTTP/1.1\r\nHost: localhost:${https.port}\r\n${head}Connection: close\r\n\r\n`), /^HTTP\/1\.1 200 /)
    s.destroy()
  })
})
