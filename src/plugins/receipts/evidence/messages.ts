// Go error texts of the EvidenceReceipt v2 validator (receipts.md §9.5). Kept in one place so
// the verifier, the producer and the tests speak the same words.

import {strconvQuote as goQ} from '../../canonical/index.js'

export {goQ}

export const missingField = (field: string): string => `payload missing required field: ${field}`

export const invalidEnum = (what: string): string => `payload field has invalid enum value: ${what}`

export const unsupportedRecordType = (got: string): string => `unsupported record_type for v2 verifier: got ${goQ(got)}`

export const wrongReceiptVersion = (got: bigint): string => `EvidenceReceipt requires receipt_version=2: got ${got}`

export const unknownPayloadKind = (got: string): string => `unknown payload_kind for v2 receipt: ${goQ(got)}`

export const authorityMismatch = (kind: string, required: string, got: string): string =>
  `signature key_purpose does not match authority matrix: payload_kind=${goQ(kind)} required=${goQ(required)} got=${goQ(got)}`

export const NO_PUBLIC_KEY = 'public_key_hex is required to verify EvidenceReceipt v2 signatures'

export const SIGNATURE_FAILED = invalidEnum('signature verification failed')
