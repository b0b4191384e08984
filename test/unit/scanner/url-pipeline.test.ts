import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createScanner, defaultScannerSettings, isReasonCode} from '../../../src/plugins/scanner/index.js'
import {alnum, anthropicKey, awsKeyId, githubToken, hexLower, j} from './fixtures.js'
import {dnsError, harness} from './url-helpers.js'

type Row = [url: string, scanner: string, reason: string | null, detail?: string]

async function table(rows: Row[], h = harness()): Promise<void> {
  for (const [url, scanner, reason, detail] of rows) {
    const r = await h.scan(url)
    assert.equal(r.scanner, scanner, `${JSON.stringify(url)} → ${r.scanner} (${r.detail})`)
    assert.equal(r.reason, reason, url)
    assert.equal(r.allowed, scanner === 'all', url)
    if (r.reason !== null) assert.ok(isReasonCode(r.reason))
    if (detail !== undefined) assert.equal(r.detail, detail, url)
  }
}

test('typical URL is allowed', async () => {
  const h = harness()
  const r = await h.scan('https://example.com/docs/page?q=hello+world&lang=en')
  assert.equal(r.allowed, true)
  assert.equal(r.scanner, 'all')
  assert.equal(r.reason, null)
  assert.equal(r.class, 'threat')
  assert.deepEqual(h.lookups, ['example.com'])
})

test('stage 1 parse and 3 scheme', async () => {
  await table([
    ['http://exa mple.com/', 'parser', 'parse_error', 'invalid URL'],
    ['http://[::1/', 'parser', 'parse_error'],
    ['http://a.com/%zz', 'parser', 'parse_error'],
    ['http://a.com:80x/', 'parser', 'parse_error'],
    ['', 'parser', 'parse_error'],
    ['http://a.com/x\r\nSet-Cookie: a', 'parser', 'parse_error'], // Go rejects CTL bytes at parse time
    ['ftp://a.com/', 'scheme', 'scheme_blocked', 'scheme "ftp" not allowed: only http and https'],
    ['file:///etc/passwd', 'scheme', 'scheme_blocked'],
    ['example.com/path', 'scheme', 'scheme_blocked', 'scheme "" not allowed: only http and https'],
    ['HTTPS://Example.COM/', 'all', null],
  ])
})

test('stage 4 CRLF on the raw URL (fragment ignored)', async () => {
  await table([
    ['http://a.com/x%0d%0aSet-Cookie:1', 'crlf_injection', 'parse_error', 'CRLF injection sequence in URL'],
    ['http://a.com/x%250D%250Ay', 'crlf_injection', 'parse_error', 'double-encoded CRLF injection sequence in URL'],
    ['http://a.com/x?a=%0A', 'crlf_injection', 'parse_error', 'encoded CR or LF in URL'],
    ['http://a.com/x?a=%250d', 'crlf_injection', 'parse_error', 'double-encoded CR or LF in URL'],
    ['http://a.com/x#%0a', 'all', null],
  ])
})

test('stage 5 traversal on the escaped path, never normalised', async () => {
  const t = 'path traversal sequence in URL'
  await table([
    ['http://a.com/a/../b', 'path_traversal', 'parse_error', t],
    ['http://a.com/a/%2e%2e/b', 'path_traversal', 'parse_error', t],
    ['http://a.com/a/.%2E/b', 'path_traversal', 'parse_error', t],
    ['http://a.com/a/%2e./b', 'path_traversal', 'parse_error', t],
    ['http://a.com/a/..%2Fb', 'path_traversal', 'parse_error', t],
    ['http://a.com/a/%2F..%2Fb', 'path_traversal', 'parse_error', t],
    ['http://a.com/a/..%5cb', 'path_traversal', 'parse_error', t],
    ['http://a.com/a\\..\\b', 'path_traversal', 'parse_error', t],
    ['http://a.com/a/..', 'path_traversal', 'parse_error', t],
    ['http://a.com/a/%252e%252e/b', 'path_traversal', 'parse_error', 'double-encoded path traversal in URL'],
    ['http://a.com/a/%252e%252e', 'path_traversal', 'parse_error', 'double-encoded path traversal in URL'],
    ['http://a.com/a/..b/c', 'all', null],
    ['http://a.com/a/b..', 'all', null],
  ])
})

