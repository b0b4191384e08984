import {goQuote} from '../canonical/index.js'
import {formatSignature, signBytes, type Ed25519KeyPair} from '../signing/index.js'
import {hash as oneShotHash} from 'node:crypto'
import {ReceiptValidationError} from './action-receipt.js'
import {ACTION_TYPES} from './action-record-schema.js'

// The proxy's per-decision receipt (receipts.md §8) encoded straight to its canonical bytes.
// `signActionReceipt` takes any record, builds a tree, projects it into Go field order and
// marshals it; for the one record shape every decision has, that generality cost more than the
// signature itself (bench: learn-lock, receipts on). This writer emits the same bytes in one
// pass: the fields below in ACTION_RECORD's declaration order, omitempty fields only when
// non-empty. decision-record tests compare it byte for byte with the general path.

/** The fields of a decision receipt the caller owns (the chain adds chain_prev_hash, chain_seq, run_nonce). */
export interface DecisionRecordFields {
  actionId: string
  actionType: string
  /** Go RFC3339Nano rendering of a UTC instant (`UtcNanoFormatter`), never re-parsed. */
  timestamp: string
  principal: string
  actor: string
  target: string
  sideEffectClass: string
  reversibility: string
  policyHash: string
  verdict: string
  transport: string
  /** Profile B (#17–20): a held (`ask`) request's answer — `outcome`, the approval id, `hitl`, who answered. */
  decisionPhase?: string
  deferId?: string
  resolutionPolicy?: string
  resolutionSource?: string
  sessionId?: string
  /** Taint (#23–31), omitted when empty. */
  sessionTaintLevel?: string
  sessionContaminated?: boolean
  recentTaintSources?: readonly {url: string; kind: string; level: number; timestamp: string}[]
  sessionTaskId?: string
  sessionTaskLabel?: string
  authorityKind?: string
  taintDecision?: string
  taintDecisionReason?: string
  taskOverrideApplied?: boolean
  contractWinningSource?: string
  contractLiveVerdict?: string
  contractPolicySources?: readonly string[]
  contractRuleId?: string
  activeManifestHash?: string
  contractHash?: string
  contractSelectorId?: string
  /** Omitted when 0. */
  contractGeneration?: bigint
  method?: string
  layer?: string
  pattern?: string
  severity?: string
  /** §4.3 RedactionSummary (all omitempty); present only when ≥ 1 value was replaced. */
  redaction?: ReceiptRedactionSummary
  requestId?: string
}

export interface ReceiptRedactionSummary {
  readonly profile: string
  readonly provider: string
  readonly parser: string
  readonly total_redactions: number
  readonly by_class: Readonly<Record<string, number>>
}

/** §4.3 RedactionSummary in canonical order; `by_class` keys sorted byte-wise (§3.8), zero counts dropped. */
function encodeRedaction(r: ReceiptRedactionSummary): string {
  const keys = Object.keys(r.by_class).filter((k) => r.by_class[k]! !== 0).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  const parts = [oe('profile', r.profile), oe('provider', r.provider), oe('parser', r.parser)].join('')
    + (r.total_redactions !== 0 ? `,"total_redactions":${r.total_redactions}` : '')
    + (keys.length > 0 ? `,"by_class":{${keys.map((k) => `${goQuote(k)}:${r.by_class[k]}`).join(',')}}` : '')
  return `{${parts.slice(1)}}`
}

export interface ChainLink {
  prevHash: string
  seq: bigint
  runNonce?: string
}

/** A signed receipt as bytes: the envelope is GoJSON(receipt) (§5.1), `hash` its receipt hash (§5.4). */
export interface SignedReceiptBytes {
  recordJson: string
  envelope: string
  hash: string
}

const ZERO_TIME = '0001-01-01T00:00:00Z'

/** §5.3 step 2's checks on the fields this shape can get wrong, with the texts of `validateActionRecord`. */
function validate(f: DecisionRecordFields): string | undefined {
  if (f.actionId === '') return 'action_id is required'
  if (!ACTION_TYPES.has(f.actionType)) return `invalid action_type ${goQuote(f.actionType)}`
  if (f.timestamp === ZERO_TIME) return 'timestamp is required'
  if (f.target === '') return 'target is required'
  if (f.verdict === '') return 'verdict is required'
  if (f.transport === '') return 'transport is required'
  return undefined
}

