import {CanonicalizationError, JsonNumber, RawJson, type JsonObject, type JsonValue} from '../../canonical/index.js'
import {formatSignature, isPayloadKind, requiredPurpose, signBytes, type Ed25519KeyPair, type KeyPurpose} from '../../signing/index.js'
import {evidencePreimageBytes, evidenceReceiptHash, toParsedEvidence, type EvidenceReceiptInput} from './canonical-form.js'
import {EVIDENCE_ALGORITHM, EVIDENCE_GENESIS, EVIDENCE_RECORD_TYPE, zeroProof} from './envelope-schema.js'
import {EvidenceParseError, EvidenceValidationError} from './errors.js'
import {authorityMismatch, missingField, unknownPayloadKind} from './messages.js'
import {checkDecodedPayload, decodePayload, projectPayload} from './payload-decode.js'
import {PAYLOAD_SCHEMAS} from './payload-schemas.js'
import {parseEvidenceReceiptValue, type ParsedEvidenceReceipt} from './parse.js'
import {validateParsedEvidence} from './validate.js'

// Producing EvidenceReceipt v2 (receipts.md §9.4, learn-lifecycle.md §1.6, §3.5). Everything a
// Go emitter enforces is enforced before signing: the authority matrix for the signer, every
// `Validate` rule in `produce` mode, and canonicalisability. Pure: the caller supplies the
// event id (UUIDv7 in production), the timestamp (from its Clock) and the chain link.

export interface UnsignedEvidenceReceipt {
  payloadKind: string
  eventId: string
  /** RFC 3339; re-rendered the Go way (fraction trimmed, zero offset as `Z`). */
  timestamp: string
  principal?: string
  actor?: string
  delegationChain?: readonly string[]
  chainSeq: bigint | number
  chainPrevHash: string
  activeManifestHash?: string
  contractHash?: string
  selectorId?: string
  contractGeneration?: bigint | number
  /** A JSON tree or plain data (integers as number or bigint; non-integers are refused). */
  payload: JsonValue | Record<string, unknown>
  /**
   * Envelope members of newer releases (`crit`, `canonicalization`, `policy_hash`, or a member
   * `crit` names), appended after the §9.1 fields and signed with them. Interoperability tests
   * use it to write what a newer reference release writes.
   */
  extensions?: ReadonlyArray<readonly [string, unknown]>
}

export interface EvidenceSigner {
  keyPair: Ed25519KeyPair
  /** Opaque key id written to `signature.signer_key_id` (e.g. a roster key id). */
  keyId: string
  purpose: KeyPurpose
}

export interface EvidenceChainLink {
  chainSeq: bigint
  chainPrevHash: string
}

const invalid = (message: string): EvidenceValidationError => new EvidenceValidationError('EVIDENCE_INVALID', message)

function toTree(v: unknown, path: string): JsonValue {
  if (v === null) return null
  if (typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'bigint') return new JsonNumber(v.toString())
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw invalid(`${path}: ${v} is not a JSON number`)
    if (Number.isInteger(v) && !Number.isSafeInteger(v)) throw invalid(`${path}: ${v} is not a safe integer; pass a bigint`)
    // A fraction keeps its lexeme so that decoding/canonicalisation refuse it with their own words.
    return new JsonNumber(String(v))
  }
  if (v instanceof JsonNumber || v instanceof RawJson) return v
  if (Array.isArray(v)) return v.map((item, i) => toTree(item, `${path}[${i}]`))
  if (v instanceof Map) {
    const out: JsonObject = new Map()
    for (const [k, item] of v as Map<string, unknown>) out.set(k, toTree(item, `${path}.${k}`))
    return out
  }
  if (typeof v === 'object') {
    const out: JsonObject = new Map()
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
      if (item !== undefined) out.set(k, toTree(item, `${path}.${k}`))
    }
    return out
  }
  throw invalid(`${path}: ${typeof v} cannot be represented in JSON`)
}

function uint(v: bigint | number | undefined, name: string): JsonNumber | undefined {
  if (v === undefined) return undefined
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw invalid(`${name}: ${v} is not a safe integer; pass a bigint`)
  const n = BigInt(v)
  if (n < 0n) throw invalid(`${name}: ${n} out of range for uint64`)
  return new JsonNumber(n.toString())
}

