import {open, readFile, stat} from 'node:fs/promises'
import {formatSecondsZ, goJsonIndent, JsonSyntaxError, parseGoTime, parseStrictJson} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {fingerprint, loadPublicKey, refuseSpecialFile} from '../signing/index.js'
import {
  actionReceiptHash,
  parseActionReceiptTree,
  ReceiptParseError,
  recordString,
  recordUint,
  verifyActionReceipt,
} from './action-receipt.js'
import {verifyEvidence, type VerifyEvidenceOptions} from './evidence/index.js'
import {parseRotationEndorsement, type RotationEndorsement, ENDORSEMENT_MAX_BYTES} from './rotation-endorsement.js'

// The single-receipt part of `pipelock verify-receipt` (receipts.md §11.1): reads one receipt
// file, v1 or v2, verifies it and returns a typed report. Rendering is the command's job.

export interface VerifyReceiptRequest {
  file: string
  /** `--key`: path to a public key file (versioned or hex) or inline hex. */
  key?: string
  /** How errors name the key instead of its hex (pinnedKeyName); default: from `key` itself. */
  keyName?: string
}

export interface SingleReceiptReport {
  kind: 'action_receipt_v1'
  path: string
  valid: boolean
  /** False when no --key was given: the embedded signer_key was trusted. */
  signerPinned: boolean
  /** `parse`: the file is not a well-formed receipt; `verify`: it is, and a check failed. */
  stage: 'parse' | 'verify'
  error?: string
  receiptHash?: string
  receipt?: {
    actionId: string
    actionType: string
    verdict: string
    target: string
    transport: string
    timestamp: string
    signerKey: string
    chainSeq: string
    chainPrevHash: string
    principal: string
    actor: string
    policyHash: string
    method: string
    layer: string
  }
  /** GoJSON of the action record: the bytes whose digest is signed. */
  actionRecordJson?: string
  /** The record indented as the reference CLI prints it (`  ` prefix and indent). */
  actionRecordIndented?: string
}

export interface EvidenceReport {
  kind: 'evidence_receipt_v2'
  path: string
  valid: boolean
  signatureValid: boolean
  signerPinned: boolean
  error?: string
  payloadKind?: string
  eventId?: string
  signerKeyId?: string
  keyPurpose?: string
  chainSeq?: string
  chainPrevHash?: string
  timestamp?: string
  receiptHash?: string
  /** Unknown critical extensions (`crit`): the receipt is not verifiable by this version. */
  unsupportedCritical?: string[]
}

export type VerifyReceiptReport = SingleReceiptReport | EvidenceReport

/** A single receipt file larger than this is refused instead of read into memory. */
export const MAX_RECEIPT_FILE_BYTES = 16 * 1024 * 1024

/**
 * One receipt file (receipts.md §11.1 single mode). Chains, files of many receipts and recorder
 * directories are verified by the audit plugin's evidence-set verifier.
 */
export async function verifyReceiptInput(req: VerifyReceiptRequest): Promise<VerifyReceiptReport> {
  if (req.key === undefined) return verifySingle(req.file, undefined)
  const pinned = resolvePinnedKey(req.key)
  return verifySingle(req.file, pinned.hex, req.keyName ?? pinned.name)
}

/**
 * `--key` → lowercase hex, errors prefixed `loading public key:` (receipts.md §11.1). A key read
 * from a file also gets the `name` errors use for it instead of the file's contents: whatever
 * the file holds (a private key in hex passes for a public one) is never echoed, its
 * fingerprint and path are. A key typed inline is named by its hex, as §5.3 says.
 */
export function resolvePinnedKey(key: string): {hex: string; name?: string} {
  let v
  try {
    v = loadPublicKey(key)
  } catch (e) {
    if (e instanceof PipelockError) throw new PipelockError(e.code, `loading public key: ${e.message}`, {cause: e, ...(e.hint === undefined ? {} : {hint: e.hint})})
    throw e
  }
  return v.file === undefined ? {hex: v.hex} : {hex: v.hex, name: pinnedKeyName(v.bytes, v.file)}
}

/** How an error names a pinned key read from `file`: its fingerprint and the file, not its bytes. */
export function pinnedKeyName(bytes: Uint8Array, file: string): string {
  return `${fingerprint(bytes)} (the key in ${file})`
}

export function osErrorText(err: unknown, op: string, file: string): string {
  const code = (err as NodeJS.ErrnoException).code
  const text =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory'
          : ((err as Error).message ?? String(err))
  return `${op} ${file}: ${text}`
}

export async function readBounded(file: string, max: number, what: string): Promise<Buffer> {
  refuseSpecialFile(file, what)
  let size: number
  try {
    size = (await stat(file)).size
  } catch (e) {
    throw new PipelockError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', `reading ${what}: ${osErrorText(e, 'open', file)}`)
  }
  if (size > max) throw new PipelockError('FILE_TOO_LARGE', `reading ${what}: ${file}: file is ${size} bytes, larger than the ${max}-byte limit`)
  try {
    return await readFile(file)
  } catch (e) {
    throw new PipelockError('FILE_UNREADABLE', `reading ${what}: ${osErrorText(e, 'read', file)}`)
  }
}

