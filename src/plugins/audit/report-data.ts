import {PipelockError} from '../errors/index.js'
import type {EvidenceSetReport, ReceiptFact} from './evidence-types.js'
import {DecisionSplit, receiptClass, type ReceiptClass} from './evidence-count.js'
import {hostOf} from './packet-build.js'
import {failureText} from './evidence-render.js'
import {verifyEvidenceInput, type VerifyEvidenceRequest} from './verify-service.js'

// The numbers behind `pipelock audit report`, gathered while the evidence is verified (one
// pass, bounded memory: top-N maps and a capped list of blocks). `--json` prints exactly this.
// Every block, past the cap, goes to `onBlock` as it is verified (the command streams it to a
// JSON Lines file), so the whole list never sits in memory.

export const MAX_LISTED_BLOCKS = 10_000
const BUCKETS = 48

export interface ReportBlock {
  id: string
  timestamp: string
  target: string
  transport: string
  reason: string
  file: string
  line: number
}

export interface LifecycleEvent {
  kind: string
  id: string
  timestamp: string
  contractHash: string
  generation: string
  /** config_change: the operator the change note or API call named, else `(none recorded)`; empty for other kinds. */
  operator: string
  /** config_change: what changed (the changed paths, the trigger and outcome); other kinds: their key payload fields. */
  detail: string
}

export interface EvidenceReportData {
  kind: 'audit_report'
  label: string
  verdict: EvidenceSetReport['verdict']
  valid: boolean
  error?: string
  receiptCount: number
  /** Decisions, by the one definition (evidence-count.ts): the same number verify-receipt and the packet show. */
  decisions: number
  byVerdict: Record<string, number>
  /** Receipts by class (decision, contract_decision, airlock, session_control, config_change, lifecycle). */
  byClass: EvidenceSetReport['counts']['byClass']
  /** Decisions per time bucket, by verdict (start..end split into equal spans). */
  timeline: {start?: string; end?: string; buckets: Record<string, number>[]}
  topHosts: {host: string; count: number}[]
  topBlockReasons: {reason: string; count: number}[]
  contractGenerations: {contractHash: string; generation: string; decisions: number}[]
  lifecycle: LifecycleEvent[]
  /** Lifecycle, configuration and airlock events past the first MAX_LISTED_BLOCKS, not in `lifecycle` (counted in `byClass`). */
  lifecycleOmitted: number
  blocks: ReportBlock[]
  /** Blocks past the first MAX_LISTED_BLOCKS, not in `blocks` (all of them go to `onBlock`). */
  blocksOmitted: number
  /** The JSON Lines file that lists every block (`--blocks-jsonl`); absent when none was asked for. */
  blocksFile?: string
  warnings: string[]
  /** Named keys (`--key ID=KEY`) that pinned no receipt, by id (as verify-receipt lists them); absent when none. */
  unusedKeys?: string[]
  verification: EvidenceSetReport
}

/** The per-decision numbers, kept once for v1 decisions and once for v2 proxy_decisions (DecisionSplit). */
interface DecisionDetails {
  hosts: Map<string, number>
  reasons: Map<string, number>
  generations: Map<string, {contractHash: string; generation: string; decisions: number}>
  blocks: ReportBlock[]
  blocksOmitted: number
  // Timeline: per-second counts (bounded by the run's length in seconds, not its receipts).
  perSecond: Map<number, Map<string, number>>
}

/** A block, with the class of its receipt: which of the two is the counted decision is known only at the end (DecisionSplit). */
export type ReportBlockSink = (block: ReportBlock, cls: 'decision' | 'contract_decision') => void

