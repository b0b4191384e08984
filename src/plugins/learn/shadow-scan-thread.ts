import {Worker} from 'node:worker_threads'
import {PipelockError} from '../errors/index.js'
import {bundledWorkerUrl} from '../workers/index.js'
import type {ScannerSettings} from '../scanner/index.js'
import type {ScannerReplayResult} from './shadow-scanner.js'

/** A request to the scan worker: URLs to scan with the replay settings, answered in order. */
export interface ScanRequest {
  id: number
  urls: string[]
}

/** The worker's answer: the results of `urls` in order, or why it could not scan them. */
export interface ScanAnswer {
  id: number
  results?: ScannerReplayResult[]
  error?: string
}

/**
 * The calling side of shadow-scan-worker.ts: one worker thread that scans batches of URLs with
 * the replay's scanner settings (plain data, cloned into the worker). The worker holds the event
 * loop open only while a batch is outstanding, so a caller that never calls `close` still exits.
 */
export class ScanWorker {
  private readonly worker: Worker
  private nextId = 0
  private readonly pending = new Map<number, {resolve: (r: ScannerReplayResult[]) => void; reject: (e: Error) => void}>()
  private failure: PipelockError | undefined

  constructor(settings: ScannerSettings) {
    this.worker = new Worker(bundledWorkerUrl(new URL('./shadow-scan-worker.js', import.meta.url)), {workerData: settings})
    this.worker.unref()
    this.worker.on('message', (m: ScanAnswer) => {
      const p = this.pending.get(m.id)
      if (p === undefined) return
      this.pending.delete(m.id)
      if (this.pending.size === 0) this.worker.unref()
      if (m.results !== undefined) p.resolve(m.results)
      else p.reject(new PipelockError('INTERNAL', `learn shadow: scan worker: ${m.error ?? 'no results'}`))
    })
    // A PipelockError, so the capture reader passes it on instead of blaming the file it was reading.
    this.worker.on('error', (e) => this.fail(new PipelockError('INTERNAL', `learn shadow: scan worker: ${e.message}`)))
    this.worker.on('exit', (code) => this.fail(new PipelockError('INTERNAL', `learn shadow: scan worker exited (code ${code})`)))
  }

  private fail(e: PipelockError): void {
    this.failure ??= e
    for (const p of this.pending.values()) p.reject(this.failure)
    this.pending.clear()
  }

  scan(urls: string[]): Promise<ScannerReplayResult[]> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref()
      this.pending.set(id, {resolve, reject})
      this.worker.postMessage({id, urls} satisfies ScanRequest)
    })
  }

  async close(): Promise<void> {
    this.failure ??= new PipelockError('INTERNAL', 'learn shadow: scan worker closed')
    await this.worker.terminate()
  }
}
