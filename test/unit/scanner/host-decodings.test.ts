/**
 * A key spelt in hex or base32 in a host name's labels is found by URL DLP before the name goes
 * to a resolver: in one label, split over labels, after a filler character, hyphen-separated.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {hostLabelDecodings} from '../../../src/plugins/scanner/host-decodings.js'
import {harness} from './url-helpers.js'

const KEY = 'AKIAZ7QW3ERT5YUI6OPL'
const HEX = Buffer.from(KEY).toString('hex') // 414b49415a3751573345525435595549364f504c
const B32 = 'iffusqk2g5ivom2fkjkdkwkvje3e6ucm' // base32 of KEY, lower-cased as a host is

const texts = (host: string): string[] => hostLabelDecodings(host).map((d) => d.text)
const holdsKey = (host: string): boolean => texts(host).some((t) => t.includes(KEY))

test('hex and base32 label runs decode to the key, however the labels split it', () => {
  assert.equal(HEX, '414b49415a3751573345525435595549364f504c')
  for (const host of [
    `${HEX}.exfil.example.net`,
    `${HEX.slice(0, 20)}.${HEX.slice(20)}.exfil.example.net`,
    `${HEX.slice(0, 7)}.${HEX.slice(7, 30)}.${HEX.slice(30)}.exfil.example.net`,
    `x${HEX}.exfil.example.net`, // a filler letter outside the alphabet
    `0${HEX}.exfil.example.net`, // an odd number of digits before it
    `${HEX.match(/../g)!.join('-')}.exfil.example.net`, // hyphen-separated bytes
    `${B32}.exfil.example.net`,
    `${B32.slice(0, 16)}.${B32.slice(16)}.exfil.example.net`,
    `zz${B32.slice(0, 11)}.${B32.slice(11)}.exfil.example.net`, // base32 off the 8-character grid
  ]) assert.ok(holdsKey(host), host)
  assert.deepEqual(hostLabelDecodings(`${HEX}.exfil.example.net`).map((d) => d.encoding).filter((e, i, a) => a.indexOf(e) === i), ['hex', 'base32'])
})

test('short runs are not decoded; an ordinary short name has no decodings at all', () => {
  for (const host of ['api.github.com', 'example.com', 'a.b.c.d', 'cafe.beef.d', '']) assert.deepEqual(texts(host), [], host)
  // Nine hex digits over labels (under a path segment's ten) are left alone; ten are decoded.
  assert.deepEqual(hostLabelDecodings('cafe.beef.d.zz').filter((d) => d.encoding === 'hex'), [])
  assert.deepEqual(hostLabelDecodings('cafe.beef.de').filter((d) => d.encoding === 'hex').length, 1)
})

test('the URL scan refuses the key in the host with a DLP reason and never asks the resolver', async () => {
  const h = harness()
  for (const host of [
    `${HEX}.exfil.example.net`,
    `${HEX.slice(0, 20)}.${HEX.slice(20)}.exfil.example.net`,
    `${B32.slice(0, 16)}.${B32.slice(16)}.exfil.example.net`,
  ]) {
    const r = await h.scan(`http://${host}/`)
    assert.equal(r.allowed, false, host)
    assert.equal(r.scanner, 'core_dlp', host)
    assert.equal(r.detail, 'core DLP match: AWS Access ID (critical)', host)
  }
  assert.deepEqual(h.lookups, [])
})

test('ordinary names with hex or letter runs still resolve and pass', async () => {
  const h = harness()
  const hosts = [
    'd1a2b3c4d5e6f7.cloudfront.net',
    'login.microsoftonline.com',
    'storage.googleapis.com',
    '0123456789abcdef.s3.amazonaws.com',
    'deadbeefcafebabe0123.example.org',
    'registry.npmjs.org',
  ]
  for (const host of hosts) {
    const r = await h.scan(`https://${host}/`)
    assert.equal(r.allowed, true, `${host}: ${r.scanner} ${r.detail}`)
  }
  assert.deepEqual(h.lookups, hosts)
})
