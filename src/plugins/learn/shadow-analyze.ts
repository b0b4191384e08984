import {createHash} from 'node:crypto'
import {compareUtf8} from '../canonical/index.js'
import type {CaptureFinding} from '../capture/index.js'
import {parseRequestUrl} from '../enforcement/index.js'

// learn-lifecycle §3.3 `Analyze`: counts, per-rule evaluations, deltas, aggregation into
// batches, and the quarantine state machine (with no prior history, as the CLI runs it).

/** One captured record after replay against the candidate (§3.2). */
export interface ReplayedRecord {
  surface: string
  method: string
  url: string
  toolName: string
  mcpMethod: string
  /** `request.mcp_server` of an MCP tool-call record ('' or absent otherwise). */
  mcpServer?: string
  /** The methods the request named through a method override (absent: none); the candidate judged them too. */
  methodOverrides?: readonly string[]
  /**
   * Set when the candidate contract decided the record: the wire block reason of a block
   * (`contract_default_deny`, `contract_non_default_port`, …), '' for an allow by a rule.
   */
  contractReason?: string
  /** Set on a contract default deny that a `capture_only` rule would have allowed: that rule. */
  captureOnlyRuleId?: string
  /**
   * Set when the contract blocked an MCP tool call: the evaluator's reason
   * (`contract_mcp_args_mismatch`, `contract_mcp_default_deny`) behind the wire code in
   * `contractReason`, which MCP shares with HTTP's host-level denies.
   */
  mcpReason?: string
  /** [ext] Set when the record's captured scanner verdict was kept (replay cannot redo it): its cause. */
  keptAsCaptured?: string
  originalAction: string
  candidateAction: string
  evidenceOnly: boolean
  summaryOnly: boolean
  findings: CaptureFinding[]
  /** Capture grade of the record (`full`, `partial`, `summary`, `none`). */
  grade: string
  sidecar: boolean
  /** Recorder timestamp in Unix nanoseconds; undefined when the record carries none. */
  observedAtNs: bigint | undefined
}

export interface ShadowDelta {
  contractHash: string
  ruleId: string
  originalVerdict: string
  candidateVerdict: string
  exemplarId: string
  observedAtNs: bigint
}

export interface ShadowBatch {
  contractHash: string
  ruleId: string
  originalVerdict: string
  candidateVerdict: string
  windowStartNs: bigint
  windowEndNs: bigint
  losslessCount: number
  exemplarIds: string[]
}

export interface RuleStats {
  ruleId: string
  evaluations: number
  newBlocks: number
  newAllows: number
  unchanged: number
  newBlockRatePct: number
  state: 'clear' | 'candidate'
  reason: string
}

export interface QuarantineEvent {
  ruleId: string
  reason: string
  evaluations: number
  newBlocks: number
  newBlockRatePct: number
  cooldownUntilNs: bigint
}

const NO_OVERRIDES: readonly string[] = Object.freeze([])

/**
 * [ext] One destination whose outcome the candidate changes (issue 34: a report must name what
 * it would block): every changed record of the same destination, verdicts and decider counts
 * here once. HTTP: scheme, host, port and escaped path (the query is never shown); MCP: server
 * and tool.
 */
export interface ShadowChange {
  change: 'new_block' | 'new_allow'
  surface: string
  method: string
  /** The other methods the destination's records named through a method override (sorted; empty: none). */
  methodOverrides: readonly string[]
  scheme: string
  host: string
  port: string
  path: string
  server: string
  tool: string
  /** The MCP method of a tool-call destination (`tools/call`; '' for HTTP). */
  mcpMethod: string
  originalVerdict: string
  candidateVerdict: string
  /** `contract` (a rule or the contract's default deny), or the scanner / tool policy replay. */
  decidedBy: 'contract' | 'scanner' | 'tool_policy'
  /** The deciding contract rule(s), comma-separated; '' for a default deny or a scanner decision. */
  ruleId: string
  /** Contract: the wire block reason ('' for an allow by a rule); scanner: the finding kinds. */
  reason: string
  /** A default deny's `capture_only` rule that matches the destination but is not enforced ('' none). */
  captureOnlyRuleId: string
  /** An MCP contract block's evaluator reason (`contract_mcp_args_mismatch`, …; '' otherwise). */
  mcpReason: string
  count: number
}

/** Distinct changed destinations a report lists; past this the rest are counted only (memory stays bounded). */
export const SHADOW_CHANGES_LIMIT = 10_000

