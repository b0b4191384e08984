import {defineStruct} from '../canonical/index.js'

// Typed projections of the signed learn-and-lock artifacts (learn-lifecycle §2.1, §2.4).
// Field order is the reference's struct order; `oe` = omit-if-empty.

export const CONTRACT_SELECTOR = defineStruct('ContractSelector', [
  {name: 'agent', kind: 'string', oe: true},
  {name: 'agent_glob', kind: 'string', oe: true},
  {name: 'default', kind: 'bool', oe: true},
  {name: 'selector_id', kind: 'string'},
])

export const OBSERVATION_WINDOW = defineStruct('ObservationWindow', [
  {name: 'start', kind: 'time'},
  {name: 'end', kind: 'time'},
  {name: 'event_count', kind: 'uint64'},
  {name: 'session_count', kind: 'uint64'},
  {name: 'observation_window_root', kind: 'string'},
])

export const COMPILE_INFO = defineStruct('CompileInfo', [
  {name: 'pipelock_version', kind: 'string'},
  {name: 'pipelock_build_sha', kind: 'string'},
  {name: 'go_version', kind: 'string'},
  {name: 'module_digest_root', kind: 'string'},
  {name: 'compile_config_hash', kind: 'string'},
  {name: 'inference_algorithm', kind: 'string'},
  {name: 'normalization_algorithm', kind: 'string'},
])

export const PRIVACY_DEFAULTS = defineStruct('PrivacyDefaults', [
  {name: 'default_data_class', kind: 'string'},
  {name: 'salt_epoch', kind: 'uint64'},
  {name: 'forbid_classes', kind: 'strings'},
])

export const CONTRACT_DEFAULTS = defineStruct('ContractDefaults', [
  {name: 'fidelity', kind: 'string'},
  {name: 'confidence', kind: 'any'},
  {name: 'privacy', kind: 'struct', schema: PRIVACY_DEFAULTS},
])

export const CONTRACT_RULE = defineStruct('Rule', [
  {name: 'rule_id', kind: 'string'},
  {name: 'display_name', kind: 'string'},
  {name: 'rule_kind', kind: 'string'},
  {name: 'lifecycle_state', kind: 'string'},
  {name: 'required_capture_grade', kind: 'string', oe: true},
  {name: 'observed_capture_grade', kind: 'string', oe: true},
  {name: 'confidence', kind: 'string'},
  {name: 'wilson_lower', kind: 'string'},
  {name: 'observation', kind: 'any'},
  {name: 'selector', kind: 'any'},
  {name: 'budgets', kind: 'any', oe: true},
  {name: 'rationale', kind: 'any'},
  {name: 'recurring_support', kind: 'any'},
  {name: 'opportunity_health', kind: 'any'},
])

export const CONTRACT_BODY = defineStruct('Contract', [
  {name: 'schema_version', kind: 'int'},
  {name: 'contract_kind', kind: 'string'},
  {name: 'contract_hash', kind: 'string'},
  {name: 'prior_contract_hash', kind: 'string', oe: true},
  {name: 'signer_key_id', kind: 'string'},
  {name: 'key_purpose', kind: 'string'},
  {name: 'data_class_root', kind: 'string'},
  {name: 'field_data_classes', kind: 'map_string'},
  {name: 'selector', kind: 'struct', schema: CONTRACT_SELECTOR},
  {name: 'observation_window', kind: 'struct', schema: OBSERVATION_WINDOW},
  {name: 'compile', kind: 'struct', schema: COMPILE_INFO},
  {name: 'defaults', kind: 'struct', schema: CONTRACT_DEFAULTS},
  {name: 'rules', kind: 'structs', schema: CONTRACT_RULE},
])

export const CONTRACT_ENVELOPE = defineStruct('ContractEnvelope', [
  {name: 'body', kind: 'struct', schema: CONTRACT_BODY},
  {name: 'signature', kind: 'string'},
])

export const INPUT_REF = defineStruct('InputRef', [
  {name: 'path', kind: 'string'},
  {name: 'sha256', kind: 'string'},
  {name: 'event_count', kind: 'int'},
])

export const COMPILE_MANIFEST_BODY = defineStruct('CompileManifest', [
  {name: 'schema_version', kind: 'int'},
  {name: 'contract_hash', kind: 'string'},
  {name: 'compile_started_at', kind: 'time'},
  {name: 'compile_finished_at', kind: 'time'},
  {name: 'pipelock_version', kind: 'string'},
  {name: 'pipelock_build_sha', kind: 'string'},
  {name: 'go_version', kind: 'string'},
  {name: 'module_digest_root', kind: 'string'},
  {name: 'module_digests', kind: 'map_string'},
  {name: 'compile_config_hash', kind: 'string'},
  {name: 'inputs', kind: 'structs', schema: INPUT_REF},
  {name: 'observation_window_root', kind: 'string'},
  {name: 'settings', kind: 'any', oe: true},
  {name: 'signer_key_id', kind: 'string'},
  {name: 'key_purpose', kind: 'string'},
])

export const COMPILE_MANIFEST_ENVELOPE = defineStruct('CompileManifestEnvelope', [
  {name: 'body', kind: 'struct', schema: COMPILE_MANIFEST_BODY},
  {name: 'signature', kind: 'string'},
])

export const CONTRACT_KIND = 'behavioral_contract'
export const CONTRACT_KEY_PURPOSE = 'contract-compile-signing'
export const LIFECYCLE_STATES = ['proposed', 'capture_only', 'enforce', 'expired', 'demoted'] as const
export const ENFORCEABLE_RULE_KINDS = ['http_destination', 'http_action', 'mcp_tool_call'] as const
export const CAPTURE_GRADES = ['none', 'summary', 'partial', 'full'] as const
export const DATA_CLASS_VALUES = ['public', 'internal', 'sensitive', 'regulated'] as const