function oe(name: string, v: string | undefined): string {
  return v === undefined || v === '' ? '' : `,"${name}":${goQuote(v)}`
}

/** GoJSON(projectStruct(ACTION_RECORD, record)) of a decision record, or a ReceiptValidationError. */
export function encodeDecisionRecord(f: DecisionRecordFields, link: ChainLink): string {
  const invalid = validate(f)
  if (invalid !== undefined) throw new ReceiptValidationError(`invalid action record: ${invalid}`)
  let s =
    `{"version":1,"action_id":${goQuote(f.actionId)},"action_type":${goQuote(f.actionType)},"timestamp":${goQuote(f.timestamp)}` +
    `,"principal":${goQuote(f.principal)},"actor":${goQuote(f.actor)},"delegation_chain":null,"target":${goQuote(f.target)}` +
    `,"side_effect_class":${goQuote(f.sideEffectClass)},"reversibility":${goQuote(f.reversibility)},"policy_hash":${goQuote(f.policyHash)}` +
    `,"verdict":${goQuote(f.verdict)}` +
    oe('decision_phase', f.decisionPhase) +
    oe('defer_id', f.deferId) +
    oe('resolution_policy', f.resolutionPolicy) +
    oe('resolution_source', f.resolutionSource) +
    oe('session_id', f.sessionId) +
    oe('session_taint_level', f.sessionTaintLevel) +
    (f.sessionContaminated === true ? ',"session_contaminated":true' : '') +
    (f.recentTaintSources !== undefined && f.recentTaintSources.length > 0
      ? `,"recent_taint_sources":[${f.recentTaintSources.map((x) => `{"url":${goQuote(x.url)},"kind":${goQuote(x.kind)},"level":${x.level},"timestamp":${goQuote(x.timestamp)}}`).join(',')}]`
      : '') +
    oe('session_task_id', f.sessionTaskId) +
    oe('session_task_label', f.sessionTaskLabel) +
    oe('authority_kind', f.authorityKind) +
    oe('taint_decision', f.taintDecision) +
    oe('taint_decision_reason', f.taintDecisionReason) +
    (f.taskOverrideApplied === true ? ',"task_override_applied":true' : '') +
    oe('contract_winning_source', f.contractWinningSource) +
    oe('contract_live_verdict', f.contractLiveVerdict)
  const sources = f.contractPolicySources
  if (sources !== undefined && sources.length > 0) s += `,"contract_policy_sources":[${sources.map(goQuote).join(',')}]`
  s +=
    oe('contract_rule_id', f.contractRuleId) +
    oe('active_manifest_hash', f.activeManifestHash) +
    oe('contract_hash', f.contractHash) +
    oe('contract_selector_id', f.contractSelectorId)
  if (f.contractGeneration !== undefined && f.contractGeneration > 0n) s += `,"contract_generation":${f.contractGeneration}`
  s +=
    `,"transport":${goQuote(f.transport)}` +
    oe('method', f.method) +
    oe('layer', f.layer) +
    oe('pattern', f.pattern) +
    oe('severity', f.severity) +
    (f.redaction !== undefined ? `,"redaction":${encodeRedaction(f.redaction)}` : '') +
    oe('request_id', f.requestId) +
    `,"chain_prev_hash":${goQuote(link.prevHash)},"chain_seq":${link.seq}` +
    oe('run_nonce', link.runNonce)
  return s + '}'
}

/** Signs canonical record bytes (§5.2: Ed25519 over SHA-256 of them) and builds the envelope and its hash. */
export function signRecordBytes(recordJson: string, keyPair: Ed25519KeyPair, signerKeyHex: string): SignedReceiptBytes {
  const signature = formatSignature(signBytes(keyPair, oneShotHash('sha256', recordJson, 'buffer')))
  // encodeActionReceipt's bytes for version 1 without ext (signature and key are lowercase hex).
  const envelope = `{"version":1,"action_record":${recordJson},"signature":"${signature}","signer_key":"${signerKeyHex}"}`
  return {recordJson, envelope, hash: oneShotHash('sha256', envelope, 'hex')}
}
