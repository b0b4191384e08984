import {createHash} from 'node:crypto'
import {closeSync, fstatSync, openSync, readFileSync, readSync} from 'node:fs'
import {goJson, JsonNumber, parseStrictJson, type JsonObject, type JsonValue} from '../canonical/index.js'
import {actionReceiptHash, parseActionReceiptText, recordString, recordUint} from './action-receipt.js'
import {evidenceReceiptHash, parseEvidenceReceipt} from './evidence/index.js'
import {readLineBatchesSync, MAX_LINE_BYTES} from './line-reader.js'
import {parseRecorderEntry, type RecorderEntry} from './recorder-entry.js'

// Retention anchors (policy-extra.md §3.3): when the recorder expires whole closed files, it
// first appends a `retention_anchor` entry saying what was removed and where each chain stood at
// the cut (the last entry, the last v1 receipt and its open run, the last v2 receipt). A verifier
// given the remaining files resumes every chain from the anchor instead of from genesis. The
// anchor is chained like any entry, carries its own Ed25519 signature by the recorder key, and is
// followed at once by a checkpoint.

export const RETENTION_ANCHOR = 'retention_anchor'

export interface RemovedFile {
  file: string
  firstSeq: bigint
  lastSeq: bigint
  lastHash: string
  sha256: string
}

/** Where the v1 receipt chain stood at the cut. */
export interface ReceiptChainCut {
  lastSeq: bigint
  lastReceiptHash: string
  /** The run open at the cut (its session_open was removed), if any. */
  run?: {runNonce: string; openNonce: string}
}

export interface EvidenceChainCut {
  lastSeq: bigint
  lastReceiptHash: string
}

export interface RetentionAnchor {
  removed: RemovedFile[]
  receiptChain?: ReceiptChainCut
  evidenceChain?: EvidenceChainCut
  cutoff: string
  retentionDays: number
  /** Hex Ed25519 over the detail bytes without the signature member; empty when unsigned. */
  signature: string
}

export class AnchorError extends Error {}

const n = (v: bigint | number): JsonNumber => new JsonNumber(v.toString())

/** The detail GoJSON without its signature, and the bytes a signature covers. */
export function anchorDetailJson(a: Omit<RetentionAnchor, 'signature'>, sign?: (unsigned: Buffer) => string): string {
  const rc: JsonValue =
    a.receiptChain === undefined
      ? null
      : new Map<string, JsonValue>([
          ['last_seq', n(a.receiptChain.lastSeq)],
          ['last_receipt_hash', a.receiptChain.lastReceiptHash],
          ['run_nonce', a.receiptChain.run?.runNonce ?? ''],
          ['open_nonce', a.receiptChain.run?.openNonce ?? ''],
        ])
  const ec: JsonValue =
    a.evidenceChain === undefined
      ? null
      : new Map<string, JsonValue>([
          ['last_seq', n(a.evidenceChain.lastSeq)],
          ['last_receipt_hash', a.evidenceChain.lastReceiptHash],
        ])
  const detail: JsonObject = new Map<string, JsonValue>([
    [
      'removed',
      a.removed.map(
        (r) =>
          new Map<string, JsonValue>([
            ['file', r.file],
            ['first_seq', n(r.firstSeq)],
            ['last_seq', n(r.lastSeq)],
            ['last_hash', r.lastHash],
            ['sha256', r.sha256],
          ]),
      ),
    ],
    ['receipt_chain', rc],
    ['evidence_chain', ec],
    ['cutoff', a.cutoff],
    ['retention_days', n(a.retentionDays)],
  ])
  const unsigned = goJson(detail)
  const signature = sign === undefined ? '' : sign(Buffer.from(unsigned, 'utf8'))
  return `${unsigned.slice(0, -1)},"signature":"${signature}"}`
}

/** The bytes the anchor signature covers: the detail as written, without its last member. */
export function anchorSignedBytes(detailRaw: string): Buffer | undefined {
  const m = /,"signature":"[0-9a-f]*"\}$/.exec(detailRaw)
  return m === null ? undefined : Buffer.from(detailRaw.slice(0, m.index) + '}', 'utf8')
}