test('stages 6-7 allowlist (strict only) and blocklist with wildcard semantics', async () => {
  await table([
    ['https://x.pastebin.com/abc', 'blocklist', 'domain_blocklist', 'domain blocked: x.pastebin.com matches *.pastebin.com'],
    ['https://pastebin.com/abc', 'blocklist', 'domain_blocklist'],
    ['https://PASTEBIN.com./abc', 'blocklist', 'domain_blocklist'],
    ['https://notpastebin.com/abc', 'all', null],
  ])
  const strict = harness({}, (s) => {
    s.mode = 'strict'
  })
  await table(
    [
      ['https://api.anthropic.com/v1', 'all', null],
      ['https://anthropic.com/v1', 'all', null],
      ['https://example.org/', 'allowlist', 'domain_not_allowlisted', 'domain not in allowlist: example.org'],
    ],
    strict,
  )
  const ipBlock = harness({}, (s) => {
    s.blocklist = ['127.0.0.1']
  })
  await table([['http://0x7f.0.0.1/', 'blocklist', 'domain_blocklist']], ipBlock)
})

test('alternative IPv4 notations and IPv6 forms: core SSRF floor when internal is empty', async () => {
  const h = harness({}, (s) => {
    s.internal = []
  })
  const rows: Row[] = [
    'http://127.0.0.1/', 'http://0x7f.0.0.1/', 'http://0177.0.0.1/', 'http://2130706433/', 'http://0x7f000001/',
    'http://017700000001/', 'http://0x7F.0x0.0x0.0x1/', 'http://[::ffff:127.0.0.1]/', 'http://[::1]:8080/',
    'http://10.0.0.1/', 'http://0xa9.0xfe.0xa9.0xfe/', 'http://[fe80::1%25eth0]/',
  ].map((u) => [u, 'core_ssrf', 'parse_error'])
  await table(rows, h)
  await table([['http://8.8.8.8/', 'all', null], ['http://224.0.0.1/', 'all', null]], h)
  assert.deepEqual(h.lookups, [], 'IP literals are never resolved')
})

test('stage 14 SSRF: literals tested directly, every resolved address checked', async () => {
  const h = harness({
    'internal.example.com': ['10.1.2.3'],
    'mapped.example.com': ['93.184.216.34', '::ffff:10.0.0.5'],
    'zone.example.com': ['fe80::1%eth0'],
    'meta.example.com': ['169.254.169.254'],
    'api.github.com': ['10.9.9.9'],
    'gone.example.com': dnsError('ENOTFOUND'),
    'broken.example.com': dnsError('ESERVFAIL'),
    'empty.example.com': [],
  })
  await table(
    [
      ['http://0x7f.1/', 'ssrf', 'ssrf_private_ip'],
      ['http://127.1/', 'ssrf', 'ssrf_private_ip'],
      ['http://2130706433/', 'ssrf', 'ssrf_private_ip'],
      ['http://[::ffff:127.0.0.1]/', 'ssrf', 'ssrf_private_ip'],
      ['http://224.0.0.1/', 'ssrf', 'ssrf_private_ip'],
      ['http://169.254.169.254/latest/meta-data', 'ssrf_metadata', 'ssrf_metadata'],
      ['http://[::ffff:a9fe:a9fe]/', 'ssrf_metadata', 'ssrf_metadata'],
      ['http://internal.example.com/', 'ssrf', 'ssrf_private_ip', 'SSRF blocked: internal.example.com resolves to internal IP 10.1.2.3'],
      ['http://mapped.example.com/', 'ssrf', 'ssrf_private_ip', 'SSRF blocked: mapped.example.com resolves to internal IP 10.0.0.5'],
      ['http://zone.example.com/', 'ssrf', 'ssrf_private_ip'],
      ['http://meta.example.com/', 'ssrf_metadata', 'ssrf_metadata', 'SSRF blocked: meta.example.com resolves to cloud metadata endpoint 169.254.169.254'],
      ['http://gone.example.com/', 'ssrf', 'ssrf_private_ip', 'DNS lookup for gone.example.com returned no such host'],
      ['http://broken.example.com/', 'ssrf', 'ssrf_private_ip', 'DNS lookup for broken.example.com failed'],
      ['http://empty.example.com/', 'ssrf', 'ssrf_private_ip'],
    ],
    h,
  )
  assert.ok(!h.lookups.includes('0x7f.1') && !h.lookups.includes('127.1'))
  const gh = await h.scan('https://api.github.com/')
  assert.equal(gh.class, 'config_mismatch')
  assert.match(gh.hint ?? '', /trusted_domains/)
  assert.equal((await h.scan('http://gone.example.com/')).class, 'infrastructure_error')
  const slow = harness({})
  const never = await slow.scan('http://slow.example.com/', {resolver: () => new Promise(() => {}), dnsTimeoutMs: 10})
  assert.equal(never.detail, 'DNS lookup for slow.example.com timed out')
  const trusted = harness({'db.corp.example': ['10.0.0.7']}, (s) => {
    s.trustedDomains = ['*.corp.example']
  })
  await table([['http://db.corp.example/', 'all', null]], trusted)
  const allowIp = harness({'db.example.com': ['10.1.2.3']}, (s) => {
    s.ssrfIpAllowlist = ['10.1.2.0/24']
  })
  await table([['http://db.example.com/', 'all', null], ['http://10.1.2.9/', 'all', null], ['http://10.1.3.9/', 'ssrf', 'ssrf_private_ip']], allowIp)
})

