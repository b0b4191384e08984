import {formatGoTime, fromEpochNanos, JsonNumber, parseJson, type Clock} from '../canonical/index.js'
import {
  actionReceiptHash,
  encodeActionReceipt,
  parseActionReceiptTree,
  prepareActionReceiptCheck,
  recordString,
  recordUint,
  ReceiptChainBuilder,
  type ActionReceipt,
  type RunIdentity,
} from '../receipts/index.js'
import {verifyBytes, type Ed25519KeyPair} from '../signing/index.js'
import {classifyHttpMethod, type ActionClass} from './classify.js'
import type {FlightRecorder} from './flight-recorder.js'
import {scanRecorderTails, type RecorderTails} from './tail-scan.js'

// Signed action receipts for every proxy decision (receipts.md §8), written into the flight
// recorder. A run opens with a session_open receipt (bound `g1:` genesis on a fresh chain, a
// restart carrying the prior tail otherwise), may emit heartbeats, and closes on shutdown.
// Emission never fails the proxied request: failures are counted and reported.

export interface DecisionReceiptFields {
  method?: string
  target: string
  transport: string
  verdict: string
  layer?: string
  pattern?: string
  severity?: string
  requestId?: string
  /** Agent name: overrides the configured actor. */
  agent?: string
  sessionId?: string
  /** Contract context (receipts §4.2 #32–39, learn-lifecycle §7.10); omitted fields stay out of the bytes. */
  contract?: ReceiptContractFields
  /** The classification when it is not by HTTP method (MCP: `classifyMcp`, receipts §8). */
  actionClass?: ActionClass
}

export interface ReceiptContractFields {
  winningSource: string
  liveVerdict: string
  policySources: readonly string[]
  ruleId: string
  activeManifestHash: string
  contractHash: string
  selectorId: string
  generation: bigint
}

export interface ReceiptEmitterOptions {
  recorder: FlightRecorder
  dir: string
  keyPair: Ed25519KeyPair
  principal: string
  actor: string
  policyHash: string
  clock: Clock
  newId: () => string
  run: Omit<RunIdentity, 'recorderSession'>
  /** The session's tails, when the caller already scanned the files (one pass for both emitters). */
  tails?: RecorderTails
}

export interface ResumeState {
  sealed: boolean
  tail?: {seq: bigint; hash: string}
  /** Why emission is disabled (tail receipt not ours / unparsable). */
  error?: string
}

export class ReceiptEmitter {
  private failed: string | undefined
  emitted = 0
  failures = 0
  lastError: string | undefined

  private constructor(
    private readonly opts: ReceiptEmitterOptions,
    private readonly builder: ReceiptChainBuilder,
    readonly resumed: ResumeState,
  ) {
    this.failed = resumed.sealed ? 'chain sealed: transcript root already emitted' : resumed.error
  }

  static async open(opts: ReceiptEmitterOptions): Promise<ReceiptEmitter> {
    const state = await findResumePoint(opts.dir, opts.recorder.sessionId, opts.keyPair, opts.tails)
    const builder = new ReceiptChainBuilder(opts.keyPair, state.tail)
    const emitter = new ReceiptEmitter(opts, builder, state)
    emitter.guard(() => {
      const receipt = builder.openRun({...opts.run, recorderSession: opts.recorder.sessionId}, emitter.control())
      emitter.write(receipt)
    })
    return emitter
  }

  private now(): string {
    return formatGoTime(fromEpochNanos(this.opts.clock.nowNanos()))
  }

  private control(): {actionId: string; timestamp: string; principal: string; actor: string; policyHash: string} {
    return {actionId: this.opts.newId(), timestamp: this.now(), principal: this.opts.principal, actor: this.opts.actor, policyHash: this.opts.policyHash}
  }

