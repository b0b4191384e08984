import {hostname} from 'node:os'
import {fixedClock, formatGoTime, fromEpochNanos, goJson, fromPlain, systemClock, uuidv7, type Clock} from '../canonical/index.js'
import type {PipelockConfig} from '../config/index.js'
import {PipelockError, shellWord} from '../errors/index.js'
import {EvidenceEmitter, expireRecorderFiles, FlightRecorder, ReceiptEmitter, type ResumeState, type RetentionResult, scanRecorderTails, type WriteHealthChange} from '../recorder/index.js'
import {fingerprint, loadPrivateKeyTextFile, pooledRandom, type Ed25519KeyPair} from '../signing/index.js'
import {isToolCall, type AirlockEvidence, type Decision, type DecisionSink} from '../decision/index.js'
import {ReceiptSink, type ReceiptChains} from './receipt-sink.js'

// The flight recorder behind `pipelock run` (runtime.md §21.1, receipts.md §8): with
// `signing_key_path`, every decision becomes a signed ActionReceipt in one hash chain (a run
// opens with session_open, heartbeats every 30 s, closes on shutdown); without a key, block
// decisions are recorded as unsigned `decision` entries. Targets arrive already redacted for
// content-scanner blocks, so no secret is ever signed or written (`redact` holds by construction).

const HEARTBEAT_SECONDS = 30

export interface RecorderSink extends DecisionSink {
  /** What the banner says about the recorder. */
  readonly description: string
  /** A signed `config_change` EvidenceReceipt v2 (only with a signing key; operations.md §8.2). */
  readonly configChange?: (payload: Record<string, unknown>, actor: string) => boolean
  /** The signed chains, for transports hosted in the run that map their own decisions (MCP listener). */
  readonly chains?: ReceiptChains
  /** Entries the recorder could not write, and whether it is failing now (recorder-health.ts). */
  readonly writeHealth: Pick<FlightRecorder, 'writeFailures' | 'failing'>
  close(): void
}

export interface RecorderDeps {
  clock?: Clock
  random?: (n: number) => Uint8Array
  host?: string
  /**
   * The `signer_key_id` of v2 receipts for this key (a roster id when a roster lists it); default
   * the key's fingerprint, which an auditor pins with `verify-receipt --key`.
   */
  evidenceKeyId?: (publicKeyHex: string) => string | undefined
  /** Told of every retention sweep that removed files (audit event and metric, retention-report.ts). */
  onRetention?: (r: RetentionResult) => void
  /** Told when a tool call's receipt could not be written (the MCP listener hosted in the run). */
  onReceiptError?: (message: string) => void
  /** Told when the recorder stops writing and when it writes again (recorder-health.ts). */
  onWriteHealth?: (change: WriteHealthChange) => void
}

/** How to make a recorder key (the hint of every key error here, and `pipelock doctor`'s next step). */
export const KEYGEN_HINT = 'make one with pipelock keygen NAME and point signing_key_path at its id_ed25519 (a JSON key from pipelock signing key generate is not a recorder key)'

/**
 * Loads a `pipelock-ed25519-private-v1` key file, refusing group/world-readable files. `pipelock
 * run` opens the recorder with it, and `pipelock check` calls it too, so both refuse the same key.
 */
export function loadPrivateKeyFile(file: string): Ed25519KeyPair {
  return loadPrivateKeyTextFile(file, 'flight_recorder.signing_key_path', KEYGEN_HINT)
}

export {hitlReceiptFields, ReceiptSink, taintReceiptFields, type ReceiptChains} from './receipt-sink.js'


export interface OpenRecorder {
  readonly recorder: FlightRecorder
  readonly clock: Clock
  /** Undefined without `signing_key_path` (unsigned `decision` entries only). */
  readonly chains: ReceiptChains | undefined
  /** The receipt key this run took over from, and the endorsement that authorised it (a rotated segment). */
  readonly rotatedFrom?: {key: string; endorsement: string}
  /** Closes the run (session_close receipt) and the recorder. */
  close(): void
}

