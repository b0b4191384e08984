import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {Ed25519BatchVerifier} from '../../../src/plugins/signing/ed25519.js'
import {keyPairFromSeed, signBytes, verifyBytes} from '../../../src/plugins/signing/index.js'

// The verification worker keeps the last key's KeyObject (issue 11): its answers must be
// verifyBytes' answers for runs of one key, key changes back and forth, bad signatures, and
// malformed sizes.

test('Ed25519BatchVerifier answers as verifyBytes across key changes, bad signatures and bad sizes', () => {
  const keys = ['a', 'b'].map((s) => keyPairFromSeed(createHash('sha256').update(s).digest()))
  const cases: [Uint8Array, Uint8Array, Uint8Array][] = []
  for (let i = 0; i < 40; i++) {
    const k = keys[i % 7 < 4 ? 0 : 1]!
    const msg = createHash('sha256').update(String(i)).digest()
    const sig = signBytes(k, msg)
    if (i % 5 === 3) sig[0] = (sig[0] as number) ^ 1 // a bad signature
    const pub = i % 11 === 10 ? keys[(i + 1) % 2]!.publicKey : k.publicKey // the other key
    cases.push([pub, msg, sig])
  }
  cases.push([keys[0]!.publicKey.subarray(0, 31), Buffer.alloc(32), Buffer.alloc(64)])
  cases.push([keys[0]!.publicKey, Buffer.alloc(32), Buffer.alloc(63)])
  const v = new Ed25519BatchVerifier()
  const got = cases.map(([p, m, s]) => v.verify(p, m, s))
  assert.deepEqual(got, cases.map(([p, m, s]) => verifyBytes(p, m, s)))
  assert.ok(got.filter(Boolean).length > 20 && got.some((x) => !x))
})
