// dns.host_overrides (scanners-extra §6): key normalisation, the SSRF stage of the URL scan and the
// dial's validation use the override instead of the resolver, and its IPs are judged like resolved ones.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {defaultConfig, dnsOverrides, normaliseOverrideHost} from '../../../src/plugins/config/index.js'
import {DialBlockedError, resolveValidated} from '../../../src/plugins/proxy/index.js'
import {createScanner, createUrlScanner, defaultScannerSettings, RateLimiter, type ScannerSettings} from '../../../src/plugins/scanner/index.js'

test('keys: trimmed, lower-cased, trailing dots stripped, IDN in its A-label; mapped IPv6 values become IPv4', () => {
  assert.equal(normaliseOverrideHost(' Fixture.Example.Test. '), 'fixture.example.test')
  assert.equal(normaliseOverrideHost('bücher.example'), 'xn--bcher-kva.example')
  const c = defaultConfig()
  c.dns.host_overrides = {'A.Example.': ['::ffff:10.0.0.1', '2001:db8::1']}
  assert.deepEqual([...dnsOverrides(c)], [['a.example', ['10.0.0.1', '2001:db8::1']]])
})

function settings(mut: (s: ScannerSettings) => void): ScannerSettings {
  const s = defaultScannerSettings()
  s.seedPhrase.enabled = false
  s.hostOverrides = new Map([['pinned.example', ['93.184.216.34']], ['loop.example', ['127.0.0.1']]])
  mut(s)
  return s
}
const neverAsked = async (): Promise<string[]> => {
  throw new Error('the resolver must not be asked for an overridden name')
}
const clock = {nowNanos: () => 0n}

test('URL scan: an override replaces DNS, and never exempts the SSRF check', async () => {
  const sc = createScanner(settings(() => undefined))
  const ctx = {resolver: neverAsked, rateLimiter: new RateLimiter(clock)}
  assert.equal((await sc.scanUrl('https://PINNED.example./x', ctx)).allowed, true)
  const loop = await sc.scanUrl('http://loop.example/x', ctx)
  assert.equal(loop.allowed, false)
  assert.equal(loop.detail, 'SSRF blocked: loop.example resolves to internal IP 127.0.0.1')
  const trusted = createScanner(settings((s) => (s.trustedDomains = ['loop.example'])))
  assert.equal((await trusted.scanUrl('http://loop.example/x', ctx)).allowed, true)
  const allowlisted = createScanner(settings((s) => (s.ssrfIpAllowlist = ['127.0.0.1/32'])))
  assert.equal((await allowlisted.scanUrl('http://loop.example/x', ctx)).allowed, true)
  // Other names still use the resolver.
  const other = await sc.scanUrl('https://other.example/', {resolver: async () => ['93.184.216.35'], rateLimiter: new RateLimiter(clock)})
  assert.equal(other.allowed, true)
})

test('dial: the override is the address dialled, validated like an answer; raw IPs ignore overrides', async () => {
  const url = createUrlScanner(settings(() => undefined))
  assert.equal(await resolveValidated(url, 'pinned.example', neverAsked), '93.184.216.34')
  await assert.rejects(resolveValidated(url, 'loop.example', neverAsked), DialBlockedError)
  const trusted = createUrlScanner(settings((s) => (s.trustedDomains = ['loop.example'])))
  assert.equal(await resolveValidated(trusted, 'loop.example', neverAsked), '127.0.0.1')
  assert.equal(await resolveValidated(url, '93.184.216.40', neverAsked), '93.184.216.40')
})
