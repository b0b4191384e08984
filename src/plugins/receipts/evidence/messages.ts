// Go error texts of the EvidenceReceipt v2 validator (receipts.md §9.5). Kept in one place so
// the verifier, the producer and the tests speak the same words.

/** Go's `%q` (strconv.Quote) for the strings that appear in error texts. */
export function goQ(s: string): string {
  let out = '"'
  for (const ch of s.isWellFormed() ? s : s.toWellFormed()) {
    const cp = ch.codePointAt(0) as number
    switch (ch) {
      case '"': out += '\\"'; continue
      case '\\': out += '\\\\'; continue
      case '\x07': out += '\\a'; continue
      case '\b': out += '\\b'; continue
      case '\f': out += '\\f'; continue
      case '\n': out += '\\n'; continue
      case '\r': out += '\\r'; continue
      case '\t': out += '\\t'; continue
      case '\v': out += '\\v'; continue
    }
    if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0')
    else if (ch !== ' ' && /^[\p{C}\p{Z}]$/u.test(ch)) {
      out += cp > 0xffff ? '\\U' + cp.toString(16).padStart(8, '0') : '\\u' + cp.toString(16).padStart(4, '0')
    } else out += ch
  }
  return out + '"'
}

export const missingField = (field: string): string => `payload missing required field: ${field}`

export const invalidEnum = (what: string): string => `payload field has invalid enum value: ${what}`

export const unsupportedRecordType = (got: string): string => `unsupported record_type for v2 verifier: got ${goQ(got)}`

export const wrongReceiptVersion = (got: bigint): string => `EvidenceReceipt requires receipt_version=2: got ${got}`

export const unknownPayloadKind = (got: string): string => `unknown payload_kind for v2 receipt: ${goQ(got)}`

export const authorityMismatch = (kind: string, required: string, got: string): string =>
  `signature key_purpose does not match authority matrix: payload_kind=${goQ(kind)} required=${goQ(required)} got=${goQ(got)}`

export const NO_PUBLIC_KEY = 'public_key_hex is required to verify EvidenceReceipt v2 signatures'

export const SIGNATURE_FAILED = invalidEnum('signature verification failed')