test('content checks run before DNS: a secret in the hostname is never resolved nor echoed', async () => {
  const h = harness()
  const key = anthropicKey()
  for (const url of [`https://${key}.evil.com/`, `https://${key.slice(0, 12)}.${key.slice(12)}.evil.com/`]) {
    const r = await h.scan(url)
    assert.equal(r.scanner, 'dlp', url)
    assert.equal(r.reason, 'dlp_match')
    assert.ok(!JSON.stringify(r).includes(key.slice(7, 20)))
  }
  assert.deepEqual(h.lookups, [])
  const bl = await h.scan(`https://${key}.pastebin.com/`)
  assert.equal(bl.scanner, 'blocklist')
  assert.equal(bl.detail, 'domain blocked: [redacted] matches *.pastebin.com')
})

test('stage 10 core DLP and stage 11 DLP over every target', async () => {
  const h = harness()
  const key = anthropicKey()
  const aws = awsKeyId()
  const b64 = Buffer.from(key).toString('base64')
  const rows: Row[] = [
    [`https://example.com/?id=${aws}`, 'core_dlp', 'dlp_match', 'core DLP match: AWS Access ID (critical)'],
    [`https://example.com/${aws.toLowerCase()}`, 'core_dlp', 'dlp_match'],
    [`https://example.com/?id=${encodeURIComponent(encodeURIComponent(aws))}`, 'core_dlp', 'dlp_match'],
    [`https://example.com/p/${key}`, 'dlp', 'dlp_match', 'DLP match: Anthropic API Key (critical)'],
    [`https://example.com/?k=${encodeURIComponent(b64)}`, 'dlp', 'dlp_match'],
    [`https://example.com/?k=${Buffer.from(key).toString('hex')}`, 'dlp', 'dlp_match'],
    [`https://example.com/${b64.replace(/=/g, '')}`, 'dlp', 'dlp_match'],
    [`https://example.com/?a=${key.slice(0, 9)}&b=${key.slice(9)}`, 'dlp', 'dlp_match'],
    [`https://example.com/?a=${key.slice(0, 9)}&x=!!!&b=${key.slice(9)}&c=1`, 'dlp', 'dlp_match'],
    [`https://example.com/?${key}=1`, 'dlp', 'dlp_match'],
    [`https://example.com/x/${key.slice(0, 9)}/${key.slice(9)}`, 'dlp', 'dlp_match'],
    [`https://example.com/?a=${key.slice(0, 9)}.${key.slice(9)}`, 'dlp', 'dlp_match'],
    ['https://example.com/?password=hunter22', 'dlp', 'dlp_match', 'DLP match: Credential in URL (high)'],
  ]
  await table(rows, h)
  for (const [url] of rows) assert.ok(!JSON.stringify(await h.scan(url)).includes(key.slice(7)))
  assert.deepEqual(h.lookups, [])
})

