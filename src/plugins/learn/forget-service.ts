import {lstatSync} from 'node:fs'
import path from 'node:path'
import {emitSignedYaml, type JsonObject, type JsonValue} from '../canonical/index.js'
import {signTombstone, tombstoneBody, tombstoneHash, TOMBSTONE_KEY_PURPOSE} from '../contracts/index.js'
import {PipelockError} from '../errors/index.js'
import {encodeEvidenceReceipt, signEvidence} from '../receipts/index.js'
import {makeDirs, writeFileAtomic} from '../signing/index.js'
import {checkCandidateOut, checkOutputPath, loadCandidate} from './candidate-file.js'
import {stagedCommit} from './candidate-commit.js'
import {deterministicKey, type LifecycleEnv} from './candidate-env.js'
import {remapRuleDataClasses, resignContract} from './candidate-sign.js'
import {verifyCandidate} from './candidate-verify.js'
import {goTrimSpace} from '../canonical/index.js'
import {keystoreSigner, nowRfc3339} from './ratify-service.js'
import {loadForgetSigner, type StoreRosterRef} from './forget-signer.js'
import type {LoadedRoster} from '../signing/index.js'

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

function replaceExt(p: string, ext: string): string {
  const e = path.extname(p)
  return (e === '' ? p : p.slice(0, -e.length)) + ext
}

/**
 * `learn forget` (§4.2, §10.8 verification first): remove a rule, re-sign with prior_contract_hash,
 * write a signed tombstone for the prior hash and a contract_redaction_request receipt.
 */
export function runLearnForget(req: ForgetRequest): ForgetResult {
  const ruleId = goTrimSpace(req.ruleId)
  if (ruleId === '') throw new PipelockError('RULE_NOT_FOUND', 'learn: rule not found in candidate: --rule-id is required')
  const reason = goTrimSpace(req.reason)
  if (reason === '') throw new PipelockError('USAGE', 'learn forget: --reason is required')
  if (req.fileIntoStore !== undefined && req.storeRoster === undefined) {
    throw new PipelockError('USAGE', 'learn forget: --store needs --roster and --roster-root-fingerprint', {
      hint: "give the roster learn promote uses for this store: the tombstone's signer is checked against it before anything is written",
    })
  }
  if (!req.env.deterministic && (req.activationKey ?? '') === '') {
    throw new PipelockError('KEY_INVALID', 'learn lifecycle: signer key id is required', {
      hint: 'learn forget signs the tombstone and its contract_redaction_request receipt with an activation key (roster purpose contract-activation-signing): pass --activation-key with a keystore key id or a key file from signing key generate',
    })
  }
  // The activation signer (and, with --store, its place in the store's roster) is checked first.
  const activation = loadForgetSigner(req.keystore, req.env.deterministic ? deterministicKey('forgetActivation') : (req.activationKey ?? ''), req.storeRoster, req.env)
  const env = loadCandidate(req.candidate)
  const candidate = path.normalize(req.candidate)
  const dest = checkCandidateOut(req.out ?? replaceExt(candidate, '.forgotten.yaml'))
  const tombDir = req.tombstoneDir ?? path.join(path.dirname(candidate), 'tombstones')
  if (!path.isAbsolute(tombDir)) throw new PipelockError('PATH_NOT_ABSOLUTE', `learn forget: --tombstone-dir must be absolute, got ${JSON.stringify(tombDir)}`)
  try {
    if (lstatSync(tombDir).isSymbolicLink()) throw new PipelockError('PATH_UNSAFE', `learn forget: tombstone dir must not be a symlink: ${tombDir}`)
  } catch (e) {
    if (e instanceof PipelockError) throw e
  }
  const receiptFile = checkOutputPath(req.receiptOut ?? path.join(path.dirname(dest), 'redaction-receipts.jsonl'))
  verifyCandidate(env, {keystore: req.keystore, deterministic: req.env.deterministic, ...(req.contractKey === undefined ? {} : {contractKey: req.contractKey})}, 'learn forget')
  const prior = typeof env.body.get('contract_hash') === 'string' ? (env.body.get('contract_hash') as string) : ''
  if (prior === '') throw new PipelockError('CANDIDATE_INVALID', 'learn: invalid candidate file: candidate contract_hash is empty')

  const rules = (env.body.get('rules') as JsonObject[] | null) ?? []
  const kept: JsonObject[] = []
  const keptIndexes: number[] = []
  rules.forEach((r, i) => {
    if (r.get('rule_id') === ruleId) return
    kept.push(r)
    keptIndexes.push(i)
  })
  if (kept.length === rules.length) throw new PipelockError('RULE_NOT_FOUND', `learn: rule not found in candidate: ${JSON.stringify(ruleId)}`)
  if (kept.length === 0) throw new PipelockError('CANDIDATE_INVALID', 'learn forget: refusing to write candidate with no rules')
  const body: JsonObject = new Map(env.body)
  body.set('rules', kept)
  remapRuleDataClasses(body, keptIndexes)
  body.set('prior_contract_hash', prior)

  const signerId = typeof env.body.get('signer_key_id') === 'string' ? (env.body.get('signer_key_id') as string) : ''
  const compileSigner = req.env.deterministic ? deterministicKey('forgetCompile') : keystoreSigner(req.keystore, req.compileKeyAgent ?? signerId)
  const signed = resignContract(body, compileSigner, 'learn forget')

  const authorizationId = req.env.newId('redaction')
  const tomb = signTombstone(
    tombstoneBody({priorContractHash: prior, redactedAt: nowRfc3339(req.env), authorizationId, signerKeyId: activation.keyId}),
    activation.keyPair,
  )
  const tHash = tombstoneHash(tomb)
  const tombYaml = emitSignedYaml(new Map<string, JsonValue>([['body', tomb.body], ['signature', tomb.signature]]))
  const tombFile = path.join(tombDir, `${prior.replace(/[:/]/g, '-')}.tombstone.yaml`)
  const sel = env.body.get('selector')
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
  // Everything is signed and validated: now write. The store (write-once, may refuse) goes first,
  // then the tombstone next to the candidate, then the staged candidate with its receipt.
  const storeTombstone =
    req.fileIntoStore === undefined || activation.roster === undefined ? undefined : req.fileIntoStore(tombYaml, activation.roster, req.env.clock.nowNanos())
  try {
    makeDirs(tombDir, 0o750)
    if (lstatSync(tombDir).isSymbolicLink()) throw new PipelockError('PATH_UNSAFE', `learn forget: tombstone dir must not be a symlink: ${tombDir}`)
    writeFileAtomic(tombFile, tombYaml, 0o600)
  } catch (e) {
    if (e instanceof PipelockError) throw e
    throw new PipelockError('WRITE_FAILED', `learn forget: write tombstone: ${(e as Error).message}`)
  }
  checkOutputPath(receiptFile, true)
  stagedCommit(dest, signed.yaml, receiptFile, [encodeEvidenceReceipt(receipt)])
  return {
    candidate,
    dest,
    ruleId,
    tombstone: tombFile,
    ...(storeTombstone === undefined ? {} : {storeTombstone}),
    tombstoneHash: tHash,
    receiptFile,
    priorContractHash: prior,
    contractHash: signed.contractHash,
    activationKeyId: activation.keyId,
    authorizationId,
  }
}
