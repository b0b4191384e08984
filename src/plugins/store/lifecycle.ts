import {lstatSync} from 'node:fs'
import path from 'node:path'
import {canonicalBytes, formatGoTime, fromEpochNanos, goJson, JsonNumber, type Clock, type JsonObject, type JsonValue} from '../canonical/index.js'
import {manifestEnvironment, type ManifestEnvironment} from '../contracts/index.js'
import {PipelockError, prefixedError} from '../errors/index.js'
import {encodeEvidenceReceipt, signEvidence, type UnsignedEvidenceReceipt} from '../receipts/index.js'
import {authorizeSignerForPayload, type Ed25519KeyPair, formatSignature, type KeyInfo, type LoadedRoster, loadRoster, loadSignerKeyRef, lstatOutputPath, makeDirs, resolveKey, signBytes} from '../signing/index.js'
import {appendLine} from './fs-io.js'
import {storeLayout} from './paths.js'
import {ACTIVATION_PURPOSE} from './signatures.js'
import type {StoreOptions} from './validate.js'

// The common prologue of promote and rollback (learn-lifecycle §6.2) and the pieces both share:
// environment binding (§6.5), manifest signing (§6.3 step 7), the dual-control pre-check (§6.4)
// and the lifecycle receipts (§6.3 steps 9/11, §6.6 steps 5/7).

export const DETERMINISTIC_LIFECYCLE_TIME = '2026-04-30T12:00:00Z'

export interface LifecycleRequest {
  storeDir: string
  rosterPath: string
  rosterRootFingerprint: string
  activationKey: string
  dualControlFrom?: string
  keystore: string
  receiptKeyAgent?: string
  receiptOut?: string
  environmentId?: string
  tenant?: string
  deploymentId?: string
  production?: boolean
  clock: Clock
  /** Fresh id (UUIDv7 in production); ignored for ids fixed by --deterministic. */
  newId: () => string
  deterministic?: boolean
}

export interface ActivationSigner {
  keyId: string
  keyPair: Ed25519KeyPair
  entry: KeyInfo
}

export interface LifecycleContext {
  root: string
  roster: LoadedRoster
  clock: Clock
  signers: ActivationSigner[]
  receiptSigner: {keyId: string; keyPair: Ed25519KeyPair}
  receiptFile: string
  minimumSignatures: number
  storeOptions: StoreOptions
}

const refuse = (message: string, hint?: string): PipelockError => new PipelockError('LIFECYCLE_REFUSED', message, hint === undefined ? {} : {hint})

function checkDir(p: string, what: string): void {
  if (!path.isAbsolute(p)) throw new PipelockError('PATH_NOT_ABSOLUTE', `learn lifecycle: ${what} must be absolute: ${p}`)
  const st = lstatOutputPath(p, `learn lifecycle: ${what}`)
  if (st === undefined) return
  if (st.isSymbolicLink()) throw new PipelockError('PATH_UNSAFE', `learn lifecycle: ${what} must not be a symlink: ${p}`)
  if (!st.isDirectory()) throw new PipelockError('STORE_INVALID', `learn lifecycle: ${what} must be a directory: ${p}`)
}

function loadSigner(keystore: string, ref: string, roster: LoadedRoster, kind: string, label: string, now: bigint): ActivationSigner {
  try {
    // A keystore key id, or a key file from signing key generate (by path or by key_id in the keystore):
    // beyond the reference, whose user guide generates the activation key that way and then cannot use it.
    const key = loadSignerKeyRef(keystore, ref, ACTIVATION_PURPOSE)
    const keyId = key.keyId
    const entry = authorizeSignerForPayload(roster, kind, keyId, now)
    // The keystore key must be the roster's key of that id, or every signature fails later.
    if (entry.publicKeyHex.toLowerCase() !== key.publicKeyHex) throw new Error(`keystore public key ${key.publicKeyHex} does not match roster public_key_hex ${entry.publicKeyHex}`)
    return {keyId, keyPair: key.keyPair, entry}
  } catch (e) {
    throw new PipelockError(e instanceof PipelockError ? e.code : 'KEY_NOT_AUTHORIZED', `learn lifecycle: ${label} ${JSON.stringify(ref)}: ${(e as Error).message}`)
  }
}

