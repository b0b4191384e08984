/**
 * What the operator is told when the flight recorder cannot write (a full or read-only evidence
 * disk, a removed directory). Requests are still answered — receipts are evidence, not
 * enforcement (receipts.md §8) — so a decision without its receipt must never pass unnoticed:
 * the first entry that cannot be written, and the first written again after such a streak, each
 * print one stderr line and write an audit `error` event (emitted at `warn` to the webhook,
 * syslog and OTLP sinks). `pipelock_flight_recorder_write_failures_total` counts the entries not
 * written and `pipelock_flight_recorder_failing` is 1 while writing fails, for alerts.
 * A change before the audit log exists (the recorder's first writes at start-up) is logged when
 * it is attached.
 */
import type {FlightRecorder, WriteHealthChange} from '../recorder/index.js'
import type {AuditLog} from './audit-log.js'
import {renderFamily, type ProxyMetrics} from './metrics.js'

export const RECORDER_WRITE_FAILURES_METRIC = 'pipelock_flight_recorder_write_failures_total'
export const RECORDER_FAILING_METRIC = 'pipelock_flight_recorder_failing'

export class RecorderHealthReport {
  private audit: AuditLog | undefined
  private pending: WriteHealthChange[] = []

  constructor(
    private readonly dir: string,
    private readonly stderr: (line: string) => void,
  ) {}

  /** One change of the recorder's write health: the stderr line now, the audit event now or when attached. */
  record(c: WriteHealthChange): void {
    this.stderr(`pipelock: ${c.failing ? 'WARNING: ' : ''}${message(this.dir, c)}`)
    if (this.audit === undefined) this.pending.push(c)
    else this.log(this.audit, c)
  }

  /** Logs the changes so far to `audit`, and the later ones as they come; renders both metrics from `health`. */
  attach(audit: AuditLog, metrics: ProxyMetrics, health: Pick<FlightRecorder, 'writeFailures' | 'failing'>): void {
    this.audit = audit
    for (const c of this.pending) this.log(audit, c)
    this.pending = []
    metrics.addRenderer((out) => {
      renderFamily(out, RECORDER_WRITE_FAILURES_METRIC, 'Flight recorder entries (receipts, decisions, checkpoints) that could not be written; each leaves a gap in the chain.', 'counter', [[{}, health.writeFailures]])
      renderFamily(out, RECORDER_FAILING_METRIC, '1 while the flight recorder cannot write (decisions are answered without their record).', 'gauge', [[{}, health.failing ? 1 : 0]])
    })
  }

  private log(audit: AuditLog, c: WriteHealthChange): void {
    audit.event(c.failing ? 'error' : 'warn', 'error', message(this.dir, c), {
      subsystem: 'flight_recorder',
      dir: this.dir,
      recorder_failing: c.failing,
      entries_not_written: c.lost,
      detail: c.error,
    })
  }
}

function message(dir: string, c: WriteHealthChange): string {
  return c.failing
    ? `flight recorder cannot write to ${dir}: ${c.error}; requests are still answered, but their decisions are not recorded until it can`
    : `flight recorder writes to ${dir} again; ${c.lost} ${c.lost === 1 ? 'entry was' : 'entries were'} not recorded (the chain has a gap there; last error: ${c.error})`
}