test('a key split between a query parameter\'s name and its value, or across names and values in order, is core DLP', async () => {
  const h = harness()
  const aws = awsKeyId()
  const gh = githubToken()
  const awsHit = 'core DLP match: AWS Access ID (critical)'
  await table([
    [`https://example.com/x?${aws.slice(0, 10)}=${aws.slice(10)}`, 'core_dlp', 'dlp_match', awsHit],
    [`https://example.com/x?${aws.slice(0, 12)}=${aws.slice(12)}`, 'core_dlp', 'dlp_match', awsHit],
    [`https://example.com/x?${gh.slice(0, 23)}=${gh.slice(23)}`, 'core_dlp', 'dlp_match', 'core DLP match: GitHub Token (critical)'],
    // Percent-encoded halves, among other parameters.
    [`https://example.com/x?page=2&${encodeURIComponent(aws.slice(0, 10))}=${aws.slice(10, 14)}%${aws.charCodeAt(14).toString(16)}${aws.slice(15)}&sort=name`, 'core_dlp', 'dlp_match', awsHit],
    // Pieces over two parameters' names and values, in order; over two names without values.
    [`https://example.com/x?${aws.slice(0, 5)}=${aws.slice(5, 10)}&${aws.slice(10, 15)}=${aws.slice(15)}`, 'core_dlp', 'dlp_match', awsHit],
    [`https://example.com/x?${aws.slice(0, 10)}&${aws.slice(10)}`, 'core_dlp', 'dlp_match', awsHit],
    // Controls: ordinary query strings.
    ['https://example.com/x?page=2&sort=name', 'all', null],
    ['https://example.com/x?q=hello=world', 'all', null],
    ['https://example.com/search?q=hello+world&lang=en&page=10&per_page=50', 'all', null],
  ], h)
  for (const url of [`https://example.com/x?${aws.slice(0, 10)}=${aws.slice(10)}`]) assert.ok(!JSON.stringify(await h.scan(url)).includes(aws.slice(4)))
})

test('scanUrlDlp: URL DLP alone, over the full scan\'s targets (a key split inside the URL), never SSRF, blocklist or entropy', () => {
  const s = defaultScannerSettings()
  s.dlp.patterns = [...s.dlp.patterns, {name: 'Ticket', severity: 'low', regex: 'TICKET-[0-9]{5}', action: 'warn'}]
  const sc = createScanner(s)
  const aws = awsKeyId()
  const gh = githubToken()
  const [a, b] = [aws.slice(0, 10), aws.slice(10)]
  for (const [url, pattern] of [
    [`http://127.0.0.1:3000/base/x?k=1&a=${a}&b=${b}`, 'AWS Access ID'],
    [`http://127.0.0.1:3000/base/${a}/${b}`, 'AWS Access ID'],
    [`http://127.0.0.1:3000/base/x?q=${a}%20${b}`, 'AWS Access ID'],
    [`http://127.0.0.1:3000/base/x?q=${gh.slice(0, 23)}&r=${gh.slice(23)}`, 'GitHub Token'],
  ] as const) {
    const r = sc.scanUrlDlp(url)
    assert.equal(r.parsed, true, url)
    assert.deepEqual(r.matches.map((m) => [m.pattern, m.severity, m.core]), [[pattern, 'critical', true]], url)
    // The same targets as the full scan: the forward proxy and /fetch refuse these as well.
    assert.equal(sc.scanTextForDlp(url.slice(url.indexOf('/base'))).matches.length, 0, url)
  }
  // Loopback, a blocklisted host and a high-entropy segment are not URL DLP's to judge.
  for (const url of ['http://127.0.0.1:3000/list?page=2&sort=name', 'http://paste.pastebin.com/q?q=hello=world', `http://127.0.0.1/${alnum(40)}`]) {
    assert.deepEqual(sc.scanUrlDlp(url), {parsed: true, matches: [], warnings: []}, url)
  }
  assert.deepEqual(sc.scanUrlDlp('http://127.0.0.1/?t=TICKET-12345').warnings.map((w) => w.pattern), ['Ticket'])
  assert.deepEqual(sc.scanUrlDlp('http://[::1/'), {parsed: false, matches: [], warnings: []})
})

