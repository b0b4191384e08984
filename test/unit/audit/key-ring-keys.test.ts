import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {KeyRing} from '../../../src/plugins/audit/index.js'
import {encodePublicKeyText, fingerprint} from '../../../src/plugins/signing/index.js'
import {K1} from '../../helpers/receipt-fixtures.js'

// What a ring says about the keys it was given: a key read from a file is named by its
// fingerprint and path (errors never echo a file's contents: it may hold a private key in hex),
// and an unnamed key beside a roster is refused instead of silently going unused.

test('a key read from a file, plain or named, is named by fingerprint and path; an inline key by nothing', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-keyring-'))
  const hexFile = path.join(dir, 'a.key')
  const textFile = path.join(dir, 'b.pub')
  const other = 'ab'.repeat(32)
  writeFileSync(hexFile, `${K1}\n`)
  writeFileSync(textFile, encodePublicKeyText(Buffer.from(other, 'hex')))
  const ring = KeyRing.load({keys: [hexFile, `ops=${textFile}`]})
  assert.equal(ring.plain, K1)
  assert.equal(ring.nameOf(K1), `${fingerprint(Buffer.from(K1, 'hex'))} (the key in ${hexFile})`)
  assert.equal(ring.nameOf(other), `${fingerprint(Buffer.from(other, 'hex'))} (the key in ${textFile})`)
  assert.equal(KeyRing.load({keys: [K1]}).nameOf(K1), undefined)
})

test('an unnamed key with a roster is a usage error, before the roster is read', () => {
  assert.throws(
    () => KeyRing.load({keys: [K1], roster: 'roster.json', rosterRootFingerprint: `sha256:${'0'.repeat(64)}`}),
    (e: Error & {code?: string}) => e.code === 'USAGE' && e.message === '--key KEY cannot be combined with --roster: the roster decides every v2 signer, so the key would go unchecked; pass one of them, or name the key as --key ID=KEY',
  )
})

test('the --key hint for a signer with no key quotes the id from the receipt when a shell would read it', () => {
  const ring = KeyRing.load({keys: [`ops=${K1}`]})
  const receipt = (id: string) => ({signature: {signerKeyId: id}}) as unknown as Parameters<KeyRing['forEvidence']>[0]
  assert.deepEqual(ring.forEvidence(receipt('billing')), {error: 'no key for signer_key_id "billing": pass --key billing=HEX or a roster'})
  assert.deepEqual(ring.forEvidence(receipt('x$(touch pwned)')), {error: `no key for signer_key_id "x$(touch pwned)": pass --key 'x$(touch pwned)=HEX' or a roster`})
})