export interface ShadowAnalysis {
  generatedAtNs: bigint
  contractHash: string
  totalRecords: number
  replayed: number
  changed: number
  newBlocks: number
  newAllows: number
  evidenceOnly: number
  summaryOnly: number
  rules: RuleStats[]
  quarantines: QuarantineEvent[]
  batches: ShadowBatch[]
  captureSurfaces: Map<string, {grade: string; sidecar: boolean}>
  /** [ext] Changed destinations, sorted (`ShadowChange`); at most `SHADOW_CHANGES_LIMIT`. */
  changes: ShadowChange[]
  /** [ext] Changed records of destinations past the limit (counted, not listed). */
  changesOmitted: number
  /**
   * [ext] Records whose captured scanner verdict replay cannot redo and kept as captured (counted
   * among `replayed`, unchanged), by cause (`ratelimit`, `core_dlp (redacted capture)`, …).
   */
  keptAsCaptured: Map<string, number>
}

/** §3.3 defaults. */
export const SHADOW_DEFAULTS = {
  windowNs: 60_000_000_000n,
  samples: 3,
  ceilingPct: 5.0,
  releaseFloorPct: 1.0,
  minEvaluations: 50,
  cooldownNs: 3_600_000_000_000n,
  pageLimitPerHour: 5,
} as const

const GRADE_ORDER = ['none', 'summary', 'partial', 'full']

export function isBlockAction(a: string): boolean {
  return a === 'block' || a === 'fail_closed'
}

/** `sha256:` + hex(SHA-256(surface ␀ method ␀ url ␀ tool_name ␀ mcp_method)). */
export function exemplarId(r: Pick<ReplayedRecord, 'surface' | 'method' | 'url' | 'toolName' | 'mcpMethod'>): string {
  return 'sha256:' + createHash('sha256').update([r.surface, r.method, r.url, r.toolName, r.mcpMethod].join('\0'), 'utf8').digest('hex')
}

