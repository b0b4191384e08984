import {formatGoTime, fromEpochNanos, JsonNumber, parseJson, type Clock} from '../canonical/index.js'
import {encodeEvidenceReceipt, evidenceReceiptHash, signEvidence} from '../receipts/index.js'
import type {Ed25519KeyPair} from '../signing/index.js'
import type {FlightRecorder} from './flight-recorder.js'
import {scanRecorderTails, type RecorderTails} from './tail-scan.js'

// Signed EvidenceReceipt v2 `proxy_decision` receipts (learn-lifecycle §7.10, receipts §9) for
// every decision made under a live-lock contract, written into the flight recorder as
// `evidence_receipt` entries. They form their own v2 chain (`chain_seq` from 0, each
// `chain_prev_hash` the hash of the previous receipt), continued across restarts. The reference
// has the builder but never emits them; an auditor reads them with `verify-receipt`.

export interface ProxyDecisionFields {
  actionType: string
  target: string
  verdict: string
  liveVerdict: string
  transport: string
  policySources: readonly string[]
  winningSource: string
  ruleId: string
  activeManifestHash: string
  contractHash: string
  selectorId: string
  generation: bigint
}

/** The contract context of a decision as `ProxyDecisionFields` (no policy source named → `scanner`). */
export function proxyDecisionFields(
  d: {actionType: string; target: string; verdict: string; transport: string},
  c: {liveVerdict: string; policySources: readonly string[]; winningSource: string; ruleId: string; activeManifestHash: string; contractHash: string; selectorId: string; generation: bigint},
): ProxyDecisionFields {
  return {
    ...d,
    liveVerdict: c.liveVerdict,
    policySources: c.policySources.length > 0 ? c.policySources : ['scanner'],
    winningSource: c.winningSource,
    ruleId: c.ruleId,
    activeManifestHash: c.activeManifestHash,
    contractHash: c.contractHash,
    selectorId: c.selectorId,
    generation: c.generation,
  }
}

export interface EvidenceEmitterOptions {
  recorder: FlightRecorder
  dir: string
  keyPair: Ed25519KeyPair
  /** `signature.signer_key_id`: the roster id of the key when the roster lists it, else its fingerprint. */
  keyId: string
  principal: string
  actor: string
  clock: Clock
  newId: () => string
  /** The session's tails, when the caller already scanned the files (one pass for both emitters). */
  tails?: RecorderTails
}

export class EvidenceEmitter {
  emitted = 0
  failures = 0
  lastError: string | undefined

  private constructor(private readonly opts: EvidenceEmitterOptions, private nextSeq: bigint, private prevHash: string) {}

  static async open(opts: EvidenceEmitterOptions): Promise<EvidenceEmitter> {
    const last = (opts.tails ?? (await scanRecorderTails(opts.dir, opts.recorder.sessionId))).proxyDecision
    if (last === undefined) return new EvidenceEmitter(opts, 0n, 'genesis')
    const seq = (parseJson(last) as Map<string, unknown>).get('chain_seq')
    return new EvidenceEmitter(opts, (seq instanceof JsonNumber ? BigInt(seq.text) : 0n) + 1n, evidenceReceiptHash(last))
  }

  /** Signs, chains and records one `proxy_decision`; false (counted) when it could not. */
  emit(f: ProxyDecisionFields): boolean {
    return this.append(
      {
        payloadKind: 'proxy_decision',
        activeManifestHash: f.activeManifestHash,
        contractHash: f.contractHash,
        ...(f.selectorId !== '' ? {selectorId: f.selectorId} : {}),
        ...(f.generation > 0n ? {contractGeneration: f.generation} : {}),
        payload: {
          action_type: f.actionType,
          target: f.target,
          verdict: f.verdict,
          // omitted when equal to the verdict (§7.10)
          ...(f.liveVerdict !== f.verdict ? {live_verdict: f.liveVerdict} : {}),
          transport: f.transport,
          policy_sources: [...f.policySources],
          winning_source: f.winningSource,
          ...(f.ruleId !== '' ? {rule_id: f.ruleId} : {}),
        },
      },
      f.transport,
      `proxy_decision: ${f.verdict}${f.liveVerdict !== f.verdict ? ` (live ${f.liveVerdict})` : ''} ${f.winningSource}`,
    )
  }

  /**
   * Signs, chains and records a `config_change` receipt (operations.md §8.2 item 5, [beyond]) in
   * the same v2 chain; `actor` is the operator, or `pipelock`.
   */
  emitConfigChange(payload: Record<string, unknown>, actor: string): boolean {
    return this.append({payloadKind: 'config_change', actor, payload}, 'config', `config_change: ${String(payload.outcome)} (${String(payload.trigger)})`)
  }

  private append(r: {payloadKind: string; actor?: string; payload: Record<string, unknown>; activeManifestHash?: string; contractHash?: string; selectorId?: string; contractGeneration?: bigint}, transport: string, summary: string): boolean {
    try {
      const ts = formatGoTime(fromEpochNanos(this.opts.clock.nowNanos()))
      const receipt = signEvidence(
        {
          eventId: this.opts.newId(),
          timestamp: ts,
          principal: this.opts.principal,
          actor: this.opts.actor,
          chainSeq: this.nextSeq,
          chainPrevHash: this.prevHash,
          ...r,
        },
        {keyPair: this.opts.keyPair, keyId: this.opts.keyId, purpose: 'receipt-signing'},
      )
      const encoded = encodeEvidenceReceipt(receipt)
      this.opts.recorder.append({ts, type: 'evidence_receipt', eventKind: r.payloadKind, transport, summary, detailJson: encoded})
      this.nextSeq++
      this.prevHash = evidenceReceiptHash(encoded)
      this.emitted++
      return true
    } catch (e) {
      this.failures++
      this.lastError = (e as Error).message
      return false
    }
  }
}