/** Signs a receipt; returns it as an ordered tree (Go struct order; `encodeEvidenceReceipt` gives the JSONL line). */
export function signEvidence(unsigned: UnsignedEvidenceReceipt, signer: EvidenceSigner): JsonObject {
  const kind = unsigned.payloadKind
  if (!isPayloadKind(kind)) throw invalid(unknownPayloadKind(kind))
  const required = requiredPurpose(kind)
  if (signer.purpose !== required) {
    throw new EvidenceValidationError('KEY_PURPOSE_INVALID', authorityMismatch(kind, required, signer.purpose), {
      hint: `sign ${kind} receipts with a ${required} key`,
    })
  }
  if (signer.keyId === '') throw invalid(missingField('signature.signer_key_id'))

  // Go marshals the payload struct: declaration order, omitempty, zero values for the rest.
  const schema = PAYLOAD_SCHEMAS[kind]
  const decoded = decodePayload(schema, toTree(unsigned.payload, 'payload'))
  if (!decoded.ok) {
    const detail = decoded.empty ? decoded.error : `strict decode: ${decoded.error}`
    throw invalid(`${missingField(schema.firstRequired)} (unmarshal: ${detail})`)
  }
  const payloadError = checkDecodedPayload(schema, decoded.value, 'produce')
  if (payloadError !== undefined) throw invalid(payloadError)

  const envelope: JsonObject = new Map<string, JsonValue>([
    ['record_type', EVIDENCE_RECORD_TYPE],
    ['receipt_version', new JsonNumber('2')],
    ['payload_kind', kind],
    ['event_id', unsigned.eventId],
    ['timestamp', unsigned.timestamp],
  ])
  const optional = (name: string, value: JsonValue | undefined): void => {
    if (value !== undefined) envelope.set(name, value)
  }
  optional('principal', unsigned.principal)
  optional('actor', unsigned.actor)
  optional('delegation_chain', unsigned.delegationChain === undefined ? undefined : [...unsigned.delegationChain])
  envelope.set('signature', zeroProof())
  envelope.set('chain_seq', uint(unsigned.chainSeq, 'chain_seq') as JsonNumber)
  envelope.set('chain_prev_hash', unsigned.chainPrevHash)
  optional('active_manifest_hash', unsigned.activeManifestHash)
  optional('contract_hash', unsigned.contractHash)
  optional('selector_id', unsigned.selectorId)
  optional('contract_generation', uint(unsigned.contractGeneration, 'contract_generation'))
  envelope.set('payload', projectPayload(schema.fields, decoded.value))
  for (const [k, v] of unsigned.extensions ?? []) envelope.set(k, toTree(v, k))

  let parsed: ParsedEvidenceReceipt
  try {
    parsed = parseEvidenceReceiptValue(envelope)
  } catch (e) {
    if (e instanceof EvidenceParseError) throw invalid(e.message)
    throw e
  }
  const envelopeError = validateParsedEvidence(parsed, {mode: 'produce', proof: false})
  if (envelopeError !== undefined) throw invalid(envelopeError)

  let preimage: Buffer
  try {
    preimage = evidencePreimageBytes(parsed)
  } catch (e) {
    if (e instanceof CanonicalizationError) throw new EvidenceValidationError('CANONICAL_INVALID', e.message)
    throw e
  }
  const signed = new Map(parsed.envelope)
  signed.set(
    'signature',
    new Map([
      ['signer_key_id', signer.keyId],
      ['key_purpose', signer.purpose],
      ['algorithm', EVIDENCE_ALGORITHM],
      ['signature', formatSignature(signBytes(signer.keyPair, preimage))],
    ]),
  )
  return signed
}

/**
 * The chain position of the next receipt of one emitter: the first receipt is seq 0 with
 * `chain_prev_hash` `genesis` (learn-lifecycle.md §3.5, receipts.md §8); each later one is the
 * previous seq + 1 and the previous receipt's v2 hash.
 */
export function nextChainLink(previous: EvidenceReceiptInput | undefined): EvidenceChainLink {
  if (previous === undefined) return {chainSeq: 0n, chainPrevHash: EVIDENCE_GENESIS}
  const parsed = toParsedEvidence(previous)
  return {chainSeq: parsed.chainSeq + 1n, chainPrevHash: evidenceReceiptHash(parsed)}
}