/**
 * Why the run cannot continue the chain: a tail it cannot read, a sealed chain, or a tail signed
 * by another key that no endorsement in the directory hands over to this one (receipts.md §6.6).
 */
function resumeRefusal(resumed: ResumeState, dir: string, keyPath: string): PipelockError {
  if (resumed.sealed) {
    return new PipelockError('RECORDER_ENTRY_INVALID', 'flight recorder: chain sealed: transcript root already emitted', {
      hint: `move the existing evidence in ${dir} aside before starting`,
    })
  }
  const r = resumed.rotation
  if (r === undefined) {
    return new PipelockError('RECORDER_ENTRY_INVALID', `flight recorder: ${resumed.error ?? ''}`, {
      hint: `move the existing evidence in ${dir} aside (or use its original signing key) before starting`,
    })
  }
  const why = r.problems.length === 0 ? `no rotation endorsement (rotation-<n>.json) in ${dir}` : `no rotation endorsement in ${dir} authorises it: ${r.problems.join('; ')}`
  const message =
    `flight recorder: the chain's last receipt (chain_seq ${r.boundary.priorFinalSeq}) is signed by key ${r.boundary.priorSignerKey}, ` +
    `not by this signing key ${r.boundary.newSignerKey}, and ${why}`
  return new PipelockError(r.problems.length === 0 ? 'RECORDER_ENTRY_INVALID' : 'ENDORSEMENT_INVALID', message, {
    hint:
      `to rotate the receipt key, have the retiring key endorse this one: pipelock signing rotation endorse --dir ${shellWord(dir)} ` +
      `--retiring-key <the old key file> --new-key ${shellWord(keyPath)}; otherwise use the original signing key, or move the existing evidence aside`,
  })
}

