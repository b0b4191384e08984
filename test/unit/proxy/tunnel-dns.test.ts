/**
 * One DNS answer per CONNECT (tunnel-dns.ts, issue 18): the dial takes the URL scan's answer for
 * the same host once, validates it again, and connects only to the address it validated. The
 * in-process proxy test counts `getaddrinfo` calls by replacing `dns/promises.lookup` (and
 * syncing the ESM bindings), and feeds a rebinding answer: before, the dial asked again and got
 * an internal address; now scan and dial judge the one answer.
 */
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {createRequire, syncBuiltinESMExports} from 'node:module'
import net, {type AddressInfo} from 'node:net'
import path from 'node:path'
import {test} from 'node:test'
import {loadConfig} from '../../../src/plugins/config/load.js'
import {ProxyServer} from '../../../src/plugins/proxy/server.js'
import {DialBlockedError, resolveValidated} from '../../../src/plugins/proxy/ssrf-dialer.js'
import {TunnelLookup} from '../../../src/plugins/proxy/tunnel-dns.js'
import {createUrlScanner, defaultScannerSettings, RateLimiter, scanUrl} from '../../../src/plugins/scanner/index.js'
import {systemClock} from '../../../src/plugins/canonical/index.js'
import {tempDir} from '../../e2e/proxy-harness.js'

function counting(answers: Record<string, string[]>): {lookup: (h: string) => Promise<string[]>; calls: string[]} {
  const calls: string[] = []
  return {calls, lookup: async (h) => (calls.push(h), answers[h] ?? [])}
}

test('tunnel lookup: the dial gets the scan\'s answer for the same host, once; anything else is a fresh lookup', async () => {
  const c = counting({'a.example': ['93.184.216.34'], 'b.example': ['93.184.216.35']})
  const dns = new TunnelLookup(c.lookup)
  const scanned = dns.resolver('a.example')
  assert.equal(dns.lookupAll('a.example'), scanned, 'the very promise the scan got')
  assert.deepEqual(await scanned, ['93.184.216.34'])
  assert.deepEqual(c.calls, ['a.example'])
  // Used once: a second dial asks again.
  assert.deepEqual(await dns.lookupAll('a.example'), ['93.184.216.34'])
  assert.deepEqual(c.calls, ['a.example', 'a.example'])
  // Another host than the scan's is never answered from it.
  void dns.resolver('a.example')
  assert.deepEqual(await dns.lookupAll('b.example'), ['93.184.216.35'])
  assert.deepEqual(c.calls, ['a.example', 'a.example', 'a.example', 'b.example'])
  // No scan lookup at all (an IP literal, SSRF checks off): the dial resolves itself.
  const fresh = counting({'a.example': ['93.184.216.34']})
  assert.deepEqual(await new TunnelLookup(fresh.lookup).lookupAll('a.example'), ['93.184.216.34'])
  assert.deepEqual(fresh.calls, ['a.example'])
})

test('tunnel lookup: the scan resolves through its own lookup (no second timer: the scan bounds it), fresh dial lookups through the bounded one', async () => {
  const scan = counting({'a.example': ['93.184.216.34']})
  const dial = counting({'a.example': ['93.184.216.36'], 'b.example': ['93.184.216.35']})
  const dns = new TunnelLookup(dial.lookup, scan.lookup)
  assert.deepEqual(await dns.resolver('a.example'), ['93.184.216.34'])
  assert.deepEqual(await dns.lookupAll('a.example'), ['93.184.216.34'], 'the scan\'s answer')
  assert.deepEqual(await dns.lookupAll('a.example'), ['93.184.216.36'], 'a second dial: fresh, bounded')
  assert.deepEqual(await dns.lookupAll('b.example'), ['93.184.216.35'])
  assert.deepEqual(scan.calls, ['a.example'])
  assert.deepEqual(dial.calls, ['a.example', 'b.example'])
})