/** The contract rule ids a record's findings name, sorted and unique (what §3.3 counts per rule). */
export function contractRuleIds(findings: readonly CaptureFinding[]): string[] {
  const ids = new Set<string>()
  for (const f of findings) {
    if (f.kind !== 'contract') continue
    for (const part of (f.policy_rule ?? '').split(',')) {
      const t = part.trim()
      if (t !== '') ids.add(t)
    }
  }
  return [...ids].sort(compareUtf8)
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Buckets deltas by (contract, rule, verdicts, window) — §3.3 "Aggregation" — as they come, in
 * any order: each bucket keeps its count and its `samples` first exemplars in the order of
 * (observed at, contract, rule, exemplar id), which is what sorting every delta first gives.
 * Memory grows with buckets, not with deltas.
 */
export class DeltaBuckets {
  private readonly buckets = new Map<string, {batch: ShadowBatch; firsts: {at: bigint; id: string}[]}>()

  constructor(
    private readonly windowNs: bigint = SHADOW_DEFAULTS.windowNs,
    private readonly samples: number = SHADOW_DEFAULTS.samples,
  ) {}

  add(d: ShadowDelta): void {
    const windowNs = this.windowNs
    // floor to the window in UTC (Unix time has no offset)
    const start = d.observedAtNs - (((d.observedAtNs % windowNs) + windowNs) % windowNs)
    const key = d.contractHash + '\0' + d.ruleId + '\0' + d.originalVerdict + '\0' + d.candidateVerdict + '\0' + start.toString()
    let b = this.buckets.get(key)
    if (b === undefined) {
      b = {batch: {contractHash: d.contractHash, ruleId: d.ruleId, originalVerdict: d.originalVerdict, candidateVerdict: d.candidateVerdict, windowStartNs: start, windowEndNs: start + windowNs, losslessCount: 0, exemplarIds: []}, firsts: []}
      this.buckets.set(key, b)
    }
    b.batch.losslessCount++
    if (d.exemplarId === '' || this.samples <= 0) return
    // Inside a bucket contract and rule are fixed: order by (observed at, exemplar id).
    const f = b.firsts
    const before = (x: {at: bigint; id: string}): boolean => d.observedAtNs < x.at || (d.observedAtNs === x.at && compareUtf8(d.exemplarId, x.id) < 0)
    if (f.length >= this.samples && !before(f[f.length - 1] as {at: bigint; id: string})) return
    let i = f.length
    while (i > 0 && before(f[i - 1] as {at: bigint; id: string})) i--
    f.splice(i, 0, {at: d.observedAtNs, id: d.exemplarId})
    if (f.length > this.samples) f.pop()
  }

  batches(): ShadowBatch[] {
    return [...this.buckets.values()]
      .map((b) => ({...b.batch, exemplarIds: b.firsts.map((x) => x.id)}))
      .sort(
        (a, b) =>
          cmpBig(a.windowStartNs, b.windowStartNs) ||
          compareUtf8(a.contractHash, b.contractHash) ||
          compareUtf8(a.ruleId, b.ruleId) ||
          compareUtf8(a.originalVerdict, b.originalVerdict) ||
          compareUtf8(a.candidateVerdict, b.candidateVerdict),
      )
  }
}

/** Buckets deltas by (contract, rule, verdicts, window) — §3.3 "Aggregation". */
export function aggregateDeltas(deltas: readonly ShadowDelta[], windowNs: bigint = SHADOW_DEFAULTS.windowNs, samples: number = SHADOW_DEFAULTS.samples): ShadowBatch[] {
  const b = new DeltaBuckets(windowNs, samples)
  for (const d of deltas) b.add(d)
  return b.batches()
}

/** §3.3 per-rule stats and quarantine (no prior quarantine history: the CLI passes none). */
export function ruleStatsAndQuarantines(counts: Map<string, {evaluations: number; newBlocks: number; newAllows: number; unchanged: number}>, nowNs: bigint): {rules: RuleStats[]; quarantines: QuarantineEvent[]} {
  const rules: RuleStats[] = []
  const quarantines: QuarantineEvent[] = []
  for (const ruleId of [...counts.keys()].sort(compareUtf8)) {
    const c = counts.get(ruleId) as {evaluations: number; newBlocks: number; newAllows: number; unchanged: number}
    const rate = c.evaluations === 0 ? 0 : (c.newBlocks * 100) / c.evaluations
    const s: RuleStats = {ruleId, ...c, newBlockRatePct: rate, state: 'clear', reason: ''}
    if (c.evaluations < SHADOW_DEFAULTS.minEvaluations) s.reason = 'below_denominator_floor'
    else if (rate <= SHADOW_DEFAULTS.ceilingPct) s.reason = ''
    else if (quarantines.length >= SHADOW_DEFAULTS.pageLimitPerHour) s.reason = 'page_rate_limited'
    else {
      s.state = 'candidate'
      s.reason = 'new_block_rate_above_ceiling'
      quarantines.push({ruleId, reason: s.reason, evaluations: c.evaluations, newBlocks: c.newBlocks, newBlockRatePct: rate, cooldownUntilNs: nowNs + SHADOW_DEFAULTS.cooldownNs})
    }
    rules.push(s)
  }
  return {rules, quarantines}
}

type RuleCounts = {evaluations: number; newBlocks: number; newAllows: number; unchanged: number}

/**
 * §3.3 `Analyze`, one record at a time (a replay streams its records through here and keeps
 * none): counts, per-rule evaluations, delta buckets and capture surfaces.
 */
export class ShadowAccumulator {
  private readonly a: ShadowAnalysis
  private readonly counts = new Map<string, RuleCounts>()
  private readonly deltas = new DeltaBuckets()

  constructor(
    private readonly contractHash: string,
    private readonly nowNs: bigint,
  ) {
    this.a = {
      generatedAtNs: nowNs,
      contractHash,
      totalRecords: 0,
      replayed: 0,
      changed: 0,
      newBlocks: 0,
      newAllows: 0,
      evidenceOnly: 0,
      summaryOnly: 0,
      rules: [],
      quarantines: [],
      batches: [],
      captureSurfaces: new Map(),
      changes: [],
      changesOmitted: 0,
      keptAsCaptured: new Map(),
    }
  }

  /** `ruleIds`: `contractRuleIds(r.findings)`, given when the caller remembered it for these findings. */
  add(r: ReplayedRecord, ruleIds: readonly string[] = contractRuleIds(r.findings)): void {
    const a = this.a
    a.totalRecords++
    const cs = a.captureSurfaces.get(r.surface)
    if (cs === undefined) a.captureSurfaces.set(r.surface, {grade: r.grade, sidecar: r.sidecar})
    else {
      if (GRADE_ORDER.indexOf(r.grade) > GRADE_ORDER.indexOf(cs.grade)) cs.grade = r.grade
      cs.sidecar ||= r.sidecar
    }
    if (r.evidenceOnly) {
      a.evidenceOnly++
      return
    }
    if (r.summaryOnly) {
      a.summaryOnly++
      return
    }
    a.replayed++
    if (r.keptAsCaptured !== undefined) a.keptAsCaptured.set(r.keptAsCaptured, (a.keptAsCaptured.get(r.keptAsCaptured) ?? 0) + 1)
    const changed = r.originalAction !== r.candidateAction
    if (changed) a.changed++
    const newBlock = !isBlockAction(r.originalAction) && isBlockAction(r.candidateAction)
    if (newBlock) a.newBlocks++
    else if (changed) a.newAllows++
    let exemplar: string | undefined
    if (changed) {
      this.addChange(r, newBlock, ruleIds)
      // A contract decision that names no rule (default deny) still forms a batch, under its
      // wire reason, so --recorder-dir receipts and the batch count show it (issue 34).
      if (ruleIds.length === 0 && r.contractReason !== undefined && r.contractReason !== '') {
        exemplar = exemplarId(r)
        this.deltas.add({contractHash: this.contractHash, ruleId: r.contractReason, originalVerdict: r.originalAction, candidateVerdict: r.candidateAction, exemplarId: exemplar, observedAtNs: r.observedAtNs ?? this.nowNs})
      }
    }
    for (const id of ruleIds) {
      let c = this.counts.get(id)
      if (c === undefined) {
        c = {evaluations: 0, newBlocks: 0, newAllows: 0, unchanged: 0}
        this.counts.set(id, c)
      }
      c.evaluations++
      if (newBlock) c.newBlocks++
      else if (changed) c.newAllows++
      else c.unchanged++
      if (changed) {
        exemplar ??= exemplarId(r)
        this.deltas.add({contractHash: this.contractHash, ruleId: id, originalVerdict: r.originalAction, candidateVerdict: r.candidateAction, exemplarId: exemplar, observedAtNs: r.observedAtNs ?? this.nowNs})
      }
    }
  }

  private readonly changes = new Map<string, ShadowChange>()

  private addChange(r: ReplayedRecord, newBlock: boolean, ruleIds: readonly string[]): void {
    const server = r.mcpServer ?? ''
    const base = r.url === '' ? '' : r.url.replace(/[?#].*$/s, '')
    const decidedBy: ShadowChange['decidedBy'] = r.contractReason !== undefined ? 'contract' : r.surface === 'tool_policy' ? 'tool_policy' : 'scanner'
    const reason = decidedBy === 'contract' ? (r.contractReason as string) : [...new Set(r.findings.map((f) => f.kind))].sort(compareUtf8).join(',')
    const ruleId = decidedBy === 'contract' ? ruleIds.join(',') : ''
    const overrides = r.methodOverrides ?? NO_OVERRIDES
    const captureOnly = decidedBy === 'contract' ? (r.captureOnlyRuleId ?? '') : ''
    const mcpReason = decidedBy === 'contract' ? (r.mcpReason ?? '') : ''
    const mcpMethod = base === '' && r.toolName !== '' ? r.mcpMethod : ''
    const key = [r.surface, r.method, overrides.join(','), base, server, r.toolName, mcpMethod, r.originalAction, r.candidateAction, decidedBy, ruleId, reason, captureOnly, mcpReason].join('\0')
    const seen = this.changes.get(key)
    if (seen !== undefined) {
      seen.count++
      return
    }
    if (this.changes.size >= SHADOW_CHANGES_LIMIT) {
      this.a.changesOmitted++
      return
    }
    const u = base === '' ? undefined : parseRequestUrl(base)
    this.changes.set(key, {
      change: newBlock ? 'new_block' : 'new_allow',
      surface: r.surface,
      method: r.method,
      methodOverrides: overrides,
      scheme: u?.scheme ?? '',
      host: u?.host ?? '',
      port: u?.port ?? '',
      path: u?.escapedPath ?? (u === undefined ? base : ''),
      server,
      tool: r.toolName,
      mcpMethod,
      originalVerdict: r.originalAction,
      candidateVerdict: r.candidateAction,
      decidedBy,
      ruleId,
      reason,
      captureOnlyRuleId: captureOnly,
      mcpReason,
      count: 1,
    })
  }

  finish(): ShadowAnalysis {
    const rq = ruleStatsAndQuarantines(this.counts, this.nowNs)
    return {...this.a, rules: rq.rules, quarantines: rq.quarantines, batches: this.deltas.batches(), changes: sortChanges([...this.changes.values()])}
  }
}

/** Changes in a stable order: new blocks first, then by destination and decider (byte order). */
export function sortChanges(changes: ShadowChange[]): ShadowChange[] {
  const k = (c: ShadowChange): string[] => [c.change === 'new_block' ? '0' : '1', c.host, c.port, c.path, c.scheme, c.server, c.tool, c.mcpMethod, c.method, c.methodOverrides.join(','), c.surface, c.originalVerdict, c.candidateVerdict, c.decidedBy, c.ruleId, c.reason, c.captureOnlyRuleId, c.mcpReason]
  return changes.sort((a, b) => {
    const ka = k(a)
    const kb = k(b)
    for (let i = 0; i < ka.length; i++) {
      const d = compareUtf8(ka[i] as string, kb[i] as string)
      if (d !== 0) return d
    }
    return 0
  })
}

export function analyzeShadow(records: readonly ReplayedRecord[], contractHash: string, nowNs: bigint): ShadowAnalysis {
  const acc = new ShadowAccumulator(contractHash, nowNs)
  for (const r of records) acc.add(r)
  return acc.finish()
}
