import {hash as oneShotHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, timingSafeEqual, type KeyObject} from 'node:crypto'

// Ed25519 (RFC 8032 PureEdDSA) through node:crypto. KeyObjects are built once per key and
// cached by their hex form: building one costs more than a verification.

const PKCS8_SEED_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

export interface Ed25519KeyPair {
  /** 32-byte seed. */
  seed: Buffer
  /** 32-byte public key. */
  publicKey: Buffer
  privateKeyObject: KeyObject
  publicKeyObject: KeyObject
}

const publicKeyCache = new Map<string, KeyObject>()
const CACHE_LIMIT = 1024

/** A cached KeyObject for a raw 32-byte public key. */
export function publicKeyObject(raw: Uint8Array): KeyObject {
  const hex = Buffer.from(raw).toString('hex')
  let ko = publicKeyCache.get(hex)
  if (ko === undefined) {
    if (raw.length !== 32) throw new RangeError(`invalid Ed25519 public key length: got ${raw.length}, want 32`)
    ko = createPublicKey({key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki'})
    if (publicKeyCache.size >= CACHE_LIMIT) publicKeyCache.clear()
    publicKeyCache.set(hex, ko)
  }
  return ko
}

export function keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (seed.length !== 32) throw new RangeError(`invalid Ed25519 seed length: got ${seed.length}, want 32`)
  const privateKeyObject = createPrivateKey({key: Buffer.concat([PKCS8_SEED_PREFIX, seed]), format: 'der', type: 'pkcs8'})
  const pubObj = createPublicKey(privateKeyObject)
  const spki = pubObj.export({format: 'der', type: 'spki'})
  const publicKey = Buffer.from(spki.subarray(spki.length - 32))
  return {seed: Buffer.from(seed), publicKey, privateKeyObject, publicKeyObject: publicKeyObject(publicKey)}
}

/** Go's 64-byte private key form: seed ‖ public. Checks that the halves agree. */
export function keyPairFromGoPrivateKey(priv: Uint8Array): Ed25519KeyPair {
  if (priv.length !== 64) throw new RangeError(`private key has wrong size: got ${priv.length}, want 64`)
  const kp = keyPairFromSeed(priv.subarray(0, 32))
  if (!kp.publicKey.equals(Buffer.from(priv.subarray(32)))) throw new RangeError('private key does not match public key')
  return kp
}

export function goPrivateKey(kp: Ed25519KeyPair): Buffer {
  return Buffer.concat([kp.seed, kp.publicKey])
}

export function generateKeyPair(): Ed25519KeyPair {
  const {privateKey} = generateKeyPairSync('ed25519')
  const der = privateKey.export({format: 'der', type: 'pkcs8'})
  return keyPairFromSeed(der.subarray(der.length - 32))
}

export function signBytes(kp: Ed25519KeyPair, message: Uint8Array): Buffer {
  return sign(null, message, kp.privateKeyObject)
}

/** Strict RFC 8032 verification; false (never an exception) for malformed sizes. */
export function verifyBytes(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  try {
    return verify(null, message, publicKeyObject(publicKey), signature)
  } catch {
    return false
  }
}

/**
 * verifyBytes for many signatures in a row, most by one key (a verification worker's batches):
 * the last key's KeyObject is kept, so a verification costs no hex form and no cache lookup.
 */
export class Ed25519BatchVerifier {
  private lastKey: Buffer | undefined
  private lastObject: KeyObject | undefined

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (publicKey.length !== 32 || signature.length !== 64) return false
    try {
      if (this.lastObject === undefined || !(this.lastKey as Buffer).equals(publicKey)) {
        this.lastObject = publicKeyObject(publicKey)
        this.lastKey = Buffer.from(publicKey)
      }
      return verify(null, message, this.lastObject, signature)
    } catch {
      return false
    }
  }
}

// One-shot hashing (no Hash object): every receipt signed or verified hashes two or three times.
export function sha256(data: Uint8Array | string): Buffer {
  // The digest as a latin1 string copied into a pooled Buffer: the 'buffer' output allocates a
  // backing store of its own each time, ~0.6 µs more per hash (bench: verify; one per receipt verified).
  return Buffer.from(oneShotHash('sha256', data, 'binary'), 'latin1')
}

export function sha256Hex(data: Uint8Array | string): string {
  return oneShotHash('sha256', data, 'hex')
}

/** `ed25519:` + 128 lowercase hex. */
export function formatSignature(sig: Uint8Array): string {
  return 'ed25519:' + Buffer.from(sig).toString('hex')
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}
