import {parentPort, workerData} from 'node:worker_threads'
import {readCaptureInputs} from '../capture/index.js'
import {PipelockError} from '../errors/index.js'
import type {DecodeAnswer, DecodeRequest} from './shadow-decode-thread.js'
import {addEntry, emptyBatch} from './shadow-event.js'

// Worker side of `readCapturedEventsInWorker` (shadow-decode-thread.ts): reads the capture files
// in order with the capture reader (decode, entry hash, chain check — the same code the calling
// thread would run), and posts their events in batches of at least `postEvents`, at most
// `inFlight` batches unacknowledged; a failure is posted in its place in the stream.

const req = workerData as DecodeRequest
const port = parentPort as NonNullable<typeof parentPort>
let unacked = 0
let wake: (() => void) | undefined
port.on('message', () => {
  unacked--
  wake?.()
})
let batch = emptyBatch()
const post = (last: boolean): void => {
  port.postMessage({...batch, done: last} satisfies DecodeAnswer)
  unacked++
  batch = emptyBatch()
}
try {
  await readCaptureInputs(
    req.files.map((name) => ({name})),
    {
      onEntry: (e) => addEntry(batch, e),
      onBytes: (n) => void (batch.bytes += n),
      chunkSize: req.chunkSize,
      afterChunk: async () => {
        if (batch.times.length < 2 * req.postEvents) return
        post(false)
        while (unacked >= req.inFlight) await new Promise<void>((resolve) => (wake = resolve))
      },
    },
  )
  post(true)
} catch (e) {
  const error: DecodeAnswer['error'] =
    e instanceof PipelockError ? {code: e.code, message: e.message, ...(e.hint === undefined ? {} : {hint: e.hint}), ...(e.location === undefined ? {} : {location: e.location})} : {code: 'INTERNAL', message: `learn shadow: decode worker: ${(e as Error).message}`}
  port.postMessage({...emptyBatch(), done: true, error} satisfies DecodeAnswer)
}
