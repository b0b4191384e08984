import {PipelockError, type ErrorCode, type PipelockErrorOptions} from '../../errors/index.js'

/** An EvidenceReceipt v2 text or tree that does not have the envelope's shape (JSON, keys, types). */
export class EvidenceParseError extends PipelockError {
  constructor(message: string, options: PipelockErrorOptions = {}) {
    super('RECEIPT_PARSE', message, options)
    this.name = 'EvidenceParseError'
  }
}

/**
 * A receipt or unsigned receipt that fails the Go `Validate` rules, a signer the authority matrix
 * refuses, or a value that cannot be canonicalised. `message` is the Go text (receipts.md §9.5).
 */
export class EvidenceValidationError extends PipelockError {
  constructor(code: ErrorCode, message: string, options: PipelockErrorOptions = {}) {
    super(code, message, options)
    this.name = 'EvidenceValidationError'
  }
}
