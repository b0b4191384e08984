import {CanonicalizationError, decodeGoHex, HexError} from '../../canonical/index.js'
import {verifyBytes} from '../../signing/index.js'
import {evidencePreimageBytes, evidenceReceiptHash, toParsedEvidence, type EvidenceReceiptInput} from './canonical-form.js'
import {goQ, invalidEnum, missingField, NO_PUBLIC_KEY, SIGNATURE_FAILED} from './messages.js'
import type {ParsedEvidenceReceipt} from './parse.js'
import {decodeSignature, validateParsedEvidence} from './validate.js'

// EvidenceReceipt v2 verification (receipts.md §9.5). v2 receipts carry no public key: the
// caller must supply it. Order and texts are Go's: Validate (steps 1–10), then the caller's
// pins, the key, and finally the Ed25519 check over the JCS preimage (no pre-hash).

export interface VerifyEvidenceOptions {
  /** Raw 32-byte key, or hex (either case, surrounding whitespace ignored). Required for a valid result. */
  publicKey?: Uint8Array | string
  /** Pin `signature.signer_key_id` (Go requires it; optional here, as in pyverify). */
  expectedSignerKeyId?: string
  /** Pin `signature.key_purpose` in addition to the authority matrix, which is always enforced. */
  expectedPurpose?: string
}

export interface EvidenceVerification {
  /** Every check passed. The only field that says "trust this receipt". */
  readonly valid: boolean
  /**
   * The Ed25519 signature verifies over the preimage with the supplied key, whatever the other
   * checks say (lets a caller report "signature valid, receipt invalid"). Never trust on its own.
   */
  readonly signatureValid: boolean
  /** First failure, Go text. */
  readonly error?: string
  readonly payloadKind?: string
  readonly eventId?: string
  readonly signerKeyId?: string
  readonly keyPurpose?: string
  /** uint64 as decimal text. */
  readonly chainSeq?: string
  readonly chainPrevHash?: string
  /** v2 receipt hash (hex, no prefix); absent when the receipt cannot be canonicalised. */
  readonly receiptHash?: string
  /** RFC3339Nano as Go renders it. */
  readonly timestamp?: string
  /**
   * Set when the receipt lists in `crit` a member this version does not understand: it is not
   * verifiable by this version (neither valid nor broken); `error` names the members.
   */
  readonly unsupportedCritical?: readonly string[]
}

/** The text for a receipt that needs extensions this version does not implement. */
export function notVerifiableText(names: readonly string[]): string {
  return `not verifiable by this version: unknown critical extension${names.length === 1 ? '' : 's'} ${names.map((n) => JSON.stringify(n)).join(', ')}`
}

function decodeKey(key: Uint8Array | string | undefined): Buffer | string {
  if (key === undefined) return NO_PUBLIC_KEY
  let bytes: Buffer
  if (typeof key === 'string') {
    const hex = key.trim()
    if (hex === '') return NO_PUBLIC_KEY
    try {
      bytes = decodeGoHex(hex)
    } catch (e) {
      if (e instanceof HexError) return invalidEnum(`signature public key hex: ${e.message}`)
      throw e
    }
  } else {
    if (key.length === 0) return NO_PUBLIC_KEY
    bytes = Buffer.from(key)
  }
  if (bytes.length !== 32) return invalidEnum(`signature public key length=${bytes.length}`)
  return bytes
}

function describe(r: ParsedEvidenceReceipt): Omit<EvidenceVerification, 'valid' | 'signatureValid' | 'error'> {
  let receiptHash: string | undefined
  try {
    receiptHash = evidenceReceiptHash(r)
  } catch {
    receiptHash = undefined
  }
  return {
    payloadKind: r.payloadKind,
    eventId: r.eventId,
    signerKeyId: r.signature.signerKeyId,
    keyPurpose: r.signature.keyPurpose,
    chainSeq: r.chainSeq.toString(),
    chainPrevHash: r.chainPrevHash,
    receiptHash,
    timestamp: r.timestamp,
  }
}

function verifyParsed(r: ParsedEvidenceReceipt, options: VerifyEvidenceOptions): EvidenceVerification {
  const info = describe(r)
  // An unknown critical extension may change what the signed bytes mean: nothing more is claimed.
  if (r.unsupportedCritical.length > 0) return {valid: false, signatureValid: false, error: notVerifiableText(r.unsupportedCritical), unsupportedCritical: r.unsupportedCritical, ...info}
  const key = decodeKey(options.publicKey)
  const signature = decodeSignature(r.signature.signature)
  let preimage: Buffer | string
  try {
    preimage = evidencePreimageBytes(r)
  } catch (e) {
    if (!(e instanceof CanonicalizationError)) throw e
    preimage = e.message
  }
  const signatureValid =
    Buffer.isBuffer(key) && Buffer.isBuffer(signature) && Buffer.isBuffer(preimage) && verifyBytes(key, preimage, signature)

  const error =
    validateParsedEvidence(r, {mode: 'verify'}) ??
    expectedPurposeError(r, options.expectedPurpose) ??
    expectedSignerError(r, options.expectedSignerKeyId) ??
    (typeof key === 'string' ? key : undefined) ??
    (typeof preimage === 'string' ? preimage : undefined) ??
    (signatureValid ? undefined : SIGNATURE_FAILED)
  return error === undefined ? {valid: true, signatureValid, ...info} : {valid: false, signatureValid, error, ...info}
}

function expectedPurposeError(r: ParsedEvidenceReceipt, expected: string | undefined): string | undefined {
  if (expected === undefined || expected === r.signature.keyPurpose) return undefined
  return `signature key_purpose does not match expected purpose: expected=${goQ(expected)} got=${goQ(r.signature.keyPurpose)}`
}

function expectedSignerError(r: ParsedEvidenceReceipt, expected: string | undefined): string | undefined {
  if (expected === undefined) return undefined
  if (expected === '') return missingField('expected signer_key_id')
  return expected === r.signature.signerKeyId ? undefined : invalidEnum('signer_key_id')
}

/** Verifies one v2 receipt. Never throws on bad input: every failure is `{valid: false, error}`. */
export function verifyEvidence(input: EvidenceReceiptInput, options: VerifyEvidenceOptions = {}): EvidenceVerification {
  let parsed: ParsedEvidenceReceipt
  try {
    parsed = toParsedEvidence(input)
  } catch (e) {
    return {valid: false, signatureValid: false, error: e instanceof Error ? e.message : String(e)}
  }
  try {
    return verifyParsed(parsed, options)
  } catch (e) {
    // Defensive: a bug must not turn a bad receipt into a crash of the caller.
    return {valid: false, signatureValid: false, error: e instanceof Error ? e.message : String(e)}
  }
}
