import {open, readFile, stat} from 'node:fs/promises'
import path from 'node:path'
import {formatSecondsZ, goJsonIndent, JsonSyntaxError, parseGoTime, parseStrictJson} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {loadPublicKey} from '../signing/index.js'
import {
  actionReceiptHash,
  parseActionReceiptTree,
  ReceiptParseError,
  recordString,
  recordUint,
  verifyActionReceipt,
} from './action-receipt.js'
import {verifyChain, type ChainResult} from './chain.js'
import {verifyEvidence, type VerifyEvidenceOptions} from './evidence/index.js'
import {chainFilesInDir, extractChainItems, ExtractionError} from './extract.js'
import {EndorsementError, parseRotationEndorsement, type RotationEndorsement, ENDORSEMENT_MAX_BYTES} from './rotation-endorsement.js'

// The `pipelock verify-receipt` service (receipts.md §11.1): decides the mode, reads inputs,
// runs the verifiers and returns a typed report. Rendering is the command's job.

export interface VerifyReceiptRequest {
  file?: string
  /** `--key`: path to a public key file (versioned or hex) or inline hex. */
  key?: string
  chainDir?: string
  /** Recorder session for `--chain` and endorsements; default `proxy`. */
  session?: string
  rotationEndorsements?: readonly string[]
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

export interface ChainReport extends ChainResult {
  kind: 'chain'
  label: string
  signerPinned: boolean
  stage: 'verified' | 'empty' | 'extraction' | 'endorsement'
  files: string[]
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
}

export type VerifyReceiptReport = SingleReceiptReport | ChainReport | EvidenceReport

/** A single receipt file larger than this is refused instead of read into memory. */
export const MAX_RECEIPT_FILE_BYTES = 16 * 1024 * 1024

export async function verifyReceiptInput(req: VerifyReceiptRequest): Promise<VerifyReceiptReport> {
  if (req.file !== undefined && req.chainDir !== undefined) {
    throw new PipelockError('USAGE', 'cannot pass a file argument together with --chain')
  }
  if (req.file === undefined && req.chainDir === undefined) throw new PipelockError('USAGE', 'accepts 1 arg(s), received 0')
  const pinned = req.key === undefined ? undefined : resolveKey(req.key)
  if (req.chainDir !== undefined) return verifyChainDir(req.chainDir, req, pinned)
  const file = req.file as string
  if (file.endsWith('.jsonl')) return verifyChainFiles([file], file, req, pinned)
  return verifySingle(file, pinned)
}

function resolveKey(key: string): string {
  try {
    return loadPublicKey(key).hex
  } catch (e) {
    if (e instanceof PipelockError) throw new PipelockError(e.code, `loading public key: ${e.message}`, {cause: e})
    throw e
  }
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
  let size: number
  try {
    size = (await stat(file)).size
  } catch (e) {
    throw new PipelockError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', `reading ${what}: ${osErrorText(e, 'open', file)}`)
  }
  if (size > max) throw new PipelockError('FILE_UNREADABLE', `reading ${what}: ${file}: file is ${size} bytes, larger than the ${max}-byte limit`)
  try {
    return await readFile(file)
  } catch (e) {
    throw new PipelockError('FILE_UNREADABLE', `reading ${what}: ${osErrorText(e, 'read', file)}`)
  }
}

async function readAtMost(file: string, max: number, what: string): Promise<Buffer> {
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

async function verifySingle(file: string, pinned: string | undefined): Promise<VerifyReceiptReport> {
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
  const error = verifyActionReceipt(receipt, pinned)
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
  for (const k of ['error', 'payloadKind', 'eventId', 'signerKeyId', 'keyPurpose', 'chainSeq', 'chainPrevHash', 'timestamp', 'receiptHash'] as const) {
    const v = (result as unknown as Record<string, unknown>)[k]
    // an empty chain_prev_hash is a value worth showing; an empty error is no error
    if (typeof v === 'string' && (v !== '' || k === 'chainPrevHash')) (report as unknown as Record<string, unknown>)[k] = v
  }
  return report
}

async function verifyChainDir(dir: string, req: VerifyReceiptRequest, pinned: string | undefined): Promise<ChainReport> {
  const session = req.session ?? 'proxy'
  try {
    if (!(await stat(dir)).isDirectory()) throw new PipelockError('USAGE', `--chain ${dir}: not a directory`)
  } catch (e) {
    if (e instanceof PipelockError) throw e
    throw new PipelockError('FILE_NOT_FOUND', `reading chain: ${osErrorText(e, 'open', dir)}`)
  }
  const files = await chainFilesInDir(dir, session)
  return verifyChainFiles(files, `${dir} (session ${session})`, req, pinned)
}

export async function loadEndorsements(files: readonly string[]): Promise<RotationEndorsement[]> {
  const out: RotationEndorsement[] = []
  for (const f of files) {
    // Read one byte past the limit at most: enough for the parser to report an oversized
    // file, and an unbounded file is never loaded.
    out.push(parseRotationEndorsement(await readAtMost(f, ENDORSEMENT_MAX_BYTES + 1, 'rotation endorsement')))
  }
  return out
}

async function verifyChainFiles(files: string[], label: string, req: VerifyReceiptRequest, pinned: string | undefined): Promise<ChainReport> {
  const base: ChainReport = {kind: 'chain', label, valid: false, signerPinned: pinned !== undefined, stage: 'verified', receiptCount: 0, files}
  for (const f of files) {
    try {
      const st = await stat(f)
      if (st.isDirectory()) throw new PipelockError('FILE_UNREADABLE', `reading chain: read ${f}: is a directory`)
    } catch (e) {
      if (e instanceof PipelockError) throw e
      throw new PipelockError('FILE_NOT_FOUND', `reading chain: ${osErrorText(e, 'open', f)}`)
    }
  }
  let endorsements: RotationEndorsement[] = []
  try {
    endorsements = await loadEndorsements(req.rotationEndorsements ?? [])
  } catch (e) {
    if (e instanceof EndorsementError) return {...base, stage: 'endorsement', error: e.message}
    throw e
  }
  const display = files.length === 1 && files[0] === label ? (f: string) => f : (f: string) => path.basename(f)
  try {
    const result = await verifyChain(extractChainItems(files, display), {
      pinnedKey: pinned,
      sessionId: req.session ?? 'proxy',
      endorsements,
    })
    if (result.valid && result.receiptCount === 0) return {...base, stage: 'empty'}
    return {...base, ...result}
  } catch (e) {
    if (e instanceof ExtractionError) return {...base, stage: 'extraction', error: e.message}
    throw e
  }
}

/** `YYYY-MM-DDTHH:MM:SSZ` from the timestamp's own clock fields (receipts.md §11.1). */
export function displayTime(ts: string): string {
  return formatSecondsZ(parseGoTime(ts))
}
