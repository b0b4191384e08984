import {Worker} from 'node:worker_threads'
import {PipelockError, type ErrorCode, type ErrorLocation} from '../errors/index.js'
import {deliverBatch, type CapturedEventSink, type EventBatch} from './shadow-event.js'

/** What the decode worker is started with (plain data). */
export interface DecodeRequest {
  files: readonly string[]
  chunkSize: number
  /** Events per batch posted, at least (a file's or the input's end posts what is left). */
  postEvents: number
  /** Batches posted and not yet taken, at most: bounds what the worker reads ahead. */
  inFlight: number
}

/** One message of the decode worker: a batch of events; the last is `done`, with the failure if any. */
export interface DecodeAnswer extends EventBatch {
  done: boolean
  error?: {code: ErrorCode; message: string; hint?: string; location?: ErrorLocation}
}

/**
 * `readCapturedEvents` with the reading, decoding and chain check on a worker thread (issue 18:
 * ≈ 40 % of the replay thread's CPU at 1M events — JSON parse, writer-layout check, entry SHA-256,
 * summary decode — runs beside the replay instead of on it). The sink gets the same events in the
 * same order, and the same PipelockError (code, message, hint, location) where the reading fails,
 * after the events before it; `afterChunk` is awaited after each batch, and the worker reads at
 * most `inFlight` batches ahead of it.
 */
export async function readCapturedEventsInWorker(files: readonly string[], sink: CapturedEventSink, tuning: Pick<DecodeRequest, 'postEvents' | 'inFlight'> = DECODE_TUNING): Promise<void> {
  const queue: DecodeAnswer[] = []
  let failure: PipelockError | undefined
  let waiting: (() => void) | undefined
  const worker = new Worker(new URL('./shadow-decode-worker.js', import.meta.url), {workerData: {files, chunkSize: sink.chunkSize, ...tuning} satisfies DecodeRequest})
  const wakeUp = (): void => {
    const w = waiting
    waiting = undefined
    w?.()
  }
  worker.on('message', (m: DecodeAnswer) => {
    queue.push(m)
    wakeUp()
  })
  // A PipelockError, so the capture reader's callers pass it on as they would the reader's own.
  worker.on('error', (e) => {
    failure ??= new PipelockError('INTERNAL', `learn shadow: decode worker: ${e.message}`)
    wakeUp()
  })
  worker.on('exit', (code) => {
    failure ??= new PipelockError('INTERNAL', `learn shadow: decode worker exited (code ${code})`)
    wakeUp()
  })
  try {
    for (;;) {
      while (queue.length === 0) {
        if (failure !== undefined) throw failure
        await new Promise<void>((resolve) => (waiting = resolve))
      }
      const m = queue.shift() as DecodeAnswer
      if (m.error !== undefined) throw new PipelockError(m.error.code, m.error.message, {...(m.error.hint === undefined ? {} : {hint: m.error.hint}), ...(m.error.location === undefined ? {} : {location: m.error.location})})
      deliverBatch(m, sink)
      if (m.bytes > 0) sink.onBytes(m.bytes)
      await sink.afterChunk()
      if (m.done) return
      worker.postMessage(0) // taken: the worker may read one more batch ahead
    }
  } finally {
    failure ??= new PipelockError('INTERNAL', 'learn shadow: decode worker closed')
    void worker.terminate()
  }
}

/** One batch per scan batch of the replay (its SCAN_BATCH_EVENTS), four ahead: ≈ 2,000 events, ≈ 2 MB. */
export const DECODE_TUNING: Pick<DecodeRequest, 'postEvents' | 'inFlight'> = {postEvents: 512, inFlight: 4}
