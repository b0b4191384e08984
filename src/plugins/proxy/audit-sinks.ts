/**
 * Where `pipelock run`'s audit log goes (`logging.format`, `logging.output`, `logging.file`):
 * built at start-up, and rebuilt by a reload that changes one of them, so the next line is
 * written where the file now says (lines already queued go to the old writers first). A reload
 * never silently keeps the old destination: the file it names is opened while the reload loads
 * (`check`), so one that cannot be opened refuses the reload as it refuses start-up.
 */
import type {PipelockConfig} from '../config/index.js'
import {AuditFile} from './audit-file.js'
import type {AuditLog, AuditWriter} from './audit-log.js'
import {textWriter} from './audit-text.js'
import type {ProxyMetrics} from './metrics.js'
import {auditFileSubject, renderWriteHealth, WriteHealthReport} from './write-health.js'

type Logging = Pick<PipelockConfig['logging'], 'format' | 'output' | 'file'>

export interface AuditSinksOptions {
  /** Where the log goes with `output: stdout|both`. */
  readonly stdout: AuditWriter
  /** `format: text` colours only on a terminal (and without NO_COLOR). */
  readonly color: boolean
  readonly stderr: (line: string) => void
}

const toFile = (l: Logging): string | undefined => ((l.output === 'file' || l.output === 'both') && l.file !== '' ? l.file : undefined)
const sameTarget = (a: Logging, b: Logging): boolean => a.format === b.format && a.output === b.output && toFile(a) === toFile(b)

export class AuditSinks {
  private target: Logging
  private file: {file: AuditFile; report: WriteHealthReport} | undefined
  private audit: AuditLog | undefined
  /** Lines the files closed by reloads could not write (the counter never goes back). */
  private lostBefore = 0

  constructor(private readonly opts: AuditSinksOptions, logging: Logging) {
    this.target = {format: logging.format, output: logging.output, file: logging.file}
    const path = toFile(logging)
    // A file that cannot be opened refuses start-up (AuditFile throws WRITE_FAILED).
    if (path !== undefined) this.file = this.open(path)
  }

  /** The writers for the settings in force. */
  writers(): AuditWriter[] {
    const t = this.target
    const out: AuditWriter[] = []
    if (t.output === 'stdout' || t.output === 'both') out.push(t.format === 'text' ? textWriter(this.opts.stdout, this.opts.color) : this.opts.stdout)
    if (this.file !== undefined) out.push(this.file.file)
    return out
  }

  /** Write-health events go to `audit`; the file's two metrics render while a file is written (`file|both`). */
  attach(audit: AuditLog, metrics: ProxyMetrics): void {
    this.audit = audit
    this.file?.report.attachLog(audit)
    metrics.addRenderer((out) => {
      const f = this.file?.file
      if (f !== undefined) renderWriteHealth(out, auditFileSubject(f.file), {writeFailures: this.lostBefore + f.writeFailures, failing: f.failing})
    })
  }

  /** Throws (WRITE_FAILED, as at start-up) when `logging` names a file that cannot be opened for appending. */
  check(logging: Logging): void {
    const path = toFile(logging)
    if (path === undefined || path === this.file?.file.file) return
    new AuditFile(path, () => undefined).close()
  }

  /**
   * A reload: switches the audit log to `logging`'s destination when it changed. Returns the
   * fields that changed, or throws (the running destination stays) when the new file cannot be opened.
   */
  apply(logging: Logging): string[] {
    if (sameTarget(this.target, logging)) return []
    const changed = (['format', 'output', 'file'] as const).filter((k) => this.target[k] !== logging[k]).map((k) => `logging.${k}`)
    const path = toFile(logging)
    const keep = path !== undefined && path === this.file?.file.file
    const next = keep ? this.file : path !== undefined ? this.open(path) : undefined
    const old = keep ? undefined : this.file
    this.target = {format: logging.format, output: logging.output, file: logging.file}
    this.file = next
    if (!keep && next !== undefined && this.audit !== undefined) next.report.attachLog(this.audit)
    this.audit?.setWriters(this.writers())
    if (old !== undefined) {
      this.lostBefore += old.file.writeFailures
      old.file.close()
    }
    return changed
  }

  close(): void {
    this.file?.file.close()
  }

  private open(path: string): {file: AuditFile; report: WriteHealthReport} {
    const report = new WriteHealthReport(auditFileSubject(path), this.opts.stderr)
    return {file: new AuditFile(path, (c) => report.record(c)), report}
  }
}
