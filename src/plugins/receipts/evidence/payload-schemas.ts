import type {PayloadKind} from '../../signing/index.js'

// The 13 EvidenceReceipt v2 payload kinds (receipts.md §9.3, learn-lifecycle.md §1.6): Go struct
// field order, JSON types, omitempty, and which fields Validate requires. The order matters for
// the JSONL bytes a producer writes (Go marshals the payload struct) and for the "first field"
// named in strict-decode errors; signatures are over JCS, where order is irrelevant.

export type PayloadFieldType = 'string' | 'strings' | 'map_string' | 'uint64' | 'struct'

export interface PayloadField {
  readonly name: string
  readonly type: PayloadFieldType
  /** Go `omitempty`: dropped from the marshalled payload when zero. */
  readonly oe?: boolean
  /** Validate requires a non-empty value (string ≠ "", list/map length ≥ 1, struct present). */
  readonly req?: boolean
  /** Closed set of values (checked after the required check). */
  readonly oneOf?: readonly string[]
  /** `struct` only. */
  readonly fields?: readonly PayloadField[]
  /** `struct` only: the Go type name used in decode error texts. */
  readonly goType?: string
}

export interface PayloadSchema {
  readonly kind: PayloadKind
  /** Go type name used in decode error texts. */
  readonly goType: string
  readonly fields: readonly PayloadField[]
  /** The first required field: named in `payload missing required field: <f> (unmarshal: …)`. */
  readonly firstRequired: string
}

export const VALIDATION_OUTCOMES = ['accepted', 'rejected'] as const
// `attested`: an operator's note bound to a change that was applied before it (issue 34).
export const CONFIG_CHANGE_OUTCOMES = ['applied', 'rejected', 'attested'] as const
export const REDACTION_REQUEST_KINDS = ['withdraw_public_proof', 'local_erasure_tombstone'] as const

const req = (name: string): PayloadField => ({name, type: 'string', req: true})
const opt = (name: string): PayloadField => ({name, type: 'string', oe: true})
const reqList = (name: string): PayloadField => ({name, type: 'strings', req: true})
const u64 = (name: string, oe = false): PayloadField => ({name, type: 'uint64', oe})
const outcome: PayloadField = {name: 'validation_outcome', type: 'string', req: true, oneOf: VALIDATION_OUTCOMES}

export const SHADOW_AGGREGATION_FIELDS: readonly PayloadField[] = [
  req('window_start'),
  req('window_end'),
  u64('lossless_count'),
  u64('delta_sample_count'),
  // Not omitempty: a nil list marshals as `null`, as Go does for a non-oe slice.
  {name: 'exemplar_ids', type: 'strings'},
]

const table: Record<PayloadKind, readonly PayloadField[]> = {
  proxy_decision: [
    req('action_type'),
    req('target'),
    req('verdict'),
    opt('live_verdict'),
    req('transport'),
    reqList('policy_sources'),
    req('winning_source'),
    opt('rule_id'),
  ],
  contract_ratified: [
    req('contract_hash'),
    req('ratifier_key_id'),
    reqList('ratified_rule_ids'),
    {name: 'ratification_decision_per_rule', type: 'map_string', req: true},
  ],
  contract_promote_intent: [
    req('target_manifest_hash'),
    u64('target_generation'),
    req('prior_manifest_hash'),
    req('intent_id'),
  ],
  contract_promote_committed: [
    req('target_manifest_hash'),
    req('prior_manifest_hash'),
    req('intent_id'),
    outcome,
    opt('reject_reason'),
  ],
  contract_rollback_authorized: [
    req('rollback_target_hash'),
    u64('current_generation'),
    reqList('authorizer_signatures'),
    req('authorization_id'),
  ],
  contract_rollback_committed: [
    req('rollback_target_hash'),
    req('prior_manifest_hash'),
    req('authorization_id'),
    outcome,
    opt('reject_reason'),
  ],
  contract_demoted: [
    req('contract_hash'),
    req('rule_id'),
    req('demotion_reason'),
    req('prior_state'),
    req('new_state'),
    req('aggregation_window'),
  ],
  contract_expired: [req('contract_hash'), req('rule_id'), req('expiration_reason')],
  contract_drift: [
    req('contract_hash'),
    req('rule_id'),
    req('drift_kind'),
    opt('observation_summary'),
    u64('missed_windows', true),
    opt('opportunity_status'),
  ],
  shadow_delta: [
    req('contract_hash'),
    req('rule_id'),
    req('original_verdict'),
    req('candidate_verdict'),
    {name: 'aggregation', type: 'struct', req: true, fields: SHADOW_AGGREGATION_FIELDS, goType: 'contract.ShadowAggregation'},
  ],
  opportunity_missing: [
    req('contract_hash'),
    req('rule_id'),
    req('parent_context'),
    // Rates are decimal strings: floats are not canonicalisable (learn-lifecycle.md §1.2).
    req('historical_opportunity_rate'),
    req('current_opportunity_rate'),
    req('window'),
  ],
  key_rotation: [
    req('key_id'),
    req('key_purpose'),
    req('old_status'),
    req('new_status'),
    req('roster_hash'),
    req('authorization_id'),
  ],
  contract_redaction_request: [
    req('target_contract_hash'),
    {name: 'request_kind', type: 'string', req: true, oneOf: REDACTION_REQUEST_KINDS},
    req('reason_class'),
    req('authorization_id'),
    req('tombstone_hash'),
  ],
  // [beyond] operations.md §8.2 item 5 (not a reference kind).
  config_change: [
    req('trigger'),
    {name: 'outcome', type: 'string', req: true, oneOf: CONFIG_CHANGE_OUTCOMES},
    req('config_path'),
    req('prior_file_sha256'),
    req('new_file_sha256'),
    req('prior_policy_hash'),
    req('new_policy_hash'),
    req('changes_sha256'),
    {name: 'changed_paths', type: 'strings', oe: true},
    opt('operator'),
    opt('change_id'),
    opt('justification_sha256'),
    opt('reject_reason'),
  ],
}

function goTypeName(kind: string): string {
  return kind
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('') + 'Payload'
}

export const PAYLOAD_SCHEMAS: Readonly<Record<PayloadKind, PayloadSchema>> = Object.fromEntries(
  Object.entries(table).map(([kind, fields]) => [
    kind,
    {
      kind: kind as PayloadKind,
      goType: goTypeName(kind),
      fields,
      firstRequired: (fields.find((f) => f.req) as PayloadField).name,
    },
  ]),
) as Record<PayloadKind, PayloadSchema>
