import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {
  decodePrivateKeyText,
  decodePublicKeyText,
  encodePrivateKeyText,
  encodeKeyFile,
  encodePublicKeyText,
  fingerprint,
  goPrivateKey,
  keyTextKind,
  loadPublicKey,
  parseFingerprint,
  verifyFingerprint,
} from '../../../src/plugins/signing/index.js'
import {test1, TEST1_FP, TEST1_PUB} from './test-keys.js'

const pub = Buffer.from(TEST1_PUB, 'hex')

test('fingerprint requires 32 bytes', () => {
  assert.throws(() => fingerprint(Buffer.alloc(31)), {message: 'invalid public key length for fingerprint: got 31 bytes, want 32'})
})

test('parseFingerprint: every malformed case with its text', () => {
  const cases: Array<[string, string]> = [
    ['abc', 'missing algorithm prefix'],
    [':abc', 'empty algorithm'],
    ['sha256:', 'empty digest'],
    ['md5:abcd', 'unsupported algorithm "md5"'],
    ['sha256:zz', "invalid hex in digest: encoding/hex: invalid byte: U+007A 'z'"],
    ['sha256:abc', 'invalid hex in digest: encoding/hex: odd length hex string'],
    ['sha256:abcd', 'digest length 4 hex chars, want 64'],
  ]
  for (const [input, reason] of cases) assert.throws(() => parseFingerprint(input), {message: `malformed fingerprint: ${reason}`}, input)
  assert.equal(parseFingerprint('sha256:' + TEST1_FP.slice(7).toUpperCase()), TEST1_FP.slice(7))
})

test('verifyFingerprint: mismatch text names both values', () => {
  const other = 'sha256:' + '0'.repeat(64)
  assert.throws(() => verifyFingerprint(pub, other), {message: `fingerprint mismatch: got ${TEST1_FP}, want ${other}`})
  verifyFingerprint(pub, TEST1_FP)
})

test('versioned text formats round-trip and refuse bad headers and lengths', () => {
  const text = encodePublicKeyText(pub)
  assert.equal(text, 'pipelock-ed25519-public-v1\n11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n')
  assert.deepEqual(decodePublicKeyText(`  ${text}\n\n`), pub)
  const priv = goPrivateKey(test1())
  assert.deepEqual(decodePrivateKeyText(encodePrivateKeyText(priv)), priv)
  // The reference's message stays; the hint names the key that was given instead.
  assert.throws(() => decodePublicKeyText('pipelock-ed25519-private-v1\nAAAA\n'), {
    message: 'invalid public key format (expected pipelock-ed25519-public-v1 header)',
    hint: 'found a private key (pipelock-ed25519-private-v1) where a public key is expected: pass its public half, the .pub file keygen wrote beside it',
  })
  assert.throws(() => decodePublicKeyText('pipelock-ed25519-public-v1\nAAAA\n'), {message: 'invalid public key length: got 3, want 32'})
  assert.throws(() => decodePrivateKeyText(text), {
    message: 'invalid private key format (expected pipelock-ed25519-private-v1 header)',
    hint: 'found a public key (pipelock-ed25519-public-v1) where a private key is expected: pass the private key file (keygen writes it beside the .pub, as id_ed25519)',
  })
  // Text in none of the project's formats gets no hint (there is nothing to name).
  assert.throws(() => decodePublicKeyText('hello\n'), (e: Error & {hint?: string}) => e.hint === undefined)
  assert.throws(() => decodePrivateKeyText('pipelock-ed25519-private-v1\n' + pub.toString('base64')), {message: 'invalid private key length: got 32, want 64'})
})

test('loadPublicKey: versioned file, hex file, inline hex, and the receipts.md §11.1 errors', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-pub-'))
  const v = path.join(dir, 'k.pub')
  const h = path.join(dir, 'k.hex')
  const bad = path.join(dir, 'bad.pub')
  writeFileSync(v, encodePublicKeyText(pub))
  writeFileSync(h, TEST1_PUB.toUpperCase() + '\n')
  writeFileSync(bad, 'hello\n')
  for (const input of [v, h, TEST1_PUB, TEST1_PUB.toUpperCase()]) {
    const r = loadPublicKey(input)
    assert.equal(r.hex, TEST1_PUB)
    assert.deepEqual(r.bytes, pub)
  }
  assert.throws(() => loadPublicKey(''), {message: 'public key is empty'})
  for (const missing of [path.join(dir, 'nope'), './nope', 'nope.pub', 'a\\b']) {
    assert.throws(() => loadPublicKey(missing), {message: `reading public key file ${missing}: file does not exist`})
  }
  assert.throws(() => loadPublicKey(bad), {message: 'invalid public key: invalid public key format (expected pipelock-ed25519-public-v1 header)'})
  assert.throws(() => loadPublicKey('nothex'), {message: 'invalid public key: invalid public key format (expected pipelock-ed25519-public-v1 header)'})
  assert.throws(() => loadPublicKey('abcd'), {message: 'invalid public key length: got 2, want 32'})
  const short = path.join(dir, 'short.pub')
  writeFileSync(short, 'pipelock-ed25519-public-v1\nAAAA\n')
  assert.throws(() => loadPublicKey(short), {message: 'invalid public key length: got 3, want 32'})
})

test('keyTextKind and the hints of a key of the wrong kind (never its content)', () => {
  const jsonKey = encodeKeyFile('receipt-signing', 'r1', test1(), '2026-01-01T00:00:00Z')
  const privText = encodePrivateKeyText(goPrivateKey(test1()))
  assert.equal(keyTextKind(encodePublicKeyText(pub)), 'public')
  assert.equal(keyTextKind(`\n${privText}`), 'private')
  assert.equal(keyTextKind(jsonKey), 'json-key-file')
  assert.equal(keyTextKind('{"a": 1}'), undefined)
  assert.equal(keyTextKind(TEST1_PUB), undefined)
  const jsonHint =
    'found a JSON deployment key file (pipelock signing key generate) where a public key is expected: pass a pipelock-ed25519-public-v1 file (keygen\'s id_ed25519.pub)'
  assert.throws(() => decodePublicKeyText(jsonKey), {message: 'invalid public key format (expected pipelock-ed25519-public-v1 header)', hint: jsonHint})
  assert.throws(() => decodePrivateKeyText(jsonKey), {
    hint: 'found a JSON deployment key file (pipelock signing key generate) where a private key is expected: this needs a pipelock-ed25519-private-v1 key; make one with pipelock keygen NAME',
  })
  // loadPublicKey (verify-receipt --key) also takes hex, so the JSON file's "public" value is named.
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-pub-'))
  const sk = path.join(dir, 'sk1')
  const priv = path.join(dir, 'id_ed25519')
  writeFileSync(sk, jsonKey)
  writeFileSync(priv, privText)
  const msg = 'invalid public key: invalid public key format (expected pipelock-ed25519-public-v1 header)'
  assert.throws(() => loadPublicKey(sk), {message: msg, hint: `${jsonHint}, or the key file's "public" value (64 hex)`})
  for (const thrown of [() => loadPublicKey(sk), () => loadPublicKey(priv)]) {
    assert.throws(thrown, (e: Error & {hint?: string}) => !e.hint?.includes(goPrivateKey(test1()).toString('base64')) && !e.hint?.includes('d75a98'))
  }
  assert.throws(() => loadPublicKey(priv), {message: msg, hint: 'found a private key (pipelock-ed25519-private-v1) where a public key is expected: pass its public half, the .pub file keygen wrote beside it'})
})
