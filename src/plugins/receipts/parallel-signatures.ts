import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'
import {VERIFY_WORKER_URL, verifyBytes} from '../signing/index.js'
import {bundledWorkerUrl} from '../workers/index.js'
import type {SignatureCheck} from './action-receipt.js'

// Ed25519 verification is most of the cost of verifying a chain (~110 µs of ~140 µs per receipt
// on the reference machine). The chain verifier runs every other check in order on the main
// thread and hands the signatures to a pool of workers in batches; the caller then learns the
// lowest index whose signature failed. Memory stays bounded: at most `maxInFlight` batches per
// worker are outstanding, and the producer awaits when every worker has that many.

const RECORD = 128

/** The first (lowest-index) signature that did not verify, with the label (and place) it was queued with. */
export interface SignatureFailure {
  index: number
  label: string
  place?: number
}

export interface SignatureChecks {
  /**
   * Queues the check of item `index`; `label` and `place` come back with a failure (the chain
   * verifier passes the receipt's chain_seq and its item's place). May await when too much work
   * is outstanding.
   */
  add(index: number, check: SignatureCheck, label: string, place?: number): Promise<void> | undefined
  /** The lowest failing index, or undefined when all queued signatures verified. */
  finish(): Promise<SignatureFailure | undefined>
}

/** Verifies on the calling thread (small inputs, or where threads are not wanted). */
export class InlineSignatureChecks implements SignatureChecks {
  private failed: SignatureFailure | undefined

  add(index: number, c: SignatureCheck, label: string, place?: number): undefined {
    if (this.failed === undefined && !verifyBytes(c.publicKey, c.digest, c.signature)) this.failed = failure(index, label, place)
  }

  async finish(): Promise<SignatureFailure | undefined> {
    return this.failed
  }
}

/**
 * Inline for the first `threshold` signatures (starting workers costs more than it saves on a
 * short chain), then on a pool of worker threads.
 */
export class AdaptiveSignatureChecks implements SignatureChecks {
  private readonly inline = new InlineSignatureChecks()
  private parallel: ParallelSignatureChecks | undefined
  private count = 0

  constructor(
    private readonly threshold = 1024,
    private readonly pool: PoolOptions = {},
  ) {}

  add(index: number, c: SignatureCheck, label: string, place?: number): Promise<void> | undefined {
    if (this.count++ < this.threshold) return this.inline.add(index, c, label, place)
    this.parallel ??= new ParallelSignatureChecks(this.pool)
    return this.parallel.add(index, c, label, place)
  }

  async finish(): Promise<SignatureFailure | undefined> {
    const a = await this.inline.finish()
    const b = this.parallel === undefined ? undefined : await this.parallel.finish()
    return a ?? b
  }
}

export interface PoolOptions {
  /** Worker threads (default: one per core the process may use). */
  workers?: number
  /** Signatures per message to a worker. */
  batchSize?: number
  /** Batches a worker may hold (running + queued); the producer awaits when every worker is full. */
  maxInFlight?: number
}

interface PoolWorker {
  worker: Worker
  /** Outstanding batches in the order they were posted (a worker answers in order). */
  pending: {indexes: number[]; labels: string[]; places: (number | undefined)[]}[]
}

function failure(index: number, label: string, place: number | undefined): SignatureFailure {
  return place === undefined ? {index, label} : {index, label, place}
}

/**
 * Ed25519 checks on one worker per core. The calling thread keeps the parsing, hashing and
 * chain rules, and the workers all of the verifications: with W cores, W + 1 busy threads keep
 * every core working (the OS shares them) without the caller ever verifying itself, so the
 * tail at the end is at most `maxInFlight` batches per worker, run in parallel. Memory is
 * bounded by workers × maxInFlight × batchSize × 128 bytes; the producer awaits (backpressure)
 * while every worker is full.
 */
export class ParallelSignatureChecks implements SignatureChecks {
  private readonly workers: PoolWorker[]
  private readonly batchSize: number
  private readonly maxInFlight: number
  private buffer = new Uint8Array(0)
  private indexes: number[] = []
  private labels: string[] = []
  private places: (number | undefined)[] = []
  private readonly waiters: (() => void)[] = []
  private failed: SignatureFailure | undefined
  private error: Error | undefined

  constructor(options: PoolOptions = {}) {
    const count = Math.max(1, options.workers ?? availableParallelism())
    this.batchSize = options.batchSize ?? 256
    this.maxInFlight = options.maxInFlight ?? 2
    this.workers = Array.from({length: count}, () => this.startWorker())
  }

  private startWorker(): PoolWorker {
    // A worker allocates one small message per batch: a 1 MiB young generation is plenty, and
    // each MiB of it is resident memory per core.
    const w: PoolWorker = {worker: new Worker(bundledWorkerUrl(VERIFY_WORKER_URL), {resourceLimits: {maxYoungGenerationSizeMb: 1}}), pending: []}
    w.worker.on('message', (failedAt: number) => {
      const p = w.pending.shift()
      if (p === undefined) return
      if (failedAt >= 0) {
        const index = p.indexes[failedAt] as number
        if (this.failed === undefined || index < this.failed.index) this.failed = failure(index, p.labels[failedAt] as string, p.places[failedAt])
      }
      this.waiters.shift()?.()
    })
    w.worker.on('error', (e) => {
      this.error = e
      for (const wake of this.waiters.splice(0)) wake()
    })
    return w
  }

  add(index: number, c: SignatureCheck, label: string, place?: number): Promise<void> | undefined {
    if (this.indexes.length === 0) this.buffer = new Uint8Array(this.batchSize * RECORD)
    const o = this.indexes.length * RECORD
    this.buffer.set(c.publicKey, o)
    this.buffer.set(c.digest, o + 32)
    this.buffer.set(c.signature, o + 64)
    this.indexes.push(index)
    this.labels.push(label)
    this.places.push(place)
    return this.indexes.length === this.batchSize ? this.flush() : undefined
  }

  /** The worker with the fewest outstanding batches. */
  private leastBusy(): PoolWorker {
    let best = this.workers[0] as PoolWorker
    for (const w of this.workers) if (w.pending.length < best.pending.length) best = w
    return best
  }

  private async flush(): Promise<void> {
    if (this.indexes.length === 0) return
    let target = this.leastBusy()
    while (this.error === undefined && target.pending.length >= this.maxInFlight) {
      await new Promise<void>((resolve) => this.waiters.push(resolve))
      target = this.leastBusy()
    }
    if (this.error !== undefined) throw this.error
    const buffer = this.buffer.buffer as ArrayBuffer
    target.pending.push({indexes: this.indexes, labels: this.labels, places: this.places})
    target.worker.postMessage({buffer, count: this.indexes.length}, [buffer])
    this.indexes = []
    this.labels = []
    this.places = []
    this.buffer = new Uint8Array(0)
  }

  private outstanding(): number {
    let n = 0
    for (const w of this.workers) n += w.pending.length
    return n
  }

  async finish(): Promise<SignatureFailure | undefined> {
    try {
      await this.flush()
      while (this.outstanding() > 0 && this.error === undefined) {
        await new Promise<void>((resolve) => this.waiters.push(resolve))
      }
      if (this.error !== undefined) throw this.error
      return this.failed
    } finally {
      await Promise.all(this.workers.map((w) => w.worker.terminate()))
    }
  }
}
