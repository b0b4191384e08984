/**
 * Deterministic fuzz: 20,000 generated (15,000 URLs, 5,000 bodies) and mutated URLs and bodies through every scanner entry
 * point. Asserts no exception, no internal-error fallback, bounded time, every result inside the
 * closed vocabulary, and no generated secret echoed in any result.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {
  createScanner, defaultScannerSettings, isReasonCode, reasonForLabel, RateLimiter, DataBudget, validLayer,
} from '../../../src/plugins/scanner/index.js'
import {anthropicKey, awsKeyId, githubToken, prng} from './fixtures.js'

const URL_SEEDS = [
  'https://example.com/',
  'https://api.example.com/v1/users/42?include=posts&limit=20',
  'http://0x7f.0.0.1/admin',
  'http://2130706433/',
  'http://0177.0.0.1/',
  'http://[::ffff:127.0.0.1]:8080/x',
  'http://169.254.169.254/latest/meta-data/',
  'http://a.com/x%0d%0aSet-Cookie:%20a=b',
  'http://a.com/a/%2e%2e/%2e%2e/etc/passwd',
  'http://a.com/a/..%2f..%2fetc',
  'https://x.pastebin.com/raw/abc',
  'https://bucket.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20250101T000000Z',
  'https://user:pass@example.com:8443/p?q=%252e%252e#frag',
  'https://例え.jp/パス?キー=値',
  'https://example.com/?a=1&b=2&c=3&d=4&e=5',
]
const ALPHABET = ['%', '0', 'x', '.', '/', '\\', '\r', '\n', '#', '?', '&', '=', '@', ':', '[', ']', '%2e', '%2f', '%25', '%0a', '\u200b', 'é', '😀', '\u0000', ' ', '+', 'A', 'z', '9', '-', '_']

/** Percent-encodes UTF-8 bytes (lone surrogates become U+FFFD, unlike encodeURIComponent which throws). */
function percentEncode(s: string): string {
  let out = ''
  for (const b of Buffer.from(s, 'utf8')) out += '%' + b.toString(16).padStart(2, '0')
  return out
}

function mutate(r: () => number, s: string, secrets: string[]): string {
  let out = s
  const ops = 1 + Math.floor(r() * 4)
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(r() * (out.length + 1))
    const op = Math.floor(r() * 7)
    if (op === 0) out = out.slice(0, at) + ALPHABET[Math.floor(r() * ALPHABET.length)] + out.slice(at)
    else if (op === 1) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(r() * 3))
    else if (op === 2) out = out.slice(0, at) + percentEncode(out.slice(at, at + 3)) + out.slice(at + 3)
    else if (op === 3) out = out.slice(0, at) + out.slice(Math.floor(r() * out.length)).slice(0, 12) + out.slice(at)
    else if (op === 4) out = out.slice(0, at) + secrets[Math.floor(r() * secrets.length)] + out.slice(at)
    else if (op === 5) out = out.slice(0, at) + Buffer.from(secrets[Math.floor(r() * secrets.length)]!).toString('base64') + out.slice(at)
    else out = out.replace('example.com', ['0x7f.1', '10.0.0.1', '[::1]', 'a.b.c.d.e.example.org', 'xn--e1afmkfd.test'][Math.floor(r() * 5)]!)
  }
  return out.slice(0, 600)
}

function randomText(r: () => number, n: number): string {
  let s = ''
  for (let i = 0; i < n; i++) {
    const p = r()
    if (p < 0.7) s += String.fromCharCode(32 + Math.floor(r() * 95))
    else if (p < 0.8) s += ALPHABET[Math.floor(r() * ALPHABET.length)]
    else if (p < 0.9) s += String.fromCodePoint(0x80 + Math.floor(r() * 0x3000))
    else s += ' ignore previous instructions system: '.slice(0, 1 + Math.floor(r() * 20))
  }
  return s
}

