import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {formatGoTime, fromEpochNanos, type Clock} from '../canonical/index.js'
import type {LoadedConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import {sha256Hex} from '../signing/index.js'
import {bump, DecisionSplit, receiptClass, sorted} from './evidence-count.js'
import type {EvidenceSetReport, ReceiptFact} from './evidence-types.js'
import {packetIdOf} from './packet-evidence-whole.js'
import {PACKET_ARTIFACTS} from './packet-files.js'
import {postureFromConfig, scannerSnapshot} from './packet-posture.js'
import {renderPacketTexts} from './packet-render.js'
import {PacketStage, refuseUsedOut} from './packet-stage.js'
import {PACKET_SCHEMA_VERSION, VERDICT_BUCKETS, type AuditPacket} from './packet-schema.js'
import {verifyEvidenceInput, type VerifyEvidenceReport, type VerifyEvidenceRequest} from './verify-service.js'

// `pipelock audit packet build` (vectors/audit-packet/README.md): verify the evidence with our
// verifier, copy it byte for byte, and describe it — counts from the receipts, verdict from the
// verifier, posture from the config actually used.

export interface PacketBuildRequest extends VerifyEvidenceRequest {
  out: string
  config?: string
  provider?: 'github_actions' | 'self_hosted' | 'local'
  agentIdentity?: string
  clock: Clock
  platform: string
  arch: string
}

export interface PacketBuildResult {
  dir: string
  packet: AuditPacket
  verification: EvidenceSetReport
}

/** The per-decision details of the packet summary (counts come from the evidence counts). */
interface PacketDetails {
  layers: Map<string, number>
  domains: Set<string>
}

/**
 * Gathers the details for the counted decisions only (evidence-count.ts: one definition for every
 * tool), and the policy hashes of every receipt: the schema's `policy_hashes` is every hash that
 * signed at least one receipt, so a policy the proxy ran under without deciding a request (a run
 * that only opened and closed, a reload) is there too.
 */
export class PacketTally {
  readonly split = new DecisionSplit<PacketDetails>(() => ({layers: new Map(), domains: new Set()}))
  readonly policyHashes = new Set<string>()

  add(f: ReceiptFact): void {
    if (f.policyHash) this.policyHashes.add(f.policyHash)
    const d = this.split.for(receiptClass(f))
    if (d === undefined) return
    if (f.verdict === 'block' && f.layer) bump(d.layers, f.layer)
    const host = hostOf(f.target ?? '', f.transport)
    if (host !== '') d.domains.add(host)
  }
}

/**
 * The packet's verifier verdict (v0 schema): an empty input, and evidence this version cannot
 * wholly verify (an unknown critical extension), are `error` — the verifier could not decide.
 */
export function packetVerdict(v: EvidenceSetReport['verdict']): AuditPacket['verifier']['verdict'] {
  return v === 'empty' || v === 'not_verifiable' ? 'error' : v
}

/** The packet's verdict buckets from decisions by verdict (unknown verdicts go to `other`). */
export function verdictTotals(byVerdict: Record<string, number>): AuditPacket['summary']['totals'] {
  const totals: Record<string, number> = Object.fromEntries(VERDICT_BUCKETS.map((b) => [b, 0]))
  for (const [verdict, n] of Object.entries(byVerdict)) {
    const bucket = (VERDICT_BUCKETS as readonly string[]).includes(verdict) ? verdict : 'other'
    totals[bucket] = (totals[bucket] ?? 0) + n
  }
  return totals as AuditPacket['summary']['totals']
}

/** host[:port] as a CONNECT target or a bare proxy_decision target writes it (no path, no scheme). */
const AUTHORITY = /^(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/i

/**
 * The host of a decision's target; empty when the target names none. Targets are an absolute
 * URL (fetch, forward, intercept, WebSocket), host[:port] (CONNECT, a bare v2 proxy_decision
 * target), a path alone (a request to the proxy's own endpoints, e.g. `/stats` refused under
 * the kill switch), or, on MCP transports (`mcp_*`), a tool name, a method, `response:<id>` or
 * `server_response` (spec mcp.md §15.4): only the first two name a host.
 */
export function hostOf(target: string, transport = ''): string {
  if (target === '' || transport.startsWith('mcp_')) return ''
  if (!target.includes('://') && !AUTHORITY.test(target)) return ''
  try {
    return new URL(target.includes('://') ? target : `http://${target}`).hostname.toLowerCase()
  } catch {
    return ''
  }
}

function rfc3339Seconds(ts: string): string {
  // packets carry whole seconds in UTC, as the reference example does
  return new Date(Date.parse(ts)).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/**
 * Every packet field that describes the evidence, from its verification and the tally of its
 * receipts: `build` writes them and `verify` recomputes them from evidence.jsonl.
 */
export interface EvidenceDerived {
  summary: AuditPacket['summary']
  policyHashes: string[]
  /** First and last receipt times, whole seconds (none without a timestamped receipt). */
  startedAt?: string
  completedAt?: string
  rootHash?: string
  finalSeq?: number
}

export function evidenceDerived(report: EvidenceSetReport, tally: PacketTally): EvidenceDerived {
  const a = report.actionReceipts
  const e = report.evidenceReceipts
  const details = tally.split.pick(report.counts.decisionSource)
  const rootHash = a.rootHash ?? e.rootHash
  const finalSeq = a.finalSeq ?? e.finalSeq
  const times = [a.startTime, e.startTime, a.endTime, e.endTime].filter((t): t is string => t !== undefined).map(rfc3339Seconds).sort()
  return {
    summary: {
      // summary.receipt_count is the decisions (its totals sum to it); verifier.receipt_count is every receipt
      receipt_count: report.counts.decisions,
      totals: verdictTotals(report.counts.byVerdict),
      transports: report.counts.byTransport,
      layers: sorted(details.layers),
      domains_touched: [...details.domains].sort(),
    },
    policyHashes: [...tally.policyHashes].sort(),
    ...(times.length === 0 ? {} : {startedAt: times[0] as string, completedAt: times[times.length - 1] as string}),
    ...(rootHash === undefined || report.failure !== undefined ? {} : {rootHash: `sha256:${rootHash}`}),
    ...(finalSeq === undefined || report.failure !== undefined ? {} : {finalSeq: Number(finalSeq)}),
  }
}

export async function buildAuditPacket(req: PacketBuildRequest): Promise<PacketBuildResult> {
  refuseUsedOut(req.out)
  // loaded on demand: verify-receipt shares this plugin and never needs the config schema
  const {loadConfig} = await import('../config/index.js')
  const loaded = loadConfig(req.config)
  const tally = new PacketTally()
  // The evidence is verified twice (as given, then the packet's copy, below): one progress line
  // for both, each pass half of it.
  const progress = req.onProgress
  const report = await verifyEvidenceInput({...req, onReceipt: (f) => tally.add(f), ...(progress === undefined ? {} : {onProgress: (d, t, n) => progress(d, 2 * t, n)})})
  if (report.kind === 'endorsement_error') throw new PipelockError('ENDORSEMENT_INVALID', `audit packet build: ${report.error}`)
  if (report.kind !== 'evidence_set') throw new PipelockError('USAGE', 'audit packet build: --chain must name a .jsonl file or a recorder directory')
  const stage = PacketStage.open(req.out)
  try {
    const packet = await writePacket(stage, req, report, tally, loaded)
    return {dir: req.out, packet, verification: report}
  } finally {
    stage.discard()
  }
}

/** Stages the four files (evidence.jsonl first: the packet id is its hash) and publishes them. */
async function writePacket(
  stage: PacketStage,
  req: PacketBuildRequest,
  report: EvidenceSetReport,
  tally: PacketTally,
  loaded: LoadedConfig,
): Promise<AuditPacket> {
  const configPath = loaded.path
  // evidence.jsonl: the verified files, byte for byte, in chain order
  const digest = stage.copyEvidence(report.files.map((x) => resolveFile(req, x.path)))
  // The second verification, and not a repeat of the first: it reads other bytes under another
  // name. The first verified the input as given (a recorder directory file by file, with the
  // endorsements found there, its paths in the errors build prints and records); this one
  // verifies the packet's own evidence.jsonl (the files concatenated, a torn tail dropped) as one
  // file named by its artifact path, with the endorsements used named — exactly what
  // `audit packet verify` verifies and renders summary.md and verifier.txt from. Reusing the
  // first report would render texts that verify cannot reproduce (other names, lines, warnings).
  const progress = req.onProgress
  const first = report.receiptCount
  const copy = await verifyEvidenceInput({
    ...keyRequest(req), ...usedEndorsements(report), file: stage.path(PACKET_ARTIFACTS.evidence), shownAs: PACKET_ARTIFACTS.evidence,
    ...(progress === undefined ? {} : {onProgress: (d, t, n) => progress(t + d, 2 * t, first + n)}),
  })

  const a = report.actionReceipts
  const derived = evidenceDerived(report, tally)
  const verdict = packetVerdict(report.verdict)
  // The key the verdict rests on: the v1 signer as pinned, else the roster root, else the named keys.
  const trustedKey = !report.signerPinned
    ? undefined
    : a.count > 0 && a.signerKey !== undefined
      ? a.signerKey
      : req.rosterRootFingerprint !== undefined
        ? `roster root ${req.rosterRootFingerprint}`
        : (req.keys ?? []).join(', ')
  const verifier: AuditPacket['verifier'] = {
    verdict,
    trusted: verdict === 'valid',
    receipt_count: report.receiptCount,
    ...(derived.rootHash === undefined ? {} : {root_hash: derived.rootHash}),
    ...(derived.finalSeq === undefined ? {} : {final_seq: derived.finalSeq}),
    ...(verdict === 'valid' && trustedKey !== undefined ? {signer_key: trustedKey} : {}),
    output_file: PACKET_ARTIFACTS.verifier,
    ...(report.failure !== undefined
      ? {error: report.failure.message}
      : report.verdict === 'not_verifiable'
        ? {error: `${report.notVerifiable.count} receipt(s) not verifiable by this version (unknown critical extension ${report.notVerifiable.extensions.join(', ')}); the first: ${report.notVerifiable.first?.message ?? ''}`}
        : verdict === 'error'
          ? {error: `no receipts in ${report.label}`}
          : {}),
  }
  const now = formatGoTime(fromEpochNanos(req.clock.nowNanos())).replace(/\.\d+Z$/, 'Z')
  const packet: AuditPacket = {
    schema_version: PACKET_SCHEMA_VERSION,
    packet_id: packetIdOf(digest),
    generated_at: now,
    run: {
      provider: req.provider ?? 'local',
      agent_identity: req.agentIdentity ?? 'unspecified',
      started_at: derived.startedAt ?? now,
      ...(derived.completedAt === undefined ? {} : {completed_at: derived.completedAt}),
    },
    policy: {
      policy_hashes: derived.policyHashes,
      ...(configPath === undefined ? {} : {config_path: configPath, config_snapshot_sha256: `sha256:${sha256Hex(readFileSync(configPath))}`}),
    },
    summary: derived.summary,
    verifier,
    scanner_config_snapshot: scannerSnapshot(loaded),
    posture: postureFromConfig(loaded, req.platform, req.arch),
    artifacts: {...PACKET_ARTIFACTS},
  }
  const texts = renderPacketTexts(packet, evidenceSetOf(copy))
  stage.write(PACKET_ARTIFACTS.verifier, texts.verifier)
  stage.write(PACKET_ARTIFACTS.summary, texts.summary)
  stage.write(PACKET_ARTIFACTS.packet, JSON.stringify(packet, null, 2) + '\n')
  // packet.json last: its presence in --out means the other three are there
  stage.publish([PACKET_ARTIFACTS.evidence, PACKET_ARTIFACTS.verifier, PACKET_ARTIFACTS.summary], PACKET_ARTIFACTS.packet)
  return packet
}

function resolveFile(req: PacketBuildRequest, shown: string): string {
  if (req.chainDir === undefined && (req.file === undefined || req.file.endsWith('.jsonl'))) return shown
  // directory mode shows basenames; the source directory is the given one or its session subdir
  const base = (req.chainDir ?? req.file) as string
  const direct = path.join(base, shown)
  return existsSync(direct) ? direct : path.join(base, req.session ?? 'proxy', shown)
}

/** The keys the evidence was verified with, and nothing else of the request. */
function keyRequest(req: PacketBuildRequest): VerifyEvidenceRequest {
  return {
    ...(req.keys === undefined ? {} : {keys: req.keys}),
    ...(req.roster === undefined ? {} : {roster: req.roster}),
    ...(req.rosterRootFingerprint === undefined ? {} : {rosterRootFingerprint: req.rosterRootFingerprint}),
  }
}

/**
 * The rotation endorsements (named or found in the recorder directory) the input's verification
 * used. evidence.jsonl is one file, where nothing is found: these are named for it, and the
 * unused ones are left out (named, an unused one is an error, §6.6). verifier.txt is then what
 * `verify-receipt evidence.jsonl --rotation-endorsement FILE…` prints.
 */
function usedEndorsements(report: EvidenceSetReport): {rotationEndorsements?: string[]} {
  const used = (report.endorsements ?? []).filter((e) => e.used).map((e) => e.file)
  return used.length === 0 ? {} : {rotationEndorsements: used}
}

function evidenceSetOf(r: VerifyEvidenceReport): EvidenceSetReport {
  // a .jsonl file is always read as an evidence set; anything else here is a bug
  if (r.kind !== 'evidence_set') throw new Error(`audit packet build: evidence.jsonl verified as ${r.kind}`)
  return r
}