export function parseRetentionAnchor(detailRaw: string): RetentionAnchor {
  let v: JsonValue
  try {
    v = parseStrictJson(detailRaw).value
  } catch (e) {
    throw new AnchorError(`retention anchor: ${(e as Error).message}`)
  }
  if (!(v instanceof Map)) throw new AnchorError('retention anchor: detail is not an object')
  const big = (o: JsonObject, k: string): bigint => {
    const x = o.get(k)
    if (!(x instanceof JsonNumber) || !/^\d+$/.test(x.text)) throw new AnchorError(`retention anchor: ${k} must be an unsigned integer`)
    return BigInt(x.text)
  }
  const s = (o: JsonObject, k: string): string => {
    const x = o.get(k)
    if (typeof x !== 'string') throw new AnchorError(`retention anchor: ${k} must be a string`)
    return x
  }
  const removedRaw = v.get('removed')
  if (!Array.isArray(removedRaw) || removedRaw.length === 0) throw new AnchorError('retention anchor: removed must be a non-empty list')
  const removed = removedRaw.map((r) => {
    if (!(r instanceof Map)) throw new AnchorError('retention anchor: removed entries must be objects')
    return {file: s(r, 'file'), firstSeq: big(r, 'first_seq'), lastSeq: big(r, 'last_seq'), lastHash: s(r, 'last_hash'), sha256: s(r, 'sha256')}
  })
  const anchor: RetentionAnchor = {removed, cutoff: s(v, 'cutoff'), retentionDays: Number(big(v, 'retention_days')), signature: s(v, 'signature')}
  const rc = v.get('receipt_chain')
  if (rc instanceof Map) {
    const run = s(rc, 'run_nonce')
    anchor.receiptChain = {lastSeq: big(rc, 'last_seq'), lastReceiptHash: s(rc, 'last_receipt_hash'), ...(run === '' ? {} : {run: {runNonce: run, openNonce: s(rc, 'open_nonce')}})}
  }
  const ec = v.get('evidence_chain')
  if (ec instanceof Map) anchor.evidenceChain = {lastSeq: big(ec, 'last_seq'), lastReceiptHash: s(ec, 'last_receipt_hash')}
  return anchor
}

/** The last removed entry an anchor names (the entry the remaining chain continues from). */
export function anchorTail(a: RetentionAnchor): {seq: bigint; hash: string} {
  let best = a.removed[0] as RemovedFile
  for (const r of a.removed) if (r.lastSeq > best.lastSeq) best = r
  return {seq: best.lastSeq, hash: best.lastHash}
}

const ANCHOR_MARK = `"type":"${RETENTION_ANCHOR}"`

/** Every retention anchor entry in the files, in order. Unreadable lines are skipped (the verifier reports them). */
export function findRetentionAnchors(files: readonly string[]): {entry: RecorderEntry; anchor: RetentionAnchor}[] {
  const out: {entry: RecorderEntry; anchor: RetentionAnchor}[] = []
  for (const f of files) {
    for (const batch of readLineBatchesSync(f, MAX_LINE_BYTES)) {
      for (const line of batch) {
        if (line.text === undefined || !line.text.includes(ANCHOR_MARK)) continue
        try {
          const entry = parseRecorderEntry(line.text.trim())
          if (entry.type !== RETENTION_ANCHOR) continue
          out.push({entry, anchor: parseRetentionAnchor(entry.detailRaw)})
        } catch {
          // not an anchor the chain can resume from
        }
      }
    }
  }
  return out
}

/**
 * The anchor the files resume from: when the first entry does not start at genesis, the last
 * anchor whose removed tail is exactly the entry before it. Undefined when none applies.
 */
export function resumeAnchor(files: readonly string[]): RetentionAnchor | undefined {
  const first = firstEntry(files[0])
  if (first === undefined || first.prevHash === 'genesis') return undefined
  let found: RetentionAnchor | undefined
  for (const {anchor} of findRetentionAnchors(files)) {
    const tail = anchorTail(anchor)
    if (tail.hash === first.prevHash && tail.seq + 1n === BigInt(first.seq)) found = anchor
  }
  return found
}

