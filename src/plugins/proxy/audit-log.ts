/**
 * JSON audit log (§19): one JSON object per line with `level`, `time` (RFC 3339), `component`,
 * `event`, `message` and the event's fields. Strings are sanitised (control characters and ANSI
 * escapes removed). It is a DecisionSink for `allowed`/`blocked`/`anomaly`; other events
 * (startup, kill switch, tunnels, reload) are written directly.
 *
 * Lines are written in batches: every line of one event-loop turn goes out in one write at the
 * end of the turn (`setImmediate`), or at once when 256 are pending. On stdout (a pipe or a
 * file, written synchronously by Node) that is one syscall per turn instead of one per request,
 * which under load was the larger half of the log's cost. `flush()` writes what is pending;
 * the proxy calls it on shutdown, after its last line.
 */
import type {Decision, DecisionSink} from './decision.js'

export interface AuditWriter {
  write(line: string): void
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

/** Pending lines that force a write before the end of the turn (bounds memory under bursts). */
const MAX_PENDING = 256

export class AuditLog implements DecisionSink {
  private pending: string[] = []
  private scheduled = false

  constructor(private readonly writers: AuditWriter[], private opts: AuditOptions) {}

  /** Writes every pending line now (one write per writer). */
  flush(): void {
    this.scheduled = false
    if (this.pending.length === 0) return
    const chunk = this.pending.join('')
    this.pending = []
    for (const w of this.writers) {
      try {
        w.write(chunk)
      } catch {
        // Logging must never take the proxy down.
      }
    }
  }

  private enqueue(line: string): void {
    this.pending.push(line)
    if (this.pending.length >= MAX_PENDING) this.flush()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.flush())
    }
  }

  setOptions(opts: AuditOptions): void {
    this.opts = opts
  }

  event(level: 'info' | 'warn' | 'error', event: string, message: string, fields: Record<string, unknown> = {}): void {
    if (this.writers.length === 0) return
    // The envelope is a fresh object: its own string values are cleaned in place; nested values
    // (caller-owned) are copied by `sanitise`. undefined values are dropped by JSON.stringify.
    const line: Record<string, unknown> = {level, time: this.opts.now().toISOString(), component: 'pipelock', event, message, ...fields}
    for (const k in line) {
      const v = line[k]
      if (typeof v === 'string') {
        if (NEEDS_SANITISING.test(v)) line[k] = sanitiseLogString(v)
      } else if (v !== null && typeof v === 'object') line[k] = sanitise(v)
    }
    this.enqueue(JSON.stringify(line) + '\n')
  }

  record(d: Decision): void {
    const targetKey = d.transport === 'connect' ? 'target' : 'url'
    const common = {method: d.method, [targetKey]: d.target, client_ip: d.clientIp, request_id: d.requestId, agent: d.agent}
    for (const w of d.warnings) this.event('warn', 'dlp_warn', 'DLP warn-only pattern matched', {...common, pattern: w})
    if (d.verdict === 'allow') {
      if (!this.opts.includeAllowed) return
      this.event('info', d.transport === 'connect' ? 'tunnel_open' : 'allowed', 'request allowed', {
        ...common, status_code: d.status, size_bytes: d.bytes, duration_ms: Math.round(d.durationMs * 1000) / 1000,
      })
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
    if (!this.opts.includeBlocked) return
    this.event('warn', 'blocked', 'request blocked', {
      ...common,
      scanner: d.layer,
      reason: d.detail,
      block_reason: d.reason,
      status_code: d.status,
      ...(d.class === 'infrastructure_error' && d.detail.includes('timed out') ? {display_label: 'dns_timeout'} : {}),
      ...(d.class === 'infrastructure_error' && d.detail.includes('no such host') ? {display_label: 'dns_no_such_host'} : {}),
    })
  }
}
