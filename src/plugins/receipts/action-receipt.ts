import {
  compactRawJson,
  goJson,
  goQuote,
  JsonNumber,
  JsonSyntaxError,
  parseGoTime,
  parseStrictJson,
  projectStruct,
  pythonList,
  ShapeError,
  toEpochNanos,
  decodeGoHex,
  HexError,
  type JsonObject,
  type JsonValue,
} from '../canonical/index.js'
import {formatSignature, sha256, sha256Hex, signBytes, verifyBytes, type Ed25519KeyPair} from '../signing/index.js'
import {ACTION_RECORD, ACTION_TYPES, RECEIPT_KEYS} from './action-record-schema.js'

/** A v1 receipt after strict parsing: the record in Go field order and its canonical bytes. */
export interface ActionReceipt {
  /** Envelope `version` as decimal text (missing → "0"). */
  version: string
  /** The action record projected into Go struct order (zero values filled, omitempty applied). */
  record: JsonObject
  /** GoJSON(action_record): the bytes whose SHA-256 is signed. */
  recordJson: string
  signature: string
  signerKey: string
  /** Compacted raw `ext` (unsigned, but part of the receipt hash), when present. */
  ext?: string
}

/** The receipt is not well-formed (receipts.md §4.4, §5.3 step 0). Message starts `unmarshal receipt: `. */
export class ReceiptParseError extends Error {
  constructor(detail: string) {
    super(`unmarshal receipt: ${detail}`)
    this.name = 'ReceiptParseError'
  }
}

const ZERO_TIME_NS = toEpochNanos(parseGoTime('0001-01-01T00:00:00Z'))

/** Parses a receipt from its JSON text, keeping `ext` as raw bytes. */
export function parseActionReceiptText(text: string): ActionReceipt {
  let parsed
  try {
    parsed = parseStrictJson(text, {topLevelSpans: true})
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new ReceiptParseError(e.message)
    throw e
  }
  const span = parsed.spans?.get('ext')
  return parseActionReceiptTree(parsed.value, span === undefined ? undefined : text.slice(span[0], span[1]))
}

/**
 * Strict shape checks and projection of an already-parsed receipt tree. `extRaw` is the exact
 * source text of `ext` (needed because its bytes, not its parsed value, enter the receipt hash).
 */
export function parseActionReceiptTree(tree: JsonValue, extRaw?: string): ActionReceipt {
  if (!(tree instanceof Map)) throw new ReceiptParseError('receipt is not a JSON object')
  let unknown: string[] | undefined
  for (const k of tree.keys()) if (!RECEIPT_KEYS.has(k)) (unknown ??= []).push(k)
  if (unknown !== undefined) {
    unknown.sort()
    throw new ReceiptParseError(`receipt carries unknown signed field(s): ${pythonList(unknown)}`)
  }

  const version = tree.get('version')
  if (version !== undefined && !(version instanceof JsonNumber && /^-?(0|[1-9]\d*)$/.test(version.text))) {
    throw new ReceiptParseError('version: expected integer')
  }
  const signature = tree.get('signature')
  if (signature !== undefined && typeof signature !== 'string') throw new ReceiptParseError('signature: expected string')
  const signerKey = tree.get('signer_key')
  if (signerKey !== undefined && typeof signerKey !== 'string') throw new ReceiptParseError('signer_key: expected string')

  let record: JsonObject
  try {
    const ar = tree.get('action_record')
    // Go's json.Unmarshal: a signed lexeme in a uint64 field (`"chain_seq":-0`) is a type error.
    record = projectStruct(ACTION_RECORD, ar === null ? undefined : ar, ACTION_RECORD.label, {jsonUnsigned: true})
    checkSessionControl(record)
  } catch (e) {
    if (e instanceof ShapeError) throw new ReceiptParseError(e.message)
    throw e
  }
  const receipt: ActionReceipt = {
    version: version === undefined ? '0' : BigInt((version as JsonNumber).text).toString(),
    record,
    recordJson: goJson(record),
    signature: (signature as string | undefined) ?? '',
    signerKey: (signerKey as string | undefined) ?? '',
  }
  if (tree.has('ext')) {
    // Without the source text (a tree built in memory), Go-marshal the value itself.
    receipt.ext = extRaw === undefined ? goJson(tree.get('ext') as JsonValue) : compactRawJson(extRaw)
  }
  return receipt
}

