import assert from 'node:assert/strict'
import {test} from 'node:test'
import {
  blockHeaders, displayUrl, extractFetchTarget, outboundHeaders, parseAuthority, redactUrl, resolveAgent, sanitiseAgent, sessionKey,
} from '../../../src/plugins/proxy/index.js'
import {REASON_CODES} from '../../../src/plugins/scanner/index.js'

test('block headers carry the closed vocabulary with severity, retry and version 1', () => {
  assert.deepEqual(blockHeaders('dlp_match', 'core_dlp'), {
    'X-Pipelock-Block-Reason': 'dlp_match',
    'X-Pipelock-Block-Reason-Version': '1',
    'X-Pipelock-Block-Reason-Severity': 'critical',
    'X-Pipelock-Block-Reason-Retry': 'none',
    'X-Pipelock-Block-Reason-Layer': 'core_dlp',
  })
  assert.equal(blockHeaders('rate_limit', 'ratelimit')['X-Pipelock-Block-Reason-Retry'], 'transient')
  // An invalid layer is omitted, never sanitised into something else.
  assert.equal(blockHeaders('domain_blocklist', 'bad-layer!')['X-Pipelock-Block-Reason-Layer'], undefined)
  assert.equal(blockHeaders('domain_blocklist', 'x'.repeat(33))['X-Pipelock-Block-Reason-Layer'], undefined)
  for (const code of Object.keys(REASON_CODES) as (keyof typeof REASON_CODES)[]) {
    const h = blockHeaders(code)
    assert.equal(h['X-Pipelock-Block-Reason'], code)
    assert.equal(h['X-Pipelock-Block-Reason-Severity'], REASON_CODES[code].severity)
  }
})

test('URLs echoed for content-scanner blocks are reduced to scheme://host/[redacted]', () => {
  assert.equal(redactUrl('https://api.example.com:8443/v1?key=AKIAxxxx', false), 'https://api.example.com:8443/[redacted]')
  assert.equal(redactUrl('HTTP://user:pw@host.example/x', false), 'http://host.example/[redacted]')
  assert.equal(redactUrl('https://secret-in-host.example/x', true), 'https://[redacted]/[redacted]')
  assert.equal(redactUrl('not a url', false), '[redacted-url]')
})

test('display URLs are iteratively percent-decoded; malformed escapes stop the decoding', () => {
  assert.equal(displayUrl('https://x.example/a%2520b'), 'https://x.example/a b')
  assert.equal(displayUrl('https://x.example/%zz'), 'https://x.example/%zz')
})

test('/fetch target: control characters removed; extra parameters make the raw tail the URL', () => {
  assert.equal(extractFetchTarget('url=https%3A%2F%2Fexample.com%2F%3Fa%3D1'), 'https://example.com/?a=1')
  assert.equal(extractFetchTarget('agent=x&url=https://example.com/'), 'https://example.com/')
  assert.equal(extractFetchTarget('url=https://example.com/?a=1&b=2'), 'https://example.com/?a=1&b=2')
  assert.equal(extractFetchTarget('url=https://exa%0Dmple.com/%7F'), 'https://example.com/')
  assert.equal(extractFetchTarget('agent=x'), null)
  assert.equal(extractFetchTarget('url='), '')
})

test('identity precedence and sanitisation (§3.1, §3.2)', () => {
  const s = {defaultAgentIdentity: '', bindDefaultAgentIdentity: false}
  assert.equal(resolveAgent(s, undefined, undefined), 'anonymous')
  assert.equal(resolveAgent(s, undefined, 'q-agent'), 'q-agent')
  assert.equal(resolveAgent(s, 'hdr', 'q-agent'), 'hdr')
  assert.equal(resolveAgent({...s, defaultAgentIdentity: 'dflt'}, undefined, 'q-agent'), 'dflt')
  assert.equal(resolveAgent({...s, defaultAgentIdentity: 'dflt'}, 'hdr', undefined), 'hdr')
  assert.equal(resolveAgent({defaultAgentIdentity: 'bound', bindDefaultAgentIdentity: true}, 'hdr', 'q'), 'bound')
  assert.equal(sanitiseAgent('a b/c\u00e9'), 'a_b_c_')
  assert.equal(sanitiseAgent('x'.repeat(80)).length, 64)
  assert.equal(sanitiseAgent(''), 'anonymous')
  assert.equal(sessionKey('anonymous', '10.0.0.1'), '10.0.0.1')
  assert.equal(sessionKey('claude', '10.0.0.1'), 'claude|10.0.0.1')
})

test('outbound header hygiene strips identity, forwarding, hop-by-hop and Connection-named headers', () => {
  const out = outboundHeaders({
    'x-pipelock-agent': 'a', 'x-forwarded-for': '1', 'x-real-ip': '1', 'x-forwarded-host': 'h', 'x-forwarded-proto': 'p', 'x-forwarded-port': '1',
    forwarded: 'f', via: 'v', connection: 'keep-alive, X-Secret-Hop', 'keep-alive': 'timeout=5', 'proxy-authorization': 'Basic x', te: 'trailers',
    trailer: 'x', 'transfer-encoding': 'chunked', upgrade: 'h2c', 'x-secret-hop': 's', 'pipelock-mediation': 'm', 'accept-encoding': 'gzip',
    signature: 'pipelock1=:YWJj:, other=:ZGVm:', authorization: 'Bearer t', 'user-agent': 'ua', accept: '*/*',
    'signature-input': 'pipelock1=("@method");tag="a,b", sig1=("@method");tag="web-bot-auth"',
  })
  assert.deepEqual(out, {signature: 'other=:ZGVm:', 'signature-input': 'sig1=("@method");tag="web-bot-auth"', authorization: 'Bearer t', 'user-agent': 'ua', accept: '*/*'})
  // Envelope spec §5: an unparseable header goes whole when it mentions pipelock (unpadded base64 is not RFC 8941).
  assert.deepEqual(outboundHeaders({signature: 'pipelock1=:abc:, other=:def:'}), {})
})

test('CONNECT authority parsing', () => {
  assert.deepEqual(parseAuthority('example.com:443'), {host: 'example.com', port: 443})
  assert.deepEqual(parseAuthority('example.com'), {host: 'example.com', port: 443})
  assert.deepEqual(parseAuthority('[::1]:8443'), {host: '::1', port: 8443})
  for (const bad of ['', 'a b:443', 'example.com:0', 'example.com:70000', 'http://x/', 'user@host:443']) assert.equal(parseAuthority(bad), null, bad)
})
