import path from 'node:path'
import {formatGoTime, fromEpochNanos, toUtc, type JsonObject} from '../canonical/index.js'
import {encodeEvidenceReceipt, signEvidence} from '../receipts/index.js'
import {loadAgentPrivateKey, validateAgentName} from '../signing/index.js'
import {checkCandidateOut, checkOutputPath, checkWritable} from './candidate-file.js'
import {deterministicKey, type LifecycleEnv} from './candidate-env.js'
import type {ContractSigner} from './candidate-sign.js'
import {checkDecidedRules} from './ratify-decide.js'
import {earlierDecisions} from './ratify-earlier.js'
import type {RuleFacts} from './ratify-facts.js'
import {lowConfidenceGuard, type DecisionOutcome, type RatifyDecision} from './ratify.js'
import {PipelockError} from '../errors/index.js'

// The steps of `learn ratify` that do not depend on how the candidate is read: the whole path
// (ratify-service.ts) and the streamed one (ratify-stream.ts) take each of them from here, so
// both check the same things in the same order with the same words.

/** Shows `block` (ending with the prompt) and returns the operator's line; undefined on EOF. */
export type RatifyPrompt = (block: string, ruleIndex: number) => Promise<string | undefined>

/** Where a ratify run went (tests): the streamed path's passes, or the whole path. */
export type RatifyStep = 'whole' | 'facts-read' | 'body-signed' | 'yaml-written'

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
  /** Tests: false takes the whole path even without an operator (the two paths are compared). */
  stream?: boolean
  /** Tests: told each step the run takes (which path, and the end of each streamed pass). */
  trace?: (step: RatifyStep) => void
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

/** The ratified contract's path and the receipt file's, checked (nothing is created yet). */
export function ratifyOutputs(req: RatifyRequest): {dest: string; receiptFile: string} {
  const dest = req.out === undefined ? checkCandidateOut(path.normalize(req.candidate)) : checkCandidateOut(req.out)
  const receiptFile = checkOutputPath(req.receiptOut ?? path.join(path.dirname(dest), 'ratification-receipts.jsonl'), 'learn ratify')
  return {dest, receiptFile}
}

/**
 * The non-interactive decisions (interactive: none yet) and what they came from, after the
 * --decide and low-confidence checks. Non-interactive decisions are known before anything is
 * checked: a named rule's, else the earlier ratification's (unless --redo-decisions), else enforce.
 */
export function decideRules(
  req: RatifyRequest,
  rules: readonly RuleFacts[],
): {decisions: RatifyDecision[]; earlier: RatifyDecision[] | undefined; named: ReadonlyMap<string, RatifyDecision>} {
  const named = req.decide ?? new Map<string, RatifyDecision>()
  if (named.size > 0 && req.interactive) throw new PipelockError('USAGE', 'learn ratify: --decide cannot be combined with --interactive', {hint: 'see pipelock learn ratify --help'})
  checkDecidedRules(rules, named, req.candidate)
  const earlier = req.interactive || req.redoDecisions === true ? undefined : earlierDecisions(rules)
  const decisions: RatifyDecision[] = req.interactive ? [] : rules.map((r, i) => named.get(r.ruleId) ?? earlier?.[i] ?? 'enforce')
  lowConfidenceGuard(rules, req.interactive, req.acceptLowConfidence, req.interactive ? {} : {decisions, decide: named.size > 0})
  return {decisions, earlier, named}
}

/**
 * The compile and receipt signers (`prior`: the candidate's signer_key_id, the default compile
 * key), and the outputs checked writable. Everything that can fail is checked before the first
 * prompt, so an operator's answers are never lost to a missing key or an unwritable destination
 * after the last one.
 */
export function ratifySigners(req: RatifyRequest, prior: string, dest: string, receiptFile: string): {compileSigner: ContractSigner; receiptSigner: ContractSigner} {
  const compileSigner = req.env.deterministic ? deterministicKey('ratifyCompile') : keystoreSigner(req.keystore, req.compileKeyAgent ?? prior)
  const receiptSigner = req.env.deterministic ? deterministicKey('ratifyReceipt') : keystoreSigner(req.keystore, req.receiptKeyAgent ?? 'receipt-signing')
  checkWritable(path.dirname(dest), 'learn ratify: destination directory')
  checkWritable(receiptFile, 'learn ratify: receipt file')
  return {compileSigner, receiptSigner}
}

/** What the ratified contract is: its hash, body members the receipt names, the candidate's hash. */
export interface RatifiedContract {
  contractHash: string
  /** The ratified body (its selector is read). */
  body: JsonObject
  priorContractHash: string
}

/** The `contract_ratified` receipt line and the run's result. */
export function ratifyReceipt(
  req: RatifyRequest,
  out: {dest: string; receiptFile: string},
  signers: {compileSigner: ContractSigner; receiptSigner: ContractSigner},
  contract: RatifiedContract,
  outcome: DecisionOutcome,
  warnings: string[],
): {line: string; result: RatifyResult} {
  const {receiptSigner} = signers
  const decisionMap: Record<string, RatifyDecision> = {}
  for (const [k, v] of outcome.decisionPerRule) decisionMap[k] = v
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
      contractHash: contract.contractHash,
      selectorId: selectorId(contract.body),
      payload: {
        contract_hash: contract.contractHash,
        ratifier_key_id: receiptSigner.keyId,
        ratified_rule_ids: outcome.ratified,
        ratification_decision_per_rule: decisionMap,
      },
    },
    {keyPair: receiptSigner.keyPair, keyId: receiptSigner.keyId, purpose: 'receipt-signing'},
  )
  return {
    line: encodeEvidenceReceipt(receipt),
    result: {
      candidate: req.candidate,
      dest: out.dest,
      receiptFile: out.receiptFile,
      contractHash: contract.contractHash,
      priorContractHash: contract.priorContractHash,
      compileKeyId: signers.compileSigner.keyId,
      receiptKeyId: receiptSigner.keyId,
      ratifiedRuleIds: outcome.ratified,
      rejectedRuleIds: outcome.rejected,
      warnings,
      decisions: decisionMap,
    },
  }
}
