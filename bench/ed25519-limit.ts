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
  for (let i = 0; i < workerData.count; i++) if (verify(null, msgs[i & 255], publicKey, sigs[i & 255])) ok++
  parentPort.postMessage({ok})
})
parentPort.postMessage('ready')
`

export interface Ed25519Rate {
  threads: number
  verificationsPerSecond: number
  /** CPU time of one verification (this process's CPU over the timed part ÷ verifications), in µs. */
  cpuMicrosPerVerification: number
}

/**
 * Runs `count` verifications on each of `threads` workers started together: the rate is over the
 * wall time of the slowest, the CPU time is this process's (all threads; the caller is idle).
 */
export async function bareEd25519Rate(threads: number, count = 20_000): Promise<Ed25519Rate> {
  const workers = Array.from({length: threads}, () => new Worker(WORKER, {eval: true, workerData: {count}}))
  try {
    await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.once('message', () => resolve()))))
    const cpu0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    const results = await Promise.all(
      workers.map((w) => {
        const done = new Promise<{ok: number}>((resolve) => w.once('message', resolve))
        w.postMessage('go')
        return done
      }),
    )
    const wallNs = Number(process.hrtime.bigint() - t0)
    const cpu = process.cpuUsage(cpu0)
    const ok = results.reduce((s, r) => s + r.ok, 0)
    if (ok !== threads * count) throw new Error(`bare Ed25519: ${threads * count - ok} verifications failed`)
    return {threads, verificationsPerSecond: (threads * count) / (wallNs / 1e9), cpuMicrosPerVerification: (cpu.user + cpu.system) / (threads * count)}
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
}
