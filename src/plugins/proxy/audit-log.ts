/**
 * JSON audit log (§19): one JSON object per line with `level`, `time` (RFC 3339), `component`,
 * `event`, `message` and the event's fields. Strings are sanitised (control characters and ANSI
 * escapes removed). It is the audit sink of the one fan-out, for both subjects of a Decision
 * (URL requests: `allowed`/`blocked`/`anomaly`/…; tool calls: mcp.md §15.7, below); other events
 * (startup, kill switch, tunnels, reload) are written directly. Its tap feeds the event emitters
 * (operations.md §3), so they read every Decision the log reads, MCP ones included.
 *
 * Lines are written in batches: every line of one event-loop turn goes out in one write at the
 * end of the turn (`setImmediate`), or at once when 256 are pending. On stdout (a pipe or a
 * file, written synchronously by Node) that is one syscall per turn instead of one per request,
 * which under load was the larger half of the log's cost. `flush()` writes what is pending;
 * the proxy calls it on shutdown, after its last line.
 */
import {isToolCall, type Decision, type DecisionSink, type RequestDecision, type ToolCallDecision} from '../decision/index.js'
import {ALLOWED_GATED} from '../emit/index.js'

export interface AuditWriter {
  write(line: string): void
  /** Renders one line object instead of JSON (`logging.format: text` on stdout, §7.1). */
  readonly format?: (line: Readonly<Record<string, unknown>>) => string
}

/**
 * The emitter's tap (operations.md §3.1): receives each audit event's type and its sanitised
 * fields, independent of the local log's include_blocked switch.
 */
export interface AuditTap {
  emit(type: string, fields: Readonly<Record<string, unknown>>): void
}

export interface AuditOptions {
  readonly includeAllowed: boolean
  readonly includeBlocked: boolean
  readonly now: () => Date
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]/g
// eslint-disable-next-line no-control-regex
const CTL = /[\x00-\x1f\x7f]/g

export function sanitiseLogString(s: string): string {
  return s.replace(ANSI, '').replace(CTL, '')
}

// Test before replacing: almost no log string contains a control character.
// eslint-disable-next-line no-control-regex
const NEEDS_SANITISING = /[\x00-\x1f\x7f]/

function sanitise(v: unknown): unknown {
  if (typeof v === 'string') return NEEDS_SANITISING.test(v) ? sanitiseLogString(v) : v
  if (Array.isArray(v)) return v.map(sanitise)
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = sanitise(x)
    return o
  }
  return v
}

/** A field's value as `write` cleans it for the line: a string without its control characters. */
function clean(v: unknown): unknown {
  return typeof v === 'string' ? (NEEDS_SANITISING.test(v) ? sanitiseLogString(v) : v) : sanitise(v)
}

/** `,"key":value` as `JSON.stringify` writes a member of a line object (`v` cleaned): nothing for undefined. */
function jsonField(key: string, v: unknown): string {
  return v === undefined ? '' : `,"${key}":${JSON.stringify(v)}`
}

/** Pending lines that force a write before the end of the turn (bounds memory under bursts). */
const MAX_PENDING = 256

export class AuditLog implements DecisionSink {
  /** Pending lines per writer (JSON writers share one string per line). */
  private pending: string[][]
  private count = 0
  private scheduled = false
  private tap: AuditTap | null = null
  /** Every writer takes JSON lines (none renders text): an allowed request's line is then built as text. */
  private jsonOnly: boolean
  /** The last line's `time` and its millisecond: lines of one millisecond share the text. */
  private timeMs = Number.NaN
  private timeText = ''
  /** The end of turn's flush, made once (not a closure per turn). */
  private readonly flushSoon = (): void => this.flush()

  constructor(private writers: AuditWriter[], private opts: AuditOptions) {
    this.pending = writers.map(() => [])
    this.jsonOnly = writers.length > 0 && writers.every((w) => w.format === undefined)
  }

  /**
   * Replaces the writers (a reload that changes `logging.format`, `output` or `file`): what is
   * pending goes to the old ones first, so every line is written once, where the config in force
   * when it was logged said.
   */
  setWriters(writers: readonly AuditWriter[]): void {
    this.flush()
    this.writers = [...writers]
    this.pending = this.writers.map(() => [])
    this.jsonOnly = this.writers.length > 0 && this.writers.every((w) => w.format === undefined)
  }

