// A CONNECT tunnel's admission made cheaper (issue 18, branch connect7), each piece against the
// expression it replaced, kept here as the oracle, plus a real-socket tunnel through the proxy.
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import net, {type AddressInfo} from 'node:net'
import path from 'node:path'
import {PassThrough} from 'node:stream'
import {test} from 'node:test'
import tls from 'node:tls'
import {loadConfig} from '../../../src/plugins/config/load.js'
import {ProxyServer} from '../../../src/plugins/proxy/server.js'
import {tempDir} from '../../e2e/proxy-harness.js'
import type {Decision} from '../../../src/plugins/proxy/decision.js'
import {escapeLabel, ProxyMetrics} from '../../../src/plugins/proxy/metrics.js'
import {peekFirstRecord} from '../../../src/plugins/proxy/tunnel-first-bytes.js'

/** The label escaping before the fast path (metrics.ts). */
function escapeOracle(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

test('escapeLabel: the same string as the three replacements, for values with and without characters to escape', () => {
  const alphabet = ['a', 'Z', '0', '_', '-', '.', ' ', '"', '\\', '\n', '\r', '\t', 'é', '🙂', '\u2028', '{', '}', '=', ',']
  const values = ['', '_default', 'claude', 'ci "bot"\\x', 'a\nb', '\\', '"', '\n', 'match', 'no_sni']
  let seed = 7
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n)
  for (let i = 0; i < 2000; i++) values.push(Array.from({length: rnd(12)}, () => alphabet[rnd(alphabet.length)]).join(''))
  for (const v of values) assert.equal(escapeLabel(v), escapeOracle(v), JSON.stringify(v))
})

const connectDecision = (verdict: 'allow' | 'block', profile: string): Decision => ({
  requestId: 'req-1', transport: 'connect', method: 'CONNECT', agent: 'a', clientIp: '127.0.0.1', sessionKey: 'a|127.0.0.1', profile,
  durationMs: 1, target: 'example.com:443', verdict, stage: verdict === 'allow' ? 'none' : 'url_scan', layer: verdict === 'allow' ? 'all' : 'blocklist',
  reason: null, severity: null, retry: null, class: null, detail: verdict, status: verdict === 'allow' ? 200 : 403, warnings: [], bytes: 0,
}) as Decision

const gauges = {killSwitchSources: () => ({}), activeTunnels: () => 0}

test('tunnel and SNI series: the kept keys render exactly what inc() with the label object rendered', () => {
  const agents = ['_default', 'ci "bot"\\x', 'line\nbreak', 'claude', '_default']
  const categories = ['match', 'mismatch', 'not_tls', 'no_extension', 'malformed_tls', 'timeout']
  const now = new ProxyMetrics('1.2.3', 0, () => 0, gauges)
  const oracle = new ProxyMetrics('1.2.3', 0, () => 0, gauges)
  for (let round = 0; round < 3; round++) {
    for (const [i, agent] of agents.entries()) {
      const verdict = i % 3 === 2 ? 'block' : 'allow'
      now.record(connectDecision(verdict, agent))
      oracle.tunnels.inc({result: verdict === 'allow' ? 'allowed' : 'blocked', agent})
      for (const category of categories.slice(0, 1 + ((i + round) % categories.length))) {
        now.sniOutcome(category, agent)
        oracle.sni.inc({category, agent})
      }
    }
  }
  for (const pick of [(m: ProxyMetrics) => m.tunnels, (m: ProxyMetrics) => m.sni]) {
    const a: string[] = []
    const b: string[] = []
    pick(now).render(a)
    pick(oracle).render(b)
    assert.ok(a.length > 4)
    assert.deepStrictEqual(a, b)
  }
})

