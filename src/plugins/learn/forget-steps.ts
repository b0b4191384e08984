import {lstatSync} from 'node:fs'
import path from 'node:path'
import {emitSignedYaml, type JsonObject, type JsonValue} from '../canonical/index.js'
import {signTombstone, tombstoneBody, tombstoneHash, TOMBSTONE_KEY_PURPOSE} from '../contracts/index.js'
import {PipelockError} from '../errors/index.js'
import {encodeEvidenceReceipt, signEvidence} from '../receipts/index.js'
import {lstatOutputPath, makeDirs, writeFileAtomic, type Ed25519KeyPair, type LoadedRoster} from '../signing/index.js'
import {checkCandidateOut, checkOutputPath} from './candidate-file.js'
import {stageCandidate} from './candidate-commit.js'
import {deterministicKey, type LifecycleEnv} from './candidate-env.js'
import type {ContractSigner} from './candidate-sign.js'
import type {StreamStep} from './candidate-stream.js'
import type {StoreRosterRef} from './forget-signer.js'
import {keystoreSigner, nowRfc3339} from './ratify-steps.js'

// The steps of `learn forget` that do not depend on how the candidate is read: the whole path
// (forget-service.ts) and the streamed one (forget-stream.ts) take each of them from here, so
// both check the same things in the same order with the same words.

/** Where a forget run went (tests): the streamed path's passes, or the whole path. */
export type ForgetStep = StreamStep

export interface ForgetRequest {
  candidate: string
  ruleId: string
  reason: string
  out?: string
  tombstoneDir?: string
  receiptOut?: string
  keystore: string
  compileKeyAgent?: string
  activationKey?: string
  contractKey?: string
  env: LifecycleEnv
  /** Files the signed tombstone YAML into a contract store (`--store`); returns the stored path. */
  fileIntoStore?: (tombstoneYaml: string, roster: LoadedRoster, nowNanos: bigint) => string
  /** The store's roster; required with `fileIntoStore`, so the activation key is checked before anything is written. */
  storeRoster?: StoreRosterRef
  /** Tests: false takes the whole path (the two paths are compared). */
  stream?: boolean
  /** Tests: told each step the run takes (which path, and the end of each streamed pass). */
  trace?: (step: ForgetStep) => void
}

export interface ForgetResult {
  candidate: string
  dest: string
  ruleId: string
  tombstone: string
  storeTombstone?: string
  tombstoneHash: string
  receiptFile: string
  priorContractHash: string
  contractHash: string
  activationKeyId: string
  authorizationId: string
}

/** The activation signer (forget-signer.ts `loadForgetSigner`). */
export interface ForgetActivation {
  keyPair: Ed25519KeyPair
  keyId: string
  roster?: LoadedRoster
}

/** Where forget writes (checked, nothing created yet). */
export interface ForgetOutputs {
  candidate: string
  dest: string
  tombDir: string
  receiptFile: string
}

function replaceExt(p: string, ext: string): string {
  const e = path.extname(p)
  return (e === '' ? p : p.slice(0, -e.length)) + ext
}

/** The reduced contract's path, the tombstone directory and the receipt file, checked. */
export function forgetOutputs(req: ForgetRequest): ForgetOutputs {
  const candidate = path.normalize(req.candidate)
  const dest = checkCandidateOut(req.out ?? replaceExt(candidate, '.forgotten.yaml'))
  const tombDir = req.tombstoneDir ?? path.join(path.dirname(candidate), 'tombstones')
  if (!path.isAbsolute(tombDir)) throw new PipelockError('PATH_NOT_ABSOLUTE', `learn forget: --tombstone-dir must be absolute, got ${JSON.stringify(tombDir)}`)
  const tombStat = lstatOutputPath(tombDir, `learn forget: ${req.tombstoneDir === undefined ? 'tombstone directory' : '--tombstone-dir'}`)
  if (tombStat?.isSymbolicLink() === true) throw new PipelockError('PATH_UNSAFE', `learn forget: tombstone dir must not be a symlink: ${tombDir}`)
  if (tombStat !== undefined && !tombStat.isDirectory()) throw new PipelockError('WRITE_FAILED', `learn forget: tombstone dir ${tombDir} is not a directory`)
  const receiptFile = checkOutputPath(req.receiptOut ?? path.join(path.dirname(dest), 'redaction-receipts.jsonl'), 'learn forget')
  return {candidate, dest, tombDir, receiptFile}
}

