import {createHash} from 'node:crypto'
import {closeSync} from 'node:fs'
import {assertYamlEmittable, canonicalize, CanonicalText, emitSequenceItem, emitSignedYamlTo, type JsonObject, type JsonValue, type PushedItems} from '../canonical/index.js'
import {CONTRACT_KEY_PURPOSE, readEnvelopeTail, RuleByRuleChecks, streamContractEnvelopeFd, streamContractEnvelopeVerifyingFd} from '../contracts/index.js'
import {PipelockError} from '../errors/index.js'
import {formatSignature, loadEd25519Arithmetic, signBytes} from '../signing/index.js'
import {checkOutputPath, openCandidate} from './candidate-file.js'
import {stagedCommit} from './candidate-commit.js'
import {remapRuleDataClasses, resignedBody, type ContractSigner} from './candidate-sign.js'
import {keysBeforeParse} from './candidate-verify.js'
import {coverageHosts, coverageWarnings} from './ratify-coverage.js'
import {keptDecisionsWarning} from './ratify-earlier.js'
import {ruleFacts, type RuleFacts} from './ratify-facts.js'
import {decideRules, ratifyOutputs, ratifyReceipt, ratifySigners, type RatifyRequest, type RatifyResult} from './ratify-steps.js'
import {decisionOutcome, type DecisionOutcome, type RatifyDecision} from './ratify.js'
import {writeSignedBody} from './signed-body.js'

// Non-interactive `learn ratify` reading the candidate rule by rule (bench: a 158,778-rule
// candidate, 213 MB of YAML, took 2.8 GB decoded whole). The file is read in passes, each
// through contracts' streamed envelope read, keeping no decoded tree and no text whole:
//
//   A. the signature and contract_hash are checked as the rules pass (the trust of
//      `verifyCandidate`), keeping of each rule only what the decisions read (ratify-facts.ts);
//   (the HTTP rules of the hosts a coverage warning can be about, when there are any;)
//   B. the kept rules, their lifecycle_state set, are canonicalised into the signed body
//      (signed-body.ts), which is hashed and signed;
//   C. the kept rules are written as YAML lines into the staged file.
//
// Each pass hashes the bytes it read, and a pass that did not read pass A's bytes refuses: what
// was verified in pass A is then what is signed and written, even if the file is changed while
// ratify runs. Wherever this path cannot prove the outcome the whole path would reach (the read
// declines, the signature is not proven, the ratified body would not validate or emit) it
// returns undefined before anything is written, and the whole path decides, in its own words.

/** What pass A read: the body (rules empty), each rule's facts, and the file's bytes' SHA-256 and length. */
interface FactsRead {
  body: JsonObject
  facts: RuleFacts[]
  digest: Buffer
  bytes: number
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

  const signed = signRules(req.candidate, read, decisions, outcome, signers.compileSigner)
  if (signed === undefined) return undefined
  req.trace?.('body-signed')
  const priorContractHash = typeof body.get('contract_hash') === 'string' ? (body.get('contract_hash') as string) : ''
  const {line, result} = ratifyReceipt(req, out, signers, {contractHash: signed.hash, body: signed.body, priorContractHash}, outcome, warnings)
  checkOutputPath(out.receiptFile, true)
  const envelope: JsonObject = new Map<string, JsonValue>([
    ['body', signed.body],
    ['signature', signed.signature],
  ])
  stagedCommit(
    out.dest,
    (write) =>
      emitSignedYamlTo(envelope, write, (a) =>
        a === signed.slot
          ? {
              count: outcome.keptIndexes.length,
              lines: (push, col) =>
                reread(req.candidate, read, (rule, i) => {
                  const d = decisions[i]
                  if (d !== undefined && d !== 'reject') emitSequenceItem(new Map(rule).set('lifecycle_state', d), col, push)
                }),
            }
          : undefined,
      ),
    out.receiptFile,
    [line],
  )
  req.trace?.('yaml-written')
  return result
}

/**
 * Pass A: the candidate verified as it is read (`verifyCandidate`'s keys, purpose and
 * contract_hash), each rule's facts kept. Undefined where that proves nothing.
 */
