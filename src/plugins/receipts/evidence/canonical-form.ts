import {canonicalize, goJson, type JsonObject, type JsonValue} from '../../canonical/index.js'
import {sha256Hex} from '../../signing/index.js'
import {zeroProof} from './envelope-schema.js'
import {isParsedEvidenceReceipt, parseEvidenceReceipt, parseEvidenceReceiptValue, type ParsedEvidenceReceipt} from './parse.js'

// The three byte forms of a v2 receipt (receipts.md §9.4, learn-lifecycle.md §1.6):
//   preimage  = JCS(Go projection with the zero proof)    → Ed25519 message, no pre-hash
//   hash      = SHA-256(JCS(Go projection, real proof))   → v2 chain link, hex, no prefix
//   JSONL     = GoJSON(Go projection) in struct order     → what a Go emitter writes

/** Text, a strictly parsed receipt, or a receipt tree (e.g. the output of `signEvidence`). */
export type EvidenceReceiptInput = string | ParsedEvidenceReceipt | JsonObject

export function toParsedEvidence(input: EvidenceReceiptInput): ParsedEvidenceReceipt {
  if (typeof input === 'string') return parseEvidenceReceipt(input)
  if (isParsedEvidenceReceipt(input)) return input
  return parseEvidenceReceiptValue(input as JsonValue)
}

/**
 * Signing preimage text. The proof is replaced, not removed: all four keys stay, empty
 * (omitting it does not verify against Go-signed receipts). Throws CanonicalizationError for
 * floats, non-int64 integers, or keys that collide after NFC.
 */
export function evidencePreimage(input: EvidenceReceiptInput): string {
  const envelope = new Map(toParsedEvidence(input).envelope)
  envelope.set('signature', zeroProof())
  return canonicalize(envelope)
}

export function evidencePreimageBytes(input: EvidenceReceiptInput): Buffer {
  return Buffer.from(evidencePreimage(input), 'utf8')
}

/** Canonical text of the complete receipt, real signature proof included. */
export function evidenceCanonical(input: EvidenceReceiptInput): string {
  return canonicalize(toParsedEvidence(input).envelope)
}

/** v2 receipt hash: lowercase hex SHA-256 of the canonical complete receipt, no `sha256:` prefix. */
export function evidenceReceiptHash(input: EvidenceReceiptInput): string {
  return sha256Hex(Buffer.from(evidenceCanonical(input), 'utf8'))
}

/** One compact GoJSON line in Go struct order, without the trailing newline (the writer adds `\n`). */
export function encodeEvidenceReceipt(input: EvidenceReceiptInput): string {
  return goJson(toParsedEvidence(input).envelope)
}
