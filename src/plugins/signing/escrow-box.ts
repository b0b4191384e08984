import {readFileSync, statSync, type Stats} from 'node:fs'
import {createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, type KeyObject} from 'node:crypto'
import {blake2b} from '@noble/hashes/blake2.js'
import {hsalsa, xsalsa20poly1305} from '@noble/ciphers/salsa.js'
import {PipelockError} from '../errors/index.js'
import {refuseSpecialFile} from './input-file.js'
import {checkPrivateKeyMode} from './keystore.js'

// The one NaCl box primitive of the project — X25519 (node:crypto), then HSalsa20 of the shared
// secret, then XSalsa20-Poly1305 — from a fresh ephemeral key pair to an escrow public key, in
// the two file formats that use it:
// * raw-escrow sidecars of the flight recorder (policy-extra.md §3.5, `.raw.enc`): a random
//   24-byte nonce carried in the file —
//     0..32 ephemeral public key | 32..56 nonce | 56..72 Poly1305 tag | 72.. ciphertext
//   (bytes 56.. are exactly libsodium's crypto_box_easy / tweetnacl's nacl.box output);
// * capture payload sidecars (learn-compile §2.1, `.payload.enc`): libsodium's anonymous sealed
//   box (crypto_box_seal), whose nonce is BLAKE2b-192(ephemeral pk ‖ recipient pk) and not stored —
//     0..32 ephemeral public key | 32..48 Poly1305 tag | 48.. ciphertext

export const ESCROW_HEADER_BYTES = 72

export class EscrowError extends Error {}

const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex')
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex')
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]) // "expand 32-byte k"

function words(bytes: Uint8Array): Uint32Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Uint32Array(bytes.length / 4)
  for (let i = 0; i < out.length; i++) out[i] = v.getUint32(i * 4, true)
  return out
}

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  return createPublicKey({key: Buffer.concat([X25519_SPKI, publicKey]), format: 'der', type: 'spki'})
}

/** crypto_box_beforenm: HSalsa20(X25519(sk, pk), 0¹⁶). */
export function boxBeforeNm(publicKey: Uint8Array | KeyObject, secretKey: Uint8Array | KeyObject): Buffer {
  const shared = diffieHellman({
    privateKey: secretKey instanceof Uint8Array ? createPrivateKey({key: Buffer.concat([X25519_PKCS8, secretKey]), format: 'der', type: 'pkcs8'}) : secretKey,
    publicKey: publicKey instanceof Uint8Array ? publicKeyObject(publicKey) : publicKey,
  })
  return hsalsaKey(shared)
}

function hsalsaKey(shared: Uint8Array): Buffer {
  const out = new Uint32Array(8)
  hsalsa(SIGMA, words(shared), new Uint32Array(4), out)
  const key = Buffer.alloc(32)
  for (let i = 0; i < 8; i++) key.writeUInt32LE(out[i] as number, i * 4)
  return key
}