function readFacts(req: RatifyRequest): FactsRead | undefined {
  const fd = openCandidate(req.candidate)
  try {
    const trust = {keystore: req.keystore, deterministic: req.env.deterministic, ...(req.contractKey === undefined ? {} : {contractKey: req.contractKey})}
    const early = keysBeforeParse(trust, readEnvelopeTail(fd))
    if (early === undefined) return undefined
    const facts: RuleFacts[] = []
    const hash = createHash('sha256')
    let bytes = 0
    const read = streamContractEnvelopeVerifyingFd(fd, req.candidate, (rule) => facts.push(ruleFacts(rule)), early.keys, early.signature, {
      contractHash: true,
      onBytes: (b) => {
        hash.update(b)
        bytes += b.length
      },
    })
    if (read === undefined || !read.verified || read.sha256Hex === undefined || read.ruleCount === 0) return undefined
    // the keys the rules were checked by must be those the body's signer_key_id names
    if (early.signer !== undefined && read.body.get('signer_key_id') !== early.signer) return undefined
    if (read.body.get('key_purpose') !== CONTRACT_KEY_PURPOSE || read.body.get('contract_hash') !== 'sha256:' + read.sha256Hex) return undefined
    return {body: read.body, facts, digest: hash.digest(), bytes}
  } finally {
    closeSync(fd)
  }
}

/**
 * The candidate read again, each rule to `onRule`; refuses when the bytes read are not those
 * pass A read (the file changed since). A throw from `onRule` is the read's, once the bytes are
 * known to be the same (the streamed parse would take it for a parse failure).
 */
function reread(file: string, first: FactsRead, onRule: (rule: JsonObject, index: number) => void): void {
  const fd = openCandidate(file)
  const hash = createHash('sha256')
  let failure: {error: unknown} | undefined
  let read
  try {
    read = streamContractEnvelopeFd(
      fd,
      file,
      (rule, i) => {
        if (failure !== undefined) return
        try {
          onRule(rule, i)
        } catch (e) {
          failure = {error: e}
        }
      },
      {canonical: false, onBytes: (b) => hash.update(b)},
    )
  } finally {
    closeSync(fd)
  }
  if (read === undefined || !hash.digest().equals(first.digest)) {
    throw new PipelockError('CANDIDATE_INVALID', `learn: invalid candidate file: the candidate changed while learn ratify read it; nothing was written: ${file}`, {hint: 'rerun learn ratify once nothing writes the candidate'})
  }
  if (failure !== undefined) throw failure.error
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
  reread(file, read, (rule, i) => {
    const f = read.facts[i]
    if (f === undefined || !f.http || !hosts.has(f.host)) return
    rules.push(rule)
    theirs.push(decisions[i] as RatifyDecision)
  })
  return coverageWarnings(rules, theirs, enforcesHttp)
}

/** The ratified body signed (pass B): its rules are `slot`, written from the file when emitted. */
interface SignedRules {
  body: JsonObject
  slot: JsonValue[]
  hash: string
  signature: string
}

/**
 * Pass B: `resignContract` over the kept rules as they are read: the same body, checks, hash and
 * signature, the rules never held. Undefined when the ratified body has a problem
 * (`contractProblem`) or a string the YAML cannot carry: the whole path refuses it in its words.
 */
function signRules(file: string, read: FactsRead, decisions: readonly RatifyDecision[], outcome: DecisionOutcome, signer: ContractSigner): SignedRules | undefined {
  const body = resignedBody(read.body, signer)
  const slot: JsonValue[] = []
  body.set('rules', slot)
  remapRuleDataClasses(body, outcome.keptIndexes)
  body.set('contract_hash', '')
  try {
    assertYamlEmittable(body)
  } catch {
    return undefined
  }
  let fine = true
  const checks = new RuleByRuleChecks()
  const root = body.get('data_class_root')
  const rules: PushedItems = (push) => {
    let at = 0
    reread(file, read, (rule, i) => {
      const d = decisions[i]
      if (d === undefined || d === 'reject') return
      const copy = new Map(rule).set('lifecycle_state', d)
      if (!checks.rule(copy, at++, root)) fine = false
      try {
        assertYamlEmittable(copy)
      } catch {
        fine = false
      }
      push(new CanonicalText(canonicalize(copy)))
    })
  }
  // Reserved, not committed: the body is written into it as it grows (signed-body.ts).
  const maxBytes = Math.max(64 * 1024 * 1024, 2 * read.bytes)
  const signed = writeSignedBody(body, (a) => (a === slot ? rules : undefined), (bytes) => formatSignature(signBytes(signer.keyPair, bytes)), maxBytes)
  if (!fine || !checks.body(body)) return undefined
  body.set('contract_hash', signed.hash)
  return {body, slot, hash: signed.hash, signature: signed.signature}
}
