import {readdirSync, unlinkSync} from 'node:fs'
import path from 'node:path'
import {formatGoTime, fromEpochNanos, parseGoTime, toEpochNanos} from '../canonical/index.js'
import {anchorDetailJson, anchorTail, chainFilesInDir, lastEntryTs, RETENTION_ANCHOR, resumeAnchor, scanClosedFiles, type RemovedFile} from '../receipts/index.js'
import {signBytes, type Ed25519KeyPair} from '../signing/index.js'
import type {FlightRecorder} from './flight-recorder.js'

// Evidence retention (policy-extra.md §3.3): whole *closed* recorder files whose last entry is
// older than `retention_days` are expired, only as a prefix of the session's files (no holes,
// never the open file). Before anything is deleted the recorder appends a signed
// `retention_anchor` entry (retention-anchor.ts) and a checkpoint, so the remaining files still
// verify: every chain resumes from the anchor. Escrow sidecars of removed entries go with them.
// Rotation endorsements (`rotation-<n>.json`) are never removed, even when the expired files held
// the whole segment of the key one retires, boundary included: the endorsement is then what links
// the original key, which auditors pin, to the key of the receipts that remain (the verifier
// resumes under it, and reports a found endorsement that no boundary needs instead of failing).

const NS_PER_DAY = 86_400n * 1_000_000_000n

export interface RetentionResult {
  removed: RemovedFile[]
  /** Escrow sidecars (`.raw.enc`) removed with them. */
  sidecars: number
  anchorSeq: bigint
  cutoff: string
}

export interface RetentionOptions {
  retentionDays: number
  nowNanos: bigint
  /** Signs the anchor (the recorder's receipt key); unsigned without one. */
  key?: Ed25519KeyPair
}

/** One sweep. Returns undefined when nothing is old enough. */
export async function expireRecorderFiles(rec: FlightRecorder, opts: RetentionOptions): Promise<RetentionResult | undefined> {
  if (opts.retentionDays <= 0) return undefined
  const cutoffNs = opts.nowNanos - BigInt(opts.retentionDays) * NS_PER_DAY
  const cutoff = formatGoTime(fromEpochNanos(cutoffNs))
  const files = await chainFilesInDir(rec.dir, rec.sessionId)
  const open = path.resolve(rec.currentFile)
  const expired: string[] = []
  for (const f of files) {
    if (path.resolve(f) === open) break // the open file and everything after it stay
    const ts = lastEntryTs(f)
    if (ts === undefined || toEpochNanos(parseGoTime(ts)) >= cutoffNs) break
    expired.push(f)
  }
  if (expired.length === 0) return undefined
  // The chain state at the end of the expired prefix, continuing from an earlier cut if any.
  const scan = scanClosedFiles(expired, resumeAnchor(files))
  if (scan.files.length === 0) return undefined
  const removed = scan.files.map((r) => ({...r, file: path.basename(r.file)}))
  const key = opts.key
  const detailJson = anchorDetailJson(
    {
      removed,
      ...(scan.receiptChain === undefined ? {} : {receiptChain: scan.receiptChain}),
      ...(scan.evidenceChain === undefined ? {} : {evidenceChain: scan.evidenceChain}),
      cutoff,
      retentionDays: opts.retentionDays,
    },
    key === undefined ? undefined : (bytes) => signBytes(key, bytes).toString('hex'),
  )
  const first = removed[0] as RemovedFile
  const tail = anchorTail({removed, cutoff, retentionDays: opts.retentionDays, signature: ''})
  const written = rec.append({
    ts: formatGoTime(fromEpochNanos(opts.nowNanos)),
    type: RETENTION_ANCHOR,
    eventKind: RETENTION_ANCHOR,
    transport: '',
    summary: `retention: removed ${removed.length} files [seq ${first.firstSeq}-${tail.seq}]`,
    detailJson,
  })
  // Sealed at once: the checkpoint (signed with sign_checkpoints) covers the anchor, and the
  // anchor is on disk before any evidence is removed.
  rec.checkpoint()
  rec.sync()
  for (const f of expired) unlinkSync(f)
  let sidecars = 0
  const prefix = `evidence-${rec.sessionId}-`
  for (const name of readdirSync(rec.dir)) {
    if (!name.startsWith(prefix) || !name.endsWith('.raw.enc')) continue
    const seqText = name.slice(prefix.length, -'.raw.enc'.length)
    if (!/^\d+$/.test(seqText)) continue
    const seq = BigInt(seqText)
    if (removed.some((r) => seq >= r.firstSeq && seq <= r.lastSeq)) {
      unlinkSync(path.join(rec.dir, name))
      sidecars++
    }
  }
  return {removed, sidecars, anchorSeq: written.seq, cutoff}
}
