/**
 * What `flight_recorder.retention_days` expired (policy-extra.md §3.3 step 4): every sweep that
 * removed files becomes an audit event `recorder_retention` and adds to the counter
 * `pipelock_recorder_retention_removed_files_total`. The first sweep runs when the recorder
 * opens, before the proxy's audit log and metrics exist: its result is kept and reported when
 * they are attached.
 */
import type {RetentionResult} from '../recorder/index.js'
import type {AuditLog} from './audit-log.js'
import {renderFamily, type ProxyMetrics} from './metrics.js'

export const RETENTION_REMOVED_FILES_METRIC = 'pipelock_recorder_retention_removed_files_total'

export class RetentionReport {
  private removedFiles = 0
  private pending: RetentionResult[] = []
  private audit: AuditLog | undefined

  constructor(private readonly retentionDays: number) {}

  /** One sweep that removed files. */
  record(r: RetentionResult): void {
    this.removedFiles += r.removed.length
    if (this.audit === undefined) this.pending.push(r)
    else this.log(this.audit, r)
  }

  /** Reports the sweeps so far to `audit`, and the later ones as they come; renders the counter. */
  attach(audit: AuditLog, metrics: ProxyMetrics): void {
    this.audit = audit
    for (const r of this.pending) this.log(audit, r)
    this.pending = []
    metrics.addRenderer((out) => renderFamily(out, RETENTION_REMOVED_FILES_METRIC, 'Flight recorder files removed by retention_days (whole closed files; a signed retention anchor records each cut).', 'counter', [[{}, this.removedFiles]]))
  }

  private log(audit: AuditLog, r: RetentionResult): void {
    audit.event('info', 'recorder_retention', 'flight recorder files expired by retention_days', {
      removed_files: r.removed.length,
      files: r.removed.map((f) => f.file),
      sidecars: r.sidecars,
      cutoff: r.cutoff,
      retention_days: this.retentionDays,
      anchor_seq: Number(r.anchorSeq),
    })
  }
}
