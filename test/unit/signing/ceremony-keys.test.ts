import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {hexPublicKeyFromFlags} from '../../../src/plugins/signing/index.js'
import {TEST2_PUB} from './test-keys.js'

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
