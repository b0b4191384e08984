// The one classification of upstream failures (proxy/upstream-cause.ts) every transport uses:
// the class from the error's code, the words the audit line and the hint share, and a hint that
// never carries an error's own message (which may quote the URL).
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'
import {DialBlockedError} from '../../../src/plugins/proxy/ssrf-dialer.js'
import {causedFailure, namedCause, upstreamCause, upstreamCauseHint, UpgradeRefusedError} from '../../../src/plugins/proxy/upstream-cause.js'
import {repoPath} from '../../helpers/vectors.js'

const coded = (code: string, message = `${code} http://h.example/x?key=v4lue`): Error => Object.assign(new Error(message), {code})

test('codes map to their class and to the shared words, code last', () => {
  const cases: Array<[string, string, string]> = [
    ['ENOTFOUND', 'dns', 'DNS name not found (ENOTFOUND)'],
    ['ECONNREFUSED', 'refused', 'connection refused (ECONNREFUSED)'],
    ['UND_ERR_CONNECT_TIMEOUT', 'timeout', 'connect timed out (UND_ERR_CONNECT_TIMEOUT)'],
    ['ECONNRESET', 'closed', 'connection reset by peer (ECONNRESET)'],
    ['UND_ERR_SOCKET', 'closed', 'connection closed by the upstream (UND_ERR_SOCKET)'],
    ['CERT_HAS_EXPIRED', 'tls_certificate', 'upstream TLS certificate expired (CERT_HAS_EXPIRED)'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls_handshake', 'TLS handshake failed (ERR_SSL_WRONG_VERSION_NUMBER)'],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'tls_handshake', 'TLS handshake failed (ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION)'],
    ['EHOSTUNREACH', 'unreachable', 'no route to host (EHOSTUNREACH)'],
  ]
  for (const [code, cls, text] of cases) {
    const c = upstreamCause(coded(code))
    assert.deepEqual([c.cls, c.text, c.code], [cls, text, code], code)
    assert.ok(upstreamCauseHint(c).startsWith(`Upstream failed: ${text}. `), code)
  }
})

test('a fetch()-style wrapper is classified by its cause', () => {
  const wrapped = Object.assign(new TypeError('fetch failed'), {cause: coded('ECONNREFUSED')})
  assert.equal(upstreamCause(wrapped).cls, 'refused')
})

test('a WebSocket upgrade answered with another status names that status', () => {
  const c = upstreamCause(new UpgradeRefusedError(404))
  assert.deepEqual([c.cls, c.text], ['upgrade_status', 'upstream answered 404 to the WebSocket upgrade'])
})

test('an error without a code: the audit words keep its message, the hint does not', () => {
  const c = upstreamCause(new Error('bad thing at http://h.example/x?key=v4lue'))
  assert.equal(c.cls, 'other')
  assert.equal(causedFailure('forward proxy fetch failed', c).detail, 'forward proxy fetch failed: bad thing at http://h.example/x?key=v4lue')
  assert.equal(upstreamCauseHint(c), 'Upstream failed. The audit log line of this request has the detail.')
  // A code that is not an upper-case word is not trusted into the header either.
  assert.ok(!upstreamCauseHint(upstreamCause(coded('weird code?key=v4lue'))).includes('v4lue'))
})

test('the SSRF-safe dialer refusing an address is a dial-time SSRF block, its message kept for the audit line', () => {
  const f = causedFailure('tunnel dial failed', upstreamCause(new DialBlockedError('SSRF blocked at dial time: h.example resolves to internal IP 10.0.0.1')))
  assert.deepEqual([f.dialBlocked, f.detail], [true, 'tunnel dial failed: SSRF blocked at dial time: h.example resolves to internal IP 10.0.0.1'])
})

test('docs/operations.md, "Upstream failures", gives every class its advice as the code does', () => {
  const doc = readFileSync(repoPath('docs', 'operations.md'), 'utf8')
  const samples = ['ENOTFOUND', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_SSL_WRONG_VERSION_NUMBER'].map((c) => upstreamCause(coded(c)))
  samples.push(upstreamCause(new UpgradeRefusedError(404)), namedCause('redirect', 'too many redirects (max 5)'))
  for (const c of samples) {
    const advice = upstreamCauseHint(c).slice(`Upstream failed: ${c.text}. `.length)
    assert.ok(doc.includes(`. ${advice}\``), `${c.cls}: ${advice}`)
  }
  for (const full of ['ENOTFOUND', 'ECONNREFUSED'].map((c) => upstreamCauseHint(upstreamCause(coded(c))))) assert.ok(doc.includes(`\`${full}\``), full)
  assert.ok(doc.includes(`\`${upstreamCauseHint(upstreamCause(new UpgradeRefusedError(404)))}\``))
  assert.ok(doc.includes(`\`${upstreamCauseHint(upstreamCause(new Error('no code')))}\``))
})
