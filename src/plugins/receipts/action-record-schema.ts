import {defineStruct, type FieldSpec} from '../canonical/index.js'

// ActionReceipt v1 structures in Go declaration order (receipts.md §4.2–4.3, §5.1).
// The order *is* the byte format: the receipt hash and signature cover these bytes.

const s = (name: string, oe = false): FieldSpec => ({name, kind: 'string', oe})
const u64 = (name: string, oe = false): FieldSpec => ({name, kind: 'uint64', oe})
const i64 = (name: string, oe = false): FieldSpec => ({name, kind: 'int', oe})

export const TAINT_SOURCE = defineStruct('recent_taint_sources', [
  s('url'),
  s('kind'),
  {name: 'level', kind: 'uint8'},
  {name: 'timestamp', kind: 'time'}, // non-oe: a zero time renders 0001-01-01T00:00:00Z
  s('receipt_id', true),
  s('match_reason', true),
])

export const REDACTION = defineStruct('redaction', [
  s('profile', true),
  s('provider', true),
  s('parser', true),
  i64('total_redactions', true),
  {name: 'by_class', kind: 'map_int', oe: true},
  {name: 'cache_boundary_kept', kind: 'bool', oe: true},
])

export const SHIELD = defineStruct('shield', [
  s('pipeline', true),
  i64('total_rewrites', true),
  i64('extension_probes', true),
  i64('tracking_beacons', true),
  i64('agent_traps', true),
  {name: 'fingerprint_shim_injected', kind: 'bool', oe: true},
  i64('svg_foreign_objects', true),
  i64('svg_event_handlers', true),
  i64('svg_external_references', true),
  i64('svg_hidden_text', true),
  i64('svg_animation_injections', true),
  i64('body_bytes', true),
  i64('scanned_bytes', true),
  {name: 'partial', kind: 'bool', oe: true},
  i64('adaptive_signals_recorded', true),
  i64('adaptive_signal_max_per_body', true),
])

export const KEY_TRANSITION = defineStruct('key_transition', [
  s('prior_signer_key'),
  u64('prior_chain_seq'),
  s('prior_chain_hash'),
])

export const SESSION_OPEN = defineStruct('session_open', [
  s('run_nonce'),
  s('open_nonce'),
  s('recorder_session'),
  s('policy_hash'),
  s('signer_key_epoch'),
  i64('heartbeat_seconds'),
  u64('chain_open_seq'),
  s('prior_chain_head', true),
  u64('prior_chain_seq', true),
  s('genesis_hash', true),
  s('genesis_anchor_head', true),
  s('genesis_anchor_log', true),
  s('posture_capsule_sha256', true),
  s('posture_signer_key_id', true),
  s('containment_nonce', true),
  s('contained_uid', true),
])

export const SESSION_HEARTBEAT = defineStruct('session_heartbeat', [
  s('run_nonce'),
  s('open_nonce'),
  u64('beat'),
  s('chain_head'),
  u64('chain_seq_head'),
  s('heartbeat_time'),
  u64('fsync_errors_gated'),
  u64('durability_blocks'),
])

export const SESSION_CLOSE = defineStruct('session_close', [
  s('run_nonce'),
  s('open_nonce'),
  u64('final_seq'),
  s('root_hash'),
  u64('receipt_count'),
  s('close_reason'),
  u64('fsync_errors_gated'),
  u64('durability_blocks'),
])

export const SESSION_CONTROL = defineStruct('session_control', [
  s('kind'),
  {name: 'open', kind: 'struct', schema: SESSION_OPEN, pointer: true, oe: true},
  {name: 'heartbeat', kind: 'struct', schema: SESSION_HEARTBEAT, pointer: true, oe: true},
  {name: 'close', kind: 'struct', schema: SESSION_CLOSE, pointer: true, oe: true},
])

export const ACTION_RECORD = defineStruct('action_record', [
  i64('version'),
  s('action_id'),
  s('parent_action_id', true),
  s('action_type'),
  {name: 'timestamp', kind: 'time'},
  s('principal'),
  s('actor'),
  {name: 'delegation_chain', kind: 'strings'}, // non-oe: null and [] both survive
  s('target'),
  s('intent', true),
  {name: 'data_classes_in', kind: 'strings', oe: true},
  {name: 'data_classes_out', kind: 'strings', oe: true},
  s('side_effect_class'),
  s('reversibility'),
  s('policy_hash'),
  s('verdict'),
  s('decision_phase', true),
  s('defer_id', true),
  s('resolution_policy', true),
  s('resolution_source', true),
  s('session_id', true),
  s('session_id_original', true),
  s('session_taint_level', true),
  {name: 'session_contaminated', kind: 'bool', oe: true},
  {name: 'recent_taint_sources', kind: 'structs', schema: TAINT_SOURCE, oe: true},
  s('session_task_id', true),
  s('session_task_label', true),
  s('authority_kind', true),
  s('taint_decision', true),
  s('taint_decision_reason', true),
  {name: 'task_override_applied', kind: 'bool', oe: true},
  s('contract_winning_source', true),
  s('contract_live_verdict', true),
  {name: 'contract_policy_sources', kind: 'strings', oe: true},
  s('contract_rule_id', true),
  s('active_manifest_hash', true),
  s('contract_hash', true),
  s('contract_selector_id', true),
  u64('contract_generation', true),
  s('transport'),
  s('method', true),
  s('layer', true),
  s('pattern', true),
  s('severity', true),
  {name: 'redaction', kind: 'struct', schema: REDACTION, pointer: true, oe: true},
  {name: 'shield', kind: 'struct', schema: SHIELD, pointer: true, oe: true},
  s('request_id', true),
  s('chain_prev_hash'),
  u64('chain_seq'),
  s('run_nonce', true),
  {name: 'key_transition', kind: 'struct', schema: KEY_TRANSITION, pointer: true, oe: true},
  {name: 'session_control', kind: 'struct', schema: SESSION_CONTROL, pointer: true, oe: true},
  s('venue', true),
  s('jurisdiction', true),
  s('rulebook_id', true),
  s('remedy_class', true),
  s('contestation_window', true),
  {name: 'precedent_refs', kind: 'strings', oe: true},
])

/** Top-level keys of a v1 receipt (§5.1); `ext` is raw JSON handled by the parser. */
export const RECEIPT_KEYS = new Set(['version', 'action_record', 'signature', 'signer_key', 'ext'])

export const ACTION_TYPES = new Set([
  'read', 'derive', 'write', 'delegate', 'authorize', 'spend', 'commit', 'actuate', 'unclassified',
])
