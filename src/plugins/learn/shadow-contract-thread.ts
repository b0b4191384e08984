import {Worker} from 'node:worker_threads'
import {PipelockError, type ErrorCode, type ErrorLocation} from '../errors/index.js'
import {bundledWorkerUrl} from '../workers/index.js'
import type {ShadowContract, ShadowRequest} from './shadow-service.js'

/** What the contract worker is started with (plain data). */
export type ContractLoadRequest = Pick<ShadowRequest, 'contract' | 'contractKey' | 'allowUnsignedForDiagnostics' | 'keystore'>

/** The contract worker's one answer. */
export interface ContractLoadAnswer {
  contract?: ShadowContract
  error?: {code: ErrorCode; message: string; hint?: string; location?: ErrorLocation}
  /** The worker could not answer for the calling thread: load it there. */
  retry?: true
}

/**
 * Loads the contract on a worker thread (bench: shadow; the 2–3 s load of a 27k-rule contract then
 * runs beside the replay's first reads instead of before them). The answer is the one
 * `loadShadowCandidate` gives on this thread: the same compact contract (plain data, cloned), or
 * the same PipelockError (code, message, hint, location). `fallback` (the load on this thread)
 * decides whenever the worker cannot: it fails to start or crashes, throws anything else, or
 * builds a form a structured clone would change.
 */
export function loadShadowCandidateInWorker(req: ContractLoadRequest, fallback: () => ShadowContract): Promise<ShadowContract> {
  return new Promise<ContractLoadAnswer>((resolve) => {
    let answered = false
    const worker = new Worker(bundledWorkerUrl(new URL('./shadow-contract-worker.js', import.meta.url)), {workerData: {contract: req.contract, contractKey: req.contractKey, allowUnsignedForDiagnostics: req.allowUnsignedForDiagnostics, keystore: req.keystore} satisfies ContractLoadRequest})
    const done = (a: ContractLoadAnswer): void => {
      if (answered) return
      answered = true
      resolve(a)
      void worker.terminate()
    }
    worker.once('message', done)
    worker.once('error', () => done({retry: true}))
    worker.once('exit', () => done({retry: true}))
  }).then((a) => {
    if (a.contract !== undefined) return a.contract
    if (a.error !== undefined) throw new PipelockError(a.error.code, a.error.message, {...(a.error.hint === undefined ? {} : {hint: a.error.hint}), ...(a.error.location === undefined ? {} : {location: a.error.location})})
    return fallback()
  })
}
