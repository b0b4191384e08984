/**
 * The MCP scan pool (spec mcp.md §4.7 note 4, §18.4): worker threads that run the content scans
 * of large messages so one multi-MiB tool call or result cannot stall other sessions' I/O.
 * Started lazily on the first job (a wrap that only sees small messages never starts a thread),
 * sized from the cores (at most MAX_WORKERS), one job per worker at a time. A worker that dies
 * fails its job (the caller blocks the message, fail closed) and is replaced on the next job.
 * Bytes queued or running are capped: beyond the cap a job fails at once instead of piling up.
 */
import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'
import type {ContentVerdict, McpSettings, ResponseScans} from '../mcp/index.js'
import type {MediaPolicySettings} from '../proxy/index.js'
import type {ScannerSettings} from '../scanner/index.js'

/** What a worker compiles once: the runtime scanner's settings, media policy, input options. */
export interface ScanWorkerInit {
  readonly scanner: ScannerSettings
  readonly media: MediaPolicySettings | null
  readonly input: McpSettings['input']
  readonly toolScan: boolean
}

export type ScanJob = {readonly id: number; readonly kind: 'request' | 'response'; readonly raw: string}

export type ScanReply =
  | {readonly id: number; readonly request: ContentVerdict}
  | {readonly id: number; readonly response: ResponseScans}
  | {readonly id: number; readonly error: string}

/** Most workers whatever the core count (each is a V8 isolate with its own compiled scanner). */
export const MAX_WORKERS = 4

/** Default cap on bytes queued for or running in the pool: six messages of the 10 MiB maximum. */
export const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024

export interface ScanPoolOptions {
  readonly init: ScanWorkerInit
  /** Worker count; default cores − 1 (the event loop keeps one), 1..MAX_WORKERS. */
  readonly workers?: number
  readonly maxInFlightBytes?: number
  /** The worker module (default scan-worker.js beside this file). */
  readonly workerUrl?: URL
}

export interface ScanPoolStats {
  /** Threads alive now. */
  readonly workers: number
  /** Threads started so far (restarts included). */
  readonly started: number
  /** Threads that died with a job (each replaced on demand). */
  readonly crashed: number
  readonly queued: number
  readonly running: number
  readonly inFlightBytes: number
}

interface Pending {
  readonly job: ScanJob
  readonly bytes: number
  readonly resolve: (r: ScanReply) => void
  readonly reject: (e: Error) => void
}

interface Slot {
  readonly worker: Worker
  job: Pending | null
}

export class McpScanPool {
  private readonly size: number
  private readonly cap: number
  private readonly slots: Slot[] = []
  private readonly queue: Pending[] = []
  private nextId = 0
  private inFlight = 0
  private started = 0
  private crashed = 0
  private closed = false

  constructor(private readonly o: ScanPoolOptions) {
    this.size = Math.max(1, Math.min(MAX_WORKERS, o.workers ?? availableParallelism() - 1))
    this.cap = o.maxInFlightBytes ?? MAX_IN_FLIGHT_BYTES
  }

  /** Scans `raw` in a worker; rejects when the pool is over its byte cap, closed, or the worker fails. */
  scan(kind: ScanJob['kind'], raw: string, bytes: number): Promise<ScanReply> {
    if (this.closed) return Promise.reject(new Error('scan pool closed'))
    if (this.inFlight + bytes > this.cap) return Promise.reject(new Error(`scan pool full (${this.inFlight} of ${this.cap} bytes in flight)`))
    this.inFlight += bytes
    return new Promise<ScanReply>((resolve, reject) => {
      this.queue.push({job: {id: this.nextId++, kind, raw}, bytes, resolve, reject})
      this.dispatch()
    })
  }

  stats(): ScanPoolStats {
    return {
      workers: this.slots.length, started: this.started, crashed: this.crashed, queued: this.queue.length,
      running: this.slots.filter((s) => s.job !== null).length, inFlightBytes: this.inFlight,
    }
  }

  async close(): Promise<void> {
    this.closed = true
    const err = new Error('scan pool closed')
    for (const p of this.queue.splice(0)) this.settle(p, err)
    await Promise.all(this.slots.splice(0).map((s) => {
      if (s.job !== null) this.settle(s.job, err)
      s.job = null
      return s.worker.terminate()
    }))
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null)
      if (slot === undefined && this.slots.length < this.size) slot = this.spawn()
      if (slot === undefined) return
      const p = this.queue.shift()!
      slot.job = p
      slot.worker.ref()
      slot.worker.postMessage(p.job)
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.o.workerUrl ?? new URL('./scan-worker.js', import.meta.url), {workerData: this.o.init})
    // An idle pool never holds the process open (refs are taken per job).
    worker.unref()
    this.started++
    const slot: Slot = {worker, job: null}
    this.slots.push(slot)
    worker.on('message', (r: ScanReply) => {
      const p = slot.job
      if (p === null || p.job.id !== r.id) return
      slot.job = null
      worker.unref()
      this.settle(p, null, r)
      this.dispatch()
    })
    const died = (why: string): void => {
      const i = this.slots.indexOf(slot)
      if (i < 0) return
      this.slots.splice(i, 1)
      const p = slot.job
      slot.job = null
      if (p !== null) {
        this.crashed++
        this.settle(p, new Error(why))
      }
      // Jobs still queued get a fresh worker.
      if (!this.closed) this.dispatch()
    }
    worker.on('error', (e) => died(`scan worker failed: ${e.message}`))
    worker.on('exit', (code) => died(`scan worker exited (code ${code})`))
    return slot
  }

  private settle(p: Pending, err: Error | null, reply?: ScanReply): void {
    this.inFlight -= p.bytes
    if (err !== null) p.reject(err)
    else p.resolve(reply!)
  }
}
