/**
 * A pool of worker threads that run jobs off the event loop (the content scans of large MCP
 * messages and HTTP bodies: spec mcp.md §18.4, runtime.md §22.2 — one multi-MiB scan must not
 * stall every other connection's I/O). Threads start on the first job (a process that only sees
 * small messages starts none), one job per thread at a time, at most `workers` threads. A thread
 * that dies fails its job (the caller fails closed) and is replaced on the next job. Bytes queued
 * or running are capped: past the cap a job fails at once instead of piling up (a caller may ask
 * `hasRoom` first), except that an idle pool takes any one job, however large. A retired pool
 * (its config was replaced by a reload) ends its threads whenever it is idle; a closed one
 * refuses every job.
 */
import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'
import {bundledWorkerUrl} from './bundled.js'

/** Most threads whatever the core count (each is a V8 isolate with its own compiled scanner). */
export const MAX_WORKERS = 4

/** Default cap on bytes queued for or running in a pool: six messages of the 10 MiB maximum. */
export const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024

/** What the pool posts to a thread (`serveJobs` reads it): the pool numbers the jobs. */
export interface JobEnvelope<Job> {
  readonly id: number
  readonly job: Job
}

/** A thread's answer to one job: its reply, or the message of what it threw. */
export type ReplyEnvelope<Reply> = {readonly id: number; readonly reply: Reply} | {readonly id: number; readonly error: string}

export interface WorkerPoolOptions<Init> {
  /** The worker module: it calls `serveJobs` with its handler factory. */
  readonly workerUrl: URL
  /** Cloned into each thread as its `workerData`, once at its start. */
  readonly init: Init
  /** Thread count; default cores − 1 (the event loop keeps one), 1..MAX_WORKERS. */
  readonly workers?: number
  readonly maxInFlightBytes?: number
  /** What the pool's errors call it: `<label> worker exited (code 3)`, `<label> pool full (…)`. Default `scan`. */
  readonly label?: string
}

export interface WorkerPoolStats {
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

interface Pending<Job, Reply> {
  readonly envelope: JobEnvelope<Job>
  readonly bytes: number
  readonly resolve: (r: Reply) => void
  readonly reject: (e: Error) => void
}

interface Slot<Job, Reply> {
  readonly worker: Worker
  job: Pending<Job, Reply> | null
}

export class WorkerPool<Job, Reply, Init> {
  private readonly size: number
  private readonly cap: number
  private readonly label: string
  private readonly slots: Array<Slot<Job, Reply>> = []
  private readonly queue: Array<Pending<Job, Reply>> = []
  private nextId = 0
  private inFlight = 0
  private started = 0
  private crashed = 0
  private retired = false
  private closed = false

  constructor(private readonly o: WorkerPoolOptions<Init>) {
    this.size = Math.max(1, Math.min(MAX_WORKERS, o.workers ?? availableParallelism() - 1))
    this.cap = o.maxInFlightBytes ?? MAX_IN_FLIGHT_BYTES
    this.label = o.label ?? 'scan'
  }

  /** Runs `job` (`bytes` counted against the cap) on a thread; rejects when over the cap, closed, or its thread fails. */
  run(job: Job, bytes: number): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error(`${this.label} pool closed`))
    if (!this.hasRoom(bytes)) return Promise.reject(new Error(`${this.label} pool full (${this.inFlight} of ${this.cap} bytes in flight)`))
    this.inFlight += bytes
    return new Promise<Reply>((resolve, reject) => {
      this.queue.push({envelope: {id: this.nextId++, job}, bytes, resolve, reject})
      this.dispatch()
    })
  }

  /**
   * Whether `run` would take a job of `bytes` now: within the cap, or the pool idle (a job larger
   * than the cap alone — a body under a `max_body_bytes` above it — is run, not refused forever).
   */
  hasRoom(bytes: number): boolean {
    return !this.closed && (this.inFlight === 0 || this.inFlight + bytes <= this.cap)
  }

  stats(): WorkerPoolStats {
    return {
      workers: this.slots.length, started: this.started, crashed: this.crashed, queued: this.queue.length,
      running: this.slots.filter((s) => s.job !== null).length, inFlightBytes: this.inFlight,
    }
  }

  /**
   * A reload replaced the config this pool was started with: its threads end once the jobs
   * queued or running are answered, and again after any later job (a request that began under
   * the old config still scans with it).
   */
  retire(): void {
    this.retired = true
    this.endIfIdle()
  }

  /** Refuses every later job, fails those queued or running, and ends the threads. */
  async close(): Promise<void> {
    this.closed = true
    const err = new Error(`${this.label} pool closed`)
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
      slot.worker.postMessage(p.envelope)
    }
  }

  private spawn(): Slot<Job, Reply> {
    const worker = new Worker(bundledWorkerUrl(this.o.workerUrl), {workerData: this.o.init})
    // An idle pool never holds the process open (a ref is taken per job).
    worker.unref()
    this.started++
    const slot: Slot<Job, Reply> = {worker, job: null}
    this.slots.push(slot)
    worker.on('message', (r: ReplyEnvelope<Reply>) => {
      const p = slot.job
      if (p === null || p.envelope.id !== r.id) return
      slot.job = null
      worker.unref()
      this.settle(p, 'error' in r ? new Error(r.error) : null, 'error' in r ? undefined : r.reply)
      this.dispatch()
      this.endIfIdle()
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
      // Jobs still queued get a fresh thread.
      if (!this.closed) this.dispatch()
    }
    worker.on('error', (e) => died(`${this.label} worker failed: ${e.message}`))
    worker.on('exit', (code) => died(`${this.label} worker exited (code ${code})`))
    return slot
  }

  /** A retired pool's threads end as soon as nothing is queued or running (the next job starts one again). */
  private endIfIdle(): void {
    if (!this.retired || this.queue.length > 0 || this.slots.some((s) => s.job !== null)) return
    for (const s of this.slots.splice(0)) void s.worker.terminate()
  }

  private settle(p: Pending<Job, Reply>, err: Error | null, reply?: Reply): void {
    this.inFlight -= p.bytes
    if (err !== null) p.reject(err)
    else p.resolve(reply as Reply)
  }
}
