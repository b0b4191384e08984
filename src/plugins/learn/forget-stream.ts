import {readVerified, rulesWriter, signRules, type RuleEdit} from './candidate-stream.js'
import {remapRuleDataClasses} from './candidate-sign.js'
import {finishForget, forgetCompileSigner, forgetOutputs, keptIndexes, type ForgetActivation, type ForgetRequest, type ForgetResult} from './forget-steps.js'
import {candidateTrust} from './candidate-verify.js'

// `learn forget` reading the candidate rule by rule, in the passes of candidate-stream.ts:
//
//   A. the candidate verified as it is read, keeping the indexes of the rules with the rule id;
//   B. the other rules signed into the reduced body (prior_contract_hash set);
//   C. the same rules written as YAML lines into the staged file, before the tombstone is written.
//
// Wherever this path cannot prove the outcome the whole path would reach (the read declines, the
// signature is not proven, the reduced body would not validate or emit) it returns undefined
// before anything is written, and the whole path decides, in its own words.

const COMMAND = 'learn forget'

/** `runLearnForget` streamed, after its request checks; undefined where the whole path must decide (nothing written). */
export function forgetStreamed(req: ForgetRequest, ruleId: string, reason: string, activation: ForgetActivation): ForgetResult | undefined {
  const trust = candidateTrust(req)
  const removed = new Set<number>()
  let ruleCount = 0
  const read = readVerified(req.candidate, trust, (rule, i) => {
    ruleCount++
    if (rule.get('rule_id') === ruleId) removed.add(i)
  })
  if (read === undefined) return undefined
  req.trace?.('rules-read')
  const out = forgetOutputs(req)
  // verified: contract_hash is the body's `sha256:` hash, never empty
  const prior = read.body.get('contract_hash') as string
  const kept = keptIndexes(ruleCount, removed, ruleId)
  const signerId = typeof read.body.get('signer_key_id') === 'string' ? (read.body.get('signer_key_id') as string) : ''
  const signer = forgetCompileSigner(req, signerId)
  const edit: RuleEdit = (rule, i) => (removed.has(i) ? undefined : rule)
  const signed = signRules(req.candidate, read, COMMAND, signer, edit, (body) => {
    remapRuleDataClasses(body, kept)
    body.set('prior_contract_hash', prior)
  })
  if (signed === undefined) return undefined
  req.trace?.('body-signed')
  const result = finishForget(req, ruleId, reason, activation, out, read.body, {contractHash: signed.hash, yaml: rulesWriter(req.candidate, read, COMMAND, signed, edit)})
  req.trace?.('yaml-written')
  return result
}