/** §6.2. Nothing is written except the store directory itself when it does not exist yet. */
export function lifecyclePrologue(req: LifecycleRequest, kinds: {intent: string; committed: string}): LifecycleContext {
  const root = path.normalize(req.storeDir)
  checkDir(root, '--contract-store')
  let roster: LoadedRoster
  try {
    roster = loadRoster(req.rosterPath, req.rosterRootFingerprint, {clock: req.clock, keyFlag: '--activation-key'})
  } catch (e) {
    throw prefixedError(e, 'learn lifecycle: load roster: ', 'ROSTER_INVALID')
  }
  const now = req.clock.nowNanos()
  if (req.production && !req.dualControlFrom) {
    throw new PipelockError('STORE_DUAL_CONTROL', 'activation dual control requirement not met: --dual-control-from is required in --production')
  }
  if (req.production) {
    const principals = new Set<string>()
    for (const k of roster.body.keys) {
      if (k.keyPurpose !== ACTIVATION_PURPOSE || k.principal === '') continue
      try {
        resolveKey(roster, k.keyId, now)
        principals.add(k.principal)
      } catch {
        // not active or outside its window: not part of the pool
      }
    }
    if (principals.size < 3) {
      throw new PipelockError('STORE_DUAL_CONTROL', `production activation requires at least three active operator authorities: got ${principals.size} active principals, want 3`)
    }
  }
  if (!req.activationKey) throw refuse('learn lifecycle: signer key id is required')
  const signers = [loadSigner(req.keystore, req.activationKey, roster, kinds.intent, 'activation signer', now)]
  if (req.dualControlFrom) signers.push(loadSigner(req.keystore, req.dualControlFrom, roster, kinds.intent, 'activation signer', now))
  const receiptKeyId = req.receiptKeyAgent || 'receipt-signing'
  const rs = loadSigner(req.keystore, receiptKeyId, roster, kinds.committed, 'receipt signer', now)
  const receiptFile = req.receiptOut ?? storeLayout(root).receipts
  if (!path.isAbsolute(receiptFile)) throw new PipelockError('PATH_NOT_ABSOLUTE', `learn lifecycle: --receipt-out must be absolute: ${receiptFile}`)
  const receiptStat = lstatOutputPath(receiptFile, `learn lifecycle: ${req.receiptOut === undefined ? 'receipt file' : '--receipt-out'}`)
  if (receiptStat !== undefined && !receiptStat.isFile()) throw new PipelockError('PATH_UNSAFE', `learn lifecycle: the receipt file must be a regular file, not a symlink: ${receiptFile}`)
  const minimumSignatures = signers.length >= 2 ? 2 : 1
  return {
    root,
    roster,
    clock: req.clock,
    signers,
    receiptSigner: {keyId: receiptKeyId, keyPair: rs.keyPair},
    receiptFile,
    minimumSignatures,
    // one decode of each contract for the whole promote or rollback (validate.ts `DecodeCache`)
    storeOptions: {roster, clock: req.clock, minimumSignatures, decoded: new Map()},
  }
}

/** §6.5: inherit the baseline's tuple, or take the flags (which must then match the baseline). */
export function resolveEnvironment(req: LifecycleRequest, baseline: JsonObject | undefined): ManifestEnvironment {
  const given = req.environmentId !== undefined || req.tenant !== undefined || req.deploymentId !== undefined
  const base = baseline === undefined ? undefined : manifestEnvironment(baseline)
  if (!given && base !== undefined) return base
  if (!req.environmentId) {
    throw refuse(
      'learn lifecycle: --environment-id is required without an accepted manifest',
      "the first promote into a store names its environment: add --environment-id ID (and --tenant / --deployment-id if you use them); pipelock run's learn_lock.environment must name the same tuple",
    )
  }
  const env = {id: req.environmentId, tenant: req.tenant ?? '', deploymentId: req.deploymentId ?? ''}
  if (base !== undefined && (base.id !== env.id || base.tenant !== env.tenant || base.deploymentId !== env.deploymentId)) {
    throw refuse('learn lifecycle: environment does not match accepted manifest', 'omit the environment flags to inherit the accepted tuple')
  }
  return env
}

export function environmentTree(e: ManifestEnvironment): JsonObject {
  return new Map<string, JsonValue>([
    ['id', e.id],
    ['tenant', e.tenant],
    ['deployment_id', e.deploymentId],
  ])
}

