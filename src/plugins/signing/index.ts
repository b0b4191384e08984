// Layer 0: Ed25519 keys, key purposes, fingerprints, key files, the roster.
export {
  keyPairFromSeed,
  keyPairFromGoPrivateKey,
  goPrivateKey,
  generateKeyPair,
  publicKeyObject,
  signBytes,
  verifyBytes,
  sha256,
  sha256Hex,
  formatSignature,
  constantTimeEqual,
} from './ed25519.js'
export type {Ed25519KeyPair} from './ed25519.js'
export {
  KEY_PURPOSES,
  ROOT_PURPOSES,
  AUTHORITY_MATRIX,
  PAYLOAD_KINDS,
  isKeyPurpose,
  isPayloadKind,
  requiredPurpose,
} from './purposes.js'
export type {KeyPurpose, PayloadKind} from './purposes.js'
