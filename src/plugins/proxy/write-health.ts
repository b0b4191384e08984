/**
 * What the operator is told when an evidence file cannot be written (a full or read-only disk, a
 * removed directory): the flight recorder's, or the audit log's file. Requests are still answered
 * — receipts are evidence, not enforcement (receipts.md §8), and logging never takes the proxy
 * down — so a decision without its record must never pass unnoticed. The first write that fails,
 * and the first that works again after such a streak, each print one stderr line and write an
 * audit `error` event (emitted at `warn` to the webhook, syslog and OTLP sinks); a counter of what
 * was not written and a 0/1 gauge serve alerts. A change before the audit log exists (the
 * recorder's first writes at start-up) is logged when it is attached.
 */
import type {WriteHealthChange} from '../recorder/index.js'
import type {AuditLog} from './audit-log.js'
import {renderFamily, type ProxyMetrics} from './metrics.js'

/** One writer the report speaks of: its words, its event fields and its two metrics. */
export interface WriteHealthSubject {
  /** The audit event's `subsystem`. */
  readonly subsystem: string
  /** Further event fields naming where it writes (`dir`, `file`). */
  readonly fields: Readonly<Record<string, string>>
  readonly failingMessage: (error: string) => string
  readonly resumedMessage: (lost: number, error: string) => string
  readonly failuresMetric: readonly [name: string, help: string]
  readonly failingMetric: readonly [name: string, help: string]
}

/** What a writer tells: how much it could not write in all, and whether it is failing now. */
export interface WriteHealth {
  readonly writeFailures: number
  readonly failing: boolean
}

export const RECORDER_WRITE_FAILURES_METRIC = 'pipelock_flight_recorder_write_failures_total'
export const RECORDER_FAILING_METRIC = 'pipelock_flight_recorder_failing'

export function recorderSubject(dir: string): WriteHealthSubject {
  const entries = (n: number): string => `${n} ${n === 1 ? 'entry was' : 'entries were'}`
  return {
    subsystem: 'flight_recorder',
    fields: {dir},
    failingMessage: (e) => `flight recorder cannot write to ${dir}: ${e}; requests are still answered, but their decisions are not recorded until it can`,
    resumedMessage: (n, e) => `flight recorder writes to ${dir} again; ${entries(n)} not recorded (the chain has a gap there; last error: ${e})`,
    failuresMetric: [RECORDER_WRITE_FAILURES_METRIC, 'Flight recorder entries (receipts, decisions, checkpoints) that could not be written; each leaves a gap in the chain.'],
    failingMetric: [RECORDER_FAILING_METRIC, '1 while the flight recorder cannot write (decisions are answered without their record).'],
  }
}

export function auditFileSubject(file: string): WriteHealthSubject {
  const lines = (n: number): string => `${n} audit ${n === 1 ? 'line was' : 'lines were'}`
  return {
    subsystem: 'audit_log',
    fields: {file},
    failingMessage: (e) => `audit log file ${file} cannot be written: ${e}; audit lines are lost until it can be (stdout and the event sinks still get them)`,
    resumedMessage: (n, e) => `audit log file ${file} is written again; ${lines(n)} not written to it (last error: ${e})`,
    failuresMetric: ['pipelock_audit_log_write_failures_total', 'Audit log lines that could not be written to logging.file.'],
    failingMetric: ['pipelock_audit_log_failing', '1 while logging.file cannot be written.'],
  }
}

/** The subject's two metrics, from `health`. */
export function renderWriteHealth(out: string[], s: WriteHealthSubject, health: WriteHealth): void {
  renderFamily(out, s.failuresMetric[0], s.failuresMetric[1], 'counter', [[{}, health.writeFailures]])
  renderFamily(out, s.failingMetric[0], s.failingMetric[1], 'gauge', [[{}, health.failing ? 1 : 0]])
}

export class WriteHealthReport {
  private audit: AuditLog | undefined
  private pending: WriteHealthChange[] = []

  constructor(
    private readonly subject: WriteHealthSubject,
    private readonly stderr: (line: string) => void,
  ) {}

  /** One change of the writer's health: the stderr line now, the audit event now or when attached. */
  record(c: WriteHealthChange): void {
    this.stderr(`pipelock: ${c.failing ? 'WARNING: ' : ''}${this.message(c)}`)
    if (this.audit === undefined) this.pending.push(c)
    else this.log(this.audit, c)
  }

  /** Logs the changes so far to `audit`, and the later ones as they come; renders both metrics from `health`. */
  attach(audit: AuditLog, metrics: ProxyMetrics, health: WriteHealth): void {
    this.attachLog(audit)
    metrics.addRenderer((out) => renderWriteHealth(out, this.subject, health))
  }

  /** Logs the changes so far to `audit`, and the later ones as they come (the metrics are the caller's). */
  attachLog(audit: AuditLog): void {
    this.audit = audit
    for (const c of this.pending) this.log(audit, c)
    this.pending = []
  }

  private message(c: WriteHealthChange): string {
    return c.failing ? this.subject.failingMessage(c.error) : this.subject.resumedMessage(c.lost, c.error)
  }

  private log(audit: AuditLog, c: WriteHealthChange): void {
    audit.event(c.failing ? 'error' : 'warn', 'error', this.message(c), {
      subsystem: this.subject.subsystem,
      ...this.subject.fields,
      failing: c.failing,
      not_written: c.lost,
      detail: c.error,
    })
  }
}