function firstEntry(file: string | undefined): RecorderEntry | undefined {
  if (file === undefined) return undefined
  for (const batch of readLineBatchesSync(file, MAX_LINE_BYTES, 64 * 1024)) {
    for (const line of batch) {
      const t = line.text?.trim()
      if (!t) continue
      try {
        return parseRecorderEntry(t)
      } catch {
        return undefined
      }
    }
  }
  return undefined
}

/** The chain state at the end of some closed files (the part a retention sweep removes). */
export interface CutScan {
  files: RemovedFile[]
  /** `ts` of each file's last entry, in file order. */
  lastTs: string[]
  receiptChain?: ReceiptChainCut
  evidenceChain?: EvidenceChainCut
}

/**
 * Walks closed recorder files in chain order, summarising each (first/last seq, last hash,
 * SHA-256 of its bytes) and carrying the v1/v2 chain state through them, starting from `start`
 * (the anchor the files themselves resume from, if any).
 */
export function scanClosedFiles(files: readonly string[], start?: RetentionAnchor): CutScan {
  const out: CutScan = {files: [], lastTs: []}
  if (start?.receiptChain !== undefined) out.receiptChain = {...start.receiptChain}
  if (start?.evidenceChain !== undefined) out.evidenceChain = {...start.evidenceChain}
  for (const f of files) {
    const bytes = readFileSync(f)
    let first: bigint | undefined
    let last: RecorderEntry | undefined
    for (const raw of bytes.toString('utf8').split('\n')) {
      const t = raw.trim()
      if (t === '') continue
      const e = parseRecorderEntry(t)
      first ??= BigInt(e.seq)
      last = e
      if (e.type === 'action_receipt') {
        const r = parseActionReceiptText(e.detailRaw)
        const rec = r.record
        const cut: ReceiptChainCut = {lastSeq: recordUint(rec, 'chain_seq'), lastReceiptHash: actionReceiptHash(r)}
        let run = out.receiptChain?.run
        const sc = rec.get('session_control')
        if (sc instanceof Map) {
          const open = sc.get('open')
          if (open instanceof Map) run = {runNonce: recordString(rec, 'run_nonce'), openNonce: typeof open.get('open_nonce') === 'string' ? (open.get('open_nonce') as string) : ''}
          else if (sc.get('close') instanceof Map) run = undefined
        }
        if (run !== undefined) cut.run = run
        out.receiptChain = cut
      } else if (e.type === 'evidence_receipt') {
        const r = parseEvidenceReceipt(e.detailRaw)
        if (r.chainPrevHash !== '') out.evidenceChain = {lastSeq: r.chainSeq, lastReceiptHash: evidenceReceiptHash(r)}
      }
    }
    if (first === undefined || last === undefined) continue
    out.files.push({file: f, firstSeq: first, lastSeq: BigInt(last.seq), lastHash: last.hash, sha256: createHash('sha256').update(bytes).digest('hex')})
    out.lastTs.push(last.ts)
  }
  return out
}

/** `ts` of a recorder file's last complete entry (reads only its tail), or undefined. */
export function lastEntryTs(file: string): string | undefined {
  const fd = openSync(file, 'r')
  try {
    const size = fstatSync(fd).size
    let want = 64 * 1024
    for (;;) {
      const len = Math.min(size, want)
      const buf = Buffer.alloc(len)
      readSync(fd, buf, 0, len, size - len)
      const text = buf.toString('utf8')
      const end = text.lastIndexOf('\n')
      const body = end < 0 ? '' : text.slice(0, end)
      const start = body.lastIndexOf('\n')
      if (start >= 0 || len === size) {
        const line = body.slice(start + 1).trim()
        if (line === '') return undefined
        try {
          return parseRecorderEntry(line).ts
        } catch {
          return undefined
        }
      }
      want *= 4
    }
  } finally {
    closeSync(fd)
  }
}
