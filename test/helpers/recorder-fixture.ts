import {rmSync} from 'node:fs'
import path from 'node:path'
import {FlightRecorder, ReceiptEmitter, type DecisionReceiptFields} from '../../src/plugins/recorder/index.js'
import type {Clock} from '../../src/plugins/canonical/index.js'
import type {Ed25519KeyPair} from '../../src/plugins/signing/index.js'

// One process run of `pipelock run`'s evidence path (flight recorder + receipt emitter) in a
// test: opens the recorder in `dir`, emits the decisions, and closes the run unless `crash`.

export interface RecorderRun {
  dir: string
  key: Ed25519KeyPair
  clock: Clock
  run: number
  decisions: DecisionReceiptFields[]
  crash?: boolean
  maxEntriesPerFile?: number
  checkpointInterval?: number
  /** The config hash the run's receipts carry (a reload or restart under another config changes it). */
  policyHash?: string
}

export async function recordRun(r: RecorderRun): Promise<void> {
  const recorder = await FlightRecorder.open({
    dir: r.dir,
    clock: r.clock,
    checkpointKey: r.key,
    ...(r.maxEntriesPerFile === undefined ? {} : {maxEntriesPerFile: r.maxEntriesPerFile}),
    ...(r.checkpointInterval === undefined ? {} : {checkpointInterval: r.checkpointInterval}),
  })
  let id = 0
  const emitter = await ReceiptEmitter.open({
    recorder,
    dir: r.dir,
    keyPair: r.key,
    principal: 'org:test',
    actor: 'agent:test',
    policyHash: r.policyHash ?? 'sha256:' + 'ab'.repeat(32),
    clock: r.clock,
    newId: () => `act-${r.run}-${id++}`,
    run: {runNonce: `run-${r.run}`, openNonce: `open-${r.run}`, signerKeyEpoch: '1', heartbeatSeconds: 30},
  })
  for (const d of r.decisions) emitter.emit(d)
  // a killed process writes nothing more: no session_close, no closing checkpoint
  if (r.crash !== true) emitter.close()
  // A killed process leaves its writer lock naming a pid that no longer exists, which the next
  // start takes over; this "process" lives on, so its lock goes with the simulated death.
  else rmSync(path.join(r.dir, `.${recorder.sessionId}.writer.lock`), {force: true})
}

/** A clock that advances `stepNs` on every reading. */
export function steppingClock(startNs: bigint, stepNs: bigint): Clock {
  let tick = 0n
  return {nowNanos: () => startNs + tick++ * stepNs}
}