test('the URL scan bounds a resolver that never answers with its own DNS timeout (what lets the tunnel\'s scan lookup go without a timer)', async () => {
  const scanner = createUrlScanner(defaultScannerSettings())
  const never = (): Promise<string[]> => new Promise(() => undefined)
  const r = await scanUrl('https://hang.example/', {scanner, resolver: never, rateLimiter: new RateLimiter(systemClock), dnsTimeoutMs: 50})
  assert.equal(r.allowed, false)
  assert.equal(r.detail, 'DNS lookup for hang.example timed out')
})

test('tunnel lookup: an answer taken from the scan is validated at the dial like a fresh one', async () => {
  const scanner = createUrlScanner(defaultScannerSettings())
  const dns = new TunnelLookup(async () => ['10.1.2.3'])
  void dns.resolver('internal.example')
  await assert.rejects(resolveValidated(scanner, 'internal.example', dns.lookupAll), (e: unknown) => e instanceof DialBlockedError && /internal IP 10\.1\.2\.3/.test(e.message))
  const ok = new TunnelLookup(async () => ['93.184.216.34', '10.1.2.3'])
  void ok.resolver('mixed.example')
  await assert.rejects(resolveValidated(scanner, 'mixed.example', ok.lookupAll), DialBlockedError, 'every address of the answer, not only the first')
})

test('a CONNECT resolves its host once: scan and dial judge one answer (a rebinding second answer is never asked for)', async () => {
  // Echo upstream on loopback; the tunnel's host is a name only the patched resolver knows.
  const up = net.createServer((s) => s.on('data', (c: Buffer) => s.write(c)).on('error', () => undefined))
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r))
  const upPort = (up.address() as AddressInfo).port
  const host = 'rebind.pipelock.test'
  const dnsp = createRequire(import.meta.url)('node:dns/promises') as {lookup: (...a: unknown[]) => Promise<unknown>}
  const original = dnsp.lookup
  const asked: string[] = []
  dnsp.lookup = async (...a: unknown[]) => {
    if (a[0] !== host) return await original(...a)
    asked.push(host)
    // First answer loopback (allowed by the config), any later one an internal address.
    return [{address: asked.length === 1 ? '127.0.0.1' : '10.66.0.1', family: 4}]
  }
  syncBuiltinESMExports()
  const dir = tempDir()
  const file = path.join(dir, 'pipelock.yaml')
  writeFileSync(file, ['forward_proxy:', '  enabled: true', '  sni_verification: false', `  raw_tunnel_hosts: ["${host}"]`, 'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', 'fetch_proxy:', '  listen: "127.0.0.1:0"', '  monitoring:', '    max_requests_per_minute: 100000'].join('\n') + '\n')
  const server = new ProxyServer({loaded: loadConfig(file), version: 'test', env: {}, audit: []})
  try {
    const main = (await server.start()).main
    const port = Number(main.slice(main.lastIndexOf(':') + 1))
    for (let i = 1; i <= 2; i++) {
      const sock = net.connect(port, '127.0.0.1')
      sock.on('error', () => undefined)
      let got = ''
      const echoed = new Promise<string>((resolve) => {
        sock.on('data', (c: Buffer) => {
          got += c.toString('latin1')
          if (got.startsWith('HTTP/1.1 200') && got.endsWith('ping')) resolve(got)
          else if (!got.startsWith('HTTP/1.1 200') && got.includes('\r\n\r\n')) resolve(got)
        })
      })
      sock.write(`CONNECT ${host}:${upPort} HTTP/1.1\r\nHost: ${host}:${upPort}\r\n\r\n`)
      sock.once('data', () => sock.write('ping'))
      const answer = await echoed
      sock.destroy()
      assert.match(answer, /^HTTP\/1\.1 200 Connection Established\r\n\r\nping$/, answer.split('\r\n')[0])
      // One lookup per tunnel (the scan's); before, the dial asked again and was refused (10.66.0.1).
      assert.equal(asked.length, 1, `lookups for tunnel ${i}`)
      asked.length = 0
    }
  } finally {
    dnsp.lookup = original
    syncBuiltinESMExports()
    await server.close(0)
    await new Promise<void>((r) => up.close(() => r()))
  }
})
