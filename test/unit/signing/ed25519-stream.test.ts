import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Ed25519StreamVerifier, ed25519ArithmeticLoaded, keyPairFromSeed, loadEd25519Arithmetic, sha256, signBytes, verifyBytes} from '../../../src/plugins/signing/index.js'
import {prng} from '../../helpers/prng.js'

// The Ed25519 check over a message given in pieces (learn shadow's contract load) against
// node:crypto's over the whole message: it may say yes only where node:crypto does.

test('before the curve arithmetic is loaded every check is false (not a verdict: the caller reads the whole message)', () => {
  assert.equal(ed25519ArithmeticLoaded(), false)
  const kp = keyPairFromSeed(sha256('ed25519-stream-unloaded'))
  const msg = Buffer.from('signed')
  assert.equal(verifyBytes(kp.publicKey, msg, signBytes(kp, msg)), true)
  assert.equal(new Ed25519StreamVerifier(kp.publicKey, signBytes(kp, msg)).update(msg).verify(), false)
})

const ORDER = (1n << 252n) + 27742317777372353535851937790883648493n

function bytesOf(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256)
  return b
}

function inPieces(key: Uint8Array, sig: Uint8Array, msg: Buffer, r: () => number): boolean {
  const v = new Ed25519StreamVerifier(key, sig)
  let at = 0
  while (at < msg.length) {
    const n = 1 + Math.floor(r() * 300)
    // Strings as UTF-8 and bytes: both kinds of piece.
    if (r() < 0.3) v.update(msg.subarray(at, at + n).toString('latin1').replace(/[^\x00-\x7f]/g, '?'))
    else v.update(msg.subarray(at, at + n))
    at += n
  }
  return v.verify()
}

function littleEndian(b: Uint8Array): bigint {
  let n = 0n
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] as number)
  return n
}

function toLittleEndian(n: bigint, len: number): Buffer {
  const b = Buffer.alloc(len)
  for (let i = 0; i < len; i++) {
    b[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return b
}

test('in pieces it agrees with node:crypto over the whole message: valid, a bit flipped in R, in S or in the message, another key', async () => {
  await loadEd25519Arithmetic()
  const r = prng(25519)
  let yes = 0
  for (let i = 0; i < 300; i++) {
    const kp = keyPairFromSeed(bytesOf(r, 32))
    // ASCII messages so that the string pieces are the same bytes.
    const msg = Buffer.from(bytesOf(r, Math.floor(r() * 3000)).toString('latin1').replace(/[^\x00-\x7f]/g, '?'), 'latin1')
    const sig = signBytes(kp, msg)
    const cases: Array<[Uint8Array, Buffer, Buffer]> = [[kp.publicKey, sig, msg]]
    const flipped = Buffer.from(sig)
    flipped[Math.floor(r() * 64)]! ^= 1 << Math.floor(r() * 8)
    cases.push([kp.publicKey, flipped, msg])
    if (msg.length > 0) {
      const m2 = Buffer.from(msg)
      m2[Math.floor(r() * m2.length)]! ^= 1
      cases.push([kp.publicKey, sig, m2])
    }
    cases.push([keyPairFromSeed(bytesOf(r, 32)).publicKey, sig, msg])
    for (const [key, s, m] of cases) {
      const whole = verifyBytes(key, m, s)
      assert.equal(inPieces(key, s, m, r), whole, `case ${i}`)
      if (whole) yes++
    }
  }
  assert.equal(yes, 300)
})

test('S plus the group order (a malleated signature) and a key encoded non-canonically are refused', async () => {
  await loadEd25519Arithmetic()
  const kp = keyPairFromSeed(sha256('ed25519-stream'))
  const msg = Buffer.from('the signed bytes of a contract')
  const sig = signBytes(kp, msg)
  const malleated = Buffer.concat([sig.subarray(0, 32), toLittleEndian(littleEndian(sig.subarray(32)) + ORDER, 32)])
  assert.equal(verifyBytes(kp.publicKey, msg, malleated), false)
  assert.equal(new Ed25519StreamVerifier(kp.publicKey, malleated).update(msg).verify(), false)
  // y = p + 1 stands for the point y = 1 (the identity) and is not its canonical encoding.
  const p = (1n << 255n) - 19n
  const identity = toLittleEndian(1n, 32)
  const nonCanonical = toLittleEndian(p + 1n, 32)
  const sigByIdentity = Buffer.concat([identity, Buffer.alloc(32)]) // R = identity, S = 0: [0]B − [k]·identity = identity
  // A small-order key: the equation holds, and node:crypto says yes too (neither refuses such keys).
  assert.equal(verifyBytes(identity, msg, sigByIdentity), true)
  assert.equal(new Ed25519StreamVerifier(identity, sigByIdentity).update(msg).verify(), true)
  assert.equal(new Ed25519StreamVerifier(nonCanonical, sigByIdentity).update(msg).verify(), false)
  assert.throws(() => new Ed25519StreamVerifier(kp.publicKey.subarray(0, 31), sig), /32-byte key/)
})
