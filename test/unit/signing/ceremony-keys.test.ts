import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {encodeKeyFile, encodePrivateKeyText, encodePublicKeyText, goPrivateKey, hexPublicKeyFromFlags} from '../../../src/plugins/signing/index.js'
import {test1, TEST1_PUB, TEST2_PUB} from './test-keys.js'

test('ceremony key flags: exactly one of inline hex or a ≤4096-byte hex file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-cer-'))
  const f = path.join(dir, 'k.hex')
  writeFileSync(f, `  ${TEST2_PUB}\n`)
  assert.equal(hexPublicKeyFromFlags('recovery-pubkey', TEST2_PUB, undefined).toString('hex'), TEST2_PUB)
  assert.equal(hexPublicKeyFromFlags('recovery-pubkey', undefined, f).toString('hex'), TEST2_PUB)
  const one = {message: 'exactly one of --recovery-pubkey or --recovery-pubkey-file is required'}
  assert.throws(() => hexPublicKeyFromFlags('recovery-pubkey', undefined, undefined), one)
  assert.throws(() => hexPublicKeyFromFlags('recovery-pubkey', TEST2_PUB, f), one)
  const big = path.join(dir, 'big.hex')
  writeFileSync(big, TEST2_PUB + ' '.repeat(4096))
  assert.throws(() => hexPublicKeyFromFlags('recovery-pubkey', undefined, big), /exceeds size cap: got 4160 bytes, max 4096/)
  assert.throws(() => hexPublicKeyFromFlags('old-pubkey', 'abcd', undefined), {message: '--old-pubkey: invalid public key length: got 2, want 32'})
  assert.throws(() => hexPublicKeyFromFlags('old-pubkey', 'xyz', undefined), /^PipelockError: --old-pubkey: invalid hex: /)
})

test('ceremony key files: errors name the -file flag; transition keys may be keygen .pub files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-cer-'))
  const kp = test1()
  const pubText = path.join(dir, 'id_ed25519.pub')
  writeFileSync(pubText, encodePublicKeyText(kp.publicKey))
  const privText = path.join(dir, 'id_ed25519')
  writeFileSync(privText, encodePrivateKeyText(goPrivateKey(kp)))
  const json = path.join(dir, 'root.json')
  writeFileSync(json, encodeKeyFile('roster-root', 'root', kp, '2026-01-01T00:00:00Z'))
  const junk = path.join(dir, 'junk')
  writeFileSync(junk, 'pub key here\n')
  const short = path.join(dir, 'short.hex')
  writeFileSync(short, 'abcd\n')
  const accept = {acceptKeyText: true}

  // transition verify: the project's own public key file is accepted beside hex
  assert.equal(hexPublicKeyFromFlags('old-pubkey', undefined, pubText, accept).toString('hex'), TEST1_PUB)
  const expected = "expected 64 hex characters or a pipelock-ed25519-public-v1 file (keygen's .pub)"
  assert.throws(() => hexPublicKeyFromFlags('old-pubkey', undefined, junk, accept), {
    message: `--old-pubkey-file ${junk}: invalid hex: encoding/hex: invalid byte: U+0070 'p'`,
    hint: "the key is expected as 64 hex characters or a pipelock-ed25519-public-v1 file (keygen's .pub)",
  })
  assert.throws(() => hexPublicKeyFromFlags('old-pubkey', undefined, short, accept), {message: `--old-pubkey-file ${short}: invalid public key length: got 2, want 32`})
  // A directory exists: it is unreadable as a key file, not missing.
  assert.throws(() => hexPublicKeyFromFlags('old-pubkey', undefined, path.dirname(short), accept), {code: 'FILE_UNREADABLE'})
  assert.throws(() => hexPublicKeyFromFlags('old-pubkey', undefined, path.join(path.dirname(short), 'absent'), accept), {code: 'FILE_NOT_FOUND'})
  assert.throws(() => hexPublicKeyFromFlags('new-pubkey', undefined, privText, accept), {
    message: `--new-pubkey-file ${privText} is a private key (pipelock-ed25519-private-v1), not a public key: ${expected}`,
  })
  assert.throws(() => hexPublicKeyFromFlags('new-pubkey', undefined, json, accept), {
    message: `--new-pubkey-file ${json} is a JSON deployment key file (pipelock signing key generate), not a public key: ${expected}`,
    hint: 'pass the file\'s "public" value: --new-pubkey <64 hex>',
  })
  // recovery verify: its spec fixes the file as 64 hex, so a .pub file is refused by name
  assert.throws(() => hexPublicKeyFromFlags('recovery-pubkey', undefined, pubText), {
    message: `--recovery-pubkey-file ${pubText} is a public key (pipelock-ed25519-public-v1); this flag takes the key as 64 hex characters`,
  })
  assert.throws(() => hexPublicKeyFromFlags('recovery-pubkey', undefined, junk), {
    message: `--recovery-pubkey-file ${junk}: invalid hex: encoding/hex: invalid byte: U+0070 'p'`,
    hint: 'the key is expected as 64 hex characters',
  })
})
