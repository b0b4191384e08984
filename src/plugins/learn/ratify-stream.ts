import type {JsonObject} from '../canonical/index.js'
import {loadEd25519Arithmetic} from '../signing/index.js'
import {checkOutputPath} from './candidate-file.js'
import {stagedCommit} from './candidate-commit.js'
import {remapRuleDataClasses} from './candidate-sign.js'
import {readVerified, reread, rulesWriter, signRules, type RuleEdit, type VerifiedRead} from './candidate-stream.js'
import {coverageHosts, coverageWarnings} from './ratify-coverage.js'
import {keptDecisionsWarning} from './ratify-earlier.js'
import {ruleFacts, type RuleFacts} from './ratify-facts.js'
import {decideRules, ratifyOutputs, ratifyReceipt, ratifySigners, type RatifyRequest, type RatifyResult} from './ratify-steps.js'
import {decisionOutcome, type RatifyDecision} from './ratify.js'
import {candidateTrust} from './candidate-verify.js'

// Non-interactive `learn ratify` reading the candidate rule by rule, in the passes of
// candidate-stream.ts:
//
//   A. the candidate verified as it is read, keeping of each rule only what the decisions read
//      (ratify-facts.ts);
//   (the HTTP rules of the hosts a coverage warning can be about, when there are any;)
//   B. the kept rules, their lifecycle_state set, signed;
//   C. the same rules written as YAML lines into the staged file.
//
// Wherever this path cannot prove the outcome the whole path would reach (the read declines, the
// signature is not proven, the ratified body would not validate or emit) it returns undefined
// before anything is written, and the whole path decides, in its own words.

const COMMAND = 'learn ratify'

/** What pass A read, and each rule's facts. */
interface FactsRead extends VerifiedRead {
  facts: RuleFacts[]
}

/** `runLearnRatify` without an operator, streamed; undefined where the whole path must decide (nothing written). */
export async function ratifyStreamed(req: RatifyRequest): Promise<RatifyResult | undefined> {
  // the streamed signature check's curve arithmetic (signing `Ed25519StreamVerifier`)
  await loadEd25519Arithmetic()
  const read = readFacts(req)
  if (read === undefined) return undefined
  req.trace?.('facts-read')
  const {body} = read
  const out = ratifyOutputs(req)
  const {decisions, earlier, named} = decideRules(req, read.facts)
  const prior = typeof body.get('signer_key_id') === 'string' ? (body.get('signer_key_id') as string) : ''
  const signers = ratifySigners(req, prior, out.dest, out.receiptFile)
  const outcome = decisionOutcome(
    read.facts.map((f) => f.ruleId),
    decisions,
  )
  const warnings = coverage(req.candidate, read, decisions)
  const kept = keptDecisionsWarning(read.facts, named, earlier)
  if (kept !== undefined) warnings.unshift(kept)
  // done with: let them go before pass B holds the signed body
  read.facts = []

  const edit: RuleEdit = (rule, i) => {
    const d = decisions[i]
    return d === undefined || d === 'reject' ? undefined : new Map(rule).set('lifecycle_state', d)
  }
  const signed = signRules(req.candidate, read, COMMAND, signers.compileSigner, edit, (b) => remapRuleDataClasses(b, outcome.keptIndexes))
  if (signed === undefined) return undefined
  req.trace?.('body-signed')
  const priorContractHash = typeof body.get('contract_hash') === 'string' ? (body.get('contract_hash') as string) : ''
  const {line, result} = ratifyReceipt(req, out, signers, {contractHash: signed.hash, body: signed.body, priorContractHash}, outcome, warnings)
  checkOutputPath(out.receiptFile, 'learn ratify', true)
  stagedCommit(out.dest, rulesWriter(req.candidate, read, COMMAND, signed, edit), out.receiptFile, [line])
  req.trace?.('yaml-written')
  return result
}

/** Pass A with each rule's facts kept. Undefined where that proves nothing. */
function readFacts(req: RatifyRequest): FactsRead | undefined {
  const trust = candidateTrust(req)
  const facts: RuleFacts[] = []
  const read = readVerified(req.candidate, trust, (rule) => facts.push(ruleFacts(rule)))
  return read === undefined ? undefined : {...read, facts}
}

/**
 * The coverage warnings (ratify-coverage.ts), from the HTTP rules of the hosts they can be about
 * only (read again, when there are any): a rule is only ever compared with its own host's.
 */
function coverage(file: string, read: FactsRead, decisions: readonly RatifyDecision[]): string[] {
  const hosts = coverageHosts(read.facts, decisions)
  if (hosts.size === 0) return []
  const enforcesHttp = read.facts.some((f, i) => f.http && decisions[i] === 'enforce')
  const rules: JsonObject[] = []
  const theirs: RatifyDecision[] = []
  reread(file, read, COMMAND, (rule, i) => {
    const f = read.facts[i]
    if (f === undefined || !f.http || !hosts.has(f.host)) return
    rules.push(rule)
    theirs.push(decisions[i] as RatifyDecision)
  })
  return coverageWarnings(rules, theirs, enforcesHttp)
}
