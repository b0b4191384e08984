import {test} from 'node:test'
import assert from 'node:assert/strict'
import {
  createUrlScanner, DataBudget, defaultScannerSettings, RateLimiter, scanUrl,
  type ScannerSettings, type UrlScanner, type UrlScanResult,
} from '../../../src/plugins/scanner/index.js'
import {hostOnlyUrl, hostStageMemoSize} from '../../../src/plugins/scanner/url-static-memo.js'
import {hostFactsSize} from '../../../src/plugins/scanner/url-host-facts.js'
import {awsKeyId, j} from './fixtures.js'
import {manualClock} from './url-helpers.js'

function settings(mut?: (s: ScannerSettings) => void): ScannerSettings {
  const s = defaultScannerSettings()
  s.maxRequestsPerMinute = 4
  s.blocklist = ['*.pastebin.com']
  s.dlp.patterns = [{name: 'Ticket', severity: 'low', regex: 'ticket[0-9]{5}', action: 'warn'}]
  mut?.(s)
  return s
}

// Host-only URLs whose stages 1–13 end every way they can for a tunnel's `https://host/`.
const HOSTS = [
  'https://example.com/', 'http://example.com/', 'https://EXAMPLE.com./', 'https://x.pastebin.com/',
  'https://127.0.0.1/', 'https://0x7f.0.0.1/', 'https://169.254.169.254/', 'https://[::1]/', 'https://[fd00::1]/',
  'https://bücher.example/', 'https://xn--bcher-kva.example/', `https://${awsKeyId().toLowerCase()}.example.com/`,
  `https://${j('AK', 'IA')}ABCDEFGHIJKLMNOP.example.com/`, 'https://ticket12345.example.com/', 'https://TICKET12345.example.com/',
  'https://qz8x7c6v5b4n3m2l1k0j9h8g7f6d5s4a.example.com/', 'https://exa mple.com/', 'https://a..b/', 'https:///',
  'https://internal.test/', 'https://fail.test/',
]

function dns(host: string): Promise<string[]> {
  if (host === 'internal.test') return Promise.resolve(['10.0.0.7'])
  if (host === 'fail.test') return Promise.reject(Object.assign(new Error('nx'), {code: 'ENOTFOUND'}))
  return Promise.resolve(['93.184.216.34'])
}

function strip(r: UrlScanResult): Omit<UrlScanResult, 'timings'> {
  const {timings: _t, ...rest} = r
  return rest
}

test('host-only URLs: the form the memo keeps', () => {
  for (const u of ['https://example.com/', 'http://a/', 'https://[::1]:8443/', 'https://a.b:443/']) assert.equal(hostOnlyUrl(u), true, u)
  for (const u of ['https://example.com/x', 'https://example.com', 'https://a/?q', 'https://a/#f', 'https://a?/', 'https://a#/', 'ftp://a/', 'https://a//', `https://${'a'.repeat(400)}/`]) {
    assert.equal(hostOnlyUrl(u), false, u)
  }
})

test('URL scan memo: every outcome of a host-only URL scanned again (memo hit) equals a fresh scanner\'s; DNS, rate limit and budget still run each time', async () => {
  const strict = (s: ScannerSettings): void => {
    s.mode = 'strict'
    s.apiAllowlist = ['example.com']
  }
  const noInternal = (s: ScannerSettings): void => {
    s.internal = []
  }
  for (const mut of [undefined, strict, noInternal]) {
    const shared = createUrlScanner(settings(mut))
    const clock = manualClock()
    // One rate limiter and lookup log per arm: the memo must not skip stage 15 or stage 14.
    const arm = (): {rateLimiter: RateLimiter; dataBudget: DataBudget; lookups: string[]; resolver: (h: string) => Promise<string[]>} => {
      const lookups: string[] = []
      return {rateLimiter: new RateLimiter(clock), dataBudget: new DataBudget(clock), lookups, resolver: (h) => (lookups.push(h), dns(h))}
    }
    const memoArm = arm()
    const freshArm = arm()
    for (let round = 0; round < 3; round++) {
      for (const url of HOSTS) {
        const got = await scanUrl(url, {scanner: shared, ...memoArm})
        // The oracle: a scanner that has never seen the URL computes every stage.
        const fresh: UrlScanner = createUrlScanner(settings(mut))
        const want = await scanUrl(url, {scanner: fresh, ...freshArm})
        assert.deepEqual(got, want, `${url} round ${round}`)
        // With per-stage timings asked for, the stages run (and are timed) whatever the memo holds.
        if (round === 1) {
          const timed = await scanUrl(url, {scanner: shared, ...arm(), timer: () => 0})
          if (timed.scanner !== 'parser') assert.ok(timed.timings?.some((t) => t.stage === 'parse'), url)
        }
      }
    }
    assert.deepEqual(memoArm.lookups, freshArm.lookups)
    // The warn pattern noted on a host that passes (its findings come from the memo on a hit).
    const warned = await scanUrl('https://ticket12345.example.com/', {scanner: shared, ...arm()})
    if (mut !== strict) assert.deepEqual(warned.warnings.map((w) => w.pattern), ['Ticket'])
    if (mut === undefined) assert.ok(memoArm.lookups.length > HOSTS.length)
    // Rate limiting went on counting through memo hits (4 a minute per registrable domain).
    const last = await scanUrl('https://example.com/', {scanner: shared, ...memoArm})
    if (mut === undefined) assert.equal(last.scanner, 'ratelimit')
    assert.ok(hostStageMemoSize(shared) > 0 && hostStageMemoSize(shared) <= HOSTS.length)
  }
})

