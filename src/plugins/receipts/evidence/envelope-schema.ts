import {defineStruct, type FieldSpec} from '../../canonical/index.js'

// EvidenceReceipt v2 envelope and SignatureProof in Go struct declaration order
// (receipts.md §9.1–9.2, learn-lifecycle.md §1.6). The order is the JSONL byte format a Go
// emitter writes; the signature itself is over JCS bytes, where order does not matter, but
// which fields are *present* does: omitempty fields with zero values vanish before JCS.

export const EVIDENCE_RECORD_TYPE = 'evidence_receipt_v2'
export const EVIDENCE_RECEIPT_VERSION = 2n
export const EVIDENCE_ALGORITHM = 'ed25519'
export const SIGNATURE_PREFIX = 'ed25519:'
/** The v2 chain starts here (receipts.md §9.4); the first receipt has `chain_seq` 0. */
export const EVIDENCE_GENESIS = 'genesis'

const s = (name: string, oe = false): FieldSpec => ({name, kind: 'string', oe})

export const SIGNATURE_PROOF = defineStruct('signature', [
  s('signer_key_id'),
  s('key_purpose'),
  s('algorithm'),
  s('signature'),
])

export const EVIDENCE_ENVELOPE = defineStruct('evidence_receipt', [
  s('record_type'),
  {name: 'receipt_version', kind: 'int'},
  s('payload_kind'),
  s('event_id'),
  {name: 'timestamp', kind: 'time'},
  s('principal', true),
  s('actor', true),
  {name: 'delegation_chain', kind: 'strings', oe: true},
  // Non-pointer struct: always emitted, missing members zero-filled (§9.4 step 1 needs all four).
  {name: 'signature', kind: 'struct', schema: SIGNATURE_PROOF},
  {name: 'chain_seq', kind: 'uint64'},
  s('chain_prev_hash'),
  s('active_manifest_hash', true),
  s('contract_hash', true),
  s('selector_id', true),
  {name: 'contract_generation', kind: 'uint64', oe: true},
  // json.RawMessage: kept verbatim (compacted); absent marshals as `null`.
  {name: 'payload', kind: 'any'},
])

/** The proof that replaces the real one in the signing preimage: all four keys, all empty. */
export function zeroProof(): Map<string, string> {
  return new Map([
    ['signer_key_id', ''],
    ['key_purpose', ''],
    ['algorithm', ''],
    ['signature', ''],
  ])
}

/**
 * Envelope members written by newer reference releases (docs/receipts.md, "Newer receipts"):
 * `crit` lists the members a verifier must understand to verify the receipt; `canonicalization`
 * names the canonical form and `policy_hash` the config hash at emit time. All three are signed
 * like every other member: they are part of the JCS preimage and of the receipt hash as they
 * appear. Any other member is refused (§9.1) unless `crit` names it, which makes the receipt
 * not verifiable by this version (it is still linked into its chain).
 */
export const EVIDENCE_EXTENSION_MEMBERS: ReadonlySet<string> = new Set(['crit', 'canonicalization', 'policy_hash'])
/** Members this version understands when `crit` lists them. */
export const EVIDENCE_UNDERSTOOD_CRITICAL: ReadonlySet<string> = new Set(['canonicalization', 'policy_hash'])
