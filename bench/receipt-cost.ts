import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {systemClock, uuidv7} from '../src/plugins/canonical/index.js'
import {FlightRecorder, ReceiptEmitter} from '../src/plugins/recorder/index.js'
import {generateKeyPair, pooledRandom, signBytes, type Ed25519KeyPair} from '../src/plugins/signing/index.js'

// `npm run bench -- receipt-cost [rounds]`: what one decision receipt costs the proxy's thread,
// in process (issue 9). CPU time per operation (process.cpuUsage), so a loaded machine inflates
// both rows alike; the rows alternate within one process, round by round:
// * Ed25519 signature of a 32-byte digest (node:crypto, the project's signer);
// * `ReceiptEmitter.emit` of an allowed /fetch decision into a flight recorder (checkpoints every
//   1,000 entries, as configured by default): the share of an emit that is not the signature.

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
  const digest = Buffer.alloc(32, 7)
  const sign: number[] = []
  const emit: number[] = []
  const emitter = await openEmitter(path.join(root, 'chain'), key)
  let i = 0
  const decision = (): {method: string; target: string; transport: string; verdict: string; requestId: string; sessionId: string} => ({
    method: 'GET', target: 'http://127.0.0.1:8080/page', transport: 'fetch', verdict: 'allow', requestId: `req-${i++}`, sessionId: '127.0.0.1',
  })
  cpuMicros(() => emitter.emit(decision()), 1_000) // warm the path before measuring
  for (let r = 0; r < rounds; r++) {
    sign.push(cpuMicros(() => signBytes(key, digest), OPS))
    emit.push(cpuMicros(() => emitter.emit(decision()), OPS))
  }
  emitter.close()
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const min = (xs: number[]): number => Math.min(...xs)
  const row = (measure: string, xs: number[]): Record<string, unknown> => ({measure, 'CPU per op': `median ${median(xs).toFixed(1)} µs, min ${min(xs).toFixed(1)}`})
  return [
    row(`Ed25519 sign, node:crypto (${rounds} alternating rounds of ${OPS})`, sign),
    row(`ReceiptEmitter.emit, one /fetch decision (failures: ${emitter.failures})`, emit),
    row('emit minus sign (median)', emit.map((e, k) => e - sign[k]!)),
    {measure: 'load average (1, 5, 15 min)', 'CPU per op': readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')},
  ]
}