/**
 * A receipt read from canonical text (canonical-line.ts): `record` is already its own projection
 * and `recordJson` its GoJSON. Undefined when the record breaks a rule the projection does not
 * check (session_control's payload): the full reader then names it.
 */
export function canonicalActionReceipt(version: string, record: JsonObject, recordJson: string, signature: string, signerKey: string): ActionReceipt | undefined {
  try {
    checkSessionControl(record)
  } catch (e) {
    if (e instanceof ShapeError) return undefined
    throw e
  }
  return {version, record, recordJson, signature, signerKey}
}

// session_control must carry exactly the payload its kind names (§4.4).
function checkSessionControl(record: JsonObject): void {
  const sc = record.get('session_control')
  if (!(sc instanceof Map)) return
  const kind = sc.get('kind')
  const want = kind === 'session_open' ? 'open' : kind === 'heartbeat' ? 'heartbeat' : kind === 'session_close' ? 'close' : undefined
  if (want === undefined) throw new ShapeError('unknown session_control kind', 'action_record.session_control.kind')
  const present = ['open', 'heartbeat', 'close'].filter((k) => sc.has(k))
  if (present.length !== 1 || present[0] !== want) {
    throw new ShapeError(`session_control kind ${goQuote(String(kind))} must carry exactly one ${want} payload`, 'action_record.session_control')
  }
}

export function recordString(record: JsonObject, name: string): string {
  const v = record.get(name)
  return typeof v === 'string' ? v : ''
}

export function recordUint(record: JsonObject, name: string): bigint {
  const v = record.get(name)
  return v instanceof JsonNumber ? BigInt(v.text) : 0n
}

/** Record validation (§5.3 step 2), returning the Go error text or undefined. */
export function validateActionRecord(record: JsonObject): string | undefined {
  const version = record.get('version') as JsonNumber
  if (version.text !== '1') return `unsupported action record version ${version.text} (expected 1)`
  if (recordString(record, 'action_id') === '') return 'action_id is required'
  const actionType = recordString(record, 'action_type')
  if (!ACTION_TYPES.has(actionType)) return `invalid action_type ${goQuote(actionType)}`
  const ts = recordString(record, 'timestamp')
  // A projected record's timestamp is Go-rendered: in UTC only the literal zero time is zero.
  if (ts.endsWith('Z') ? ts === '0001-01-01T00:00:00Z' : toEpochNanos(parseGoTime(ts)) === ZERO_TIME_NS) return 'timestamp is required'
  if (recordString(record, 'target') === '') return 'target is required'
  if (recordString(record, 'verdict') === '') return 'verdict is required'
  if (recordString(record, 'transport') === '') return 'transport is required'
  return undefined
}

/** What remains of §5.3 after the cheap checks: one Ed25519 verification. */
export interface SignatureCheck {
  publicKey: Buffer
  /** SHA-256(GoJSON(action_record)): v1 signs the digest, not the JSON itself. */
  digest: Buffer
  signature: Buffer
}

export const SIGNATURE_VERIFICATION_FAILED = 'signature verification failed'

/**
 * §5.3 steps 1–8: everything except the Ed25519 operation. Returns the Go error text, or the
 * inputs of the final verification so that it can run here or on another thread.
 */
/** A signer key already decoded (from exactly this hex): a chain repeats one key on every receipt. */
export interface DecodedKey {
  hex: string
  bytes: Buffer
}

/**
 * `pinnedName`: how the mismatch error names the pinned key instead of its hex. A key read from a
 * file may be something else by mistake (a private key in hex looks the same): the error then
 * names its fingerprint and file, never the file's contents. Omitted, the §5.3 text is exact.
 */
