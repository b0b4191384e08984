import {canonicalBytes, defineStruct, JsonNumber, parseGoTime, projectStruct, toEpochNanos, type JsonObject, type JsonValue} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {verifyBytes} from './ed25519.js'
import {fingerprint, verifyFingerprint} from './fingerprint.js'
import {goQ} from './go-fmt.js'
import {readSignedDocument} from './artifact-file.js'
import {UNKNOWN_FIELD} from './roster.js'
import {parseSignatureField, SignatureFormatError} from './signature-format.js'

// Break-glass recovery authorisation (learn-lifecycle.md §8.8): a short-lived document signed by
// the `recovery-root` key, bound to the hash of the roster it authorises.

export const RECOVERY_BODY = defineStruct('RecoveryAuthorization', [
  {name: 'schema_version', kind: 'int'},
  {name: 'reason', kind: 'string'},
  {name: 'expires_at', kind: 'string'},
  {name: 'target_roster_hash', kind: 'string'},
  {name: 'operator_identity', kind: 'string'},
  {name: 'issued_at', kind: 'string'},
])

export const RECOVERY_ENVELOPE = defineStruct('RecoveryAuthorizationEnvelope', [
  {name: 'body', kind: 'struct', schema: RECOVERY_BODY},
  {name: 'signature', kind: 'string'},
])

/** The longest a recovery authorisation may live, and how far ahead its expiry may be. */
export const RECOVERY_MAX_LIFETIME_NANOS = 3_600_000_000_000n
const SHA256_HASH = /^sha256:[0-9a-f]{64}$/

export interface RecoveryAuthorization {
  schemaVersion: number
  reason: string
  expiresAt: string
  targetRosterHash: string
  operatorIdentity: string
  issuedAt: string
}

export interface RecoveryVerifyOptions {
  /** The recovery-root public key (32 bytes). */
  recoveryPublicKey: Uint8Array
  pinnedFingerprint: string
  nowNanos: bigint
  /** Runtime entry point only: the roster hash the authorisation must name. */
  expectedTargetRosterHash?: string
}

export interface RecoveryVerifyResult {
  body: RecoveryAuthorization
  signature: string
  /** Fingerprint recomputed from the key (canonical lowercase form). */
  fingerprint: string
  /** False for the offline inspection entry point. */
  targetVerified: boolean
}

function fail(message: string): PipelockError {
  return new PipelockError('RECOVERY_INVALID', message)
}

const unknownFields = (_l: string, names: string[], p: string): string => `${UNKNOWN_FIELD}: ${p}.${names[0] ?? ''}`

function decode(tree: JsonValue): {body: RecoveryAuthorization; bodyTree: JsonObject; signature: string} {
  let env: JsonObject
  try {
    env = projectStruct(RECOVERY_ENVELOPE, tree, 'recovery', {unknownFields})
  } catch (e) {
    throw fail(`recovery authorization decode failed: ${(e as Error).message}`)
  }
  const b = env.get('body') as JsonObject
  return {
    bodyTree: b,
    signature: env.get('signature') as string,
    body: {
      schemaVersion: Number((b.get('schema_version') as JsonNumber).text),
      reason: b.get('reason') as string,
      expiresAt: b.get('expires_at') as string,
      targetRosterHash: b.get('target_roster_hash') as string,
      operatorIdentity: b.get('operator_identity') as string,
      issuedAt: b.get('issued_at') as string,
    },
  }
}

function nanos(field: string, s: string): bigint {
  try {
    return toEpochNanos(parseGoTime(s))
  } catch (e) {
    throw fail(`recovery authorization validation failed: invalid ${field}: ${(e as Error).message}`)
  }
}

function validate(b: RecoveryAuthorization): {issued: bigint; expires: bigint} {
  const v = (m: string): PipelockError => fail(`recovery authorization validation failed: ${m}`)
  if (b.schemaVersion !== 1) throw v(`unsupported schema_version ${b.schemaVersion} (expected 1)`)
  if (b.reason.trim() === '') throw v('reason is required')
  const expires = nanos('expires_at', b.expiresAt)
  const issued = nanos('issued_at', b.issuedAt)
  if (!SHA256_HASH.test(b.targetRosterHash)) throw v(`target_roster_hash ${goQ(b.targetRosterHash)} must match ^sha256:[0-9a-f]{64}$`)
  if (b.operatorIdentity.trim() === '') throw v('operator_identity is required')
  return {issued, expires}
}

/**
 * Verifies a decoded recovery authorisation. The order is the reference's: validate, signature
 * format, time windows, target binding (runtime only), recovery-root pin, signature.
 */
export function verifyRecoveryAuthorization(tree: JsonValue, o: RecoveryVerifyOptions, runtime: boolean): RecoveryVerifyResult {
  const {body, bodyTree, signature} = decode(tree)
  const {issued, expires} = validate(body)
  let sig: Buffer
  try {
    sig = parseSignatureField(signature)
  } catch (e) {
    if (e instanceof SignatureFormatError) throw fail(`recovery authorization signature format invalid: ${e.reason}`)
    throw e
  }
  const now = o.nowNanos
  if (expires <= issued) throw fail('recovery authorization window invalid: expires_at must be after issued_at')
  if (expires - issued > RECOVERY_MAX_LIFETIME_NANOS) throw fail('recovery authorization window invalid: lifetime exceeds 1h')
  if (now < issued) throw fail(`recovery authorization not yet valid: issued_at ${body.issuedAt}`)
  if (now > expires) throw fail(`recovery authorization expired: expires_at ${body.expiresAt}`)
  if (expires - now > RECOVERY_MAX_LIFETIME_NANOS) throw fail('recovery authorization window invalid: expires_at more than 1h in the future')
  if (runtime) {
    const want = o.expectedTargetRosterHash ?? ''
    if (want === '') throw fail('expectedTargetRosterHash is required for runtime recovery authorization loading')
    if (body.targetRosterHash !== want) {
      throw fail(`recovery authorization target mismatch: target_roster_hash ${body.targetRosterHash}, expected ${want}`)
    }
  }
  if (o.recoveryPublicKey.length !== 32) {
    throw fail(`invalid recovery-root public key length: got ${o.recoveryPublicKey.length}, want 32`)
  }
  try {
    verifyFingerprint(o.recoveryPublicKey, o.pinnedFingerprint)
  } catch (e) {
    throw fail(`recovery-root fingerprint does not match pinned: ${(e as Error).message}`)
  }
  if (!verifyBytes(o.recoveryPublicKey, canonicalBytes(bodyTree), sig)) throw fail('recovery authorization signature does not verify')
  return {body, signature, fingerprint: fingerprint(o.recoveryPublicKey), targetVerified: runtime}
}

/** Runtime entry point: the target roster hash binding is mandatory. */
export function loadRecoveryAuthorization(file: string, o: RecoveryVerifyOptions): RecoveryVerifyResult {
  return verifyRecoveryAuthorization(readSignedDocument(file, 'recovery authorization', 'RECOVERY_INVALID'), o, true)
}

/** Offline inspection entry point: everything except the target binding. */
export function inspectRecoveryAuthorization(file: string, o: Omit<RecoveryVerifyOptions, 'expectedTargetRosterHash'>): RecoveryVerifyResult {
  return verifyRecoveryAuthorization(readSignedDocument(file, 'recovery authorization', 'RECOVERY_INVALID'), o, false)
}
