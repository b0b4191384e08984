/**
 * The MCP scan pool (spec mcp.md §4.7 note 4, §18.4): the generic worker pool (plugins/workers)
 * running the content scans of large messages, so one multi-MiB tool call or result cannot stall
 * other sessions' I/O. The jobs and the thread's handler are MCP's (scan-job.ts); starting,
 * capping, crash handling and retiring are the pool's.
 */
import {WorkerPool, type WorkerPoolOptions, type WorkerPoolStats} from '../workers/index.js'
import type {ContentVerdict, McpSettings, PooledRedaction, ResponseScans} from '../mcp/index.js'
import type {Redactor} from '../redaction/index.js'
import type {MediaPolicySettings} from '../proxy/index.js'
import type {ScannerSettings} from '../scanner/index.js'

export {MAX_IN_FLIGHT_BYTES, MAX_WORKERS} from '../workers/index.js'

/** What a worker compiles once: the runtime scanner's settings, media policy, input options. */
export interface ScanWorkerInit {
  readonly scanner: ScannerSettings
  readonly media: MediaPolicySettings | null
  readonly input: McpSettings['input']
  readonly toolScan: boolean
  /** What the runtime's redactor is made from (`Redactor.source`); absent or null: redaction off. */
  readonly redaction?: Redactor['source'] | null
}

export type ScanJob = {readonly kind: 'request' | 'response'; readonly raw: string}

/** A request's content verdict, of the redacted frame when `redaction` rewrote its arguments. */
export type ScanReply = {readonly request: ContentVerdict; readonly redaction: PooledRedaction | null} | {readonly response: ResponseScans}

export interface ScanPoolOptions extends Omit<WorkerPoolOptions<ScanWorkerInit>, 'workerUrl' | 'label'> {
  /** The worker module (default scan-worker.js beside this file). */
  readonly workerUrl?: URL
}

export type ScanPoolStats = WorkerPoolStats

export class McpScanPool extends WorkerPool<ScanJob, ScanReply, ScanWorkerInit> {
  constructor(o: ScanPoolOptions) {
    super({...o, label: 'scan', workerUrl: o.workerUrl ?? new URL('./scan-worker.js', import.meta.url)})
  }
}
