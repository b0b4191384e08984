import {test} from 'node:test'
import assert from 'node:assert/strict'
import {goHostname, GoUrlError, parseGoUrl, parseGoUrlBytes, parseHttpUrl, toByteString} from '../../../src/plugins/canonical/index.js'

// The one Go-compatible URL parser serves the scanner (ordinary strings) and the compiler and
// evaluator (byte strings); these pin that both views come from the same parse.

test('an unbracketed host with more than one colon is refused (Go 1.25), bracketed IPv6 is not', () => {
  for (const raw of ['http://localhost:80:80/', 'http://::1/', 'http://a:b:c/']) {
    assert.throws(() => parseGoUrl(raw), GoUrlError, raw)
    assert.equal(parseHttpUrl(raw), undefined, raw)
  }
  assert.equal(goHostname(parseGoUrl('http://[::1]:8080/x').host), '::1')
  assert.deepEqual(parseHttpUrl('http://[::1]:8080/x'), {hostname: '::1', escapedPath: '/x'})
})

test('string and byte-string views of a non-ASCII URL agree', () => {
  const raw = 'https://exämple.com/pä th/%C3%A9?q=é#frâg'
  const s = parseGoUrl(raw)
  const b = parseGoUrlBytes(toByteString(raw))
  assert.equal(s.host, 'exämple.com')
  assert.equal(b.host, toByteString('exämple.com'))
  assert.equal(s.path, '/pä th/é')
  assert.equal(b.path, toByteString('/pä th/é'))
  // EscapedPath re-encodes the raw bytes, identically in both views.
  assert.equal(s.escapedPath, '/p%C3%A4%20th/%C3%A9')
  assert.equal(b.escapedPath, s.escapedPath)
  assert.equal(s.rawQuery, 'q=é')
  assert.equal(s.fragment, 'frâg')
})

test('an invalid UTF-8 byte decoded from the path becomes one U+FFFD per byte (Go printing)', () => {
  assert.equal(parseGoUrl('http://h/%FF%FE').path, '/\ufffd\ufffd')
  assert.equal(parseGoUrlBytes('http://h/%FF%FE').path, '/\xff\xfe')
})

test('compile acceptance: http(s), a host, no userinfo', () => {
  assert.equal(parseHttpUrl('ftp://h/x'), undefined)
  assert.equal(parseHttpUrl('http://user@h/x'), undefined)
  assert.equal(parseHttpUrl('http:/x'), undefined)
  assert.equal(parseHttpUrl('http:opaque'), undefined)
  assert.deepEqual(parseHttpUrl('HTTPS://API.Example.com/V1/%7Euser'), {hostname: 'API.Example.com', escapedPath: '/V1/%7Euser'})
})