async function readAtMost(file: string, max: number, what: string): Promise<Buffer> {
  refuseSpecialFile(file, what)
  let fh
  try {
    fh = await open(file, 'r')
  } catch (e) {
    throw new PipelockError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', `reading ${what}: ${osErrorText(e, 'open', file)}`)
  }
  try {
    const buf = Buffer.alloc(max)
    let n = 0
    for (;;) {
      const {bytesRead} = await fh.read(buf, n, max - n, null)
      if (bytesRead === 0 || (n += bytesRead) === max) break
    }
    return buf.subarray(0, n)
  } catch (e) {
    throw new PipelockError('FILE_UNREADABLE', `reading ${what}: ${osErrorText(e, 'read', file)}`)
  } finally {
    await fh.close()
  }
}

/** Reads and parses rotation endorsement files (throws EndorsementError for a bad one). */
export async function loadEndorsements(files: readonly string[]): Promise<RotationEndorsement[]> {
  const out: RotationEndorsement[] = []
  for (const f of files) {
    // Read one byte past the limit at most: enough for the parser to report an oversized
    // file, and an unbounded file is never loaded.
    out.push(parseRotationEndorsement(await readAtMost(f, ENDORSEMENT_MAX_BYTES + 1, 'rotation endorsement')))
  }
  return out
}

async function verifySingle(file: string, pinned: string | undefined, pinnedName?: string): Promise<VerifyReceiptReport> {
  const text = (await readBounded(file, MAX_RECEIPT_FILE_BYTES, 'receipt')).toString('utf8')
  const signerPinned = pinned !== undefined
  const parseFailure = (error: string): SingleReceiptReport => ({kind: 'action_receipt_v1', path: file, valid: false, signerPinned, stage: 'parse', error})
  let parsed
  try {
    parsed = parseStrictJson(text, {topLevelSpans: true})
  } catch (e) {
    if (e instanceof JsonSyntaxError) return parseFailure(`unmarshal receipt: ${e.message}`)
    throw e
  }
  const tree = parsed.value
  if (tree instanceof Map && tree.has('record_type')) {
    const recordType = tree.get('record_type')
    if (recordType === 'evidence_receipt_v2') return verifyEvidenceFile(file, text, pinned)
    if (recordType !== 'action_receipt_v1') {
      return parseFailure(`unmarshal receipt: unknown record_type ${JSON.stringify(recordType)} (expected an ActionReceipt v1 or evidence_receipt_v2)`)
    }
  }
  let receipt
  try {
    const span = parsed.spans?.get('ext')
    receipt = parseActionReceiptTree(tree, span === undefined ? undefined : text.slice(span[0], span[1]))
  } catch (e) {
    if (e instanceof ReceiptParseError) return parseFailure(e.message)
    throw e
  }
  const error = verifyActionReceipt(receipt, pinned, pinnedName)
  const r = receipt.record
  const report: SingleReceiptReport = {
    kind: 'action_receipt_v1',
    path: file,
    valid: error === undefined,
    signerPinned,
    stage: 'verify',
    receiptHash: actionReceiptHash(receipt),
    receipt: {
      actionId: recordString(r, 'action_id'),
      actionType: recordString(r, 'action_type'),
      verdict: recordString(r, 'verdict'),
      target: recordString(r, 'target'),
      transport: recordString(r, 'transport'),
      timestamp: recordString(r, 'timestamp'),
      signerKey: receipt.signerKey,
      chainSeq: recordUint(r, 'chain_seq').toString(),
      chainPrevHash: recordString(r, 'chain_prev_hash'),
      principal: recordString(r, 'principal'),
      actor: recordString(r, 'actor'),
      policyHash: recordString(r, 'policy_hash'),
      method: recordString(r, 'method'),
      layer: recordString(r, 'layer'),
    },
    actionRecordJson: receipt.recordJson,
    actionRecordIndented: goJsonIndent(r, '  ', '  '),
  }
  if (error !== undefined) report.error = error
  return report
}

async function verifyEvidenceFile(file: string, text: string, pinned: string | undefined): Promise<EvidenceReport> {
  return evidenceFileReport(file, text, pinned === undefined ? {} : {publicKey: pinned})
}

/** The single-file report for one v2 envelope verified with the given key options. */
export function evidenceFileReport(file: string, text: string, options: VerifyEvidenceOptions): EvidenceReport {
  const result = verifyEvidence(text, options)
  const report: EvidenceReport = {
    kind: 'evidence_receipt_v2',
    path: file,
    valid: result.valid,
    signatureValid: result.signatureValid,
    signerPinned: options.publicKey !== undefined,
  }
  if (result.unsupportedCritical !== undefined) report.unsupportedCritical = [...result.unsupportedCritical]
  for (const k of ['error', 'payloadKind', 'eventId', 'signerKeyId', 'keyPurpose', 'chainSeq', 'chainPrevHash', 'timestamp', 'receiptHash'] as const) {
    const v = (result as unknown as Record<string, unknown>)[k]
    // an empty chain_prev_hash is a value worth showing; an empty error is no error
    if (typeof v === 'string' && (v !== '' || k === 'chainPrevHash')) (report as unknown as Record<string, unknown>)[k] = v
  }
  return report
}

/** `YYYY-MM-DDTHH:MM:SSZ` from the timestamp's own clock fields (receipts.md §11.1). */
export function displayTime(ts: string): string {
  return formatSecondsZ(parseGoTime(ts))
}