export function prepareActionReceiptCheck(receipt: ActionReceipt, pinnedKey?: string, known?: DecodedKey, pinnedName?: string): string | SignatureCheck {
  if (receipt.version !== '1') return `unsupported receipt version ${receipt.version} (expected 1)`
  const invalid = validateActionRecord(receipt.record)
  if (invalid !== undefined) return `invalid action record: ${invalid}`
  if (receipt.signature === '') return 'receipt has no signature'
  if (receipt.signerKey === '') return 'receipt has no signer_key'
  // Exact, case-sensitive comparison: a pinned key is a claim about these exact bytes.
  if (pinnedKey && receipt.signerKey !== pinnedKey) {
    return `signer_key ${receipt.signerKey} does not match expected key ${pinnedName ?? pinnedKey}`
  }
  let publicKey: Buffer
  if (known !== undefined && known.hex === receipt.signerKey) {
    publicKey = known.bytes // decoded from the same text before: valid hex, 32 bytes
  } else {
    try {
      publicKey = decodeGoHex(receipt.signerKey)
    } catch (e) {
      if (e instanceof HexError) return `decoding signer_key: ${e.message}`
      throw e
    }
    if (publicKey.length !== 32) return `invalid signer_key length: got ${publicKey.length}, want 32`
  }
  if (!receipt.signature.startsWith('ed25519:') || receipt.signature.length <= 8) {
    return 'invalid signature format: missing ed25519: prefix'
  }
  let signature: Buffer
  try {
    signature = decodeGoHex(receipt.signature.slice(8))
  } catch (e) {
    if (e instanceof HexError) return `decoding signature: ${e.message}`
    throw e
  }
  if (signature.length !== 64) return `invalid signature length: got ${signature.length}, want 64`
  return {publicKey, digest: sha256(receipt.recordJson), signature}
}

/**
 * Verifies one receipt (§5.3 steps 1–9) against an optional pinned key (lowercase hex; empty or
 * undefined trusts the embedded signer_key). Returns the Go error text, or undefined when valid.
 */
export function verifyActionReceipt(receipt: ActionReceipt, pinnedKey?: string, pinnedName?: string): string | undefined {
  const check = prepareActionReceiptCheck(receipt, pinnedKey, undefined, pinnedName)
  if (typeof check === 'string') return check
  return verifyBytes(check.publicKey, check.digest, check.signature) ? undefined : SIGNATURE_VERIFICATION_FAILED
}

/** GoJSON of the whole envelope (§5.1): what the receipt hash covers, `ext` included. */
export function encodeActionReceipt(receipt: ActionReceipt): string {
  let s = `{"version":${receipt.version},"action_record":${receipt.recordJson},"signature":${goQuote(receipt.signature)},"signer_key":${goQuote(receipt.signerKey)}`
  if (receipt.ext !== undefined) s += `,"ext":${receipt.ext}`
  return s + '}'
}

/** Receipt hash (§5.4): lowercase hex SHA-256 of GoJSON(receipt), the next receipt's chain_prev_hash. */
export function actionReceiptHash(receipt: ActionReceipt): string {
  return sha256Hex(encodeActionReceipt(receipt))
}

export class ReceiptValidationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ReceiptValidationError'
  }
}

/**
 * Signs an action record (§5.2). `record` is a tree (Map) or plain data; it is validated and
 * projected into Go field order first, so the signature covers the canonical bytes.
 */
export function signActionReceipt(record: JsonValue, keyPair: Ed25519KeyPair): ActionReceipt {
  let projected: JsonObject
  try {
    projected = projectStruct(ACTION_RECORD, record)
    checkSessionControl(projected)
  } catch (e) {
    if (e instanceof ShapeError) throw new ReceiptValidationError(`invalid action record: ${e.message}`)
    throw e
  }
  const invalid = validateActionRecord(projected)
  if (invalid !== undefined) throw new ReceiptValidationError(`invalid action record: ${invalid}`)
  const recordJson = goJson(projected)
  return {
    version: '1',
    record: projected,
    recordJson,
    signature: formatSignature(signBytes(keyPair, sha256(recordJson))),
    signerKey: keyPair.publicKey.toString('hex'),
  }
}

export interface ReceiptVerification {
  valid: boolean
  /** Go error text when invalid (`unmarshal receipt: …` for input that does not parse). */
  error?: string
  receipt?: ActionReceipt
  /** Receipt hash (§5.4) when the receipt parsed. */
  receiptHash?: string
}

/**
 * Verifies one ActionReceipt v1 given as JSON text or already parsed, optionally against a
 * pinned key (lowercase hex). Never throws on bad input.
 */
export function verifyReceipt(input: string | ActionReceipt, options: {key?: string} = {}): ReceiptVerification {
  let receipt: ActionReceipt
  if (typeof input === 'string') {
    try {
      receipt = parseActionReceiptText(input)
    } catch (e) {
      if (e instanceof ReceiptParseError) return {valid: false, error: e.message}
      throw e
    }
  } else {
    receipt = input
  }
  const error = verifyActionReceipt(receipt, options.key)
  const result: ReceiptVerification = {valid: error === undefined, receipt, receiptHash: actionReceiptHash(receipt)}
  if (error !== undefined) result.error = error
  return result
}
