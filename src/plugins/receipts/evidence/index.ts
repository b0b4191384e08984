// EvidenceReceipt v2 (receipts.md §9, learn-lifecycle.md §1.5–1.6): strict parsing, Go
// validation, the JCS preimage, signing, verification, receipt hash and the JSONL encoding.
export {
  EVIDENCE_RECORD_TYPE,
  EVIDENCE_RECEIPT_VERSION,
  EVIDENCE_ALGORITHM,
  EVIDENCE_GENESIS,
  EVIDENCE_ENVELOPE,
  SIGNATURE_PROOF,
  SIGNATURE_PREFIX,
} from './envelope-schema.js'
export {EvidenceParseError, EvidenceValidationError} from './errors.js'
export {NO_PUBLIC_KEY, SIGNATURE_FAILED} from './messages.js'
export {PAYLOAD_SCHEMAS, VALIDATION_OUTCOMES, REDACTION_REQUEST_KINDS} from './payload-schemas.js'
export type {PayloadField, PayloadFieldType, PayloadSchema} from './payload-schemas.js'
export {checkPayload as checkEvidencePayload} from './payload-decode.js'
export type {PayloadMode as EvidencePayloadMode} from './payload-decode.js'
export {parseEvidenceReceipt, parseEvidenceReceiptValue, isParsedEvidenceReceipt} from './parse.js'
export type {ParsedEvidenceReceipt, EvidenceSignatureProof, ParseEvidenceOptions} from './parse.js'
export {
  evidencePreimage,
  evidencePreimageBytes,
  evidenceCanonical,
  evidenceReceiptHash,
  encodeEvidenceReceipt,
} from './canonical-form.js'
export type {EvidenceReceiptInput} from './canonical-form.js'
export {validateEvidence, validateEvidenceStrict} from './validate.js'
export type {EvidenceValidity} from './validate.js'
export {verifyEvidence} from './verify.js'
export type {VerifyEvidenceOptions, EvidenceVerification} from './verify.js'
export {signEvidence, nextChainLink} from './sign.js'
export type {UnsignedEvidenceReceipt, EvidenceSigner, EvidenceChainLink} from './sign.js'
