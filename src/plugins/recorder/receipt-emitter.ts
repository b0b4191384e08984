import {goQuote, UtcNanoFormatter, type Clock} from '../canonical/index.js'
import {
  encodeActionReceipt,
  recordString,
  ReceiptChainBuilder,
  type ActionReceipt,
  type DecisionRecordFields,
  type ReceiptRedactionSummary,
  type RotationBoundary,
  type RunIdentity,
} from '../receipts/index.js'
import type {Ed25519KeyPair} from '../signing/index.js'
import {classifyHttpMethod, type ActionClass} from './classify.js'
import type {FlightRecorder} from './flight-recorder.js'
import {readReceiptTail, tailSignatureError} from './receipt-tail.js'
import {findRotationEndorsement} from './rotation-files.js'
import type {RecorderTails} from './tail-scan.js'

// Signed action receipts for every proxy decision (receipts.md §8), written into the flight
// recorder. A run opens with a session_open receipt (bound `g1:` genesis on a fresh chain, a
// restart carrying the prior tail otherwise), may emit heartbeats, and closes on shutdown.
// Emission never fails the proxied request: failures are counted and reported.

export interface DecisionReceiptFields {
  method?: string
  target: string
  /**
   * The target before redaction, for raw escrow only: the escrowed copy of the receipt carries it
   * in place of `target`. Never signed or written to the line.
   */
  rawTarget?: string
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
  /** The action_id chosen in advance (a mediation envelope's `rid` named it upstream); default: a fresh UUIDv7. */
  actionId?: string
  /** Redaction summary (receipts §4.3 RedactionSummary): counts per class, never a value. */
  redaction?: ReceiptRedactionSummary
  /** Taint (#23–31) and a held request's answer (#17–20), copied as given (timestamps already Go RFC 3339). */
  taint?: Pick<DecisionRecordFields, 'sessionTaintLevel' | 'sessionContaminated' | 'recentTaintSources' | 'sessionTaskId' | 'sessionTaskLabel' | 'authorityKind' | 'taintDecision' | 'taintDecisionReason' | 'taskOverrideApplied'>
  resolution?: Pick<DecisionRecordFields, 'decisionPhase' | 'deferId' | 'resolutionPolicy' | 'resolutionSource'>
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
  /** With `priorSignerKey`: the tail is the end of the retired key's segment. */
  tail?: {seq: bigint; hash: string; priorSignerKey?: string}
  /** Why emission is disabled (tail receipt not ours / unparsable). */
  error?: string
  /**
   * The tail is validly signed by another key: the boundary a rotation would need, the
   * endorsement file that authorises it (the run opens a rotated segment), or why none does.
   */
  rotation?: {boundary: RotationBoundary; endorsementFile?: string; problems: string[]}
}

export class ReceiptEmitter {
  private failed: string | undefined
  private readonly clockText = new UtcNanoFormatter()
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
    return this.clockText.format(this.opts.clock.nowNanos())
  }

  private control(): {actionId: string; timestamp: string; principal: string; actor: string; policyHash: string} {
    return {actionId: this.opts.newId(), timestamp: this.now(), principal: this.opts.principal, actor: this.opts.actor, policyHash: this.opts.policyHash}
  }

  private write(receipt: ActionReceipt): void {
    const r = receipt.record
    this.writeEntry(recordString(r, 'timestamp'), recordString(r, 'action_type'), recordString(r, 'transport'), recordString(r, 'verdict'), encodeActionReceipt(receipt))
  }

  /** The `action_receipt` entry (receipts.md §7.3); `ts` comes from `now()`, so it is canonical UTC. */
  private writeEntry(ts: string, actionType: string, transport: string, verdict: string, envelope: string, rawEnvelope?: string): void {
    this.opts.recorder.append({
      ...(rawEnvelope === undefined ? {} : {rawDetailJson: rawEnvelope}),
      ts,
      tsCanonical: true,
      type: 'action_receipt',
      eventKind: actionType,
      transport,
      summary: `receipt: ${verdict} ${actionType} ${transport}`,
      detailJson: envelope,
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
    const actionId = d.actionId ?? this.opts.newId()
    const ok = this.guard(() => {
      const cls = d.actionClass ?? classifyHttpMethod(d.method)
      const c = d.contract
      const f: DecisionRecordFields = {
        actionId,
        actionType: cls.actionType,
        timestamp: this.now(),
        principal: this.opts.principal,
        actor: d.agent || this.opts.actor,
        target: d.target,
        sideEffectClass: cls.sideEffectClass,
        reversibility: cls.reversibility,
        policyHash: this.opts.policyHash,
        verdict: d.verdict,
        transport: d.transport,
        sessionId: d.sessionId,
        method: d.method,
        layer: d.layer,
        pattern: d.pattern,
        severity: d.severity,
        requestId: d.requestId,
        ...d.taint,
        ...d.resolution,
      }
      if (d.redaction !== undefined) f.redaction = d.redaction
      if (c !== undefined) {
        f.contractWinningSource = c.winningSource
        f.contractLiveVerdict = c.liveVerdict
        f.contractPolicySources = c.policySources
        f.contractRuleId = c.ruleId
        f.activeManifestHash = c.activeManifestHash
        f.contractHash = c.contractHash
        f.contractSelectorId = c.selectorId
        f.contractGeneration = c.generation
      }
      const signed = this.builder.appendDecision(f)
      // Raw escrow: the receipt as it reads with the unredacted target (its signature covers the redacted one).
      const raw = d.rawTarget !== undefined && d.rawTarget !== d.target ? signed.envelope.replace(`"target":${goQuote(d.target)}`, () => `"target":${goQuote(d.rawTarget as string)}`) : undefined
      this.writeEntry(f.timestamp, f.actionType, f.transport, f.verdict, signed.envelope, raw)
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
 * root after it seals the chain; otherwise its signature must verify under our own key — or under
 * the key it names, when a `rotation-<n>.json` in `dir` endorses our key as that key's successor
 * at exactly this tail (§6.6): the run then opens a rotated segment.
 */
export async function findResumePoint(dir: string, sessionId: string, keyPair: Ed25519KeyPair, tails?: RecorderTails): Promise<ResumeState> {
  const tail = await readReceiptTail(dir, sessionId, tails)
  if (tail.kind === 'none') return {sealed: false}
  if (tail.kind === 'sealed') return {sealed: true}
  if (tail.kind === 'unparsable') return {sealed: false, error: `resume receipt chain: tail receipt does not parse: ${tail.error}`}
  const ours = keyPair.publicKey.toString('hex')
  const err = tailSignatureError(tail, ours)
  if (err === undefined) return {sealed: false, tail: {seq: tail.seq, hash: tail.hash}}
  const error = `resume receipt chain: tail receipt signature invalid (seq ${tail.seq}): ${err}`
  // Another key signed the tail. Only a tail that verifies under the key it names can be the end
  // of an old segment; the endorsement then has to name exactly this tail and our key.
  if (tail.signerKey === ours || tailSignatureError(tail, tail.signerKey) !== undefined) return {sealed: false, error}
  const boundary = {sessionId, priorSignerKey: tail.signerKey, priorFinalSeq: tail.seq, priorTailHash: tail.hash, newSignerKey: ours}
  const found = await findRotationEndorsement(dir, boundary)
  if (found.match === undefined) return {sealed: false, error, rotation: {boundary, problems: found.problems}}
  return {
    sealed: false,
    tail: {seq: tail.seq, hash: tail.hash, priorSignerKey: tail.signerKey},
    rotation: {boundary, problems: found.problems, endorsementFile: found.match.file},
  }
}
