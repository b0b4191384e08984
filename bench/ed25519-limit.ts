import {spawnSync} from 'node:child_process'
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

export interface OpensslEd25519Rate {
  /** Processes `openssl speed -multi` ran (its figure is their sum). */
  processes: number
  seconds: number
  verificationsPerSecond: number
  signaturesPerSecond: number
  /** The `openssl version` line. */
  version: string
}

export interface OpensslEd25519CpuRate {
  /** Verifications one `openssl speed` process counted, and the user CPU seconds it reports for them. */
  verifications: number
  cpuSeconds: number
  /** verifications ÷ cpuSeconds: OpenSSL's Ed25519 verify rate per CPU second, whatever the machine's load. */
  verificationsPerCpuSecond: number
}

/**
 * `openssl speed -seconds S -multi P ed25519`: OpenSSL's own Ed25519 verifications per second on
 * P processes (its summary line sums them), the limit the issue reads. Undefined when no
 * `openssl` is on the PATH or its output has no Ed25519 line.
 */
export function opensslEd25519Rate(seconds = 3, processes = 2): OpensslEd25519Rate | undefined {
  const args = ['speed', '-seconds', String(seconds), ...(processes > 1 ? ['-multi', String(processes)] : []), 'ed25519']
  const r = spawnSync('openssl', args, {encoding: 'utf8', timeout: (seconds * 2 + 60) * 1000})
  if (r.error !== undefined || r.status !== 0) return undefined
  // `253 bits EdDSA (Ed25519)   0.0001s   0.0004s   7882.2   2330.4`: sign s, verify s, sign/s, verify/s.
  const m = /^\s*253 bits EdDSA \(Ed25519\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)\s*$/m.exec(r.stdout)
  if (m === null) return undefined
  const v = spawnSync('openssl', ['version'], {encoding: 'utf8'})
  return {processes, seconds, signaturesPerSecond: Number(m[1]), verificationsPerSecond: Number(m[2]), version: (v.stdout ?? '').trim()}
}

/**
 * `openssl speed -seconds S ed25519` in one process: without `-multi`, OpenSSL divides by the
 * user CPU time it spent (its `Doing … verify … in 0.91s` line), so the figure is per CPU second
 * and does not fall with the machine's load as the `-multi` (wall-clock) figure does. The verify
 * bench sets it beside the verifier's receipts per CPU second. Undefined without openssl.
 */
export function opensslEd25519CpuRate(seconds = 3): OpensslEd25519CpuRate | undefined {
  const r = spawnSync('openssl', ['speed', '-seconds', String(seconds), 'ed25519'], {encoding: 'utf8', timeout: (seconds * 2 + 60) * 1000})
  if (r.error !== undefined || r.status !== 0) return undefined
  // `Doing 253 bits verify Ed25519's for 3s: 11037 253 bits Ed25519 verify in 0.91s`
  const m = /verify Ed25519's for \d+s: (\d+) 253 bits Ed25519 verify in ([\d.]+)s/.exec(r.stdout + r.stderr)
  if (m === null || Number(m[2]) <= 0) return undefined
  const verifications = Number(m[1])
  const cpuSeconds = Number(m[2])
  return {verifications, cpuSeconds, verificationsPerCpuSecond: verifications / cpuSeconds}
}