test('core DLP cannot be removed; exempt_domains and warn patterns', async () => {
  const h = harness({}, (s) => {
    s.dlp.includeDefaults = false
    s.dlp.patterns = [
      {name: 'Ticket', severity: 'low', regex: 'TICKET-[0-9]{5}', action: 'warn'},
      {name: 'Corp Token', severity: 'high', regex: 'corp_[a-z]{12}', exemptDomains: ['*.corp.example']},
    ]
  })
  await table([
    [`https://example.com/?t=${j('gh', 'p_', alnum(36))}`, 'core_dlp', 'dlp_match'],
    [`https://example.com/?t=${anthropicKey()}`, 'all', null],
    ['https://example.com/?t=corp_abcdefghijkl', 'dlp', 'dlp_match'],
    ['https://api.corp.example/?t=corp_abcdefghijkl', 'all', null],
  ], h)
  const w = await h.scan('https://example.com/?t=TICKET-12345')
  assert.equal(w.allowed, true)
  assert.deepEqual(w.warnings.map((x) => x.pattern), ['Ticket'])
})

test('env secrets, file secrets and canaries in URLs', async () => {
  const secret = j('Qz', alnum(30, 42))
  const h = harness({}, (s) => {
    s.dlp.env = {SERVICE_TOKEN: secret}
    s.dlp.fileSecrets = [j('filesecret', alnum(12, 3))]
    s.canaryTokens = [{name: 'c1', value: 'canary-0d9f8e7a'}]
    s.entropyThreshold = 0
  })
  await table([
    [`https://example.com/?v=${secret}`, 'dlp', 'dlp_match', 'environment variable leak detected'],
    [`https://example.com/?v=${Buffer.from(secret).toString('hex')}`, 'dlp', 'dlp_match', 'environment variable leak detected (hex-encoded)'],
    [`https://example.com/?v=${j('filesecret', alnum(12, 3))}`, 'dlp', 'dlp_match', 'known secret leak detected'],
    ['https://example.com/?v=canary-0d9f8e7a', 'dlp', 'dlp_match', 'DLP match: Canary Token (c1) (critical)'],
  ], h)
})

test('SigV4 presigned URLs: key id scrubbed, structural exemption, long-expiry warning', async () => {
  const h = harness()
  const key = awsKeyId()
  const sig = hexLower(64)
  const url = (exp: number, date = '20250101', extra = '') =>
    `https://bucket.s3.amazonaws.com/obj?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${key}%2F${date}%2Fus-east-1%2Fs3%2Faws4_request` +
    `&X-Amz-Date=20250101T000000Z&X-Amz-Expires=${exp}&X-Amz-SignedHeaders=host&X-Amz-Signature=${sig}${extra}`
  const ok = await h.scan(url(3600))
  assert.equal(ok.allowed, true, ok.detail)
  assert.equal(ok.class, 'structural_exemption')
  assert.deepEqual(ok.warnings, [])
  const long = await h.scan(url(100000))
  assert.deepEqual(long.warnings.map((w) => w.pattern), ['SigV4 Long Expiry'])
  assert.equal((await h.scan(url(3600, '20250102'))).scanner, 'core_dlp', 'date mismatch: no carve-out')
  assert.equal((await h.scan(url(0))).scanner, 'core_dlp', 'expires must be > 0')
  assert.equal((await h.scan(url(3600, '20250101', `&leak=${awsKeyId(9)}`))).scanner, 'core_dlp')
  assert.equal((await h.scan(url(3600).replace('amazonaws.com', 'amazonaws.com.evil.net'))).scanner, 'core_dlp')
})

