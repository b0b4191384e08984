import {PipelockError} from '../errors/index.js'
import type {EvidenceSetReport} from './evidence-types.js'
import {verifyEvidenceInput, type VerifyEvidenceRequest} from './verify-service.js'

// `pipelock transcript-root` (receipts.md §11.2): verify a chain against a pinned key and state
// its root — the hash of the last receipt — with count, final seq and time span. For a v1 chain
// that is the reference's block; a v2 evidence chain gets the same block for its own root.

export interface TranscriptRootSummary {
  version: 1 | 2
  session: string
  rootHash: string
  receiptCount: number
  finalSeq: string
  startTime: string
  endTime: string
}

export interface TranscriptRootReport {
  kind: 'transcript_root'
  label: string
  valid: boolean
  roots: TranscriptRootSummary[]
  /** Named keys (`--key ID=KEY`) that pinned no receipt, by id (as verify-receipt lists them); absent when none. */
  unusedKeys?: string[]
  /** The verification the roots rest on (failure, warnings, counts). */
  verification: EvidenceSetReport
  error?: string
  /** Set when the chain holds receipts this version cannot verify (exit 4, no root stated). */
  notVerifiable?: true
}

export async function transcriptRoot(req: VerifyEvidenceRequest): Promise<TranscriptRootReport> {
  if ((req.keys ?? []).length === 0 && req.roster === undefined) {
    throw new PipelockError('USAGE', '--key is required: transcript roots must be verified against a trusted signer key')
  }
  const report = await verifyEvidenceInput(req)
  if (report.kind === 'endorsement_error') throw new PipelockError('ENDORSEMENT_INVALID', report.error)
  if (report.kind !== 'evidence_set') throw new PipelockError('USAGE', 'transcript-root needs a chain: a .jsonl file or a recorder directory')
  const base = {kind: 'transcript_root' as const, label: report.label, ...(report.unusedKeys === undefined ? {} : {unusedKeys: report.unusedKeys}), verification: report}
  if (report.failure !== undefined) return {...base, valid: false, roots: [], error: report.failure.message}
  if (report.verdict === 'not_verifiable') {
    // A receipt whose signature this version cannot check may be anybody's: a root over it
    // would vouch for it (an unsigned receipt appended at the tail would set the root).
    const first = report.notVerifiable.first
    const where = first === undefined ? '' : `${first.file}:${first.line}: ${first.message}`
    return {...base, valid: false, roots: [], notVerifiable: true, error: `not verifiable by this version: ${where}; no transcript root is stated over receipts this version cannot verify (a newer pipelock verifies them)`}
  }
  const session = report.entries.sessionId ?? (req.chainDir !== undefined ? (req.session ?? 'proxy') : '')
  const roots: TranscriptRootSummary[] = []
  const a = report.actionReceipts
  if (a.count > 0 && a.rootHash !== undefined) {
    roots.push({version: 1, session, rootHash: a.rootHash, receiptCount: a.count, finalSeq: a.finalSeq as string, startTime: a.startTime as string, endTime: a.endTime as string})
  }
  const e = report.evidenceReceipts
  if (e.chained > 0 && e.rootHash !== undefined) {
    roots.push({version: 2, session, rootHash: e.rootHash, receiptCount: e.chained, finalSeq: e.finalSeq as string, startTime: e.startTime as string, endTime: e.endTime as string})
  }
  if (roots.length === 0) {
    const why = e.unchained > 0 ? ` (${e.unchained} unchained v2 receipts have no root)` : ''
    return {...base, valid: false, roots, error: `no receipts found in ${report.label}${why}`}
  }
  return {...base, valid: true, roots}
}
