/**
 * The URL scan decides without a promise turn of its own unless it asks the resolver, and takes
 * the caller's parse of the URL (the forward proxy's router parses the target once). Both are
 * optimisations only: a scan given `parsed` answers exactly what the same scan without it
 * answers, and every way stage 14 can end (an address, a host override, a resolver that answers,
 * fails, rejects or throws) gives the result it gave when the stage always awaited.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parseGoUrl} from '../../../src/plugins/canonical/index.js'
import type {UrlScanResult} from '../../../src/plugins/scanner/index.js'
import {anthropicKey, awsKeyId, githubToken} from './fixtures.js'
import {dnsError, harness} from './url-helpers.js'

const URLS = [
  'http://127.0.0.1:8080/bin',
  'https://example.com/a/b?c=d&e=f',
  'http://10.0.0.5/internal',
  'http://169.254.169.254/latest/meta-data/',
  'http://0x7f.1/',
  'http://2130706433/',
  'https://api.example.com/v1?key=' + anthropicKey(),
  'https://example.com/?token=' + githubToken(),
  'https://s3.amazonaws.com/b/o?X-Amz-Credential=' + awsKeyId() + '%2F20240101%2Fus-east-1%2Fs3%2Faws4_request',
  'https://example.com/%2e%2e/etc/passwd',
  'https://example.com/a%0d%0aSet-Cookie:x',
  'https://pastebin.com/raw/abc',
  'ftp://example.com/file',
  'https://aGVsbG8gd29ybGQgdGhpcyBpcyBsb25n.example.com/',
  'https://example.com/' + 'x'.repeat(3000),
  'https://EXAMPLE.com./Path?Q=1#frag',
  'http://[::1]:8080/',
  'https://xn--bcher-kva.example/',
]

test('a scan given the caller\'s parse answers exactly as one that parses the URL itself', async () => {
  const h = harness()
  for (const url of URLS) {
    let parsed
    try {
      parsed = parseGoUrl(url)
    } catch {
      continue // an unparsable URL is never handed over parsed
    }
    const alone = await h.scan(url)
    const given = await h.scan(url, {parsed})
    assert.deepEqual(given, alone, url)
  }
})

test('every end of the SSRF stage gives its classified result, whether it awaited or not', async () => {
  const boom = new Error('resolver exploded')
  const h = harness({'fails.example': dnsError('ENOTFOUND'), 'slow.example': dnsError('ETIMEOUT'), 'internal.example': ['10.1.2.3'], 'empty.example': []})
  const cases: Array<[string, Partial<UrlScanResult>]> = [
    ['http://127.0.0.1/', {allowed: false, scanner: 'ssrf'}],
    ['http://93.184.216.34/', {allowed: true}],
    ['https://fails.example/', {allowed: false, scanner: 'ssrf', class: 'infrastructure_error', detail: 'DNS lookup for fails.example returned no such host'}],
    ['https://slow.example/', {allowed: false, scanner: 'ssrf', detail: 'DNS lookup for slow.example timed out'}],
    ['https://internal.example/', {allowed: false, scanner: 'ssrf', detail: 'SSRF blocked: internal.example resolves to internal IP 10.1.2.3'}],
    ['https://empty.example/', {allowed: false, scanner: 'ssrf', detail: 'DNS lookup for empty.example returned no such host'}],
    ['https://fine.example/', {allowed: true}],
  ]
  for (const [url, want] of cases) {
    const r = await h.scan(url)
    for (const [k, v] of Object.entries(want)) assert.equal(r[k as keyof UrlScanResult], v, `${url}: ${k}`)
  }
  // A resolver that throws instead of rejecting is a failed lookup, not an internal error.
  const errors: unknown[] = []
  const thrown = await h.scan('https://throws.example/', {resolver: () => { throw boom }, onInternalError: (e) => errors.push(e)})
  assert.equal(thrown.allowed, false)
  assert.equal(thrown.detail, 'DNS lookup for throws.example failed')
  assert.deepEqual(errors, [])
  // A host override is judged without the resolver.
  const o = harness({}, (s) => (s.hostOverrides = new Map([['pinned.example', ['10.9.9.9']]])))
  const pinned = await o.scan('https://pinned.example/')
  assert.equal(pinned.detail, 'SSRF blocked: pinned.example resolves to internal IP 10.9.9.9')
  assert.deepEqual(o.lookups, [])
})
