// EvidenceReceipt v2 (receipts.md §9, learn-lifecycle.md §1.5–1.6): strict parsing, Go
// validation, the JCS preimage, signing, verification, receipt hash and the JSONL encoding.
// Exported names carry `Evidence`/`EVIDENCE_` where a v1 name could collide in the receipts index.
export {
  EVIDENCE_RECORD_TYPE,
  EVIDENCE_RECEIPT_VERSION,
  EVIDENCE_ALGORITHM,
  EVIDENCE_GENESIS,
  EVIDENCE_ENVELOPE,
  EVIDENCE_EXTENSION_MEMBERS,
  EVIDENCE_UNDERSTOOD_CRITICAL,
  SIGNATURE_PROOF as EVIDENCE_SIGNATURE_PROOF,
  SIGNATURE_PREFIX as EVIDENCE_SIGNATURE_PREFIX,
} from './envelope-schema.js'
export {EvidenceParseError, EvidenceValidationError} from './errors.js'
export {NO_PUBLIC_KEY as EVIDENCE_NO_PUBLIC_KEY, SIGNATURE_FAILED as EVIDENCE_SIGNATURE_FAILED} from './messages.js'
export {PAYLOAD_SCHEMAS as EVIDENCE_PAYLOAD_SCHEMAS, VALIDATION_OUTCOMES, REDACTION_REQUEST_KINDS} from './payload-schemas.js'
export type {
  PayloadField as EvidencePayloadField,
  PayloadFieldType as EvidencePayloadFieldType,
  PayloadSchema as EvidencePayloadSchema,
} from './payload-schemas.js'
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
export {verifyEvidence, notVerifiableText} from './verify.js'
export type {VerifyEvidenceOptions, EvidenceVerification} from './verify.js'
export {signEvidence, nextChainLink} from './sign.js'
export type {UnsignedEvidenceReceipt, EvidenceSigner, EvidenceChainLink} from './sign.js'
export {EvidenceChainVerifier} from './chain.js'
export type {EvidenceChainState, EvidenceKeyChoice} from './chain.js'
