/**
 * Metrics (§18): a small private registry rendered in Prometheus text format, plus the `/stats`
 * JSON. It is a DecisionSink: counters come from the same Decision the audit log reads.
 */
import {isToolCall, type Decision, type DecisionSink} from '../decision/index.js'
import {ToolCallMetrics} from './tool-call-metrics.js'

type Labels = Readonly<Record<string, string>>

// Test before replacing: a label value (agent, category, outcome) almost never needs escaping.
const NEEDS_ESCAPING = /[\\\n"]/

export function escapeLabel(v: string): string {
  return NEEDS_ESCAPING.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : v
}

function labelKey(l: Labels): string {
  const keys = Object.keys(l).sort()
  return keys.length === 0 ? '' : '{' + keys.map((k) => `${k}="${escapeLabel(l[k]!)}"`).join(',') + '}'
}

/** One series of a counter: a handle its hot callers keep (`Counter.series`), counted without a lookup. */
interface Series {
  value: number
}

/** `counter`'s series of labels `result` and `agent`, kept in `kept` (bounded: 1,024 agents). */
function agentSeries(counter: Counter, kept: Record<'allowed' | 'blocked', Map<string, Series>>, result: 'allowed' | 'blocked', agent: string): Series {
  const keys = kept[result]
  let s = keys.get(agent)
  if (s === undefined) {
    s = counter.series(labelKey({result, agent}))
    if (keys.size < 1024) keys.set(agent, s)
  }
  return s
}

class Counter {
  private readonly values = new Map<string, Series>()
  constructor(readonly name: string, readonly help: string, readonly type: 'counter' | 'gauge' = 'counter') {}
  inc(labels: Labels = {}, by = 1): void {
    this.incKey(labelKey(labels), by)
  }
  /** `inc` with the series key already rendered (`labelKey`). */
  incKey(k: string, by = 1): void {
    this.series(k).value += by
  }
  /** The series of key `k` (`labelKey`), made at its first use: it is rendered from then on. */
  series(k: string): Series {
    let s = this.values.get(k)
    if (s === undefined) this.values.set(k, (s = {value: 0}))
    return s
  }
  set(labels: Labels, v: number): void {
    this.series(labelKey(labels)).value = v
  }
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`)
    for (const [k, s] of [...this.values].sort((a, b) => (a[0] < b[0] ? -1 : 1))) out.push(`${this.name}${k} ${s.value}`)
  }
}

/** A histogram without labels (also rendered by subsystems at scrape time). */
export class Histogram {
  private readonly counts: number[]
  private sum = 0
  private count = 0
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0)
  }
  observe(v: number): void {
    this.sum += v
    this.count++
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) this.counts[i]!++
  }
  /** `labels`: constant labels put on every sample (e.g. `side="client"`). */
  render(out: string[], labels: Labels = {}): void {
    const extra = Object.keys(labels).sort().map((k) => `${k}="${escapeLabel(labels[k]!)}"`)
    const l = (more: string[]): string => `{${[...extra, ...more].join(',')}}`
    const plain = extra.length === 0 ? '' : l([])
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`)
    this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${l([`le="${b}"`])} ${this.counts[i]}`))
    out.push(`${this.name}_bucket${l(['le="+Inf"'])} ${this.count}`, `${this.name}_sum${plain} ${this.sum}`, `${this.name}_count${plain} ${this.count}`)
  }
}

/** Bounded top-N tracking (maps capped at 100 keys, §18). */
class TopCounter {
  readonly m = new Map<string, number>()
  inc(key: string): void {
    if (!this.m.has(key) && this.m.size >= 100) return
    this.m.set(key, (this.m.get(key) ?? 0) + 1)
  }
  top(n = 10): Array<{name: string; count: number}> {
    return [...this.m]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, n)
      .map(([name, count]) => ({name, count}))
  }
}

export interface MetricsGauges {
  /** Per-source kill-switch state, computed at scrape time. */
  readonly killSwitchSources: () => Readonly<Record<string, boolean>>
  readonly activeTunnels: () => number
  /** Session manager metrics and `/stats` block (§18); null while session profiling is off. */
  readonly sessions?: () => SessionMetricsSource | null
  /** `/stats.cross_request_detection`, live (operations §5.6). */
  readonly crossRequest?: () => {entropy_tracker_active: number; fragment_buffer_active: number; fragment_buffer_bytes: number} | null
}

export interface SessionMetricsSource {
  stats(): {active: number; anomalies: number; escalations: number; top_anomalies: Array<{name: string; count: number}>}
  renderMetrics(out: string[]): void
}

/** Renders one metric family from samples (used by subsystems that add metrics at scrape time). */
export function renderFamily(out: string[], name: string, help: string, type: 'counter' | 'gauge', samples: ReadonlyArray<readonly [Labels, number]>): void {
  const c = new Counter(name, help, type)
  for (const [l, v] of samples) c.set(l, v)
  c.render(out)
}

export class ProxyMetrics implements DecisionSink {
  private readonly renderers: Array<(out: string[]) => void> = []
  readonly requests = new Counter('pipelock_requests_total', 'Requests by result and agent.')
  readonly scannerHits = new Counter('pipelock_scanner_hits_total', 'Blocks by scanner label and agent.')
  readonly duration = new Histogram('pipelock_request_duration_seconds', 'Request duration.', [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])
  readonly tunnels = new Counter('pipelock_tunnels_total', 'CONNECT tunnels by result and agent.')
  readonly tunnelDuration = new Histogram('pipelock_tunnel_duration_seconds', 'Tunnel lifetime.', [1, 5, 10, 30, 60, 120, 300])
  readonly tunnelBytes = new Counter('pipelock_tunnel_bytes_total', 'Bytes relayed through tunnels.')
  readonly sni = new Counter('pipelock_sni_total', 'SNI verification outcomes.')
  readonly headerDlpHits = new Counter('pipelock_header_dlp_hits_total', 'Header DLP hits.')
  readonly bodyDlpHits = new Counter('pipelock_body_dlp_hits_total', 'Request body DLP hits.')
  readonly bodyRedactions = new Counter('pipelock_body_redactions_total', 'Values replaced by class-preserving redaction, by transport, agent, provider, parser and class.')
  readonly dlpWarn = new Counter('pipelock_dlp_warn_matches_total', 'DLP matches of warn-only patterns.')
  readonly upstreamErrors = new Counter('pipelock_upstream_errors_total', 'Allowed requests whose upstream failed (502).')
  readonly killSwitchDenials = new Counter('pipelock_kill_switch_denials_total', 'Requests denied by the kill switch.')
  readonly contractDecisions = new Counter('pipelock_contract_decisions_total', 'Decisions under a live-lock contract by mode, winning source and live verdict.')
  readonly apiAuthFailures = new Counter('pipelock_api_auth_failures_total', 'Admin API requests with a missing or wrong bearer token.')
  readonly apiAuthThrottled = new Counter('pipelock_api_auth_throttled_total', 'Admin API requests refused (429) after repeated authentication failures.')
  readonly findingsSuppressed = new Counter('pipelock_findings_suppressed_total', 'Findings removed by a suppress entry, by surface and rule.')
  readonly responseScanExempt = new Counter('pipelock_response_scan_exempt_total', 'Response findings not acted on, by reason and transport.')
  // scanners-extra §3.3: Browser Shield.
  readonly shieldRewrites = new Counter('pipelock_shield_rewrites_total', 'Browser Shield rewrites by category and transport.')
  readonly shieldSkipped = new Counter('pipelock_shield_skipped_total', 'Responses Browser Shield left untouched, by reason.')
  readonly shieldOversizeScanHead = new Counter('pipelock_shield_oversize_scan_head_total', 'Oversized responses whose head only was rewritten, by transport.')
  readonly shieldShims = new Counter('pipelock_shield_shims_injected_total', 'Responses that received Browser Shield shims, by transport.')
  readonly agentBudgetDenials = new Counter('pipelock_agent_budget_denials_total', 'Requests refused by an agent budget, by profile and kind.')
  readonly exceptionsUsed = new Counter('pipelock_exceptions_used_total', 'Requests a scoped exception let through, by exception id (at most 100 in force).')
  readonly agentNamesRejected = new Counter('pipelock_agent_names_rejected_total', 'Client agent names refused (replaced by anonymous).')
  readonly envelopeVerify = new Counter('pipelock_envelope_verify_total', 'Inbound mediation envelope verification by result (disabled, verified, missing, failed).')
  readonly wsRedirectHints = new Counter('pipelock_forward_ws_redirect_hint_total', 'CONNECT tunnels to a forward_proxy.redirect_websocket_hosts host (the /ws endpoint would scan its frames).')
  readonly addressFindings = new Counter('pipelock_address_findings_total', 'Address-protection findings by chain and verdict (lookalike, unknown, checksum).')
  /** The counters of tool-call Decisions (MCP listener in the run). */
  readonly toolCalls = new ToolCallMetrics()
  private readonly topDomains = new TopCounter()
  private readonly topScanners = new TopCounter()
  private readonly agents = new Map<string, {allowed: number; blocked: number; tunnels: number}>()
  private total = 0
  /**
   * `pipelock_requests_total`'s (and `pipelock_tunnels_total`'s) series per result and agent
   * label, resolved once: the label set is bounded (the profile names), and rendering its key
   * (sort, escape, join) then looking it up was the metrics sink's main cost on every request
   * (bench: proxy). At most 1,024 agents kept.
   */
  private readonly requestKeys = {allowed: new Map<string, Series>(), blocked: new Map<string, Series>()}
  private readonly tunnelKeys = {allowed: new Map<string, Series>(), blocked: new Map<string, Series>()}
  /** `sniOutcome`'s rendered keys by category (a closed set), then agent. */
  private readonly sniKeys = new Map<string, Map<string, string>>()
  private allowed = 0
  private blocked = 0
  private tunnelCount = 0

  constructor(
    private readonly version: string,
    private readonly startedAtMs: number,
    private readonly nowMs: () => number,
    private readonly gauges: MetricsGauges,
  ) {}

  private agent(name: string): {allowed: number; blocked: number; tunnels: number} {
    let a = this.agents.get(name)
    if (a === undefined) {
      if (this.agents.size >= 100) return {allowed: 0, blocked: 0, tunnels: 0}
      a = {allowed: 0, blocked: 0, tunnels: 0}
      this.agents.set(name, a)
    }
    return a
  }


  record(d: Decision): void {
    if (isToolCall(d)) {
      this.toolCalls.record(d)
      return
    }
    const blocked = d.verdict === 'block'
    if (d.contract !== undefined) this.contractDecisions.inc({mode: d.contract.mode, winning_source: d.contract.winningSource, live_verdict: d.contract.liveVerdict})
    // operations.md §2.4 / §11.2: the label is the profile, never the self-declared name (bounded).
    const agent = d.profile ?? '_default'
    if (d.warnings.length > 0) this.dlpWarn.inc({}, d.warnings.length)
    if (d.exception !== undefined) this.exceptionsUsed.inc({id: d.exception.id})
    const red = d.redaction
    if (red !== undefined) {
      for (const cls of Object.keys(red.by_class)) this.bodyRedactions.inc({transport: d.transport, agent, provider: red.provider, parser: red.parser, class: cls}, red.by_class[cls])
    }
    if (d.layer === 'kill_switch') this.killSwitchDenials.inc({transport: d.transport, endpoint: d.transport === 'fetch' ? '/fetch' : d.transport})
    if (d.verdict === 'error') {
      // A client that hung up mid-request is no upstream failure.
      if (d.layer !== 'client') this.upstreamErrors.inc({transport: d.transport})
      return
    }
    if (d.transport === 'connect' && !blocked) {
      this.tunnelCount++
      this.agent(agent).tunnels++
      // The same label set as the requests counter's: one rendered key per agent, kept.
      agentSeries(this.tunnels, this.tunnelKeys, 'allowed', agent).value++
      return
    }
    if (d.transport === 'connect') agentSeries(this.tunnels, this.tunnelKeys, 'blocked', agent).value++
    this.total++
    this.duration.observe(d.durationMs / 1000)
    agentSeries(this.requests, this.requestKeys, blocked ? 'blocked' : 'allowed', agent).value++
    if (blocked) {
      this.blocked++
      this.agent(agent).blocked++
      this.scannerHits.inc({scanner: d.layer, agent})
      this.topScanners.inc(d.layer)
      const host = hostOf(d.target)
      if (host !== '' && d.layer !== 'kill_switch') this.topDomains.inc(host)
      if (d.layer === 'header_dlp') this.headerDlpHits.inc()
      if (d.layer === 'body_dlp') this.bodyDlpHits.inc()
    } else {
      this.allowed++
      this.agent(agent).allowed++
    }
  }

  /** A CONNECT tunnel's first-record outcome (`pipelock_sni_total`), its series key kept per category and agent. */
  sniOutcome(category: string, agent: string): void {
    let keys = this.sniKeys.get(category)
    if (keys === undefined) this.sniKeys.set(category, (keys = new Map()))
    let k = keys.get(agent)
    if (k === undefined) {
      k = labelKey({category, agent})
      if (keys.size < 1024) keys.set(agent, k)
    }
    this.sni.incKey(k)
  }


  /** Tunnel close accounting (bytes, lifetime). */
  tunnelClosed(bytes: number, seconds: number): void {
    this.tunnelBytes.inc({}, bytes)
    this.tunnelDuration.observe(seconds)
  }

  /** A subsystem's metrics (capture, live contracts), rendered at every scrape. */
  addRenderer(render: (out: string[]) => void): void {
    this.renderers.push(render)
  }

  stats(): Record<string, unknown> {
    const agents: Record<string, unknown> = {}
    for (const k of [...this.agents.keys()].sort()) agents[k] = this.agents.get(k)
    return {
      uptime_seconds: (this.nowMs() - this.startedAtMs) / 1000,
      requests: {total: this.total, allowed: this.allowed, blocked: this.blocked, block_rate: this.total === 0 ? 0 : this.blocked / this.total},
      tunnels: this.tunnelCount,
      websockets: 0,
      top_blocked_domains: this.topDomains.top(),
      top_scanners: this.topScanners.top(),
      sessions: this.gauges.sessions?.()?.stats() ?? {active: 0, anomalies: 0, escalations: 0, top_anomalies: []},
      cross_request_detection: this.gauges.crossRequest?.() ?? {entropy_tracker_active: 0, fragment_buffer_active: 0, fragment_buffer_bytes: 0},
      ...(this.agents.size > 0 ? {agents} : {}),
    }
  }

  prometheus(): string {
    const out: string[] = []
    for (const m of [this.requests, this.scannerHits]) m.render(out)
    this.duration.render(out)
    this.tunnels.render(out)
    this.tunnelDuration.render(out)
    for (const m of [this.tunnelBytes, this.sni, this.headerDlpHits, this.bodyDlpHits, this.bodyRedactions, this.dlpWarn, this.killSwitchDenials, this.upstreamErrors, this.contractDecisions, this.agentBudgetDenials, this.findingsSuppressed, this.responseScanExempt, this.exceptionsUsed, this.agentNamesRejected, this.envelopeVerify, this.wsRedirectHints, this.addressFindings, this.shieldRewrites, this.shieldSkipped, this.shieldOversizeScanHead, this.shieldShims, this.apiAuthFailures, this.apiAuthThrottled]) m.render(out)
    const active = new Counter('pipelock_active_tunnels', 'Open CONNECT tunnels.', 'gauge')
    active.set({}, this.gauges.activeTunnels())
    active.render(out)
    const ks = new Counter('pipelock_kill_switch_active', 'Kill switch state per source.', 'gauge')
    for (const [s, on] of Object.entries(this.gauges.killSwitchSources())) ks.set({source: s}, on ? 1 : 0)
    ks.render(out)
    this.gauges.sessions?.()?.renderMetrics(out)
    for (const r of this.renderers) r(out)
    this.toolCalls.render(out)
    const info = new Counter('pipelock_info', 'Build information.', 'gauge')
    info.set({version: this.version}, 1)
    info.render(out)
    // Node equivalents of the Go process collector.
    const mem = process.memoryUsage()
    const cpu = process.cpuUsage()
    const proc: Array<[string, string, number]> = [
      ['process_resident_memory_bytes', 'Resident memory size in bytes.', mem.rss],
      ['process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', (cpu.user + cpu.system) / 1e6],
      ['process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', this.startedAtMs / 1000],
      ['nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', mem.heapUsed],
    ]
    for (const [n, h, v] of proc) out.push(`# HELP ${n} ${h}`, `# TYPE ${n} ${n.endsWith('_total') ? 'counter' : 'gauge'}`, `${n} ${v}`)
    return out.join('\n') + '\n'
  }
}

function hostOf(target: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(target)
  if (m !== null) return m[1]!.replace(/^.*@/, '').replace(/:\d+$/, '')
  return target.replace(/:\d+$/, '')
}
