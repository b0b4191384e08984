import {JsonNumber, type JsonObject, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {
  AUTHORITY_MATRIX,
  formatSignature,
  keyPairFromSeed,
  sha256,
  signBytes,
  type Ed25519KeyPair,
  type PayloadKind,
} from '../../../src/plugins/signing/index.js'
import {
  evidencePreimageBytes,
  parseEvidenceReceiptValue,
  type EvidenceSigner,
  type UnsignedEvidenceReceipt,
} from '../../../src/plugins/receipts/evidence/index.js'

// Shared fixtures of the EvidenceReceipt v2 unit tests. Keys are public test keys.

/** RFC 8032 §7.1 TEST 1 (the v2 golden key, K2). */
export const KEY = keyPairFromSeed(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'))
export const KEY_HEX = KEY.publicKey.toString('hex')
export const OTHER_KEY = keyPairFromSeed(sha256('pipelock evidence unit test other key'))

const H = (c: string): string => 'sha256:' + c.repeat(64)

export const VALID_PAYLOADS: Record<PayloadKind, Record<string, unknown>> = {
  proxy_decision: {
    action_type: 'connect',
    target: 'example.com',
    verdict: 'allow',
    transport: 'forward',
    policy_sources: ['test'],
    winning_source: 'test',
  },
  contract_ratified: {
    contract_hash: H('c'),
    ratifier_key_id: 'ratifier-1',
    ratified_rule_ids: ['r-1', 'r-2'],
    ratification_decision_per_rule: {'r-2': 'accept', 'r-1': 'accept'},
  },
  contract_promote_intent: {target_manifest_hash: H('t'), target_generation: 2, prior_manifest_hash: H('p'), intent_id: 'intent-1'},
  contract_promote_committed: {
    target_manifest_hash: H('t'),
    prior_manifest_hash: H('p'),
    intent_id: 'intent-1',
    validation_outcome: 'accepted',
  },
  contract_rollback_authorized: {
    rollback_target_hash: H('r'),
    current_generation: 3,
    authorizer_signatures: ['ed25519:' + 'ab'.repeat(64)],
    authorization_id: 'auth-1',
  },
  contract_rollback_committed: {
    rollback_target_hash: H('r'),
    prior_manifest_hash: H('p'),
    authorization_id: 'auth-1',
    validation_outcome: 'rejected',
    reject_reason: 'manifest hash mismatch',
  },
  contract_demoted: {
    contract_hash: H('c'),
    rule_id: 'r-1',
    demotion_reason: 'wilson_lower_below_threshold',
    prior_state: 'enforced',
    new_state: 'shadow',
    aggregation_window: '24h',
  },
  contract_expired: {contract_hash: H('c'), rule_id: 'r-1', expiration_reason: 'ttl'},
  contract_drift: {
    contract_hash: H('c'),
    rule_id: 'r-1',
    drift_kind: 'opportunity_drop',
    observation_summary: 'fewer calls',
    missed_windows: 2,
    opportunity_status: 'missing',
  },
  shadow_delta: {
    contract_hash: H('c'),
    rule_id: 'r-1',
    original_verdict: 'allow',
    candidate_verdict: 'block',
    aggregation: {
      window_start: '2026-04-25T20:00:00Z',
      window_end: '2026-04-25T21:00:00Z',
      lossless_count: 42,
      delta_sample_count: 2,
      exemplar_ids: ['ex-1', 'ex-2'],
    },
  },
  opportunity_missing: {
    contract_hash: H('c'),
    rule_id: 'r-1',
    parent_context: 'GET example.com',
    historical_opportunity_rate: '0.50',
    current_opportunity_rate: '0.05',
    window: '2026-04-25T00:00:00Z/2026-04-26T00:00:00Z',
  },
  key_rotation: {
    key_id: 'receipt-2',
    key_purpose: 'receipt-signing',
    old_status: 'active',
    new_status: 'retired',
    roster_hash: H('f'),
    authorization_id: 'auth-2',
  },
  contract_redaction_request: {
    target_contract_hash: H('c'),
    request_kind: 'withdraw_public_proof',
    reason_class: 'privacy',
    authorization_id: 'auth-3',
    tombstone_hash: H('d'),
  },
  config_change: {
    trigger: 'sighup',
    outcome: 'applied',
    config_path: '/etc/pipelock.yaml',
    prior_file_sha256: 'a'.repeat(64),
    new_file_sha256: 'b'.repeat(64),
    prior_policy_hash: H('1'),
    new_policy_hash: H('2'),
    changes_sha256: 'c'.repeat(64),
    changed_paths: ['api_allowlist'],
    operator: 'ops-alice',
  },
}

export const KINDS = Object.keys(AUTHORITY_MATRIX) as PayloadKind[]

export function payloadOf(kind: PayloadKind): Record<string, unknown> {
  return structuredClone(VALID_PAYLOADS[kind])
}

export function unsignedFor(kind: PayloadKind, payload: unknown = payloadOf(kind)): UnsignedEvidenceReceipt {
  return {
    payloadKind: kind,
    eventId: '0190f5e2-7c1a-7000-8000-000000000001',
    timestamp: '2026-04-25T22:00:00.123456789Z',
    principal: 'org:test',
    actor: 'agent:test',
    chainSeq: 0,
    chainPrevHash: 'genesis',
    payload: payload as Record<string, unknown>,
  }
}

export function signerFor(kind: PayloadKind, keyPair: Ed25519KeyPair = KEY): EvidenceSigner {
  return {keyPair, keyId: 'test-key-id', purpose: AUTHORITY_MATRIX[kind]}
}

/** A receipt tree with an arbitrary (possibly invalid) envelope and payload. */
export function envelopeTree(kind: string, payload: unknown, overrides: Record<string, JsonValue | undefined> = {}): JsonObject {
  const proof: JsonObject = new Map([
    ['signer_key_id', 'test-key-id'],
    ['key_purpose', (AUTHORITY_MATRIX as Record<string, string>)[kind] ?? 'receipt-signing'],
    ['algorithm', 'ed25519'],
    ['signature', ''],
  ])
  const tree: JsonObject = new Map<string, JsonValue>([
    ['record_type', 'evidence_receipt_v2'],
    ['receipt_version', new JsonNumber('2')],
    ['payload_kind', kind],
    ['event_id', 'ev-1'],
    ['timestamp', '2026-04-25T22:00:00Z'],
    ['signature', proof],
    ['chain_seq', new JsonNumber('0')],
    ['chain_prev_hash', 'genesis'],
  ])
  if (payload !== undefined) tree.set('payload', toTree(payload))
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) tree.delete(k)
    else tree.set(k, v)
  }
  return tree
}

export function toTree(v: unknown): JsonValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v as JsonValue
  if (typeof v === 'number' || typeof v === 'bigint') return new JsonNumber(String(v))
  if (v instanceof JsonNumber || v instanceof Map) return v as JsonValue
  if (Array.isArray(v)) return v.map(toTree)
  return new Map(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toTree(x)]))
}

/**
 * Signs any tree over its Go preimage WITHOUT validating it (the way a buggy or hostile producer
 * could), so verifier-side checks can be exercised with a cryptographically valid signature.
 */
export function forge(tree: JsonObject, keyPair: Ed25519KeyPair = KEY): JsonObject {
  const preimage = evidencePreimageBytes(parseEvidenceReceiptValue(tree))
  const out = new Map(tree)
  const proof = new Map(out.get('signature') as JsonObject)
  proof.set('signature', formatSignature(signBytes(keyPair, preimage)))
  out.set('signature', proof)
  return out
}
