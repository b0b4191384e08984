import {existsSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {isDeepStrictEqual} from 'node:util'
import {JsonSyntaxError, parseStrictJson, toPlain} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {osErrorText} from '../receipts/index.js'
import {evidenceDerived, packetVerdict, PacketTally, type EvidenceDerived} from './packet-build.js'
import {verifyEvidenceInput} from './verify-service.js'
import {packetInvariantProblems, packetSchema, type AuditPacket} from './packet-schema.js'
import type {KeyRingRequest} from './key-ring.js'

// `pipelock audit packet verify DIR`: the packet's shape (v0 schema), the README invariants, and
// that evidence.jsonl, verified again here, still gives the recorded verdict, receipt count,
// root hash and final seq. Keys: the ones given, else the v1 signer_key the packet recorded.

export interface PacketVerifyResult {
  kind: 'audit_packet'
  dir: string
  valid: boolean
  problems: string[]
  recorded?: {verdict: string; rootHash?: string; receiptCount?: number}
  recomputed?: {verdict: string; rootHash?: string; receiptCount: number}
  /**
   * Where the keys evidence.jsonl was verified with came from: the caller (`given`), or, with
   * none given, the signer_key packet.json itself records (`packet`: nothing was pinned).
   */
  keySource?: 'given' | 'packet' | 'none'
  /**
   * Set when packet.json records a verdict under which the evidence did not verify (`invalid`,
   * `error`, `not_run`): such a packet may be well-formed, but it is never a valid one. Its
   * problem is the first in `problems`.
   */
  evidenceFailure?: {verdict: string; error?: string}
}

/** Verdicts under which the evidence a packet holds did not verify. */
const FAILED_VERDICTS: ReadonlySet<string> = new Set(['invalid', 'error', 'not_run'])

export async function verifyAuditPacket(dir: string, keys: KeyRingRequest = {}): Promise<PacketVerifyResult> {
  const text = readPacketJson(dir)
  let tree
  try {
    tree = toPlain(parseStrictJson(text).value)
  } catch (e) {
    if (e instanceof JsonSyntaxError) return {kind: 'audit_packet', dir, valid: false, problems: [`packet.json: ${e.message}`]}
    throw e
  }
  const parsed = (await packetSchema()).safeParse(tree)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `packet.json: ${i.path.join('.') || '(root)'}: ${i.message}`)
    return {kind: 'audit_packet', dir, valid: false, problems}
  }
  const p: AuditPacket = parsed.data
  const problems = packetInvariantProblems(p)
  const failed = FAILED_VERDICTS.has(p.verifier.verdict)
  // the real cause leads: a packet of evidence that did not verify says so before any detail
  if (failed) problems.unshift(`verifier verdict is "${p.verifier.verdict}": ${p.verifier.error ?? (p.verifier.verdict === 'not_run' ? 'the evidence was not verified' : 'no error recorded')}`)
  for (const [name, rel] of Object.entries(p.artifacts)) {
    if (!existsSync(path.join(dir, rel))) problems.push(`artifacts.${name}: ${rel} is missing`)
  }
  const result: PacketVerifyResult = {
    kind: 'audit_packet',
    dir,
    valid: false,
    problems,
    recorded: {verdict: p.verifier.verdict, ...(p.verifier.root_hash === undefined ? {} : {rootHash: p.verifier.root_hash}), ...(p.verifier.receipt_count === undefined ? {} : {receiptCount: p.verifier.receipt_count})},
    ...(failed ? {evidenceFailure: {verdict: p.verifier.verdict, ...(p.verifier.error === undefined ? {} : {error: p.verifier.error})}} : {}),
  }
  const evidence = path.join(dir, p.artifacts.evidence)
  if (existsSync(evidence)) {
    const given = (keys.keys ?? []).length > 0 || keys.roster !== undefined
    const pinnedHex = p.verifier.signer_key !== undefined && /^[0-9a-f]{64}$/.test(p.verifier.signer_key) ? p.verifier.signer_key : undefined
    const keyReq: KeyRingRequest = given ? keys : pinnedHex !== undefined ? {keys: [pinnedHex]} : {}
    result.keySource = given ? 'given' : pinnedHex !== undefined ? 'packet' : 'none'
    if (p.verifier.verdict === 'valid' && !given && pinnedHex === undefined) {
      problems.push('verifier.verdict is "valid" but its signer_key is not a hex key: pass the keys (--key / --roster) to re-verify')
    }
    // evidence.jsonl is one file: verify it as such (a directory's files were concatenated)
    const tally = new PacketTally()
    const report = await verifyEvidenceInput({...keyReq, file: evidence.endsWith('.jsonl') ? evidence : `${evidence}`, onReceipt: (f) => tally.add(f)})
    if (report.kind === 'evidence_set') {
      const root = report.actionReceipts.rootHash ?? report.evidenceReceipts.rootHash
      const verdict = packetVerdict(report.verdict)
      result.recomputed = {verdict, ...(root === undefined ? {} : {rootHash: `sha256:${root}`}), receiptCount: report.receiptCount}
      if (verdict !== p.verifier.verdict) problems.push(`evidence.jsonl now verifies as "${verdict}", the packet records "${p.verifier.verdict}"${report.failure === undefined ? '' : `: ${report.failure.message}`}`)
      if (p.verifier.root_hash !== undefined && report.failure === undefined && p.verifier.root_hash !== `sha256:${root}`) {
        problems.push(`evidence.jsonl root hash is sha256:${root}, the packet records ${p.verifier.root_hash}`)
      }
      if (p.verifier.receipt_count !== undefined && p.verifier.receipt_count !== report.receiptCount) {
        problems.push(`evidence.jsonl holds ${report.receiptCount} receipts, the packet records ${p.verifier.receipt_count}`)
      }
      // Fields derived under another verdict differ by construction (a failed verification stops
      // before the run window, final seq and signer are known): the verdict mismatch is the cause.
      if (verdict === p.verifier.verdict) {
        problems.push(...derivedProblems(p, evidenceDerived(report, tally)))
        // The v1 signer the packet names is the one that signed evidence.jsonl (build records it).
        const signer = report.actionReceipts.signerKey?.toLowerCase()
        if (pinnedHex !== undefined && signer !== undefined && signer !== pinnedHex) {
          problems.push(`packet.json verifier.signer_key is ${pinnedHex}, evidence.jsonl is signed by ${signer}`)
        }
      }
    }
  }
  result.valid = problems.length === 0
  return result
}