/** The old indexes of the rules kept when the rules at `removed` (those with the rule id) go; refuses when none or all go. */
export function keptIndexes(ruleCount: number, removed: ReadonlySet<number>, ruleId: string): number[] {
  if (removed.size === 0) throw new PipelockError('RULE_NOT_FOUND', `learn: rule not found in candidate: ${JSON.stringify(ruleId)}`)
  if (removed.size === ruleCount) throw new PipelockError('CANDIDATE_INVALID', 'learn forget: refusing to write candidate with no rules')
  const kept: number[] = []
  for (let i = 0; i < ruleCount; i++) if (!removed.has(i)) kept.push(i)
  return kept
}

/** The key that re-signs the reduced contract (`signerId`: the candidate's signer_key_id, the default). */
export function forgetCompileSigner(req: ForgetRequest, signerId: string): ContractSigner {
  return req.env.deterministic ? deterministicKey('forgetCompile') : keystoreSigner(req.keystore, req.compileKeyAgent ?? signerId)
}

/** The reduced contract, signed: its hash and its YAML (text, or a writer of it). */
export interface ForgottenContract {
  contractHash: string
  yaml: string | ((write: (piece: string) => void) => void)
}

/**
 * The signed tombstone of `prior` and its contract_redaction_request receipt, then the writes:
 * the reduced contract is staged first (a streamed one is read again there, and refused if the
 * file changed), then the store's tombstone (write-once, may refuse), the tombstone next to the
 * candidate, and the receipt and the rename of the staged file. Nothing is left on a failure
 * before the tombstone is written.
 */
export function finishForget(req: ForgetRequest, ruleId: string, reason: string, activation: ForgetActivation, out: ForgetOutputs, priorBody: JsonObject, contract: ForgottenContract): ForgetResult {
  const prior = priorBody.get('contract_hash') as string
  const authorizationId = req.env.newId('redaction')
  const tomb = signTombstone(tombstoneBody({priorContractHash: prior, redactedAt: nowRfc3339(req.env), authorizationId, signerKeyId: activation.keyId}), activation.keyPair)
  const tHash = tombstoneHash(tomb)
  const tombYaml = emitSignedYaml(new Map<string, JsonValue>([['body', tomb.body], ['signature', tomb.signature]]))
  const tombFile = path.join(out.tombDir, `${prior.replace(/[:/]/g, '-')}.tombstone.yaml`)
  const sel = priorBody.get('selector')
  const selectorId = sel instanceof Map && typeof sel.get('selector_id') === 'string' ? (sel.get('selector_id') as string) : ''
  const receipt = signEvidence(
    {
      payloadKind: 'contract_redaction_request',
      eventId: authorizationId,
      timestamp: nowRfc3339(req.env),
      principal: activation.keyId,
      actor: 'learn forget',
      chainSeq: 0,
      chainPrevHash: '',
      contractHash: prior,
      ...(selectorId === '' ? {} : {selectorId}),
      payload: {
        target_contract_hash: prior,
        request_kind: 'local_erasure_tombstone',
        reason_class: reason,
        authorization_id: authorizationId,
        tombstone_hash: tHash,
      },
    },
    {keyPair: activation.keyPair, keyId: activation.keyId, purpose: TOMBSTONE_KEY_PURPOSE},
  )
  checkOutputPath(out.receiptFile, 'learn forget', true)
  const staged = stageCandidate(out.dest, contract.yaml)
  let storeTombstone: string | undefined
  try {
    storeTombstone = req.fileIntoStore === undefined || activation.roster === undefined ? undefined : req.fileIntoStore(tombYaml, activation.roster, req.env.clock.nowNanos())
    try {
      makeDirs(out.tombDir, 0o750)
      if (lstatSync(out.tombDir).isSymbolicLink()) throw new PipelockError('PATH_UNSAFE', `learn forget: tombstone dir must not be a symlink: ${out.tombDir}`)
      writeFileAtomic(tombFile, tombYaml, 0o600)
    } catch (e) {
      if (e instanceof PipelockError) throw e
      throw new PipelockError('WRITE_FAILED', `learn forget: write tombstone: ${(e as Error).message}`)
    }
  } catch (e) {
    staged.discard()
    throw e
  }
  staged.commit(out.receiptFile, [encodeEvidenceReceipt(receipt)])
  return {
    candidate: out.candidate,
    dest: out.dest,
    ruleId,
    tombstone: tombFile,
    ...(storeTombstone === undefined ? {} : {storeTombstone}),
    tombstoneHash: tHash,
    receiptFile: out.receiptFile,
    priorContractHash: prior,
    contractHash: contract.contractHash,
    activationKeyId: activation.keyId,
    authorizationId,
  }
}
