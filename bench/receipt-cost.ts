import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {systemClock, uuidv7} from '../src/plugins/canonical/index.js'
import {FlightRecorder, ReceiptEmitter} from '../src/plugins/recorder/index.js'
import {generateKeyPair, pooledRandom, signBackend, signBytes, signWithNodeCrypto, type Ed25519KeyPair} from '../src/plugins/signing/index.js'

// `npm run bench -- receipt-cost [rounds]`: what one decision receipt costs the proxy's thread,
// in process (issue 9). CPU time per operation (process.cpuUsage), so a loaded machine inflates
// both arms alike; the arms alternate within one process, round by round:
// * Ed25519 signature of a 32-byte digest: node:crypto (the previous signer) vs libsodium;
// * `ReceiptEmitter.emit` of an allowed /fetch decision into a flight recorder (checkpoints every
//   1,000 entries, as configured by default), the emitter's key signing with node:crypto vs
//   libsodium: the same receipts, byte for byte (fast-sign tests), one chain per arm.

const OPS = 5_000

function cpuMicros(f: () => void, n: number): number {
  const t0 = process.cpuUsage()
  for (let i = 0; i < n; i++) f()
  const u = process.cpuUsage(t0)
  return (u.user + u.system) / n
}

async function openEmitter(dir: string, keyPair: Ed25519KeyPair): Promise<ReceiptEmitter> {
  const random = pooledRandom()
  const recorder = await FlightRecorder.open({dir, checkpointInterval: 1_000, clock: systemClock})
  return await ReceiptEmitter.open({
    recorder,
    dir,
    keyPair,
    principal: 'host:bench',
    actor: 'pipelock',
    policyHash: 'sha256:' + '6'.repeat(64),
    clock: systemClock,
    newId: () => uuidv7(systemClock.nowNanos(), random),
    run: {runNonce: '0'.repeat(32), openNonce: '1'.repeat(32), signerKeyEpoch: keyPair.publicKey.toString('hex').slice(0, 16), heartbeatSeconds: 30},
  })
}

export async function runReceiptCostBench(args: string[] = []): Promise<Record<string, unknown>[]> {
  const rounds = Number(args[0] ?? 7)
  const root = mkdtempSync(path.join(tmpdir(), 'pl-bench-rc-'))
  const key = generateKeyPair()
  // The old signer: node:crypto bound to the key (what signBytes did before fast-sign.ts).
  const oldKey: Ed25519KeyPair = {...key, signer: (m) => signWithNodeCrypto(key, m)}
  const newKey: Ed25519KeyPair = {...key, signer: undefined}
  const digest = Buffer.alloc(32, 7)
  const arms = {
    oldSign: [] as number[],
    newSign: [] as number[],
    oldEmit: [] as number[],
    newEmit: [] as number[],
  }
  const oldEmitter = await openEmitter(path.join(root, 'old'), oldKey)
  const newEmitter = await openEmitter(path.join(root, 'new'), newKey)
  let i = 0
  const decision = (): {method: string; target: string; transport: string; verdict: string; requestId: string; sessionId: string} => ({
    method: 'GET', target: 'http://127.0.0.1:8080/page', transport: 'fetch', verdict: 'allow', requestId: `req-${i++}`, sessionId: '127.0.0.1',
  })
  // Warm both paths before measuring.
  cpuMicros(() => oldEmitter.emit(decision()), 1_000)
  cpuMicros(() => newEmitter.emit(decision()), 1_000)
  for (let r = 0; r < rounds; r++) {
    arms.oldSign.push(cpuMicros(() => signBytes(oldKey, digest), OPS))
    arms.newSign.push(cpuMicros(() => signBytes(newKey, digest), OPS))
    arms.oldEmit.push(cpuMicros(() => oldEmitter.emit(decision()), OPS))
    arms.newEmit.push(cpuMicros(() => newEmitter.emit(decision()), OPS))
  }
  oldEmitter.close()
  newEmitter.close()
  const failures = oldEmitter.failures + newEmitter.failures
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const min = (xs: number[]): number => Math.min(...xs)
  const row = (measure: string, a: number[], b: number[]): Record<string, unknown> => ({
    measure,
    'node:crypto (before)': `median ${median(a).toFixed(1)} µs, min ${min(a).toFixed(1)}`,
    [`${signBackend()} (after)`]: `median ${median(b).toFixed(1)} µs, min ${min(b).toFixed(1)}`,
    'after/before': `×${(median(b) / median(a)).toFixed(2)}`,
  })
  return [
    row(`Ed25519 sign (CPU per op, ${rounds} alternating rounds of ${OPS})`, arms.oldSign, arms.newSign),
    row(`ReceiptEmitter.emit, one /fetch decision (failures: ${failures})`, arms.oldEmit, arms.newEmit),
    {measure: 'load average (1, 5, 15 min)', 'node:crypto (before)': readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '), [`${signBackend()} (after)`]: '', 'after/before': ''},
  ]
}