/** Opens `config.flight_recorder` (files, key, both receipt chains), or undefined when it is disabled. */
export async function openRecorder(config: PipelockConfig, policyHash: string, deps: RecorderDeps = {}): Promise<OpenRecorder | undefined> {
  const fr = config.flight_recorder
  if (!fr.enabled) return undefined
  // Enabled sub-features this version does not implement refuse to start (never silently pass).
  const escrowPublicKey = fr.raw_escrow ? decodeEscrowPublicKey(fr.escrow_public_key) : undefined
  const clock = deps.clock ?? systemClock
  // One CSPRNG refill per 256 receipt ids instead of a call per id.
  const random = deps.random ?? pooledRandom()
  const key = fr.signing_key_path === '' ? undefined : loadPrivateKeyFile(fr.signing_key_path)
  const recorder = await FlightRecorder.open({
    dir: fr.dir,
    fileMode: Number.parseInt(String(fr.file_mode), 8),
    maxEntriesPerFile: fr.max_entries_per_file,
    checkpointInterval: fr.checkpoint_interval,
    ...(key !== undefined && fr.sign_checkpoints ? {checkpointKey: key} : {}),
    ...(escrowPublicKey === undefined ? {} : {escrowPublicKey}),
    ...(deps.onWriteHealth === undefined ? {} : {onWriteHealth: deps.onWriteHealth}),
    clock,
  })
  // Evidence bytes removed at start are said, never cut in silence (docs/run.md: a kill -9 leaves a torn line).
  const cut = recorder.resume
  if (cut.truncatedBytes > 0) {
    process.stderr.write(`pipelock: flight recorder: cut a torn last line (${cut.truncatedBytes} bytes) from ${cut.file ?? fr.dir}: a write the last run did not finish (a crash or kill -9); the chain continues at entry seq ${cut.nextSeq}\n`)
  }
  const newId = (): string => uuidv7(clock.nowNanos(), random)
  if (key === undefined) {
    const stopRetention = await startRetention(recorder, fr.retention_days, undefined, deps)
    return {
      recorder,
      clock,
      chains: undefined,
      close: () => {
        stopRetention()
        recorder.close()
      },
    }
  }

  const nonce = (): string => Buffer.from(random(16)).toString('hex')
  // One pass over the session's files finds where both receipt chains continue.
  const tails = await scanRecorderTails(fr.dir, recorder.sessionId)
  const emitter = await ReceiptEmitter.open({
    tails,
    recorder,
    dir: fr.dir,
    keyPair: key,
    principal: `host:${deps.host ?? hostname()}`,
    actor: 'pipelock',
    policyHash,
    clock,
    newId,
    run: {runNonce: nonce(), openNonce: nonce(), signerKeyEpoch: key.publicKey.toString('hex').slice(0, 16), heartbeatSeconds: HEARTBEAT_SECONDS},
  })
  if (emitter.resumed.error !== undefined || emitter.resumed.sealed) {
    recorder.close()
    throw resumeRefusal(emitter.resumed, fr.dir, fr.signing_key_path)
  }
  const rotatedBy = emitter.resumed.rotation?.endorsementFile
  const pubHex = key.publicKey.toString('hex')
  const evidence = await EvidenceEmitter.open({
    tails,
    recorder,
    dir: fr.dir,
    keyPair: key,
    keyId: deps.evidenceKeyId?.(pubHex) ?? fingerprint(key.publicKey),
    principal: `host:${deps.host ?? hostname()}`,
    actor: 'pipelock',
    clock,
    newId,
  })
  const timer = setInterval(() => emitter.heartbeat(), HEARTBEAT_SECONDS * 1000)
  timer.unref()
  // After the emitters have resumed (their tails are read before anything can be expired).
  const stopRetention = await startRetention(recorder, fr.retention_days, key, deps)
  return {
    recorder,
    clock,
    chains: {emitter, evidence, publicKeyHex: pubHex},
    ...(rotatedBy === undefined ? {} : {rotatedFrom: {key: emitter.resumed.rotation?.boundary.priorSignerKey ?? '', endorsement: rotatedBy}}),
    close(): void {
      clearInterval(timer)
      stopRetention()
      emitter.close()
    },
  }
}

/** `escrow_public_key`: 64 hex chars (policy-extra.md §3.1; the startup texts of the reference). */
function decodeEscrowPublicKey(hex: string): Buffer {
  const t = hex.trim()
  if (t === '') throw new PipelockError('CONFIG_INVALID', 'flight_recorder.escrow_public_key is required when raw_escrow is enabled')
  if (!/^([0-9a-fA-F]{2})*$/.test(t)) throw new PipelockError('CONFIG_INVALID', `creating flight recorder: decoding escrow public key: encoding/hex: invalid byte or odd length in ${JSON.stringify(t)}`)
  if (t.length !== 64) throw new PipelockError('CONFIG_INVALID', `creating flight recorder: escrow public key must be 32 bytes, got ${t.length / 2}`)
  return Buffer.from(t, 'hex')
}

const RETENTION_SWEEP_MS = 60 * 60 * 1000

/**
 * "Now" for retention sweeps: the recorder's clock, or PIPELOCK_RETENTION_NOW (RFC 3339) when
 * set, which pins the cutoff for reproducible runs and tests without touching receipt times.
 */
function retentionNow(deps: RecorderDeps): bigint {
  const fixed = process.env.PIPELOCK_RETENTION_NOW
  if (fixed !== undefined && fixed !== '') {
    try {
      return fixedClock(fixed).nowNanos()
    } catch {
      throw new PipelockError('CONFIG_INVALID', `PIPELOCK_RETENTION_NOW "${fixed}" is not an RFC 3339 time`)
    }
  }
  return (deps.clock ?? systemClock).nowNanos()
}