test('stages 12-13 entropy', async () => {
  const h = harness()
  const noisy = 'Q7x!R2m$K9p#V4t&W8z*B3n^'
  await table([
    [`https://example.com/a/${encodeURIComponent(noisy)}`, 'entropy', 'path_entropy'],
    [`https://example.com/?${encodeURIComponent(noisy)}=1`, 'entropy', 'path_entropy'],
    [`https://example.com/?token2=${encodeURIComponent(noisy)}`, 'entropy', 'path_entropy'],
    ['https://q8f3k2m9x7z1bcdwy5.example.com/', 'subdomain_entropy', 'subdomain_entropy'],
    ['https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com/', 'all', null],
    ['https://example.com/documentation/getting-started-guide', 'all', null],
  ], h)
  const k = await h.scan(`https://example.com/?${encodeURIComponent(noisy)}=1`)
  assert.ok(!k.detail.includes('Q7x'), 'a high-entropy key is not echoed')
  const p = await h.scan(`https://example.com/?token2=${encodeURIComponent(noisy)}`)
  assert.match(p.detail, /^high entropy query param "token2" \(\d\.\d\d > 4\.50 threshold\)$/)
  const off = harness({}, (s) => {
    s.entropyThreshold = 0
    s.subdomainEntropyThreshold = 0
    s.subdomainEntropyExclusions = []
  })
  await table([[`https://example.com/a/${encodeURIComponent(noisy)}`, 'all', null], ['https://q8f3k2m9x7z1bcdwy5.example.com/', 'all', null]], off)
  const excl = harness({}, (s) => {
    s.subdomainEntropyExclusions = ['*.example.com']
  })
  await table([['https://q8f3k2m9x7z1bcdwy5.example.com/', 'all', null]], excl)
})

test('stage 15 rate limit with an injected clock; stage 16 length; stage 17 data budget', async () => {
  const h = harness({}, (s) => {
    s.maxRequestsPerMinute = 2
  })
  assert.equal((await h.scan('https://a.example.com/')).allowed, true)
  assert.equal((await h.scan('https://b.example.com/')).allowed, true)
  const third = await h.scan('https://example.com/')
  assert.equal(third.scanner, 'ratelimit')
  assert.equal(third.reason, 'rate_limit')
  assert.equal(third.class, 'protective')
  assert.equal(third.detail, 'rate limit exceeded for example.com')
  assert.equal((await h.scan('https://other.org/')).allowed, true)
  h.clock.advanceSeconds(61)
  assert.equal((await h.scan('https://example.com/')).allowed, true)
  const zero = harness({}, (s) => {
    s.maxRequestsPerMinute = 0
  })
  for (let i = 0; i < 60; i++) assert.equal((await zero.scan('https://example.com/')).allowed, true)
  assert.equal((await zero.scan('https://example.com/')).scanner, 'ratelimit', '0 means 60, never off')

  const short = harness({}, (s) => {
    s.maxUrlLength = 30
  })
  const long = await short.scan('https://example.com/abcdefghijklmnop')
  assert.equal(long.scanner, 'length')
  assert.equal(long.reason, 'url_length')
  assert.equal(long.detail, 'URL length 36 exceeds maximum 30')

  const b = harness({}, (s) => {
    s.maxDataPerMinute = 100
  })
  assert.equal((await b.scan('https://example.com/')).allowed, true)
  b.budget.record('example.com', 100)
  const over = await b.scan('https://www.example.com/')
  assert.equal(over.scanner, 'databudget')
  assert.equal(over.reason, 'data_budget')
  b.clock.advanceSeconds(61)
  assert.equal((await b.scan('https://example.com/')).allowed, true)
})

test('stage 0 / 18 context and stage timings', async () => {
  const h = harness()
  const ac = new AbortController()
  ac.abort()
  const r = await h.scan('https://example.com/', {signal: ac.signal})
  assert.equal(r.scanner, 'context')
  assert.equal(r.detail, 'request context unavailable')
  let t = 0
  const timed = await h.scan('https://example.com/', {timer: () => (t += 1)})
  assert.ok(timed.timings && timed.timings.length >= 15)
  assert.deepEqual(timed.timings.slice(0, 3).map((x) => x.stage), ['parse', 'host', 'scheme'])
})

