import {lstatSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {isDeepStrictEqual} from 'node:util'
import {JsonSyntaxError, parseStrictJson, toPlain} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {osErrorText} from '../receipts/index.js'
import {evidenceDerived, packetVerdict, PacketTally, type EvidenceDerived} from './packet-build.js'
import {PacketFindings, type PacketCheck} from './packet-checks.js'
import {evidenceDigest, evidenceWholeProblems} from './packet-evidence-whole.js'
import {PACKET_ARTIFACTS, packetFileProblems} from './packet-files.js'
import {renderPacketTexts, type PacketTexts} from './packet-render.js'
import {failureText} from './evidence-render.js'
import {v2SignaturesUnchecked, verifyEvidenceInput, type VerifyEvidenceRequest} from './verify-service.js'
import {packetInvariantProblems, packetSchema, type AuditPacket} from './packet-schema.js'
import type {KeyRingRequest} from './key-ring.js'
import type {EvidenceFailure} from './evidence-types.js'

// `pipelock audit packet verify DIR` proves the whole directory build wrote, one check after
// another (packet-checks.ts): packet.json's shape (v0 schema) and the README invariants; that
// the directory holds build's four files and nothing else; that evidence.jsonl, verified again
// here, still gives the recorded verdict, receipt count, root hash, final seq and every derived
// field; that it is whole (packet_id is its digest); and that summary.md and verifier.txt are
// what build renders from packet.json and evidence.jsonl. Keys: the ones given, else the v1
// signer_key the packet recorded. A packet built without a key verified with one is accepted
// when the evidence verifies under it (pinnedNow): pinning proves more than build recorded.

export interface PacketVerifyResult {
  kind: 'audit_packet'
  dir: string
  valid: boolean
  problems: string[]
  /** Every check, in order, with its status: what `valid` rests on. */
  checks: PacketCheck[]
  recorded?: {verdict: string; rootHash?: string; receiptCount?: number}
  /**
   * What evidence.jsonl verifies as now. `failure`: why it did not verify, with the file
   * (evidence.jsonl) and line where it broke, as verify-receipt --json gives it.
   */
  recomputed?: {verdict: string; rootHash?: string; receiptCount: number; failure?: EvidenceFailure}
  /**
   * Where the keys evidence.jsonl was verified with came from: the caller (`given`), or, with
   * none given, the signer_key packet.json itself records (`packet`: nothing was pinned).
   */
  keySource?: 'given' | 'packet' | 'none'
  /**
   * Whether the keys evidence.jsonl was verified with were the caller's (`--key`/`--roster`):
   * only then do its signatures say who signed it. False when the packet's own signer_key, or no
   * key at all (a packet built without one), stood in: the evidence is then only self-consistent.
   */
  signerPinned?: boolean
  /**
   * Set when packet.json records a verdict under which the evidence did not verify (`invalid`,
   * `error`, `not_run`): such a packet may be well-formed, but it is never a valid one. Its
   * problem is the first in `problems`.
   */
  evidenceFailure?: {verdict: string; error?: string}
  /**
   * Set when packet.json records `self_consistent_only` (built without a key) and evidence.jsonl
   * verifies as `valid` under the keys given: the signer is pinned now, by them, though the
   * packet still records it unpinned. `signerKey`: the v1 signer they pinned.
   */
  pinnedNow?: {verdict: 'valid'; signerKey?: string}
  /** Named keys given (`--key ID=KEY`) that pinned no receipt of evidence.jsonl, by id. */
  unusedKeys?: string[]
  /**
   * False when evidence.jsonl holds v2 receipts whose signatures were not checked (no key given,
   * none recorded): every check may pass, but the packet is then not valid (NO KEY GIVEN, exit 3),
   * as verify-receipt says of the same evidence. Absent when evidence.jsonl was not verified.
   */
  signaturesChecked?: boolean
  /**
   * Set when evidence.jsonl verifies as `not_verifiable` (a v2 receipt's `crit` names an extension
   * this version does not implement), which build records as `error`: when that is the packet's
   * only problem, it is not broken but needs a newer pipelock (exit 4, as verify-receipt).
   */
  notVerifiable?: true
}

/** Verdicts under which the evidence a packet holds did not verify. */
const FAILED_VERDICTS: ReadonlySet<string> = new Set(['invalid', 'error', 'not_run'])

/**
 * `endorsements`: the rotation endorsement files a packet over a rotated chain was built with.
 * The v0 format holds exactly four files, so the packet cannot carry them: verify is given them
 * as build was, and names them as the missing piece when the evidence breaks at a key change.
 */
export async function verifyAuditPacket(
  dir: string,
  keys: KeyRingRequest = {},
  endorsements: readonly string[] = [],
  onProgress?: VerifyEvidenceRequest['onProgress'],
  strict: {requireSignedCheckpoints?: boolean} = {},
): Promise<PacketVerifyResult> {
  const text = readPacketJson(dir)
  const found = new PacketFindings()
  const early = (): PacketVerifyResult => ({kind: 'audit_packet', dir, valid: false, problems: found.problems, checks: found.checks()})
  let tree
  try {
    tree = toPlain(parseStrictJson(text).value)
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e
    found.fail('schema', `packet.json: ${e.message}`)
    return early()
  }
  const parsed = (await packetSchema()).safeParse(tree)
  if (!parsed.success) {
    for (const i of parsed.error.issues) found.fail('schema', `packet.json: ${i.path.join('.') || '(root)'}: ${i.message}`)
    return early()
  }
  const p: AuditPacket = parsed.data
  found.run('schema')
  for (const problem of packetInvariantProblems(p)) found.fail('schema', problem)
  const failed = FAILED_VERDICTS.has(p.verifier.verdict)
  // the real cause leads: a packet of evidence that did not verify says so before any detail
  if (failed) found.failFirst('evidence', `verifier verdict is "${p.verifier.verdict}": ${p.verifier.error ?? (p.verifier.verdict === 'not_run' ? 'the evidence was not verified' : 'no error recorded')}`)
  found.run('files')
  for (const problem of packetFileProblems(dir, p.artifacts)) found.fail('files', problem)
  const result: PacketVerifyResult = {
    kind: 'audit_packet',
    dir,
    valid: false,
    problems: found.problems,
    checks: [],
    recorded: {verdict: p.verifier.verdict, ...(p.verifier.root_hash === undefined ? {} : {rootHash: p.verifier.root_hash}), ...(p.verifier.receipt_count === undefined ? {} : {receiptCount: p.verifier.receipt_count})},
    ...(failed ? {evidenceFailure: {verdict: p.verifier.verdict, ...(p.verifier.error === undefined ? {} : {error: p.verifier.error})}} : {}),
  }
  // build's own file, never one packet.json points elsewhere to (the files check names that)
  const shown = PACKET_ARTIFACTS.evidence
  const evidence = path.join(dir, shown)
  if (!lstatSync(evidence, {throwIfNoEntry: false})?.isFile()) {
    for (const check of ['evidence', 'evidence_whole', 'summary', 'verifier_output'] as const) found.skip(check, `${shown} is not a regular file in ${dir}`)
  } else {
    const given = (keys.keys ?? []).length > 0 || keys.roster !== undefined
    const pinnedHex = p.verifier.signer_key !== undefined && /^[0-9a-f]{64}$/.test(p.verifier.signer_key) ? p.verifier.signer_key : undefined
    const keyReq: KeyRingRequest = given ? keys : pinnedHex !== undefined ? {keys: [pinnedHex]} : {}
    result.keySource = given ? 'given' : pinnedHex !== undefined ? 'packet' : 'none'
    result.signerPinned = given
    found.run('evidence')
    if (p.verifier.verdict === 'valid' && !given && pinnedHex === undefined) {
      found.fail('evidence', 'verifier.verdict is "valid" but its signer_key is not a hex key: pass the keys (--key / --roster) to re-verify')
    }
    // evidence.jsonl is one file: verify it as such (a directory's files were concatenated),
    // named as build named it when it rendered summary.md and verifier.txt
    let tally = new PacketTally()
    let rendered: PacketTexts | undefined
    const named = endorsements.length === 0 ? {} : {rotationEndorsements: endorsements}
    // A packet built without a key and checked with one may take a second pass (below, as built):
    // one progress line for both, each pass half of it, so the bar never runs back. When the
    // second pass is not needed after all, the line ends at half (it is erased when done).
    const twoPasses = given && p.verifier.verdict === 'self_consistent_only'
    const firstProgress: VerifyEvidenceRequest['onProgress'] =
      onProgress === undefined ? undefined : twoPasses ? (d, t, n) => onProgress(d, 2 * t, n) : onProgress
    // --require-signed-checkpoints holds evidence.jsonl to more than build did: a tail no signature
    // covers then fails here (the packet records the verdict without it)
    let report = await verifyEvidenceInput({...keyReq, ...named, ...strict, file: evidence, shownAs: shown, onReceipt: (f) => tally.add(f), ...(firstProgress === undefined ? {} : {onProgress: firstProgress})})
    if (given && report.kind === 'evidence_set' && report.unusedKeys !== undefined) result.unusedKeys = report.unusedKeys
    // From this pass, with the keys given: a second pass (below) repeats build's, without them.
    if (report.kind === 'evidence_set') result.signaturesChecked = !v2SignaturesUnchecked(report)
    if (given && p.verifier.verdict === 'self_consistent_only' && report.kind === 'evidence_set' && report.verdict === 'valid') {
      // Built without a key, checked now with one it verifies under: pinning proves more than
      // the packet records, so the evidence passes. Everything else build wrote (the verdict,
      // summary.md, verifier.txt, derived fields) was made without a key: compare it with
      // evidence.jsonl verified as build verified it.
      const signer = report.actionReceipts.signerKey
      result.pinnedNow = {verdict: 'valid', ...(signer === undefined ? {} : {signerKey: signer})}
      tally = new PacketTally()
      const asBuilt = tally
      const firstReceipts = report.receiptCount
      const secondProgress: VerifyEvidenceRequest['onProgress'] = onProgress === undefined ? undefined : (d, t, n) => onProgress(t + d, 2 * t, firstReceipts + n)
      report = await verifyEvidenceInput({...named, file: evidence, shownAs: shown, onReceipt: (f) => asBuilt.add(f), ...(secondProgress === undefined ? {} : {onProgress: secondProgress})})
    }
    if (report.kind === 'endorsement_error') found.fail('evidence', `--rotation-endorsement: ${report.error}`)
    if (report.kind === 'evidence_set') {
      const root = report.actionReceipts.rootHash ?? report.evidenceReceipts.rootHash
      const verdict = packetVerdict(report.verdict)
      if (report.verdict === 'not_verifiable') result.notVerifiable = true
      const f = report.failure
      result.recomputed = {verdict, ...(root === undefined ? {} : {rootHash: `sha256:${root}`}), receiptCount: report.receiptCount, ...(f === undefined ? {} : {failure: f})}
      // a chain that changes key where no endorsement was given: say which piece is missing
      const hint = f?.unendorsedRotation === true && endorsements.length === 0 ? ' (the evidence changes receipt key here: pass the rotation endorsement it was built with, --rotation-endorsement FILE)' : ''
      // where it broke (evidence.jsonl:N), as verify-receipt's Line:
      if (verdict !== p.verifier.verdict) found.fail('evidence', `evidence.jsonl now verifies as "${verdict}", the packet records "${p.verifier.verdict}"${f === undefined ? '' : `: ${failureText(f)}${hint}`}`)
      if (p.verifier.root_hash !== undefined && report.failure === undefined && p.verifier.root_hash !== `sha256:${root}`) {
        found.fail('evidence', `evidence.jsonl root hash is sha256:${root}, the packet records ${p.verifier.root_hash}`)
      }
      if (p.verifier.receipt_count !== undefined && p.verifier.receipt_count !== report.receiptCount) {
        found.fail('evidence', `evidence.jsonl holds ${report.receiptCount} receipts, the packet records ${p.verifier.receipt_count}`)
      }
      // Fields derived under another verdict differ by construction (a failed verification stops
      // before the run window, final seq and signer are known): the verdict mismatch is the cause.
      if (verdict === p.verifier.verdict) {
        for (const problem of derivedProblems(p, evidenceDerived(report, tally))) found.fail('evidence', problem)
        // The v1 signer the packet names is the one that signed evidence.jsonl (build records it).
        const signer = report.actionReceipts.signerKey?.toLowerCase()
        if (pinnedHex !== undefined && signer !== undefined && signer !== pinnedHex) {
          found.fail('evidence', `packet.json verifier.signer_key is ${pinnedHex}, evidence.jsonl is signed by ${signer}`)
        }
        rendered = renderPacketTexts(p, report)
      } else {
        const reason = `evidence.jsonl verified as "${verdict}", not as the recorded "${p.verifier.verdict}": build rendered them under another verdict`
        found.skip('summary', reason)
        found.skip('verifier_output', reason)
      }
    }
    found.run('evidence_whole')
    for (const problem of evidenceWholeProblems(shown, evidenceDigest(evidence), p.packet_id)) found.fail('evidence_whole', problem)
    // summary.md and verifier.txt: rendered again by build's own renderers, compared byte for byte
    if (rendered !== undefined) {
      for (const [check, name, want] of [
        ['summary', PACKET_ARTIFACTS.summary, rendered.summary],
        ['verifier_output', PACKET_ARTIFACTS.verifier, rendered.verifier],
      ] as const) {
        const file = path.join(dir, name)
        if (!lstatSync(file, {throwIfNoEntry: false})?.isFile()) {
          found.skip(check, `${name} is not a regular file in ${dir}`)
          continue
        }
        found.run(check)
        const problem = firstDifference(name, readFileSync(file, 'utf8'), want)
        if (problem !== undefined) found.fail(check, problem)
      }
    }
  }
  result.checks = found.checks()
  result.valid = found.problems.length === 0 && result.signaturesChecked !== false
  return result
}

/** The first line where `actual` (the file `name` holds) differs from what build renders, in words; undefined when equal. */
function firstDifference(name: string, actual: string, want: string): string | undefined {
  if (actual === want) return undefined
  const a = actual.split('\n')
  const w = want.split('\n')
  for (let i = 0; ; i++) {
    if (a[i] === w[i]) continue
    const line = i + 1
    if (a[i] === undefined) return `${name}:${i}: no newline at the end; build renders one`
    if (i >= a.length - 1 && a[i] === '' && i < w.length) return `${name}:${line}: ends here; build renders more: ${JSON.stringify(w[i])}`
    if (i >= w.length - 1 && w[i] === '') return `${name}:${line}: ${JSON.stringify(a[i])} where build's rendering ends`
    return `${name}:${line}: ${JSON.stringify(a[i] ?? '')}, build renders ${JSON.stringify(w[i] ?? '')}`
  }
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