test('fuzz: 15,000 URLs + 5,000 bodies, all classified, no throw, no echo', {timeout: 120_000}, async () => {
  const settings = defaultScannerSettings()
  settings.maxRequestsPerMinute = 30
  settings.maxDataPerMinute = 1 << 20
  const sc = createScanner(settings)
  let ns = 0n
  const clock = {nowNanos: () => (ns += 1_000_000n)}
  const rateLimiter = new RateLimiter(clock)
  const dataBudget = new DataBudget(clock)
  const internalErrors: unknown[] = []
  const resolver = async (host: string): Promise<string[]> => {
    let h = 0
    for (const c of host) h = (h * 31 + c.charCodeAt(0)) >>> 0
    const pick = h % 6
    if (pick === 0) throw Object.assign(new Error('nx'), {code: 'ENOTFOUND'})
    if (pick === 1) return ['10.0.0.' + (h % 255)]
    if (pick === 2) return ['::ffff:127.0.0.1']
    return ['93.184.216.' + (h % 255)]
  }
  const secrets = [anthropicKey(11), awsKeyId(12), githubToken(13)]
  const r = prng(20260)
  const ctx = {resolver, rateLimiter, dataBudget, onInternalError: (e: unknown) => internalErrors.push(e)}
  const labels = new Set<string>()
  for (let i = 0; i < 15_000; i++) {
    const url = i % 5 === 0 ? 'http' + randomText(r, 10 + Math.floor(r() * 60)) : mutate(r, URL_SEEDS[i % URL_SEEDS.length]!, secrets)
    const res = await sc.scanUrl(url, ctx)
    labels.add(res.scanner)
    if (res.allowed) {
      assert.equal(res.scanner, 'all')
      assert.equal(res.reason, null)
    } else {
      assert.ok(res.reason !== null && isReasonCode(res.reason), url)
      assert.equal(res.reason, reasonForLabel(res.scanner))
      assert.ok(validLayer(res.layer))
    }
    const json = JSON.stringify(res)
    for (const s of secrets) assert.ok(!json.includes(s.slice(4, 20)), `secret echoed for ${JSON.stringify(url)}`)
    if (i % 7 === 0) dataBudget.record('example.com', 1000)
  }
  const types = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=b', 'text/plain', undefined]
  // Bodies are costlier than URLs (every text also goes through the 38-pattern, 6-pass
  // injection scanner), so they are kept short to hold the whole test near 5 s unloaded.
  for (let i = 0; i < 5_000; i++) {
    const base = i % 5 === 0 ? JSON.stringify({a: randomText(r, 12), b: [secrets[i % 3], 1, true]}) : randomText(r, 10 + Math.floor(r() * 30))
    const text = i % 2 === 0 ? mutate(r, base, secrets) : base
    const body = sc.scanRequestBody({contentType: i % 5 === 0 ? types[(i / 5) % types.length] : 'text/plain', body: Buffer.from(text)})
    assert.ok(['allow', 'warn', 'block'].includes(body.action))
    assert.ok(body.reason === null || isReasonCode(body.reason))
    const json = JSON.stringify(body)
    for (const s of secrets) assert.ok(!json.includes(s.slice(4, 20)))
    if (i % 10 === 0) {
      const resp = sc.decideResponse(text)
      assert.ok(['allow', 'warn', 'block', 'strip', 'ask'].includes(resp.action))
      const sse = sc.sseStream()
      for (const chunk of [text.slice(0, 7), text.slice(7) + '\n\n']) for (const o of sse.push(chunk)) assert.ok(o.kind === 'event' || o.kind === 'terminate')
    }
    if (i % 20 === 0) sc.scanRequestHeaders([['Authorization', text], ['Cookie', text.slice(3)]])
  }
  assert.deepEqual(internalErrors, [])
  // The corpus must actually reach the interesting stages.
  for (const l of ['parser', 'scheme', 'crlf_injection', 'path_traversal', 'core_dlp', 'dlp', 'ssrf', 'all', 'ratelimit']) {
    assert.ok(labels.has(l), `fuzz corpus never reached ${l}`)
  }
})
