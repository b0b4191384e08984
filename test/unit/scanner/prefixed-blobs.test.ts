import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createScanner, defaultScannerSettings} from '../../../src/plugins/scanner/index.js'

const KEY = 'AKIA' + 'QWERTYUIOPASDFGH'
const B64 = Buffer.from(KEY).toString('base64')
const HEX = Buffer.from(KEY).toString('hex')
const b64url = (s: string): string => Buffer.from(s).toString('base64url')

test('an encoded key beside punctuation no decoder alphabet holds (v1.<base64>, a JWT) is decoded and found in bodies, headers, query values and path segments', () => {
  const sc = createScanner(defaultScannerSettings())
  const jwt = `${b64url('{"alg":"none"}')}.${b64url(`{"k":"${KEY}"}`)}.`
  const blobs = [`v1.${B64}`, `${B64}|x`, `!${B64}`, `@${HEX}`, `sig~${B64}`, `$${B64}^`, `#${B64}*`, jwt]
  for (const blob of blobs) {
    assert.equal(sc.scanRequestBody({contentType: 'application/json', body: Buffer.from(JSON.stringify({token: blob}))}).action, 'block', `body ${blob}`)
    assert.equal(sc.scanRequestBody({contentType: 'text/plain', body: Buffer.from(`token ${blob} end`)}).action, 'block', `text ${blob}`)
    assert.equal(sc.scanRequestHeaders([['x-sig', blob]]).action, 'block', `header ${blob}`)
    assert.ok(sc.scanUrlDlp(`http://up.example/upload?sig=${encodeURIComponent(blob)}`).matches.length > 0, `query ${blob}`)
    assert.ok(sc.scanUrlDlp(`http://up.example/upload/${encodeURIComponent(blob)}`).matches.length > 0, `path ${blob}`)
  }
  assert.equal(sc.scanRequestHeaders([['authorization', `Bearer ${jwt}`]]).action, 'block')
})

test('ordinary dotted and punctuated text stays clean', () => {
  const sc = createScanner(defaultScannerSettings())
  for (const text of ['see https://docs.example.com/v1.2/guide!', 'version 1.2.3|build #4521 ~ ok', 'user@example.com wrote: wow!!! $5 ^_^', 'a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p']) {
    assert.equal(sc.scanRequestBody({contentType: 'text/plain', body: Buffer.from(text)}).action, 'allow', text)
    assert.equal(sc.scanUrlDlp(`http://docs.example.com/v1.2/guide?q=${encodeURIComponent(text)}`).matches.length, 0, text)
  }
})
