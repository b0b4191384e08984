import {Worker} from 'node:worker_threads'
import {verifyBytes} from '../signing/index.js'
import type {SignatureCheck} from './action-receipt.js'

// Ed25519 verification is half of the cost of verifying a chain. The chain verifier runs every
// other check in order on the main thread and hands the signatures to a worker in batches; the
// caller then learns the lowest index whose signature failed. Memory stays bounded: at most
// `maxInFlight` batches are outstanding, and the producer awaits when that many are.

const RECORD = 128

/** The first (lowest-index) signature that did not verify, with the label it was queued with. */
export interface SignatureFailure {
  index: number
  label: string
}

export interface SignatureChecks {
  /**
   * Queues the check of item `index`; `label` comes back with a failure (the chain verifier
   * passes the receipt's chain_seq). May await when too much work is outstanding.
   */
  add(index: number, check: SignatureCheck, label: string): Promise<void> | void
  /** The lowest failing index, or undefined when all queued signatures verified. */
  finish(): Promise<SignatureFailure | undefined>
}

/** Verifies on the calling thread (small inputs, or where threads are not wanted). */
export class InlineSignatureChecks implements SignatureChecks {
  private failed: SignatureFailure | undefined

  add(index: number, c: SignatureCheck, label: string): void {
    if (this.failed === undefined && !verifyBytes(c.publicKey, c.digest, c.signature)) this.failed = {index, label}
  }

  async finish(): Promise<SignatureFailure | undefined> {
    return this.failed
  }
}

/**
 * Inline for the first `threshold` signatures (a worker costs more than it saves on a short
 * chain), then on a worker thread.
 */
export class AdaptiveSignatureChecks implements SignatureChecks {
  private readonly inline = new InlineSignatureChecks()
  private parallel: ParallelSignatureChecks | undefined
  private count = 0

  constructor(private readonly threshold = 4096) {}

  add(index: number, c: SignatureCheck, label: string): Promise<void> | void {
    if (this.count++ < this.threshold) return this.inline.add(index, c, label)
    this.parallel ??= new ParallelSignatureChecks()
    return this.parallel.add(index, c, label)
  }

  async finish(): Promise<SignatureFailure | undefined> {
    const a = await this.inline.finish()
    const b = this.parallel === undefined ? undefined : await this.parallel.finish()
    return a ?? b
  }
}

export class ParallelSignatureChecks implements SignatureChecks {
  private readonly worker: Worker
  private buffer = new Uint8Array(0)
  private indexes: number[] = []
  private labels: string[] = []
  private nextId = 0
  // Only outstanding batches are remembered: memory is bounded by maxInFlight × batchSize.
  private readonly pending = new Map<number, {indexes: number[]; labels: string[]}>()
  private readonly waiters: (() => void)[] = []
  private failed: SignatureFailure | undefined
  private error: Error | undefined

  constructor(
    private readonly batchSize = 512,
    private readonly maxInFlight = 8,
  ) {
    this.worker = new Worker(new URL('./signature-worker.js', import.meta.url))
    this.worker.on('message', (m: {id: number; failed: number}) => {
      const p = this.pending.get(m.id)
      if (p === undefined) return
      this.pending.delete(m.id)
      if (m.failed >= 0) {
        const index = p.indexes[m.failed] as number
        if (this.failed === undefined || index < this.failed.index) this.failed = {index, label: p.labels[m.failed] as string}
      }
      this.waiters.shift()?.()
    })
    this.worker.on('error', (e) => {
      this.error = e
      for (const w of this.waiters.splice(0)) w()
    })
  }

  async add(index: number, c: SignatureCheck, label: string): Promise<void> {
    if (this.indexes.length === 0) this.buffer = new Uint8Array(this.batchSize * RECORD)
    const o = this.indexes.length * RECORD
    this.buffer.set(c.publicKey, o)
    this.buffer.set(c.digest, o + 32)
    this.buffer.set(c.signature, o + 64)
    this.indexes.push(index)
    this.labels.push(label)
    if (this.indexes.length === this.batchSize) await this.flush()
  }

  private async flush(final = false): Promise<void> {
    if (this.indexes.length === 0) return
    if (this.error !== undefined) throw this.error
    if (!final && this.pending.size >= this.maxInFlight) {
      // The worker is behind: verify this batch here instead of waiting, so both cores work
      // (the calling thread's parsing alone cannot keep up with one core of Ed25519).
      this.verifyInline()
      return
    }
    const id = this.nextId++
    const indexes = this.indexes
    const labels = this.labels
    const buffer = this.buffer.buffer as ArrayBuffer
    this.indexes = []
    this.labels = []
    this.buffer = new Uint8Array(0)
    this.pending.set(id, {indexes, labels})
    this.worker.postMessage({id, buffer, count: indexes.length}, [buffer])
  }

  private verifyInline(): void {
    for (let i = 0; i < this.indexes.length; i++) {
      const o = i * RECORD
      const b = this.buffer
      if (!verifyBytes(b.subarray(o, o + 32), b.subarray(o + 32, o + 64), b.subarray(o + 64, o + 128))) {
        const index = this.indexes[i] as number
        if (this.failed === undefined || index < this.failed.index) this.failed = {index, label: this.labels[i] as string}
        break
      }
    }
    this.indexes = []
    this.labels = []
    this.buffer = new Uint8Array(0)
  }

  async finish(): Promise<SignatureFailure | undefined> {
    try {
      await this.flush(true)
      while (this.pending.size > 0 && this.error === undefined) {
        await new Promise<void>((resolve) => this.waiters.push(resolve))
      }
      if (this.error !== undefined) throw this.error
      return this.failed
    } finally {
      await this.worker.terminate()
    }
  }
}