/** §6.3 step 7: one signature entry per signer over canonical(body). */
export function signManifest(body: JsonObject, signers: readonly ActivationSigner[]): JsonObject[] {
  const msg = canonicalBytes(body)
  return signers.map(
    (s) =>
      new Map<string, JsonValue>([
        ['key_id', s.keyId],
        ['principal', s.entry.principal],
        ['key_purpose', ACTIVATION_PURPOSE],
        ['algorithm', 'ed25519'],
        ['signature', formatSignature(signBytes(s.keyPair, msg))],
      ]),
  )
}

/** §6.4 CLI pre-check: distinct principals among the signers (an activation key needs one). */
export function precheckDualControl(signers: readonly ActivationSigner[], minimum: number): void {
  const principals = new Set<string>()
  const ids = new Set<string>()
  let count = 0
  for (const s of signers) {
    if (s.entry.principal === '') continue
    if (!ids.has(s.keyId) && !principals.has(s.entry.principal)) count++
    ids.add(s.keyId)
    principals.add(s.entry.principal)
  }
  if (count < minimum) {
    throw new PipelockError(
      'STORE_DUAL_CONTROL',
      `activation dual control requirement not met: got ${count} distinct activation principals, want ${minimum}`,
      {hint: 'activation keys need a roster principal (role= at roster build); dual control needs two different principals'},
    )
  }
}

export function manifestEnvelopeBytes(body: JsonObject, signatures: JsonObject[]): Buffer {
  return Buffer.from(goJson(new Map<string, JsonValue>([['body', body], ['signatures', signatures]])), 'utf8')
}

export function nowText(clock: Clock): string {
  return formatGoTime(fromEpochNanos(clock.nowNanos()))
}

/** Signs a lifecycle receipt and appends it (one JSONL line) to the receipt file. */
/** The committed receipt's outcome fields for a swap (§6.3/§6.6): accepted, or rejected with why. */
export function swapOutcome(failure: {message: string} | undefined): {validation_outcome: string; reject_reason?: string} {
  return failure === undefined ? {validation_outcome: 'accepted'} : {validation_outcome: 'rejected', reject_reason: failure.message}
}

export function appendLifecycleReceipt(ctx: LifecycleContext, unsigned: Omit<UnsignedEvidenceReceipt, 'chainSeq' | 'chainPrevHash' | 'timestamp'>, signer: 'activation' | 'receipt'): void {
  const full: UnsignedEvidenceReceipt = {...unsigned, timestamp: nowText(ctx.clock), chainSeq: 0, chainPrevHash: ''}
  const tree =
    signer === 'activation'
      ? signEvidence(full, {keyPair: (ctx.signers[0] as ActivationSigner).keyPair, keyId: (ctx.signers[0] as ActivationSigner).keyId, purpose: 'contract-activation-signing'})
      : signEvidence(full, {keyPair: ctx.receiptSigner.keyPair, keyId: ctx.receiptSigner.keyId, purpose: 'receipt-signing'})
  makeDirs(path.dirname(ctx.receiptFile), 0o750)
  appendLine(ctx.receiptFile, encodeEvidenceReceipt(tree))
}

export function uintNumber(n: bigint): JsonNumber {
  return new JsonNumber(n.toString())
}

/** The size of an input file the operator named, once its path is known to be safe to read (absolute, a regular file, not a symlink). */
export function inputFileSize(file: string, what: string): number {
  if (!path.isAbsolute(file)) throw new PipelockError('PATH_NOT_ABSOLUTE', `learn: invalid candidate file: ${what} path must be absolute, got ${JSON.stringify(file)}`)
  let st
  try {
    st = lstatSync(file)
  } catch (e) {
    throw new PipelockError('FILE_NOT_FOUND', `learn: invalid candidate file: ${what} ${file}: ${(e as Error).message}`)
  }
  if (st.isSymbolicLink()) throw new PipelockError('PATH_UNSAFE', `learn: invalid candidate file: ${what} must not be a symlink: ${file}`)
  if (!st.isFile()) throw new PipelockError('FILE_UNREADABLE', `learn: invalid candidate file: ${what} must be a regular file: ${file}`)
  return st.size
}

