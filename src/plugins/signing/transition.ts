import {canonicalBytes, defineStruct, JsonNumber, parseGoTime, projectStruct, type JsonObject, type JsonValue} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {constantTimeEqual, verifyBytes} from './ed25519.js'
import {fingerprint, parseFingerprint} from './fingerprint.js'
import {goQ} from './go-fmt.js'
import {readSignedDocument} from './artifact-file.js'
import {UNKNOWN_FIELD} from './roster.js'
import {parseSignatureField, SignatureFormatError} from './signature-format.js'

// Root transition (learn-lifecycle.md §8.9): the old and the new root key both sign the same
// canonical(body) naming both fingerprints. Applying it (updating the pin) is the operator's job.

export const TRANSITION_BODY = defineStruct('RootTransition', [
  {name: 'schema_version', kind: 'int'},
  {name: 'root_kind', kind: 'string'},
  {name: 'old_fingerprint', kind: 'string'},
  {name: 'new_fingerprint', kind: 'string'},
  {name: 'effective_at', kind: 'string'},
  {name: 'reason', kind: 'string'},
])

export const TRANSITION_ENVELOPE = defineStruct('RootTransitionEnvelope', [
  {name: 'body', kind: 'struct', schema: TRANSITION_BODY},
  {name: 'old_signature', kind: 'string'},
  {name: 'new_signature', kind: 'string'},
])

const FP = /^sha256:[0-9a-f]{64}$/

export interface RootTransition {
  schemaVersion: number
  rootKind: string
  oldFingerprint: string
  newFingerprint: string
  effectiveAt: string
  reason: string
}

export interface TransitionVerifyOptions {
  oldPublicKey: Uint8Array
  newPublicKey: Uint8Array
  /** Optional operator pin; must equal body.old_fingerprint. */
  pinned?: string
}

export interface TransitionVerifyResult {
  body: RootTransition
  oldFingerprint: string
  newFingerprint: string
}

function fail(message: string): PipelockError {
  return new PipelockError('TRANSITION_INVALID', message)
}

const unknownFields = (_l: string, names: string[], p: string): string => `${UNKNOWN_FIELD}: ${p}.${names[0] ?? ''}`

function validate(b: RootTransition): void {
  const v = (m: string): PipelockError => fail(`root transition validation failed: ${m}`)
  if (b.schemaVersion !== 1) throw v(`unsupported schema_version ${b.schemaVersion} (expected 1)`)
  if (b.rootKind !== 'roster-root' && b.rootKind !== 'recovery-root') {
    throw v(`root_kind must be "roster-root" or "recovery-root", got ${goQ(b.rootKind)}`)
  }
  if (!FP.test(b.oldFingerprint)) throw v(`old_fingerprint ${goQ(b.oldFingerprint)} must match ^sha256:[0-9a-f]{64}$`)
  if (!FP.test(b.newFingerprint)) throw v(`new_fingerprint ${goQ(b.newFingerprint)} must match ^sha256:[0-9a-f]{64}$`)
  if (b.oldFingerprint === b.newFingerprint) throw v('old_fingerprint and new_fingerprint must differ')
  try {
    parseGoTime(b.effectiveAt)
  } catch (e) {
    throw v(`invalid effective_at: ${(e as Error).message}`)
  }
  if (b.reason.trim() === '') throw v('reason is required')
}

function sigField(name: string, s: string): Buffer {
  try {
    return parseSignatureField(s)
  } catch (e) {
    if (e instanceof SignatureFormatError) throw fail(`${name} format invalid: ${e.reason}`)
    throw e
  }
}

export function verifyRootTransition(tree: JsonValue, o: TransitionVerifyOptions): TransitionVerifyResult {
  let env: JsonObject
  try {
    env = projectStruct(TRANSITION_ENVELOPE, tree, 'transition', {unknownFields})
  } catch (e) {
    throw fail(`root transition decode failed: ${(e as Error).message}`)
  }
  const b = env.get('body') as JsonObject
  const body: RootTransition = {
    schemaVersion: Number((b.get('schema_version') as JsonNumber).text),
    rootKind: b.get('root_kind') as string,
    oldFingerprint: b.get('old_fingerprint') as string,
    newFingerprint: b.get('new_fingerprint') as string,
    effectiveAt: b.get('effective_at') as string,
    reason: b.get('reason') as string,
  }
  validate(body)
  if (o.oldPublicKey.length !== 32) throw fail(`oldPubKey must be 32 bytes, got ${o.oldPublicKey.length}`)
  if (o.newPublicKey.length !== 32) throw fail(`newPubKey must be 32 bytes, got ${o.newPublicKey.length}`)
  const oldFp = fingerprint(o.oldPublicKey)
  const newFp = fingerprint(o.newPublicKey)
  if (oldFp !== body.oldFingerprint) throw fail('provided oldPubKey does not match body.old_fingerprint')
  if (newFp !== body.newFingerprint) throw fail('provided newPubKey does not match body.new_fingerprint')
  if (o.pinned !== undefined && o.pinned !== '') {
    let pin: string
    try {
      pin = parseFingerprint(o.pinned)
    } catch (e) {
      throw fail(`body.old_fingerprint does not match operator-pinned fingerprint: ${(e as Error).message}`)
    }
    const want = Buffer.from(body.oldFingerprint.slice('sha256:'.length), 'hex')
    if (!constantTimeEqual(Buffer.from(pin, 'hex'), want)) throw fail('body.old_fingerprint does not match operator-pinned fingerprint')
  }
  const oldSig = sigField('old_signature', env.get('old_signature') as string)
  const newSig = sigField('new_signature', env.get('new_signature') as string)
  const msg = canonicalBytes(b)
  if (!verifyBytes(o.oldPublicKey, msg, oldSig)) throw fail('old_signature does not verify')
  if (!verifyBytes(o.newPublicKey, msg, newSig)) throw fail('new_signature does not verify')
  return {body, oldFingerprint: oldFp, newFingerprint: newFp}
}

export function loadRootTransition(file: string, o: TransitionVerifyOptions): TransitionVerifyResult {
  return verifyRootTransition(readSignedDocument(file, 'root transition', 'TRANSITION_INVALID'), o)
}
