/**
 * The two entry validators shared by every host list and header-name list in the config: an
 * entry the runtime's matcher could never match is refused (or, where transports §2.6 asks for
 * it, accepted with a warning), never accepted and silently ignored.
 */
import assert from 'node:assert/strict'
import {isIP} from 'node:net'
import {test} from 'node:test'
import {prng} from '../../helpers/prng.js'
import {checkHostRule} from '../../../src/plugins/config/index.js'
import {headerNameError} from '../../../src/plugins/config/header-rules.js'
import {matchesAnyDomain} from '../../../src/plugins/scanner/index.js'

const refusal = (raw: string, opts?: Parameters<typeof checkHostRule>[1]): string => {
  const r = checkHostRule(raw, opts)
  assert.equal(r.ok, false, `${JSON.stringify(raw)} was accepted`)
  return r.ok ? '' : r.message
}

test('checkHostRule: entries that match no host are refused, with the reason', () => {
  assert.equal(refusal('https://x.com'), '"https://x.com" is a URL; use a bare hostname')
  assert.equal(refusal('x.com:443'), '"x.com:443" contains a port; use a bare hostname')
  assert.equal(refusal('x.com/path'), '"x.com/path" contains a path; use a bare hostname')
  assert.equal(refusal('a*.x.com'), '"a*.x.com" contains glob characters; only a leading "*." is allowed')
  assert.equal(refusal('x?.com'), '"x?.com" contains glob characters; only a leading "*." is allowed')
  assert.equal(refusal('*.*.x.com'), '"*.*.x.com" contains glob characters; only a leading "*." is allowed')
  assert.equal(refusal('x..com'), '"x..com" has an empty label')
  assert.equal(refusal(''), 'empty hostname')
  assert.equal(refusal('   '), 'empty hostname')
  // The matcher does not trim, so surrounding whitespace made an entry match nothing.
  assert.equal(refusal(' x.com'), '" x.com" has leading or trailing whitespace, so it matches no host; remove it')
  assert.equal(refusal('x.com\t'), '"x.com\\t" has leading or trailing whitespace, so it matches no host; remove it')
  assert.equal(refusal('exa mple.com'), '"exa mple.com" contains whitespace, so it matches no host; a hostname has none')
  assert.equal(refusal('*'), 'bare "*" would match every host')
  assert.equal(refusal('*.com'), '"*.com" wildcards a whole top-level domain')
})

test('checkHostRule: hostnames, wildcards, IP literals and a trailing dot are accepted, normalised as the matcher reads them', () => {
  for (const [raw, value] of [['x.com', 'x.com'], ['*.X.com', '*.x.com'], ['a.b.x.com.', 'a.b.x.com'], ['10.0.0.1', '10.0.0.1'], ['::1', '::1'], ['under_score.example', 'under_score.example']]) {
    assert.deepEqual(checkHostRule(raw!), {ok: true, value})
  }
  for (const [raw, value] of [['FE80::1', 'fe80::1'], ['::ffff:10.0.0.1', '::ffff:10.0.0.1'], ['2001:db8::', '2001:db8::'], ['255.255.255.255.', '255.255.255.255']]) {
    assert.deepEqual(checkHostRule(raw!), {ok: true, value})
  }
  // Only text with a colon, or of digits and dots alone, is asked whether it is an address: every
  // address Node's isIP accepts is such text (so no address is read as a name).
  const next = prng(36)
  const texts = ['1.2.3.4', '0.0.0.0', '::', '::1', 'fe80::1%eth0', '1::2:3:4:5:6:7', '::ffff:1.2.3.4', 'a:b:c:d:e:f:1:2']
  for (let i = 0; i < 20_000; i++) {
    let t = ''
    for (let n = 1 + Math.floor(next() * 16); n > 0; n--) t += '0123456789abcdefx.:%'[Math.floor(next() * 20)]
    texts.push(t)
  }
  let addresses = 0
  for (const t of texts) {
    if (isIP(t) === 0) continue
    addresses++
    assert.ok(t.includes(':') || /^[\d.]+$/.test(t), t)
  }
  assert.ok(addresses > 40, `${addresses} addresses among the texts`)
  // A deny list may block a whole TLD; bare "*" stays refused there.
  assert.deepEqual(checkHostRule('*.ru', {tldWildcard: true}), {ok: true, value: '*.ru'})
  assert.equal(refusal('*', {tldWildcard: true}), 'bare "*" would match every host')
})

test('checkHostRule warnBroad (passthrough_domains, redirect_websocket_hosts): "*" and "*.tld" load with a warning; the rest is refused as elsewhere', () => {
  assert.deepEqual(checkHostRule('*', {warnBroad: true}), {ok: true, value: '*', warning: 'bare "*" matches no host: only a leading "*." is a wildcard'})
  assert.deepEqual(checkHostRule('*.com', {warnBroad: true}), {ok: true, value: '*.com', warning: '"*.com" wildcards a whole top-level domain: every .com host matches'})
  assert.deepEqual(checkHostRule('*.googlevideo.com', {warnBroad: true}), {ok: true, value: '*.googlevideo.com'})
  assert.equal(refusal('https://registry.npmjs.org', {warnBroad: true}), '"https://registry.npmjs.org" is a URL; use a bare hostname')
  assert.equal(refusal('*registry.npmjs.org', {warnBroad: true}), '"*registry.npmjs.org" contains glob characters; only a leading "*." is allowed')
  // What the warnings say is what the shared matcher does.
  assert.equal(matchesAnyDomain('example.com', ['*']), null)
  assert.equal(matchesAnyDomain('*', ['*']), '*')
  assert.equal(matchesAnyDomain('www.example.com', ['*.com']), '*.com')
})

test('headerNameError: an entry that is not an RFC 9110 token is refused; the value after a colon is never echoed', () => {
  for (const ok of ['Authorization', 'X-Api-Key', 'x-goog-api-key', 'X_Custom.Header', "!#$%&'*+-.^_`|~09"]) assert.equal(headerNameError(ok), null, ok)
  assert.equal(headerNameError(''), 'empty header name')
  assert.equal(headerNameError('  '), 'empty header name')
  assert.equal(headerNameError(' Cookie'), '" Cookie" has leading or trailing whitespace, so it matches no header; remove it')
  assert.equal(headerNameError('X-Api-Key: sk-not-shown'), '"X-Api-Key: …" contains ":"; list the header name alone ("X-Api-Key")')
  assert.equal(headerNameError(':authority'), '": …" contains ":"; list the header name alone')
  assert.equal(headerNameError('X Api Key'), '"X Api Key" is not a header name: " " is not allowed (RFC 9110 token characters only)')
  assert.equal(headerNameError('X-Tökén'), '"X-Tökén" is not a header name: "ö" is not allowed (RFC 9110 token characters only)')
  assert.equal(headerNameError('X-(Comment)'), '"X-(Comment)" is not a header name: "(" is not allowed (RFC 9110 token characters only)')
  assert.equal(headerNameError('X-A\u0000'), '"X-A\\u0000" is not a header name: "\\u0000" is not allowed (RFC 9110 token characters only)')
})