  private write(receipt: ActionReceipt): void {
    this.opts.recorder.append({
      ts: recordString(receipt.record, 'timestamp'),
      type: 'action_receipt',
      eventKind: recordString(receipt.record, 'action_type'),
      transport: recordString(receipt.record, 'transport'),
      summary: `receipt: ${recordString(receipt.record, 'verdict')} ${recordString(receipt.record, 'action_type')} ${recordString(receipt.record, 'transport')}`,
      detailJson: encodeActionReceipt(receipt),
    })
    this.emitted++
  }

  private guard(fn: () => void): boolean {
    if (this.failed !== undefined) {
      this.failures++
      this.lastError = this.failed
      return false
    }
    try {
      fn()
      return true
    } catch (e) {
      this.failures++
      this.lastError = (e as Error).message
      return false
    }
  }

  /** Signs and records a receipt for one decision; returns its action_id, undefined (counted) when it could not. */
  emit(d: DecisionReceiptFields): string | undefined {
    const actionId = this.opts.newId()
    const ok = this.guard(() => {
      const cls = d.actionClass ?? classifyHttpMethod(d.method)
      const record: Record<string, unknown> = {
        action_id: actionId,
        action_type: cls.actionType,
        timestamp: this.now(),
        principal: this.opts.principal,
        actor: d.agent || this.opts.actor,
        target: d.target,
        side_effect_class: cls.sideEffectClass,
        reversibility: cls.reversibility,
        policy_hash: this.opts.policyHash,
        verdict: d.verdict,
        transport: d.transport,
      }
      if (d.sessionId) record.session_id = d.sessionId
      const c = d.contract
      if (c !== undefined) {
        if (c.winningSource) record.contract_winning_source = c.winningSource
        if (c.liveVerdict) record.contract_live_verdict = c.liveVerdict
        if (c.policySources.length > 0) record.contract_policy_sources = [...c.policySources]
        if (c.ruleId) record.contract_rule_id = c.ruleId
        if (c.activeManifestHash) record.active_manifest_hash = c.activeManifestHash
        if (c.contractHash) record.contract_hash = c.contractHash
        if (c.selectorId) record.contract_selector_id = c.selectorId
        if (c.generation > 0n) record.contract_generation = new JsonNumber(c.generation.toString())
      }
      if (d.method) record.method = d.method
      if (d.layer) record.layer = d.layer
      if (d.pattern) record.pattern = d.pattern
      if (d.severity) record.severity = d.severity
      if (d.requestId) record.request_id = d.requestId
      this.write(this.builder.append(record))
    })
    return ok ? actionId : undefined
  }

  heartbeat(): boolean {
    return this.guard(() => this.write(this.builder.heartbeat(this.control())))
  }

  /** Closes the run with a session_close receipt, then flushes the recorder. */
  close(reason = 'graceful_shutdown'): void {
    this.guard(() => this.write(this.builder.closeRun(this.control(), reason)))
    this.opts.recorder.close()
  }
}

/**
 * §8 Resume: find the last receipt of the session's files (newest file first). A transcript
 * root after it seals the chain; otherwise its signature must verify under our own key.
 */
export async function findResumePoint(dir: string, sessionId: string, keyPair: Ed25519KeyPair, tails?: RecorderTails): Promise<ResumeState> {
  const tail = (tails ?? (await scanRecorderTails(dir, sessionId))).action
  if (tail === undefined) return {sealed: false}
  if (tail.sealedAfter) return {sealed: true}
  let receipt: ActionReceipt
  try {
    receipt = parseActionReceiptTree(parseJson(tail.detailRaw))
  } catch (e) {
    return {sealed: false, error: `resume receipt chain: tail receipt does not parse: ${(e as Error).message}`}
  }
  const seq = recordUint(receipt.record, 'chain_seq')
  const check = prepareActionReceiptCheck(receipt, keyPair.publicKey.toString('hex'))
  const err = typeof check === 'string' ? check : verifyBytes(check.publicKey, check.digest, check.signature) ? undefined : 'signature verification failed'
  if (err !== undefined) return {sealed: false, error: `resume receipt chain: tail receipt signature invalid (seq ${seq}): ${err}`}
  return {sealed: false, tail: {seq, hash: actionReceiptHash(receipt)}}
}