const BUILD_HINT = 'pass the directory pipelock audit packet build --out wrote (it holds packet.json)'

/** DIR/packet.json, or the reason, in words, why DIR is not a packet directory. */
function readPacketJson(dir: string): string {
  let st
  try {
    st = statSync(dir)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new PipelockError(code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', `audit packet verify: ${osErrorText(e, 'open', dir)}`)
  }
  if (!st.isDirectory()) throw new PipelockError('USAGE', `audit packet verify: ${dir} is a file, not a packet directory`, {hint: BUILD_HINT})
  const file = path.join(dir, 'packet.json')
  try {
    return readFileSync(file, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new PipelockError('FILE_NOT_FOUND', `audit packet verify: ${dir} holds no packet.json: it is not an audit packet directory`, {hint: BUILD_HINT})
    throw new PipelockError('FILE_UNREADABLE', `audit packet verify: ${osErrorText(e, 'reading', file)}`)
  }
}

/**
 * The packet fields build derived from the evidence, recomputed from evidence.jsonl: an edited
 * summary, policy list, run window or final seq no longer passes for the evidence's.
 */
function derivedProblems(p: AuditPacket, d: EvidenceDerived): string[] {
  const out: string[] = []
  const differs = (field: string, recorded: unknown, now: unknown): void => {
    if (!isDeepStrictEqual(recorded, now)) out.push(`packet.json ${field} is ${JSON.stringify(recorded)}, evidence.jsonl gives ${JSON.stringify(now)}`)
  }
  differs('summary', p.summary, d.summary)
  differs('policy.policy_hashes', p.policy.policy_hashes, d.policyHashes)
  if (d.startedAt !== undefined) differs('run.started_at', p.run.started_at, d.startedAt)
  differs('run.completed_at', p.run.completed_at, d.completedAt)
  if (p.verifier.final_seq !== undefined || d.finalSeq !== undefined) differs('verifier.final_seq', p.verifier.final_seq, d.finalSeq)
  return out
}