  /** Connects (or, with null, disconnects) the event emitter. */
  setTap(tap: AuditTap | null): void {
    this.tap = tap
  }

  /** Writes every pending line now (one write per writer). */
  flush(): void {
    this.scheduled = false
    if (this.count === 0) return
    this.count = 0
    this.writers.forEach((w, i) => {
      const chunk = this.pending[i]!.join('')
      this.pending[i] = []
      try {
        w.write(chunk)
      } catch {
        // Logging must never take the proxy down.
      }
    })
  }

  private enqueue(line: Record<string, unknown>): void {
    let json: string | undefined
    for (let i = 0; i < this.writers.length; i++) {
      const w = this.writers[i]!
      let text: string
      try {
        text = w.format !== undefined ? w.format(line) : (json ??= JSON.stringify(line) + '\n')
      } catch {
        continue
      }
      this.pending[i]!.push(text)
    }
    this.queued()
  }

  /** `json` (one line, newline included) for every writer: all of them take JSON. */
  private enqueueJson(json: string): void {
    for (let i = 0; i < this.writers.length; i++) this.pending[i]!.push(json)
    this.queued()
  }

  /** One more line is pending: written at the end of the turn, or now when `MAX_PENDING` are. */
  private queued(): void {
    if (++this.count >= MAX_PENDING) this.flush()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flushSoon)
    }
  }

  /** `now()` as RFC 3339 (`toISOString`), formatted once per millisecond. */
  private time(): string {
    const t = this.opts.now()
    const ms = t.getTime()
    if (ms !== this.timeMs) {
      this.timeMs = ms
      this.timeText = t.toISOString()
    }
    return this.timeText
  }

  setOptions(opts: AuditOptions): void {
    this.opts = opts
  }

  event(level: 'info' | 'warn' | 'error', event: string, message: string, fields: Record<string, unknown> = {}): void {
    this.write(level, event, message, fields, true)
  }

  /** `local: false` hands the event to the emitter only (a `blocked` event with include_blocked off). */
  private write(level: 'info' | 'warn' | 'error', event: string, message: string, fields: Record<string, unknown>, local: boolean): void {
    const tap = this.tap !== null && !(ALLOWED_GATED.has(event) && !this.opts.includeAllowed) ? this.tap : null
    if ((this.writers.length === 0 || !local) && tap === null) return
    // The envelope is a fresh object: its own string values are cleaned in place; nested values
    // (caller-owned) are copied by `sanitise`. undefined values are dropped by JSON.stringify.
    const line: Record<string, unknown> = {level, time: this.time(), component: 'pipelock', event, message, ...fields}
    for (const k in line) {
      const v = line[k]
      if (typeof v === 'string') {
        if (NEEDS_SANITISING.test(v)) line[k] = sanitiseLogString(v)
      } else if (v !== null && typeof v === 'object') line[k] = sanitise(v)
    }
    if (tap !== null) {
      const emitted: Record<string, unknown> = {}
      for (const k in fields) emitted[k] = line[k]
      tap.emit(event, emitted)
    }
    if (local && this.writers.length > 0) this.enqueue(line)
  }

  record(d: Decision): void {
    if (isToolCall(d)) this.toolCall(d)
    else this.request(d)
  }

  private request(d: RequestDecision): void {
    // The common case under load: an allowed request with nothing but its own line to log (checked
    // before any shared field is built).
    if (d.verdict === 'allow' && d.warnings.length === 0 && d.exception === undefined) {
      if (this.opts.includeAllowed) this.allowed(d)
      return
    }
    const targetKey = d.transport === 'connect' ? 'target' : 'url'
    const common = {method: d.method, [targetKey]: d.target, client_ip: d.clientIp, request_id: d.requestId, agent: d.agent}
    for (const w of d.warnings) this.event('warn', 'dlp_warn', 'DLP warn-only pattern matched', {...common, pattern: w})
    const x = d.exception
    if (x !== undefined) {
      // Issue 14 / operations.md §8.3: every use of a scoped exception, whatever the request's outcome.
      this.event('warn', 'exception_used', 'scoped exception waived a block', {
        id: x.id, rule: x.rule, scanner: x.layer, block_reason: x.reason, ...common, verdict: d.verdict,
        uses_remaining: x.usesLeft, expires_at: x.expiresAt, granted_by: x.grantedBy, reason: x.grantReason,
      })
    }
    if (d.verdict === 'allow') {
      if (this.opts.includeAllowed) this.allowed(d)
      return
    }
    if (d.verdict === 'error' && d.layer === 'client') {
      // The client's own hang-up: neither a proxy error nor a block (core.ts clientClosedDecision).
      this.event('info', 'client_closed', 'client closed the connection', {...common, detail: d.detail})
      return
    }
    if (d.verdict === 'error') {
      this.event('error', 'error', 'upstream request failed', {...common, detail: d.detail, status_code: d.status})
      return
    }
    if (d.verdict === 'would_block') {
      this.event('warn', 'anomaly', 'would block (not enforced)', {...common, scanner: d.layer, reason: d.detail})
      return
    }
    if (d.layer === 'kill_switch') {
      this.event('warn', 'kill_switch_deny', 'kill switch denied request', {...common, transport: d.transport})
      return
    }
    // `blocked` always reaches the emitter; include_blocked silences only the local log (§3.1).
    this.write('warn', 'blocked', 'request blocked', {
      ...common,
      scanner: d.layer,
      reason: d.detail,
      block_reason: d.reason,
      status_code: d.status,
      ...(d.class === 'infrastructure_error' && d.detail.includes('timed out') ? {display_label: 'dns_timeout'} : {}),
      ...(d.class === 'infrastructure_error' && d.detail.includes('no such host') ? {display_label: 'dns_no_such_host'} : {}),
    }, this.opts.includeBlocked)
  }

  /**
   * An allowed request's one line (`allowed`, CONNECT: `tunnel_open`), its fields in one literal:
   * the keys of the shared part of the other lines (method, url or target, client_ip, request_id,
   * agent) in their order, then its own.
   */
  private allowed(d: RequestDecision): void {
    const durationMs = Math.round(d.durationMs * 1000) / 1000
    // learn_lock shadow/capture: a request the contract would have refused in live mode says so
    // on its own line (before, only its receipt did).
    const c = d.contract
    const wouldBlock = c !== undefined && c.mode !== 'live' && c.liveVerdict === 'block'
    const message = wouldBlock ? `request allowed (contract ${c.mode}: live would block)` : 'request allowed'
    const shadow = wouldBlock ? {contract_live_verdict: 'block', contract_reason: c.reason} : {}
    // Only JSON writers: the line's text straight from its fields — the bytes `event` writes
    // (same keys, order, sanitising and escaping) without the line object, its copy of the
    // fields and the walks over them; the emitter's tap gets the same sanitised fields first.
    if (this.jsonOnly) {
      const connect = d.transport === 'connect'
      const event = connect ? 'tunnel_open' : 'allowed'
      const method = clean(d.method)
      const target = clean(d.target)
      const clientIp = clean(d.clientIp)
      const requestId = clean(d.requestId)
      const agent = clean(d.agent)
      // Read before the tap's emit, as `write` reads it.
      const time = this.time()
      const tap = this.tap
      if (tap !== null) {
        tap.emit(event, connect
          ? {method, target, client_ip: clientIp, request_id: requestId, agent, status_code: d.status, size_bytes: d.bytes, duration_ms: durationMs, ...shadow}
          : {method, url: target, client_ip: clientIp, request_id: requestId, agent, status_code: d.status, size_bytes: d.bytes, duration_ms: durationMs, ...shadow})
      }
      this.enqueueJson(
        `{"level":"info","time":"${time}","component":"pipelock","event":"${event}","message":"${message}"` +
          jsonField('method', method) + jsonField(connect ? 'target' : 'url', target) + jsonField('client_ip', clientIp) + jsonField('request_id', requestId) +
          jsonField('agent', agent) + jsonField('status_code', d.status) + jsonField('size_bytes', d.bytes) + jsonField('duration_ms', durationMs) +
          (wouldBlock ? jsonField('contract_live_verdict', 'block') + jsonField('contract_reason', clean(c.reason)) : '') + '}\n',
      )
      return
    }
    if (d.transport === 'connect') {
      this.event('info', 'tunnel_open', message, {
        method: d.method, target: d.target, client_ip: d.clientIp, request_id: d.requestId, agent: d.agent, status_code: d.status, size_bytes: d.bytes, duration_ms: durationMs, ...shadow,
      })
    } else {
      this.event('info', 'allowed', message, {
        method: d.method, url: d.target, client_ip: d.clientIp, request_id: d.requestId, agent: d.agent, status_code: d.status, size_bytes: d.bytes, duration_ms: durationMs, ...shadow,
      })
    }
  }

  /**
   * A tool call's audit events (mcp.md §15.7). Fields never carry argument values or matched
   * text: names, layers and reasons only.
   * * every block → `blocked` with `scanner` = the deciding layer ([ext] recommended by §15.7: the
   *   reference emits it only for DoW, frozen tool, media, provenance and CEE), `method` `MCP`
   *   (`CEE` for cross-request blocks), `resource` = tool name / `tools/list` / `response:<id>` /
   *   `mcp-input`;
   * * a DoW or CEE finding that did not block → `anomaly`;
   * * a chain match → `chain_detection` `{pattern, pattern_severity, severity, action, tool, session}`;
   * * an action upgraded by the session level → `adaptive_upgrade`;
   * * a DLP warn-pattern hit → `dlp_warn`;
   * * a redirect handler run (mcp.md §8.5) → `tool_redirect` `{tool_name, args_digest,
   *   redirect_profile, redirect_reason, policy_rule, result, latency_ms}`.
   */
  private toolCall(d: ToolCallDecision): void {
    const common = {resource: toolCallResource(d), transport: d.transport, ...(d.session !== undefined ? {session: d.session} : {})}
    for (const f of d.facts ?? []) {
      switch (f.kind) {
        case 'chain_detection':
          this.event(f.action === 'block' ? 'warn' : 'info', 'chain_detection', 'tool call chain pattern detected', {
            pattern: f.name, pattern_severity: f.severity ?? '', severity: f.action === 'block' ? 'critical' : 'warn', action: f.action, tool: f.detail, session: d.session ?? '',
          })
          break
        case 'adaptive_upgrade':
          this.event('warn', 'adaptive_upgrade', 'action upgraded by session escalation level', {
            ...common, from_action: f.name.split('->')[0], to_action: f.action, level: f.severity ?? '', surface: f.detail,
          })
          break
        case 'tool_redirect':
          // containment.md §7: one event per executed redirect handler, redirected or blocked.
          this.event('info', 'tool_redirect', 'tool call redirected by policy', {...common, ...f.fields})
          break
        default:
          // DoW / CEE findings that blocked are reported once, as the decision's `blocked` event below.
          if (f.action !== 'block') {
            this.event('warn', 'anomaly', 'MCP budget or cross-request finding', {
              ...common, method: f.kind === 'denial_of_wallet' ? 'MCP' : 'CEE', scanner: f.kind, reason: f.detail, action: f.action,
            })
          }
      }
    }
    // Audit mode: what would have blocked, as a request's would_block event.
    if (d.verdict === 'would_block') this.event('warn', 'anomaly', 'would block (not enforced)', {...common, method: 'MCP', scanner: d.layer, reason: d.reason ?? ''})
    // Kill-switch denials emit no audit event (mcp.md §15.1). `blocked` always reaches the
    // emitter; include_blocked silences only the local log (operations.md §3.1).
    if (d.verdict === 'block' && d.stage !== 'kill_switch') {
      this.write('warn', 'blocked', 'request blocked', {
        method: d.stage === 'cross_request' ? 'CEE' : 'MCP', ...common, scanner: d.layer, reason: d.reason ?? '', direction: d.direction,
        ...(d.pattern !== undefined ? {pattern: d.pattern} : {}),
      }, this.opts.includeBlocked)
    }
    for (const w of d.dlpWarnings) this.event('warn', 'dlp_warn', 'DLP warn-only pattern matched', {...common, method: 'MCP', pattern: w})
  }
}

/** The `resource` of a tool call's audit event: tool name, `mcp-input`, `tools/list` or `response:<id>`. */
function toolCallResource(d: ToolCallDecision): string {
  if (d.direction === 'request') return d.tool !== '' ? d.tool : 'mcp-input'
  if (d.stage === 'tool_scan') return 'tools/list'
  return d.id === null ? 'server_response' : `response:${d.id}`
}