/**
 * `retention_days` (policy-extra.md §3.3): one sweep at start, then hourly. A failed sweep is
 * reported and retried at the next one; it never stops the recorder.
 */
async function startRetention(recorder: FlightRecorder, days: number, key: Ed25519KeyPair | undefined, deps: RecorderDeps): Promise<() => void> {
  if (days <= 0) return () => undefined
  const sweep = async (): Promise<void> => {
    try {
      const r = await expireRecorderFiles(recorder, {retentionDays: days, nowNanos: retentionNow(deps), ...(key === undefined ? {} : {key})})
      if (r !== undefined) {
        process.stderr.write(`pipelock: flight recorder retention: removed ${r.removed.length} files older than ${r.cutoff} (anchor at entry seq ${r.anchorSeq})\n`)
        deps.onRetention?.(r)
      }
    } catch (e) {
      process.stderr.write(`pipelock: warning: flight recorder retention: ${(e as Error).message}\n`)
    }
  }
  await sweep()
  const timer = setInterval(() => void sweep(), RETENTION_SWEEP_MS)
  timer.unref()
  return () => clearInterval(timer)
}

/** Opens the recorder for `config.flight_recorder`, or returns undefined when it is disabled. */
export async function openRecorderSink(config: PipelockConfig, policyHash: string, deps: RecorderDeps = {}): Promise<RecorderSink | undefined> {
  const open = await openRecorder(config, policyHash, deps)
  if (open === undefined) return undefined
  const {recorder, clock, chains} = open
  const fr = config.flight_recorder
  const escrow = fr.raw_escrow
  if (chains === undefined) {
    return {
      description: `${fr.dir} (unsigned block decisions; set flight_recorder.signing_key_path for signed receipts)`,
      writeHealth: recorder,
      record(d: Decision): void {
        // Unsigned entries record HTTP blocks only; a tool call is recorded with a signing key (mcp.md §15.4).
        if (isToolCall(d) || d.verdict !== 'block') return
        recorder.append({
          ts: formatGoTime(fromEpochNanos(clock.nowNanos())),
          type: 'decision',
          eventKind: 'proxy_decision',
          transport: d.transport,
          summary: `block: ${d.layer} (${d.reason ?? ''})`,
          detailJson: goJson(fromPlain({verdict: d.verdict, layer: d.layer, pattern: d.reason ?? '', request_id: d.requestId})),
          // raw escrow: the same detail with the target as the client sent it
          ...(escrow ? {rawDetailJson: goJson(fromPlain({verdict: d.verdict, layer: d.layer, pattern: d.reason ?? '', request_id: d.requestId, target: d.url ?? d.target}))} : {}),
        })
      },
      recordAirlock(c: AirlockEvidence): void {
        recorder.append({
          ts: formatGoTime(fromEpochNanos(clock.nowNanos())),
          type: 'decision',
          eventKind: 'airlock_transition',
          transport: 'airlock',
          summary: `airlock: ${c.from}->${c.to} (${c.trigger})`,
          detailJson: goJson(fromPlain({session: c.sessionKey, from: c.from, to: c.to, trigger: c.trigger})),
        })
      },
      close: () => open.close(),
    }
  }
  const receipts = new ReceiptSink(chains, {escrow, ...(deps.onReceiptError !== undefined ? {onError: deps.onReceiptError} : {})})
  return {
    description:
      `${fr.dir} (signed receipts, key ${chains.publicKeyHex.slice(0, 16)}…` +
      (open.rotatedFrom === undefined ? ')' : `; rotated from key ${open.rotatedFrom.key.slice(0, 16)}…, endorsed by ${open.rotatedFrom.endorsement})`),
    configChange: (payload, actor) => chains.evidence.emitConfigChange(payload, actor),
    chains,
    writeHealth: recorder,
    record: (d) => receipts.record(d),
    recordAirlock: (c) => receipts.recordAirlock(c),
    close: () => open.close(),
  }
}
