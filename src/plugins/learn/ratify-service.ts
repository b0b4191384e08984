import path from 'node:path'
import {captureOnlyDenied, rejectedButCovered} from './ratify-coverage.js'
import {earlierDecisions} from './ratify-earlier.js'
import {formatGoTime, fromEpochNanos, toUtc, type JsonObject} from '../canonical/index.js'
import {encodeEvidenceReceipt, signEvidence} from '../receipts/index.js'
import {loadAgentPrivateKey, validateAgentName} from '../signing/index.js'
import {checkCandidateOut, checkOutputPath, checkWritable, loadCandidate} from './candidate-file.js'
import {stagedCommit} from './candidate-commit.js'
import {deterministicKey, type LifecycleEnv} from './candidate-env.js'
import {remapRuleDataClasses, resignContract, type ContractSigner} from './candidate-sign.js'
import {verifyCandidate} from './candidate-verify.js'
import {checkDecidedRules} from './ratify-decide.js'
import {applyDecisions, lowConfidenceGuard, parseDecision, ruleEvidenceBlock, type RatifyDecision} from './ratify.js'
import {PipelockError} from '../errors/index.js'

/** Shows `block` (ending with the prompt) and returns the operator's line; undefined on EOF. */
export type RatifyPrompt = (block: string, ruleIndex: number) => Promise<string | undefined>

export interface RatifyRequest {
  candidate: string
  out?: string
  receiptOut?: string
  keystore: string
  compileKeyAgent?: string
  receiptKeyAgent?: string
  /** §10.8: public key that must verify the incoming candidate (else the keystore key of its signer). */
  contractKey?: string
  interactive: boolean
  acceptLowConfidence: boolean
  /** Non-interactive: make every rule enforce even when the contract carries earlier decisions. */
  redoDecisions?: boolean
  /** Non-interactive `--decide`: these rules get these decisions; the others are decided as without it. */
  decide?: ReadonlyMap<string, RatifyDecision>
  env: LifecycleEnv
  prompt?: RatifyPrompt
}

export interface RatifyResult {
  candidate: string
  dest: string
  receiptFile: string
  contractHash: string
  priorContractHash: string
  compileKeyId: string
  receiptKeyId: string
  ratifiedRuleIds: string[]
  rejectedRuleIds: string[]
  /**
   * Rejected rules a broader enforced rule still allows, and capture-only rules the host's
   * default deny will refuse under a live contract (also printed on stderr).
   */
  warnings: string[]
  decisions: Record<string, RatifyDecision>
}

/** Loads a keystore signer (§4.0): the keystore agent name is the key id. */
export function keystoreSigner(keystore: string, id: string | undefined): ContractSigner {
  if (id === undefined || id === '') throw new PipelockError('KEY_INVALID', 'learn lifecycle: signer key id is required')
  try {
    validateAgentName(id)
    return {keyPair: loadAgentPrivateKey(keystore, id).keyPair, keyId: id}
  } catch (e) {
    if (e instanceof PipelockError) throw new PipelockError(e.code, `load lifecycle signing key for ${JSON.stringify(id)}: ${e.message}`)
    throw e
  }
}

export function nowRfc3339(env: LifecycleEnv): string {
  return formatGoTime(toUtc(fromEpochNanos(env.clock.nowNanos())))
}

function selectorId(body: JsonObject): string {
  const sel = body.get('selector')
  return sel instanceof Map && typeof sel.get('selector_id') === 'string' ? (sel.get('selector_id') as string) : ''
}

/**
 * `learn ratify` (§4.1 with the §10.8 decision): verify → guard → decide per rule → re-sign →
 * `contract_ratified` receipt → staged commit. Nothing is written on any failure.
 */
