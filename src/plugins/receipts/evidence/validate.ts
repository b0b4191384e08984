import {decodeGoHex, HexError} from '../../canonical/index.js'
import {isPayloadKind, requiredPurpose} from '../../signing/index.js'
import {EVIDENCE_ALGORITHM, EVIDENCE_RECEIPT_VERSION, EVIDENCE_RECORD_TYPE, SIGNATURE_PREFIX} from './envelope-schema.js'
import {
  authorityMismatch,
  goQ,
  invalidEnum,
  missingField,
  unknownPayloadKind,
  unsupportedRecordType,
  wrongReceiptVersion,
} from './messages.js'
import {checkPayload, type PayloadMode} from './payload-decode.js'
import {PAYLOAD_SCHEMAS} from './payload-schemas.js'
import type {ParsedEvidenceReceipt} from './parse.js'
import {toParsedEvidence, type EvidenceReceiptInput} from './canonical-form.js'
import {EvidenceParseError} from './errors.js'

// Go's EvidenceReceipt.Validate, in its order (receipts.md §9.5 steps 1–10). Returns the first
// failure's Go text, or undefined. Pure: no key, no signature verification.

export interface ValidateEvidenceOptions {
  /** Payload rules: `verify` (verifiers, default) or `produce` (all Go rules). */
  mode?: PayloadMode
  /** Check the signature proof (steps 7–10); false for an unsigned receipt about to be signed. */
  proof?: boolean
}

export function validateParsedEvidence(r: ParsedEvidenceReceipt, options: ValidateEvidenceOptions = {}): string | undefined {
  const mode = options.mode ?? 'verify'
  if (r.recordType !== EVIDENCE_RECORD_TYPE) return unsupportedRecordType(r.recordType)
  if (r.receiptVersion !== EVIDENCE_RECEIPT_VERSION) return wrongReceiptVersion(r.receiptVersion)
  if (r.eventId === '') return missingField('event_id')
  if (r.timestampIsZero) return missingField('timestamp')
  if (!isPayloadKind(r.payloadKind)) return unknownPayloadKind(r.payloadKind)
  const payloadError = checkPayload(PAYLOAD_SCHEMAS[r.payloadKind], r.payload, mode)
  if (payloadError !== undefined) return payloadError
  if (options.proof === false) return undefined
  return checkProof(r)
}

/** Steps 7–10: the proof's own fields and the authority matrix (never the caller's wishes). */
function checkProof(r: ParsedEvidenceReceipt): string | undefined {
  const proof = r.signature
  if (proof.signerKeyId === '') return missingField('signature.signer_key_id')
  if (proof.keyPurpose === '') return missingField('signature.key_purpose')
  if (!isPayloadKind(r.payloadKind)) return unknownPayloadKind(r.payloadKind)
  const required = requiredPurpose(r.payloadKind)
  if (proof.keyPurpose !== required) return authorityMismatch(r.payloadKind, required, proof.keyPurpose)
  if (proof.algorithm !== EVIDENCE_ALGORITHM) return invalidEnum(`signature.algorithm=${goQ(proof.algorithm)}`)
  const decoded = decodeSignature(proof.signature)
  return typeof decoded === 'string' ? decoded : undefined
}

/** `ed25519:` + 128 hex → 64 bytes, or the Go error text. */
export function decodeSignature(signature: string): Buffer | string {
  if (!signature.startsWith(SIGNATURE_PREFIX)) return invalidEnum('signature.signature prefix')
  let bytes: Buffer
  try {
    bytes = decodeGoHex(signature.slice(SIGNATURE_PREFIX.length))
  } catch (e) {
    if (e instanceof HexError) return invalidEnum(`signature.signature hex: ${e.message}`)
    throw e
  }
  if (bytes.length !== 64) return invalidEnum(`signature.signature length=${bytes.length}`)
  return bytes
}

export interface EvidenceValidity {
  readonly ok: boolean
  readonly error?: string
}

function validity(input: EvidenceReceiptInput, options: ValidateEvidenceOptions): EvidenceValidity {
  let parsed: ParsedEvidenceReceipt
  try {
    parsed = toParsedEvidence(input)
  } catch (e) {
    if (e instanceof EvidenceParseError) return {ok: false, error: e.message}
    throw e
  }
  const error = validateParsedEvidence(parsed, options)
  return error === undefined ? {ok: true} : {ok: false, error}
}

/** Validate as a verifier does (§9.3: only the RFC 3339 window check inside shadow_delta). */
export function validateEvidence(input: EvidenceReceiptInput): EvidenceValidity {
  return validity(input, {mode: 'verify'})
}

/**
 * What Go's (May 2026) `Validate` reports, all payload rules included. The golden shadow_delta
 * vector fails here (`aggregation.delta_sample_count`) while its signature is valid.
 */
export function validateEvidenceStrict(input: EvidenceReceiptInput): EvidenceValidity {
  return validity(input, {mode: 'produce'})
}
