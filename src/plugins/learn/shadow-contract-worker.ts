import {parentPort, workerData} from 'node:worker_threads'
import {PipelockError} from '../errors/index.js'
import {loadEd25519Arithmetic} from '../signing/index.js'
import type {ContractLoadAnswer, ContractLoadRequest} from './shadow-contract-thread.js'
import {loadShadowCandidate} from './shadow-service.js'

// Worker side of `loadShadowCandidateInWorker` (shadow-contract-thread.ts): loads and verifies the
// contract into its compact form, as the calling thread would, and answers once: the contract
// (structured-cloned plain data), or the PipelockError it failed with (code, message, hint,
// location). Anything else — another error, a form that does not survive the clone — answers
// `retry`, and the calling thread loads the contract itself, which then decides.

const req = workerData as ContractLoadRequest
let answer: ContractLoadAnswer
try {
  // The signature is then checked as the rules pass (shadow-service.ts `loadVerifyingAsRead`).
  await loadEd25519Arithmetic()
  const contract = loadShadowCandidate({...req, warn: () => {}})
  answer = plainData(contract) ? {contract} : {retry: true}
} catch (e) {
  answer = e instanceof PipelockError ? {error: {code: e.code, message: e.message, ...(e.hint === undefined ? {} : {hint: e.hint}), ...(e.location === undefined ? {} : {location: e.location})}} : {retry: true}
}
parentPort?.postMessage(answer)

/** Whether `v` is made of what a structured clone keeps as it is: primitives, plain objects, arrays, Maps, plain typed arrays (no class instances such as a Buffer, functions or symbols). */
function plainData(v: unknown, seen = new Set<object>()): boolean {
  if (typeof v === 'function' || typeof v === 'symbol') return false
  if (v === null || typeof v !== 'object') return true
  if (ArrayBuffer.isView(v)) {
    const proto: unknown = Object.getPrototypeOf(v)
    return proto === Uint8Array.prototype || proto === Uint32Array.prototype || proto === Float64Array.prototype
  }
  if (seen.has(v)) return true
  seen.add(v)
  if (v instanceof Map) {
    for (const [k, x] of v) if (!plainData(k, seen) || !plainData(x, seen)) return false
    return true
  }
  const proto: unknown = Object.getPrototypeOf(v)
  if (Array.isArray(v)) return proto === Array.prototype && v.every((x) => plainData(x, seen))
  if (proto !== Object.prototype && proto !== null) return false
  return Object.values(v).every((x) => plainData(x, seen))
}
