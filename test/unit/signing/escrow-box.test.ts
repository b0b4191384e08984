import {test} from 'node:test'
import assert from 'node:assert/strict'
import {boxBeforeNm, boxEasy, openEscrow, openSealedBox, SEALED_BOX_OVERHEAD, sealedBoxSealer, sealEscrow, x25519KeyPair, x25519PublicKey} from '../../../src/plugins/signing/index.js'

// The NaCl crypto_box known answer (the "box" test of the NaCl distribution): Alice's secret key,
// Bob's public key, the nonce, a 131-byte message and the box (tag ‖ ciphertext).
const aliceSk = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex')
const bobPk = Buffer.from('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f', 'hex')
const nonce = Buffer.from('69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37', 'hex')
const message = Buffer.from(
  'be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705',
  'hex',
)
const box =
  'f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5'

test('crypto_box: the NaCl known answer (beforenm and box)', () => {
  assert.equal(boxBeforeNm(bobPk, aliceSk).toString('hex'), '1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389')
  assert.equal(boxEasy(message, nonce, bobPk, aliceSk).toString('hex'), box)
})

test('escrow sidecar: layout, round trip, one-byte tamper, wrong key, short file', () => {
  const recipient = x25519KeyPair()
  assert.deepEqual(x25519PublicKey(recipient.secretKey), recipient.publicKey)
  const plain = Buffer.from('{"target":"https://example.com/?key=secret"}')
  const fixedNonce = Buffer.alloc(24, 7)
  const file = sealEscrow(plain, recipient.publicKey, () => fixedNonce)
  assert.equal(file.length, 72 + plain.length)
  assert.deepEqual(file.subarray(32, 56), fixedNonce)
  // bytes 56.. are crypto_box_easy under the ephemeral key written at 0..32
  assert.deepEqual(openEscrow(file, recipient.secretKey), plain)
  const tampered = Buffer.from(file)
  tampered[80]! ^= 1
  assert.throws(() => openEscrow(tampered, recipient.secretKey), {message: 'escrow decryption failed: authentication failed (wrong key or corrupted file)'})
  assert.throws(() => openEscrow(file, x25519KeyPair().secretKey), {message: 'escrow decryption failed: authentication failed (wrong key or corrupted file)'})
  assert.throws(() => openEscrow(file.subarray(0, 71), recipient.secretKey), {message: 'escrow file too short: 71 bytes (minimum 72)'})
})

// Capture payload sidecars are libsodium sealed boxes (crypto_box_seal). Known answer produced
// once with libsodium 1.0.18's crypto_box_seal (secret key = bytes 1..32, public key its X25519
// base-point product): opening it checks the nonce derivation (BLAKE2b-192 of eph pk ‖ pk) and layout.
const sealedSk = Buffer.from(Array.from({length: 32}, (_, i) => i + 1))
const sealedPk = '07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c'
const sealedPlain = Buffer.from('7b22746f6b656e223a22736b2d746573742d7365616c65642d626f782d766563746f72227d0a', 'hex')
const sealedByLibsodium = Buffer.from(
  '84a30a9a1e7f79724934a3bfa121dc688c0eebc532e2235855065565c0ccdb7a5872a37d9ccfa791831558ded2460e320f26b8269ebbe2444c7bfaaa45b93fd33529158ed98378396e4021f7c11a3caa44fdf3414ae6',
  'hex',
)

test('sealed box: opens libsodium crypto_box_seal output; round trip; tamper, wrong key and short input refuse', () => {
  assert.equal(x25519PublicKey(sealedSk).toString('hex'), sealedPk)
  assert.deepEqual(openSealedBox(sealedByLibsodium, sealedSk), sealedPlain)
  const sealed = sealedBoxSealer(Buffer.from(sealedPk, 'hex'))(sealedPlain)
  assert.equal(sealed.length, SEALED_BOX_OVERHEAD + sealedPlain.length)
  assert.deepEqual(openSealedBox(sealed, sealedSk), sealedPlain)
  // fresh ephemeral key per box: two seals of the same plaintext differ
  assert.notDeepEqual(sealedBoxSealer(Buffer.from(sealedPk, 'hex'))(sealedPlain), sealed)
  const tampered = Buffer.from(sealed)
  tampered[SEALED_BOX_OVERHEAD]! ^= 1
  const refusal = {message: 'sealed box does not open: authentication failed (wrong key or corrupted file)'}
  assert.throws(() => openSealedBox(tampered, sealedSk), refusal)
  assert.throws(() => openSealedBox(sealed, x25519KeyPair().secretKey), refusal)
  // a raw-escrow (.raw.enc) file is not a sealed box
  assert.throws(() => openSealedBox(sealEscrow(sealedPlain, Buffer.from(sealedPk, 'hex')), sealedSk), refusal)
  assert.throws(() => openSealedBox(sealed.subarray(0, 47), sealedSk), {message: 'sealed box too short: 47 bytes (minimum 48)'})
})
