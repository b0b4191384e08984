import {Worker} from 'node:worker_threads'

// The physical limit of a receipt verifier on this machine: bare node:crypto Ed25519
// verifications per second on `threads` worker threads at once (no parsing, no hashing, no
// messages between threads during the timed part). The verify bench prints it beside the
// verifier's receipts/s, measured in the same run, so the ratio says how close the verifier is.

const WORKER = `
const {parentPort, workerData} = require('node:worker_threads')
const {generateKeyPairSync, sign, verify, randomBytes} = require('node:crypto')
const {privateKey, publicKey} = generateKeyPairSync('ed25519')
const msgs = [], sigs = []
for (let i = 0; i < 256; i++) { const m = randomBytes(32); msgs.push(m); sigs.push(sign(null, m, privateKey)) }
parentPort.once('message', () => {
  let ok = 0
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < workerData.count; i++) if (verify(null, msgs[i & 255], publicKey, sigs[i & 255])) ok++
  parentPort.postMessage({ok, ns: Number(process.hrtime.bigint() - t0)})
})
parentPort.postMessage('ready')
`

export interface Ed25519Rate {
  threads: number
  verificationsPerSecond: number
  /** Mean wall time of one verification on one thread, in µs. */
  microsPerVerification: number
}

/** Runs `count` verifications on each of `threads` workers started together; wall time of the slowest. */
export async function bareEd25519Rate(threads: number, count = 20_000): Promise<Ed25519Rate> {
  const workers = Array.from({length: threads}, () => new Worker(WORKER, {eval: true, workerData: {count}}))
  try {
    await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.once('message', () => resolve()))))
    const t0 = process.hrtime.bigint()
    const results = await Promise.all(
      workers.map((w) => {
        const done = new Promise<{ok: number; ns: number}>((resolve) => w.once('message', resolve))
        w.postMessage('go')
        return done
      }),
    )
    const wallNs = Number(process.hrtime.bigint() - t0)
    const ok = results.reduce((s, r) => s + r.ok, 0)
    if (ok !== threads * count) throw new Error(`bare Ed25519: ${threads * count - ok} verifications failed`)
    const perThreadNs = results.reduce((s, r) => s + r.ns, 0) / threads
    return {threads, verificationsPerSecond: (threads * count) / (wallNs / 1e9), microsPerVerification: perThreadNs / count / 1000}
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
}