/** crypto_box_easy: tag ‖ ciphertext. */
export function boxEasy(plain: Uint8Array, nonce: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Buffer {
  return Buffer.from(xsalsa20poly1305(boxBeforeNm(publicKey, secretKey), nonce).encrypt(plain))
}

/** An X25519 key pair as raw 32-byte keys. */
export function x25519KeyPair(): {publicKey: Buffer; secretKey: Buffer} {
  const {publicKey, privateKey} = generateKeyPairSync('x25519')
  return {
    publicKey: publicKey.export({format: 'der', type: 'spki'}).subarray(X25519_SPKI.length),
    secretKey: privateKey.export({format: 'der', type: 'pkcs8'}).subarray(X25519_PKCS8.length),
  }
}

/** The public key of a raw X25519 secret key. */
export function x25519PublicKey(secretKey: Uint8Array): Buffer {
  const priv = createPrivateKey({key: Buffer.concat([X25519_PKCS8, secretKey]), format: 'der', type: 'pkcs8'})
  return createPublicKey(priv).export({format: 'der', type: 'spki'}).subarray(X25519_SPKI.length)
}

/**
 * A sealer for one escrow public key: the recipient key is parsed once, and each file's ephemeral
 * key pair stays a KeyObject (importing raw private keys is the slow part of OpenSSL here).
 */
export function escrowSealer(recipient: Uint8Array, random: (n: number) => Uint8Array = randomBytes): (plain: Uint8Array) => Buffer {
  const to = publicKeyObject(recipient)
  return (plain) => {
    const {ephPublic, ephPrivate} = ephemeralKey()
    const nonce = Buffer.from(random(24))
    const box = xsalsa20poly1305(boxBeforeNm(to, ephPrivate), nonce).encrypt(plain)
    return Buffer.concat([ephPublic, nonce, box])
  }
}

/** A fresh ephemeral key pair: its raw public key and the KeyObject of its private half. */
function ephemeralKey(): {ephPublic: Buffer; ephPrivate: KeyObject} {
  const eph = generateKeyPairSync('x25519')
  return {ephPublic: eph.publicKey.export({format: 'der', type: 'spki'}).subarray(X25519_SPKI.length), ephPrivate: eph.privateKey}
}

/** libsodium's sealed-box nonce: BLAKE2b with a 24-byte output over ephemeral pk ‖ recipient pk. */
function sealNonce(ephPublic: Uint8Array, recipient: Uint8Array): Uint8Array {
  return blake2b.create({dkLen: 24}).update(ephPublic).update(recipient).digest()
}

export const SEALED_BOX_OVERHEAD = 48

/**
 * A sealed-box sealer for one recipient key (crypto_box_seal): ephemeral pk ‖ tag ‖ ciphertext.
 * Only the recipient's secret key opens it; the sender keeps nothing that could.
 */
export function sealedBoxSealer(recipient: Uint8Array): (plain: Uint8Array) => Buffer {
  const to = publicKeyObject(recipient)
  const pk = Buffer.from(recipient)
  return (plain) => {
    const {ephPublic, ephPrivate} = ephemeralKey()
    const box = xsalsa20poly1305(boxBeforeNm(to, ephPrivate), sealNonce(ephPublic, pk)).encrypt(plain)
    return Buffer.concat([ephPublic, box])
  }
}

/** Opens a sealed box (crypto_box_seal_open); throws EscrowError when it does not authenticate. */
export function openSealedBox(sealed: Uint8Array, secretKey: Uint8Array): Buffer {
  if (sealed.length < SEALED_BOX_OVERHEAD) throw new EscrowError(`sealed box too short: ${sealed.length} bytes (minimum ${SEALED_BOX_OVERHEAD})`)
  const eph = sealed.subarray(0, 32)
  try {
    return Buffer.from(xsalsa20poly1305(boxBeforeNm(eph, secretKey), sealNonce(eph, x25519PublicKey(secretKey))).decrypt(sealed.subarray(32)))
  } catch {
    throw new EscrowError('sealed box does not open: authentication failed (wrong key or corrupted file)')
  }
}

/** Seals one sidecar to the escrow public key. */
export function sealEscrow(plain: Uint8Array, recipient: Uint8Array, random: (n: number) => Uint8Array = randomBytes): Buffer {
  return escrowSealer(recipient, random)(plain)
}

/** Opens one sidecar with the escrow secret key (the spec's exact failure texts). */
export function openEscrow(file: Uint8Array, secretKey: Uint8Array): Buffer {
  if (file.length < ESCROW_HEADER_BYTES) throw new EscrowError(`escrow file too short: ${file.length} bytes (minimum ${ESCROW_HEADER_BYTES})`)
  const eph = file.subarray(0, 32)
  const nonce = file.subarray(32, 56)
  try {
    return Buffer.from(xsalsa20poly1305(boxBeforeNm(eph, secretKey), nonce).decrypt(file.subarray(56)))
  } catch {
    throw new EscrowError('escrow decryption failed: authentication failed (wrong key or corrupted file)')
  }
}

/** 64 hex chars (either case) → 32 bytes, else undefined. */
export function decodeEscrowKeyHex(text: string): Buffer | undefined {
  const t = text.trim()
  return /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : undefined
}

/**
 * An escrow private key given on the command line (`flag` names it in errors): 64 hex chars
 * inline, or the path of a file holding them (as `escrow keygen --out-private` writes), which —
 * holding a key that opens every sealed detail — must not be group-writable or open to others
 * (0600 and 0640 pass), like every private key file pipelock reads. Throws FILE_NOT_FOUND, KEY_PERMISSIONS or KEY_INVALID.
 */
export function readEscrowPrivateKey(value: string, flag: string): Buffer {
  const inline = decodeEscrowKeyHex(value)
  if (inline !== undefined) return inline
  let st: Stats
  try {
    st = statSync(value)
  } catch {
    // A value of hex digits is the key itself, mistyped (a character short, a `0x` prefix): never echoed.
    const shown = /^(0x)?[0-9a-fA-F]{16,}$/.test(value.trim()) ? `the value given (${value.length} characters of hex, not shown: a key)` : value
    throw new PipelockError('FILE_NOT_FOUND', `${flag}: ${shown} is neither 64 hex chars nor a readable file`)
  }
  refuseSpecialFile(value, flag)
  if (st.isDirectory()) throw new PipelockError('FILE_UNREADABLE', `${flag}: ${value} is a directory`, {hint: 'name the key file escrow keygen --out-private wrote, or give the 64 hex chars'})
  checkPrivateKeyMode(value, st.mode)
  let key: Buffer | undefined
  try {
    key = decodeEscrowKeyHex(readFileSync(value, 'utf8'))
  } catch (e) {
    throw new PipelockError('KEY_INVALID', `${flag}: ${value}: ${(e as Error).message}`)
  }
  if (key === undefined) throw new PipelockError('KEY_INVALID', `${flag}: ${value} does not hold an escrow key (64 hex chars, 32 bytes)`)
  return key
}

/**
 * An escrow key given on the command line: 64 hex chars inline, or the path of a file holding
 * them (as `escrow keygen --out-private` writes). Undefined when it is neither.
 */
export function readEscrowKey(value: string): Buffer | undefined {
  const inline = decodeEscrowKeyHex(value)
  if (inline !== undefined) return inline
  try {
    return decodeEscrowKeyHex(readFileSync(value, 'utf8'))
  } catch {
    return undefined
  }
}
