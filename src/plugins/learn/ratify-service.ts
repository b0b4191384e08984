import type {JsonObject} from '../canonical/index.js'
import {checkOutputPath, loadCandidate} from './candidate-file.js'
import {stagedCommit} from './candidate-commit.js'
import {remapRuleDataClasses, resignContract} from './candidate-sign.js'
import {candidateTrust, verifyCandidate} from './candidate-verify.js'
import {coverageWarnings} from './ratify-coverage.js'
import {keptDecisionsWarning} from './ratify-earlier.js'
import {ruleFacts} from './ratify-facts.js'
import {decideRules, ratifyOutputs, ratifyReceipt, ratifySigners, type RatifyRequest, type RatifyResult} from './ratify-steps.js'
import {ratifyStreamed} from './ratify-stream.js'
import {applyDecisions, parseDecision, ruleEvidenceBlock} from './ratify.js'
import {PipelockError} from '../errors/index.js'

export {keystoreSigner, nowRfc3339} from './ratify-steps.js'
export type {RatifyPrompt, RatifyRequest, RatifyResult, RatifyStep} from './ratify-steps.js'

/**
 * `learn ratify` (§4.1 with the §10.8 decision): verify → guard → decide per rule → re-sign →
 * `contract_ratified` receipt → staged commit. Nothing is written on any failure.
 *
 * Non-interactive, the candidate is read rule by rule (ratify-stream.ts), never held decoded
 * nor as text; where that read declines (a file outside our emitter's YAML subset, a signature
 * it cannot prove, a ratified body it would refuse) the whole path below decides, with the same
 * result and words. Interactive ratify always takes the whole path: an operator answering a
 * prompt per rule does not ratify a contract of a size that needs streaming.
 */
export async function runLearnRatify(req: RatifyRequest): Promise<RatifyResult> {
  if (!req.interactive && req.stream !== false) {
    const streamed = await ratifyStreamed(req)
    if (streamed !== undefined) return streamed
  }
  req.trace?.('whole')
  return ratifyWhole(req)
}

/** `runLearnRatify` over the candidate decoded whole. */
async function ratifyWhole(req: RatifyRequest): Promise<RatifyResult> {
  const env = loadCandidate(req.candidate)
  const out = ratifyOutputs(req)
  verifyCandidate(env, candidateTrust(req), 'learn ratify')
  const rules = env.body.get('rules')
  if (!Array.isArray(rules) || rules.length === 0) throw new PipelockError('CANDIDATE_INVALID', 'learn: invalid candidate file: candidate has no rules')
  const facts = (rules as JsonObject[]).map(ruleFacts)
  const {decisions, earlier, named} = decideRules(req, facts)
  const prior = typeof env.body.get('signer_key_id') === 'string' ? (env.body.get('signer_key_id') as string) : ''
  const signers = ratifySigners(req, prior, out.dest, out.receiptFile)

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
  const warnings = coverageWarnings(rules as JsonObject[], decisions)
  const kept = keptDecisionsWarning(facts, named, earlier)
  if (kept !== undefined) warnings.unshift(kept)
  remapRuleDataClasses(applied.body, applied.keptIndexes)

  const signed = resignContract(applied.body, signers.compileSigner, 'learn ratify')
  const priorContractHash = typeof env.body.get('contract_hash') === 'string' ? (env.body.get('contract_hash') as string) : ''
  const {line, result} = ratifyReceipt(req, out, signers, {contractHash: signed.contractHash, body: signed.body, priorContractHash}, applied, warnings)
  checkOutputPath(out.receiptFile, 'learn ratify', true)
  stagedCommit(out.dest, signed.yaml, out.receiptFile, [line])
  return result
}
