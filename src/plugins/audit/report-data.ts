import type {EvidenceSetReport, ReceiptFact} from './evidence-types.js'
import {hostOf} from './packet-build.js'
import {verifyEvidenceInput, type VerifyEvidenceRequest} from './verify-service.js'

// The numbers behind `pipelock audit report`, gathered while the evidence is verified (one
// pass, bounded memory: top-N maps and a capped list of blocks). `--json` prints exactly this.

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
  detail: string
}

export interface EvidenceReportData {
  kind: 'audit_report'
  label: string
  verdict: EvidenceSetReport['verdict']
  valid: boolean
  error?: string
  receiptCount: number
  decisions: number
  byVerdict: Record<string, number>
  /** Decisions per time bucket, by verdict (start..end split into equal spans). */
  timeline: {start?: string; end?: string; buckets: Record<string, number>[]}
  topHosts: {host: string; count: number}[]
  topBlockReasons: {reason: string; count: number}[]
  contractGenerations: {contractHash: string; generation: string; decisions: number}[]
  lifecycle: LifecycleEvent[]
  blocks: ReportBlock[]
  blocksOmitted: number
  warnings: string[]
  verification: EvidenceSetReport
}

export async function collectReportData(req: VerifyEvidenceRequest): Promise<EvidenceReportData> {
  const hosts = new Map<string, number>()
  const reasons = new Map<string, number>()
  const generations = new Map<string, {contractHash: string; generation: string; decisions: number}>()
  const lifecycle: LifecycleEvent[] = []
  const blocks: ReportBlock[] = []
  let blocksOmitted = 0
  // Timeline: keep per-second counts (bounded by the run's length in seconds, not its receipts).
  const perSecond = new Map<number, Map<string, number>>()
  const onReceipt = (f: ReceiptFact): void => {
    const isDecision = f.version === 1 ? !f.control : f.kind === 'proxy_decision'
    if (!isDecision) {
      if (f.version === 2 && lifecycle.length < MAX_LISTED_BLOCKS) lifecycle.push({kind: f.kind, id: f.id, timestamp: f.timestamp, contractHash: f.contractHash ?? '', generation: f.contractGeneration ?? '', detail: lifecycleDetail(f)})
      return
    }
    const verdict = f.verdict ?? ''
    const sec = Math.floor(Date.parse(f.timestamp) / 1000)
    const m = perSecond.get(sec) ?? new Map<string, number>()
    m.set(verdict, (m.get(verdict) ?? 0) + 1)
    perSecond.set(sec, m)
    const host = hostOf(f.target ?? '')
    if (host !== '') hosts.set(host, (hosts.get(host) ?? 0) + 1)
    if (f.contractHash) {
      const k = `${f.contractHash} ${f.contractGeneration ?? ''}`
      const g = generations.get(k) ?? {contractHash: f.contractHash, generation: f.contractGeneration ?? '', decisions: 0}
      g.decisions++
      generations.set(k, g)
    }
    if (verdict === 'block') {
      const reason = [f.layer, f.pattern].filter((x) => x !== undefined && x !== '').join(': ') || '(no layer recorded)'
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
      if (blocks.length < MAX_LISTED_BLOCKS) {
        blocks.push({id: f.id, timestamp: f.timestamp, target: f.target ?? '', transport: f.transport ?? '', reason, file: f.position.file, line: f.position.line})
      } else blocksOmitted++
    }
  }
  const v = await verifyEvidenceInput({...req, onReceipt})
  if (v.kind !== 'evidence_set') throw new Error('audit report: --chain must name a .jsonl file or a recorder directory')
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
  const total = Object.values(v.counts.byVerdict).reduce((s, n) => s + n, 0)
  const data: EvidenceReportData = {
    kind: 'audit_report',
    label: v.label,
    verdict: v.verdict,
    valid: v.valid,
    receiptCount: v.receiptCount,
    decisions: total,
    byVerdict: v.counts.byVerdict,
    timeline: {...(start === undefined ? {} : {start, end}), buckets},
    topHosts: top(hosts).map(([host, count]) => ({host, count})),
    topBlockReasons: top(reasons).map(([reason, count]) => ({reason, count})),
    contractGenerations: [...generations.values()].sort((a, b) => (a.contractHash < b.contractHash ? -1 : a.contractHash > b.contractHash ? 1 : a.generation < b.generation ? -1 : 1)),
    lifecycle,
    blocks,
    blocksOmitted,
    warnings: v.warnings.map((w) => `${w.file === undefined ? '' : `${w.file}:${w.line}: `}${w.message}`),
    verification: v,
  }
  if (v.failure !== undefined) data.error = `${v.failure.file === undefined ? '' : `${v.failure.file}:${v.failure.line}: `}${v.failure.message}`
  return data
}

function lifecycleDetail(f: ReceiptFact): string {
  const p = f.payload ?? {}
  const pick = ['validation_outcome', 'reject_reason', 'target_generation', 'rule_id', 'original_verdict', 'candidate_verdict', 'request_kind', 'drift_kind']
  return pick
    .filter((k) => p[k] !== undefined && p[k] !== '')
    .map((k) => `${k}=${typeof p[k] === 'string' ? p[k] : JSON.stringify(p[k])}`)
    .join(' ')
}