test('an allowed result has the same keys in the same order with and without timings (its JSON is written as is)', async () => {
  const h = harness()
  const keys = ['allowed', 'scanner', 'layer', 'reason', 'severity', 'retry', 'class', 'detail', 'findings', 'warnings']
  const plain = await h.scan('https://example.com/')
  assert.equal(plain.allowed, true)
  assert.deepEqual(Object.keys(plain), keys)
  let t = 0
  assert.deepEqual(Object.keys(await h.scan('https://example.com/', {timer: () => (t += 1)})), [...keys, 'timings'])
})

test('stage order: earlier stages win', async () => {
  const h = harness({'x.example.com': ['10.0.0.1']}, (s) => {
    s.maxUrlLength = 40
  })
  const key = anthropicKey()
  // traversal beats DLP; blocklist beats SSRF; DLP beats entropy and SSRF; SSRF beats length.
  assert.equal((await h.scan(`https://example.com/../${key}`)).scanner, 'path_traversal')
  assert.equal((await h.scan('https://x.pastebin.com/')).scanner, 'blocklist')
  assert.equal((await h.scan(`https://x.example.com/${key}`)).scanner, 'dlp')
  assert.equal((await h.scan('https://x.example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')).scanner, 'ssrf')
})

test('dial-time re-validation uses internal ∪ core, pins the first validated IP', async () => {
  const {createUrlScanner, checkDialAddresses, defaultScannerSettings} = await import('../../../src/plugins/scanner/index.js')
  const s = defaultScannerSettings()
  s.internal = ['203.0.113.0/24'] // core floor still applies on top
  s.trustedDomains = ['*.corp.example']
  s.ssrfIpAllowlist = ['10.9.0.0/16']
  const sc = createUrlScanner(s)
  assert.deepEqual(checkDialAddresses(sc, 'a.example', ['93.184.216.34', '93.184.216.35']), {ok: true, ip: '93.184.216.34'})
  assert.equal(checkDialAddresses(sc, 'a.example', ['93.184.216.34', '127.0.0.1']).ok, false)
  assert.equal(checkDialAddresses(sc, 'a.example', ['203.0.113.9']).ok, false)
  assert.equal(checkDialAddresses(sc, 'a.example', ['::ffff:10.0.0.1']).ok, false)
  assert.deepEqual(checkDialAddresses(sc, 'a.example', ['::ffff:10.9.1.1']), {ok: true, ip: '10.9.1.1'})
  const meta = checkDialAddresses(sc, 'a.example', ['169.254.169.254'])
  assert.equal(!meta.ok && meta.label, 'ssrf_metadata')
  assert.equal(checkDialAddresses(sc, 'db.corp.example', ['10.0.0.7']).ok, true)
  assert.equal(checkDialAddresses(sc, 'a.example', []).ok, false)
  assert.equal(checkDialAddresses(sc, 'a.example', ['not-an-ip']).ok, false)
})

test('a rate-limit block says when the window has room again (retryAfter, whole seconds, at least 1)', async () => {
  const h = harness({}, (s) => {
    s.maxRequestsPerMinute = 2
  })
  assert.equal((await h.scan('https://a.example.com/')).allowed, true)
  h.clock.advanceSeconds(20)
  assert.equal((await h.scan('https://b.example.com/')).allowed, true)
  h.clock.advanceSeconds(10)
  // The first request leaves the 60 s window 30 s from now.
  assert.equal((await h.scan('https://example.com/')).retryAfter, 30)
  h.clock.advanceSeconds(29)
  assert.equal((await h.scan('https://example.com/')).retryAfter, 1)
  h.clock.advanceSeconds(1)
  const passed = await h.scan('https://example.com/')
  assert.equal(passed.allowed, true)
  assert.equal(passed.retryAfter, undefined)
  // Now b (at 20 s) and this one (at 60 s) fill the window: b leaves at 80 s.
  assert.equal((await h.scan('https://example.com/')).retryAfter, 20)
})