test('first-record peek: a record in one read is kept as read; one split over reads is joined; bytes intact either way', async () => {
  // A TLS handshake record of 64 bytes of body (not a parsable ClientHello: classified, not relayed here).
  const record = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40]), Buffer.alloc(64, 0x2a)])
  const whole = new PassThrough()
  const p1 = peekFirstRecord(whole, Buffer.alloc(0), 'example.com')
  const chunk = Buffer.from(record)
  whole.write(chunk)
  const r1 = await p1
  assert.deepStrictEqual(r1.first, record)
  assert.equal(r1.first, chunk, 'the chunk itself, no copy')
  const split = new PassThrough()
  const p2 = peekFirstRecord(split, Buffer.alloc(0), 'example.com')
  const one = Buffer.from(record.subarray(0, 3))
  split.write(one)
  await new Promise((r) => setImmediate(r))
  split.write(Buffer.from(record.subarray(3)))
  const r2 = await p2
  assert.deepStrictEqual(r2.first, record)
  assert.deepStrictEqual(one, record.subarray(0, 3), 'the first chunk is not written into by the join')
  assert.equal(r2.category, r1.category)
  // With a head from the CONNECT request's read, the head comes first.
  const headed = new PassThrough()
  const p3 = peekFirstRecord(headed, record.subarray(0, 10), 'example.com')
  headed.write(Buffer.from(record.subarray(10)))
  assert.deepStrictEqual((await p3).first, record)
})

/** The first bytes node's TLS client sends for `servername` (read by a server that never answers). */
async function clientHello(servername: string): Promise<Buffer> {
  let resolveHello: (b: Buffer) => void = () => undefined
  const got = new Promise<Buffer>((r) => (resolveHello = r))
  const srv = net.createServer((s) => s.once('data', (c: Buffer) => (resolveHello(c), s.destroy())).on('error', () => undefined))
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const t = tls.connect({port: (srv.address() as AddressInfo).port, host: '127.0.0.1', servername, rejectUnauthorized: false})
  t.on('error', () => undefined)
  const hello = await got
  t.destroy()
  await new Promise<void>((r) => srv.close(() => r()))
  return hello
}

test('real tunnels: each ClientHello reaches the upstream whole, and the tunnel and SNI series count every tunnel', async () => {
  // The upstream records what each connection received; it never answers (the handshake need not finish).
  const received: Buffer[][] = []
  const up = net.createServer((s) => {
    const got: Buffer[] = []
    received.push(got)
    s.on('data', (c: Buffer) => got.push(c)).on('error', () => undefined)
  })
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r))
  const upPort = (up.address() as AddressInfo).port
  const hello = await clientHello('localhost')
  const dir = tempDir()
  const file = path.join(dir, 'pipelock.yaml')
  writeFileSync(file, ['forward_proxy:', '  enabled: true', 'ssrf:', '  ip_allowlist: ["127.0.0.0/8", "::1/128"]', 'fetch_proxy:', '  listen: "127.0.0.1:0"', '  monitoring:', '    max_requests_per_minute: 100000'].join('\n') + '\n')
  const server = new ProxyServer({loaded: loadConfig(file), version: 'test', env: {}, audit: []})
  try {
    const main = (await server.start()).main
    const port = Number(main.slice(main.lastIndexOf(':') + 1))
    for (let i = 0; i < 3; i++) {
      const raw = net.connect(port, '127.0.0.1')
      raw.on('error', () => undefined)
      await new Promise<void>((resolve, reject) => {
        let head = ''
        raw.on('data', function onData(c: Buffer) {
          head += c.toString('latin1')
          if (!head.includes('\r\n\r\n')) return
          raw.off('data', onData)
          if (head.startsWith('HTTP/1.1 200 Connection Established\r\n\r\n')) resolve()
          else reject(new Error(head))
        })
        raw.write(`CONNECT localhost:${upPort} HTTP/1.1\r\nHost: localhost:${upPort}\r\n\r\n`)
      })
      // A real ClientHello for `localhost` (node's TLS, captured once), sent as the tunnel's first bytes.
      raw.write(hello)
      while (received.length <= i || Buffer.concat(received[i]!).length < hello.length) await new Promise((r) => setTimeout(r, 5))
      assert.deepStrictEqual(Buffer.concat(received[i]!), hello, `tunnel ${i}: the upstream got the client's bytes exactly`)
      raw.destroy()
    }
    const text = server.metrics.prometheus()
    assert.match(text, /^pipelock_tunnels_total\{agent="_default",result="allowed"\} 3$/m)
    assert.match(text, /^pipelock_sni_total\{agent="_default",category="match"\} 3$/m)
  } finally {
    await server.close(0)
    await new Promise<void>((r) => up.close(() => r()))
  }
})
