/**
 * The thread side of a `WorkerPool`: a worker module calls `serveJobs` with its handler factory.
 * The handler is built once from the thread's `workerData` (a scanner is compiled once per
 * thread), then answers each job in order; what it throws is answered as the job's error, so the
 * caller fails closed with the reason instead of waiting for a thread that is still alive.
 */
import {parentPort, workerData} from 'node:worker_threads'
import type {JobEnvelope, ReplyEnvelope} from './pool.js'

export function serveJobs<Init, Job, Reply>(handlerFor: (init: Init) => (job: Job) => Reply): void {
  const port = parentPort
  if (port === null) throw new Error('serveJobs runs in a worker thread')
  const handle = handlerFor(workerData as Init)
  port.on('message', ({id, job}: JobEnvelope<Job>) => {
    let out: ReplyEnvelope<Reply>
    try {
      out = {id, reply: handle(job)}
    } catch (e) {
      out = {id, error: (e as Error).message}
    }
    port.postMessage(out)
  })
}
