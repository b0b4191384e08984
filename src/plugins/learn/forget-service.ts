import type {JsonObject} from '../canonical/index.js'
import {goTrimSpace} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {ed25519ArithmeticLoaded} from '../signing/index.js'
import {loadCandidate} from './candidate-file.js'
import {deterministicKey} from './candidate-env.js'
import {remapRuleDataClasses, resignContract} from './candidate-sign.js'
import {candidateTrust, verifyCandidate} from './candidate-verify.js'
import {loadForgetSigner} from './forget-signer.js'
import {finishForget, forgetCompileSigner, forgetOutputs, keptIndexes, type ForgetActivation, type ForgetRequest, type ForgetResult} from './forget-steps.js'
import {forgetStreamed} from './forget-stream.js'

export type {ForgetRequest, ForgetResult, ForgetStep} from './forget-steps.js'

/**
 * `learn forget` (§4.2, §10.8 verification first): remove a rule, re-sign with prior_contract_hash,
 * write a signed tombstone for the prior hash and a contract_redaction_request receipt.
 *
 * Once the curve arithmetic is loaded (signing `loadEd25519Arithmetic`: the command does), the
 * candidate is read rule by rule (forget-stream.ts), never held decoded nor as text; where that
 * read declines (a file outside our emitter's YAML subset, a signature it cannot prove, a reduced
 * body it would refuse) the whole path below decides, with the same result and words.
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
  if (req.stream !== false && ed25519ArithmeticLoaded()) {
    const streamed = forgetStreamed(req, ruleId, reason, activation)
    if (streamed !== undefined) return streamed
  }
  req.trace?.('whole')
  return forgetWhole(req, ruleId, reason, activation)
}

/** `runLearnForget` over the candidate decoded whole. */
function forgetWhole(req: ForgetRequest, ruleId: string, reason: string, activation: ForgetActivation): ForgetResult {
  const env = loadCandidate(req.candidate)
  const out = forgetOutputs(req)
  verifyCandidate(env, candidateTrust(req), 'learn forget')
  const prior = typeof env.body.get('contract_hash') === 'string' ? (env.body.get('contract_hash') as string) : ''
  if (prior === '') throw new PipelockError('CANDIDATE_INVALID', 'learn: invalid candidate file: candidate contract_hash is empty')

  const rules = (env.body.get('rules') as JsonObject[] | null) ?? []
  const removed = new Set<number>()
  rules.forEach((r, i) => {
    if (r.get('rule_id') === ruleId) removed.add(i)
  })
  const kept = keptIndexes(rules.length, removed, ruleId)
  const body: JsonObject = new Map(env.body)
  body.set(
    'rules',
    kept.map((i) => rules[i] as JsonObject),
  )
  remapRuleDataClasses(body, kept)
  body.set('prior_contract_hash', prior)

  const signerId = typeof env.body.get('signer_key_id') === 'string' ? (env.body.get('signer_key_id') as string) : ''
  const signed = resignContract(body, forgetCompileSigner(req, signerId), 'learn forget')
  return finishForget(req, ruleId, reason, activation, out, env.body, {contractHash: signed.contractHash, yaml: signed.yaml})
}