export async function collectReportData(req: VerifyEvidenceRequest & {onBlock?: ReportBlockSink}): Promise<EvidenceReportData> {
  const {onBlock, ...verifyReq} = req
  const split = new DecisionSplit<DecisionDetails>(() => ({hosts: new Map(), reasons: new Map(), generations: new Map(), blocks: [], blocksOmitted: 0, perSecond: new Map()}))
  const lifecycle: LifecycleEvent[] = []
  let lifecycleOmitted = 0
  const onReceipt = (f: ReceiptFact): void => {
    const cls = receiptClass(f)
    const d = split.for(cls)
    if (d === undefined) {
      if (cls === 'session_control') return
      if (lifecycle.length < MAX_LISTED_BLOCKS) lifecycle.push(lifecycleEvent(f, cls))
      else lifecycleOmitted++
      return
    }
    const verdict = f.verdict ?? ''
    const sec = Math.floor(Date.parse(f.timestamp) / 1000)
    const m = d.perSecond.get(sec) ?? new Map<string, number>()
    m.set(verdict, (m.get(verdict) ?? 0) + 1)
    d.perSecond.set(sec, m)
    const host = hostOf(f.target ?? '', f.transport)
    if (host !== '') d.hosts.set(host, (d.hosts.get(host) ?? 0) + 1)
    if (f.contractHash) {
      const k = `${f.contractHash} ${f.contractGeneration ?? ''}`
      const g = d.generations.get(k) ?? {contractHash: f.contractHash, generation: f.contractGeneration ?? '', decisions: 0}
      g.decisions++
      d.generations.set(k, g)
    }
    if (verdict === 'block') {
      const reason = blockReason(f)
      d.reasons.set(reason, (d.reasons.get(reason) ?? 0) + 1)
      const block: ReportBlock = {id: f.id, timestamp: f.timestamp, target: f.target ?? '', transport: f.transport ?? '', reason, file: f.position.file, line: f.position.line}
      onBlock?.(block, cls === 'decision' ? 'decision' : 'contract_decision')
      if (d.blocks.length < MAX_LISTED_BLOCKS) d.blocks.push(block)
      else d.blocksOmitted++
    }
  }
  const v = await verifyEvidenceInput({...verifyReq, onReceipt})
  if (v.kind === 'endorsement_error') throw new PipelockError('ENDORSEMENT_INVALID', `audit report: ${v.error}`)
  if (v.kind !== 'evidence_set') throw new PipelockError('USAGE', 'audit report: --chain must name a .jsonl file or a recorder directory')
  const {hosts, reasons, generations, blocks, blocksOmitted, perSecond} = split.pick(v.counts.decisionSource)
  const seconds = [...perSecond.keys()].sort((a, b) => a - b)
  const buckets: Record<string, number>[] = []
  let start: string | undefined
  let end: string | undefined
  if (seconds.length > 0) {
    const lo = seconds[0] as number
    const hi = seconds[seconds.length - 1] as number
    start = new Date(lo * 1000).toISOString()
    end = new Date(hi * 1000).toISOString()
    const n = Math.min(BUCKETS, hi - lo + 1)
    for (let i = 0; i < n; i++) buckets.push({})
    for (const [s, m] of perSecond) {
      const i = Math.min(n - 1, Math.floor(((s - lo) * n) / (hi - lo + 1)))
      const b = buckets[i] as Record<string, number>
      for (const [verdict, c] of m) b[verdict] = (b[verdict] ?? 0) + c
    }
  }
  const top = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 10)
  const data: EvidenceReportData = {
    kind: 'audit_report',
    label: v.label,
    verdict: v.verdict,
    valid: v.valid,
    receiptCount: v.receiptCount,
    decisions: v.counts.decisions,
    byVerdict: v.counts.byVerdict,
    byClass: v.counts.byClass,
    timeline: {...(start === undefined ? {} : {start, end}), buckets},
    topHosts: top(hosts).map(([host, count]) => ({host, count})),
    topBlockReasons: top(reasons).map(([reason, count]) => ({reason, count})),
    contractGenerations: [...generations.values()].sort((a, b) => (a.contractHash < b.contractHash ? -1 : a.contractHash > b.contractHash ? 1 : a.generation < b.generation ? -1 : 1)),
    lifecycle,
    lifecycleOmitted,
    blocks,
    blocksOmitted,
    warnings: v.warnings.map((w) => `${w.file === undefined ? '' : `${w.file}:${w.line}: `}${w.message}`),
    ...(v.unusedKeys === undefined ? {} : {unusedKeys: v.unusedKeys}),
    verification: v,
  }
  // an unreadable line's message already starts with its file and line
  if (v.failure !== undefined) data.error = failureText(v.failure)
  return data
}

/** A block's reason: the layer and pattern of a v1 receipt; the winning source and rule of a proxy_decision. */
function blockReason(f: ReceiptFact): string {
  if (f.version === 2) {
    const p = f.payload ?? {}
    const parts = [p.winning_source, p.rule_id].filter((x): x is string => typeof x === 'string' && x !== '')
    return parts.length > 0 ? parts.join(': ') : '(no source recorded)'
  }
  return [f.layer, f.pattern].filter((x) => x !== undefined && x !== '').join(': ') || '(no layer recorded)'
}

function lifecycleEvent(f: ReceiptFact, cls: ReceiptClass): LifecycleEvent {
  const base = {kind: f.kind, id: f.id, timestamp: f.timestamp, contractHash: f.contractHash ?? '', generation: f.contractGeneration ?? ''}
  if (cls === 'airlock') return {...base, kind: 'airlock', operator: '', detail: `session ${f.target ?? ''}: ${f.pattern ?? ''}`}
  const p = f.payload ?? {}
  if (cls === 'config_change') {
    // operations.md §8.2: the envelope's actor is the operator, or `pipelock` when none was named.
    const named = typeof p.operator === 'string' && p.operator !== '' ? p.operator : f.actor !== undefined && f.actor !== '' && f.actor !== 'pipelock' ? f.actor : '(none recorded)'
    const paths = Array.isArray(p.changed_paths) ? (p.changed_paths as unknown[]).map(String) : []
    const what = paths.length > 0 ? `changed: ${paths.join(', ')}` : 'changed: (no paths recorded)'
    const extra = ['trigger', 'outcome', 'change_id', 'reject_reason'].filter((k) => typeof p[k] === 'string' && p[k] !== '').map((k) => `${k}=${p[k] as string}`)
    return {...base, operator: named, detail: [what, ...extra].join(' ')}
  }
  return {...base, operator: '', detail: lifecycleDetail(f)}
}

function lifecycleDetail(f: ReceiptFact): string {
  const p = f.payload ?? {}
  const pick = ['validation_outcome', 'reject_reason', 'target_generation', 'rule_id', 'original_verdict', 'candidate_verdict', 'request_kind', 'drift_kind']
  return pick
    .filter((k) => p[k] !== undefined && p[k] !== '')
    .map((k) => `${k}=${typeof p[k] === 'string' ? p[k] : JSON.stringify(p[k])}`)
    .join(' ')
}