export async function runLearnRatify(req: RatifyRequest): Promise<RatifyResult> {
  const env = loadCandidate(req.candidate)
  const dest = req.out === undefined ? checkCandidateOut(path.normalize(req.candidate)) : checkCandidateOut(req.out)
  const receiptFile = checkOutputPath(req.receiptOut ?? path.join(path.dirname(dest), 'ratification-receipts.jsonl'))
  verifyCandidate(env, {keystore: req.keystore, deterministic: req.env.deterministic, ...(req.contractKey === undefined ? {} : {contractKey: req.contractKey})}, 'learn ratify')
  const rules = env.body.get('rules')
  if (!Array.isArray(rules) || rules.length === 0) throw new PipelockError('CANDIDATE_INVALID', 'learn: invalid candidate file: candidate has no rules')
  const named = req.decide ?? new Map<string, RatifyDecision>()
  if (named.size > 0 && req.interactive) throw new PipelockError('USAGE', 'learn ratify: --decide cannot be combined with --interactive', {hint: 'see pipelock learn ratify --help'})
  checkDecidedRules(rules as JsonObject[], named, req.candidate)
  // Non-interactive decisions are known before anything is checked: a named rule's, else the
  // earlier ratification's (unless --redo-decisions), else enforce.
  const earlier = req.interactive || req.redoDecisions === true ? undefined : earlierDecisions(rules as JsonObject[])
  const ruleId = (i: number): string => ((rules as JsonObject[])[i]?.get('rule_id') as string | undefined) ?? ''
  const decisions: RatifyDecision[] = req.interactive ? [] : rules.map((_, i) => named.get(ruleId(i)) ?? earlier?.[i] ?? 'enforce')
  lowConfidenceGuard(env.body, req.interactive, req.acceptLowConfidence, req.interactive ? {} : {decisions, decide: named.size > 0})
  // Everything that can fail is checked before the first prompt, so an operator's answers are
  // never lost to a missing key or an unwritable destination after the last one.
  const prior = typeof env.body.get('signer_key_id') === 'string' ? (env.body.get('signer_key_id') as string) : ''
  const compileSigner = req.env.deterministic ? deterministicKey('ratifyCompile') : keystoreSigner(req.keystore, req.compileKeyAgent ?? prior)
  const receiptSigner = req.env.deterministic ? deterministicKey('ratifyReceipt') : keystoreSigner(req.keystore, req.receiptKeyAgent ?? 'receipt-signing')
  checkWritable(path.dirname(dest), 'learn ratify: destination directory')
  checkWritable(receiptFile, 'learn ratify: receipt file')

  if (req.interactive) {
    if (req.prompt === undefined) throw new PipelockError('USAGE', 'learn ratify: --interactive needs a prompt')
    for (let i = 0; i < rules.length; i++) {
      const answer = await req.prompt(ruleEvidenceBlock(env.body, i), i)
      // End of input (a piped answer file one line short): say so, rather than "invalid decision ''".
      if (answer === undefined) {
        throw new PipelockError('RATIFY_DECISION_INVALID', `learn ratify: the answers ended at rule ${i + 1} of ${rules.length}; nothing was written`, {hint: 'give one answer per rule: e, c or r (a repeats the previous answer for every remaining rule)'})
      }
      decisions.push(parseDecision(answer))
    }
  }
  const applied = applyDecisions(env.body, decisions)
  const warnings = [...rejectedButCovered(rules as JsonObject[], decisions), ...captureOnlyDenied(rules as JsonObject[], decisions)]
  // the earlier decisions kept: those of the rules --decide does not name
  const keptIdx = earlier === undefined ? [] : rules.map((_, i) => i).filter((i) => !named.has(ruleId(i)))
  const kept = keptIdx.filter((i) => earlier?.[i] === 'capture_only').length
  if (kept > 0 && named.size === 0) {
    warnings.unshift(`learn ratify: the candidate was ratified before; kept its decisions (${kept} capture_only, ${rules.length - kept} enforce); pass --redo-decisions to make every rule enforce`)
  } else if (kept > 0) {
    warnings.unshift(
      `learn ratify: the candidate was ratified before; kept its decisions for the rules --decide does not name (${kept} capture_only, ${keptIdx.length - kept} enforce); pass --redo-decisions to make those enforce`,
    )
  }
  remapRuleDataClasses(applied.body, applied.keptIndexes)

  const signed = resignContract(applied.body, compileSigner, 'learn ratify')

  const decisionMap: Record<string, RatifyDecision> = {}
  for (const [k, v] of applied.decisionPerRule) decisionMap[k] = v
  // §10.11 decision: contract_generation is left out (the reference put event_count there; a
  // ratified candidate has no generation until promote assigns one).
  const receipt = signEvidence(
    {
      payloadKind: 'contract_ratified',
      eventId: req.env.newId('contract-ratified'),
      timestamp: nowRfc3339(req.env),
      principal: receiptSigner.keyId,
      actor: 'learn ratify',
      chainSeq: 0,
      chainPrevHash: '',
      contractHash: signed.contractHash,
      selectorId: selectorId(signed.body),
      payload: {
        contract_hash: signed.contractHash,
        ratifier_key_id: receiptSigner.keyId,
        ratified_rule_ids: applied.ratified,
        ratification_decision_per_rule: decisionMap,
      },
    },
    {keyPair: receiptSigner.keyPair, keyId: receiptSigner.keyId, purpose: 'receipt-signing'},
  )
  checkOutputPath(receiptFile, true)
  stagedCommit(dest, signed.yaml, receiptFile, [encodeEvidenceReceipt(receipt)])
  return {
    candidate: req.candidate,
    dest,
    receiptFile,
    contractHash: signed.contractHash,
    priorContractHash: typeof env.body.get('contract_hash') === 'string' ? (env.body.get('contract_hash') as string) : '',
    compileKeyId: compileSigner.keyId,
    receiptKeyId: receiptSigner.keyId,
    ratifiedRuleIds: applied.ratified,
    rejectedRuleIds: applied.rejected,
    warnings,
    decisions: decisionMap,
  }
}
