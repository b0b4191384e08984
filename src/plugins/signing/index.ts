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
export {Ed25519StreamVerifier, ed25519ArithmeticLoaded, loadEd25519Arithmetic} from './ed25519-stream.js'
/** Entry point of a batch-verification worker thread (see verify-worker.ts). */
export const VERIFY_WORKER_URL = new URL('./verify-worker.js', import.meta.url)
export {pooledRandom} from './random-pool.js'
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
export {fingerprint, parseFingerprint, verifyFingerprint} from './fingerprint.js'
export {parseSignatureField, SignatureFormatError} from './signature-format.js'
export {
  PUBLIC_KEY_HEADER,
  PRIVATE_KEY_HEADER,
  encodePublicKeyText,
  encodePrivateKeyText,
  decodePublicKeyText,
  decodePrivateKeyText,
  parsePublicKeyValue,
  keyTextKind,
  looksLikePath,
  loadPublicKey,
  hexPublicKeyFromFlags,
  HEX_KEY_FILE_CAP,
} from './key-text.js'
export type {KeyTextKind, PublicKeyValue} from './key-text.js'
export {makeDirs} from './make-dirs.js'
export {refuseSpecialFile} from './input-file.js'
export {directoryProblem, lstatOutputPath, writableProbe} from './writable-path.js'
export {createFileAtomic, fsyncDir, isDirectory, stageFileAtomic, writeFileAtomic, writeNewFileSynced, writePairAtomic, type StagedFile, type StreamedText} from './atomic-write.js'
export {withFileLock, withFileUpdateLock, type FileLockOptions} from './file-lock.js'
export {liveLockOwner, lockOwnerText, markHeld, unmarkHeld} from './lock-owner.js'
export {
  KEYSTORE_DIR_MODE,
  PRIVATE_KEY_MODE,
  PUBLIC_KEY_MODE,
  TRUSTED_KEY_MODE,
  PRIVATE_KEY_FORBIDDEN_BITS,
  resolveKeystoreDir,
  validateAgentName,
  agentDir,
  agentPrivateKeyPath,
  agentPublicKeyPath,
  generateAgentKeys,
  checkPrivateKeyMode,
  loadAgentPrivateKey,
  loadAgentPublicKey,
  trustAgentKey,
} from './keystore.js'
export type {KeystoreLocation, AgentKeyResult, LoadedAgentKey, TrustResult} from './keystore.js'
export {loadPrivateKeyTextFile} from './private-key-file.js'
export {KEY_FILE_SIZE_CAP, checkKeyId, checkPurpose, loadKeyFile, encodeKeyFile, generateKeyFile} from './key-file.js'
export type {KeyFile, GenerateKeyFileOptions, GeneratedKeyFile} from './key-file.js'
export {loadSignerKeyRef, type SignerKey} from './signer-key-ref.js'
export {
  KEY_INFO,
  ROSTER_BODY,
  ROSTER_ENVELOPE,
  KEY_STATUSES,
  DATA_CLASSES,
  UNKNOWN_FIELD,
  decodeSignedArtifactTree,
  decodeRosterEnvelope,
  rosterBodyTree,
  rosterSigningBytes,
  rosterBodyProblem,
  dataClassRootProblem,
  publicKeyBytes,
  verifyRoster,
  loadRoster,
  resolveKey,
  authorizeSignerForPayload,
} from './roster.js'
export type {KeyInfo, KeyRoster, KeyStatus, LoadedRoster, LoadRosterOptions} from './roster.js'
export {parseIncludeSpec, buildRoster} from './roster-build.js'
export type {BuildRosterOptions, BuildRosterResult, IncludeSpec} from './roster-build.js'
export {
  RECOVERY_BODY,
  RECOVERY_ENVELOPE,
  RECOVERY_MAX_LIFETIME_NANOS,
  verifyRecoveryAuthorization,
  loadRecoveryAuthorization,
  inspectRecoveryAuthorization,
} from './recovery.js'
export type {RecoveryAuthorization, RecoveryVerifyOptions, RecoveryVerifyResult} from './recovery.js'
export {TRANSITION_BODY, TRANSITION_ENVELOPE, verifyRootTransition, loadRootTransition} from './transition.js'
export type {RootTransition, TransitionVerifyOptions, TransitionVerifyResult} from './transition.js'
export {goQ as goQuoteVerb, readFailureCode} from './go-fmt.js'
export {boxBeforeNm, boxEasy, decodeEscrowKeyHex, EscrowError, ESCROW_HEADER_BYTES, escrowSealer, openEscrow, openSealedBox, readEscrowKey, readEscrowPrivateKey, SEALED_BOX_OVERHEAD, sealedBoxSealer, sealEscrow, x25519KeyPair, x25519PublicKey} from './escrow-box.js'