test('URL scan memo: URLs with a path or query are not kept; another scanner (a reload) starts empty', async () => {
  const sc = createUrlScanner(settings())
  const ctx = {resolver: dns, rateLimiter: new RateLimiter(manualClock())}
  await scanUrl('https://example.com/a?b=c', {scanner: sc, ...ctx})
  assert.equal(hostStageMemoSize(sc), 0)
  await scanUrl('https://example.com/', {scanner: sc, ...ctx})
  assert.equal(hostStageMemoSize(sc), 1)
  const reloaded = createUrlScanner(settings((s) => {
    s.blocklist = ['example.com']
  }))
  assert.equal(hostStageMemoSize(reloaded), 0)
  const r = await scanUrl('https://example.com/', {scanner: reloaded, ...ctx})
  assert.equal(r.scanner, 'blocklist')
})

test('URL scan memo: bounded to 256 URLs per scanner, the oldest dropped first', async () => {
  const sc = createUrlScanner(settings((s) => {
    s.maxRequestsPerMinute = 100000
  }))
  const ctx = {resolver: dns, rateLimiter: new RateLimiter(manualClock())}
  for (let i = 0; i < 300; i++) await scanUrl(`https://h${i}.example.com/`, {scanner: sc, ...ctx})
  assert.equal(hostStageMemoSize(sc), 256)
  const r = await scanUrl('https://x.pastebin.com/', {scanner: sc, ...ctx})
  assert.equal(r.scanner, 'blocklist')
  assert.equal(strip(r).allowed, false)
})

test('host facts: URLs with a path and query to each host, scanned again (facts kept), end as a fresh scanner\'s; bounded to 256 hosts', async () => {
  const strict = (s: ScannerSettings): void => {
    s.mode = 'strict'
    s.apiAllowlist = ['example.com']
  }
  const entropy = (s: ScannerSettings): void => {
    s.subdomainEntropyExclusions = ['example.com']
  }
  for (const mut of [undefined, strict, entropy]) {
    const shared = createUrlScanner(settings(mut))
    const clock = manualClock()
    const ctx = (): {rateLimiter: RateLimiter; resolver: (h: string) => Promise<string[]>} => ({rateLimiter: new RateLimiter(clock), resolver: dns})
    const memoCtx = ctx()
    const freshCtx = ctx()
    for (let round = 0; round < 3; round++) {
      for (const host of HOSTS) {
        for (const tail of ['a/b', 'qz8x7c6v5b4n3m2l1k0j9h8g7f6d5s4a?x=1', 'p?ticket12345=1']) {
          const url = host + tail
          const got = await scanUrl(url, {scanner: shared, ...memoCtx})
          const want = await scanUrl(url, {scanner: createUrlScanner(settings(mut)), ...freshCtx})
          assert.deepEqual(got, want, `${url} round ${round}`)
        }
      }
    }
    assert.ok(hostFactsSize(shared) > 0 && hostFactsSize(shared) <= HOSTS.length)
  }
  const sc = createUrlScanner(settings((s) => {
    s.maxRequestsPerMinute = 100000
  }))
  const c = {resolver: dns, rateLimiter: new RateLimiter(manualClock())}
  for (let i = 0; i < 300; i++) await scanUrl(`https://h${i}.example.com/x`, {scanner: sc, ...c})
  assert.equal(hostFactsSize(sc), 256)
  assert.equal((await scanUrl('https://x.pastebin.com/x', {scanner: sc, ...c})).scanner, 'blocklist')
})
