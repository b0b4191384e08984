// Issue 10 items 3 (special ranges), 10 (rate-limit key), 14 (empty host), 15 (IDNA hosts).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {canonicalHostname, canonicalIpSpelling, checkDialAddresses, createUrlScanner, defaultScannerSettings, embeddedIPv4, parseIp} from '../../../src/plugins/scanner/index.js'
import {resolveValidated} from '../../../src/plugins/proxy/index.js'
import {harness} from './url-helpers.js'

const SPECIAL_LITERALS = [
  'http://[::]:8080/', 'http://[0:0:0:0:0:0:0:0]/', 'http://0.0.0.0/', 'http://0.1.2.3/',
  'http://[64:ff9b::7f00:1]/', 'http://[64:ff9b::a9fe:a9fe]/', 'http://[64:ff9b:1::1]/', 'http://[2002:7f00:1::]/',
  'http://[2002:a00:1::1]/', 'http://[::127.0.0.1]/', 'http://[::ffff:0:127.0.0.1]/', 'http://[::ffff:0:7f00:1]/', 'http://[::ffff:0:a9fe:a9fe]/', 'http://[::10.1.2.3]/', 'http://198.18.0.1/', 'http://198.19.255.255/',
  'http://240.0.0.1/', 'http://255.255.255.255/', 'http://168.63.129.16/', 'http://[fd00:ec2::254]/', 'http://169.254.169.254/',
]

test('special ranges are blocked at scan time with the default internal list (stage 14)', async () => {
  const h = harness()
  for (const u of SPECIAL_LITERALS) {
    const r = await h.scan(u)
    assert.equal(r.allowed, false, `${u} allowed`)
    assert.match(r.scanner, /^ssrf/, u)
  }
  const meta = await h.scan('http://[64:ff9b::a9fe:a9fe]/')
  assert.equal(meta.scanner, 'ssrf_metadata')
  assert.match(meta.detail, /169\.254\.169\.254/)
  assert.equal((await h.scan('http://[2002:808:808::1]/')).allowed, true, '6to4 of a public address is fine')
  assert.equal((await h.scan('http://[64:ff9b::808:808]/')).allowed, true, 'NAT64 of a public address is fine')
})

test('special ranges are in the immutable core floor (internal list empty: stage 8)', async () => {
  const h = harness({}, (s) => {
    s.internal = []
  })
  for (const u of SPECIAL_LITERALS) assert.equal((await h.scan(u)).scanner, 'core_ssrf', u)
})

test('a DNS name answering :: or an embedded loopback is blocked at scan time', async () => {
  const h = harness({'zero.example': ['::'], 'nat.example': ['64:ff9b::7f00:1'], 'compat.example': ['::7f00:1']})
  for (const host of ['zero.example', 'nat.example', 'compat.example']) {
    const r = await h.scan(`http://${host}/`)
    assert.equal(r.scanner, 'ssrf', host)
  }
})

test('dial time re-checks the special ranges on the canonical address', async () => {
  const sc = createUrlScanner(defaultScannerSettings())
  for (const a of ['::', '0.0.0.0', '64:ff9b::7f00:1', '2002:7f00:1::', '::127.0.0.1', '198.18.0.1', '240.0.0.1', '255.255.255.255', '168.63.129.16']) {
    assert.equal(checkDialAddresses(sc, 'x.example', [a]).ok, false, a)
    await assert.rejects(resolveValidated(sc, 'x.example', async () => [a]), /SSRF blocked at dial time/, a)
  }
  await assert.rejects(resolveValidated(sc, '[::]', async () => []), /internal IP ::/)
  assert.deepEqual(embeddedIPv4(parseIp('2002:7f00:1::')!), [127, 0, 0, 1])
  assert.deepEqual(embeddedIPv4(parseIp('::ffff:0:7f00:1')!), [127, 0, 0, 1], 'IPv4-translated (RFC 2765)')
  assert.equal(embeddedIPv4(parseIp('::1')!), null)
})

test('empty host fails in the URL stage, before any resolver', async () => {
  const h = harness()
  for (const u of ['http:///path', 'http://:80/x', 'https://@/']) {
    const r = await h.scan(u)
    assert.equal(r.scanner, 'parser', u)
    assert.equal(r.detail, 'invalid URL: empty host', u)
  }
  assert.deepEqual(h.lookups, [])
})

test('IDNA/NFKC: fullwidth and zero-width spellings of a blocklisted host are blocked', async () => {
  const h = harness({}, (s) => {
    s.blocklist = ['*.pastebin.com']
  })
  for (const u of ['http://ｐａｓｔｅｂｉｎ.com/', 'http://%ef%bd%90astebin.com/', 'http://paste\u200bbin.com/', 'http://PASTEBIN.com/', 'http://ｗｗｗ.pastebin.com/']) {
    const r = await h.scan(u)
    assert.equal(r.scanner, 'blocklist', u)
    assert.match(r.detail, /domain blocked: (www\.)?pastebin\.com matches/)
  }
  assert.equal((await h.scan('http://x\uFFFD.com/')).detail, 'invalid URL: host is not a valid internationalised domain name')
  assert.equal(canonicalHostname('Bücher.example').ok && (canonicalHostname('Bücher.example') as {host: string}).host, 'xn--bcher-kva.example')
})

test('rate-limit key: every spelling of one IPv4 address shares one budget', async () => {
  const h = harness({}, (s) => {
    s.maxRequestsPerMinute = 3
  })
  const spellings = ['http://8.8.8.8/', 'http://8.8.8.8./', 'http://0x08080808/', 'http://134744072/', 'http://010.010.010.010/', 'http://8.8.2056/', 'http://[::ffff:8.8.8.8]/']
  const results = []
  for (const u of spellings) results.push((await h.scan(u)).scanner)
  assert.deepEqual(results, ['all', 'all', 'all', 'ratelimit', 'ratelimit', 'ratelimit', 'ratelimit'])
  assert.equal(canonicalIpSpelling('8.8.2056'), '8.8.8.8')
  assert.equal(canonicalIpSpelling('example.com'), 'example.com')
})
