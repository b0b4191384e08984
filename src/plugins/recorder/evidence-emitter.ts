import {formatGoTime, fromEpochNanos, JsonNumber, parseJson, type Clock} from '../canonical/index.js'
import {chainFilesInDir, encodeEvidenceReceipt, evidenceReceiptHash, parseRecorderEntry, readLines, signEvidence} from '../receipts/index.js'
import type {Ed25519KeyPair} from '../signing/index.js'
import type {FlightRecorder} from './flight-recorder.js'

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
}

/** The last v2 receipt of the recorder session's files (newest file first), for the chain to continue. */
async function evidenceTail(dir: string, sessionId: string): Promise<{seq: bigint; hash: string} | undefined> {
  const files = await chainFilesInDir(dir, sessionId)
  for (let f = files.length - 1; f >= 0; f--) {
    let last: string | undefined
    for await (const line of readLines(files[f] as string)) {
      const text = line.text?.trim()
      if (!text) continue
      try {
        const e = parseRecorderEntry(text)
        if (e.type === 'evidence_receipt' && e.eventKind === 'proxy_decision') last = e.detailRaw
      } catch {
        // a torn or unreadable line: verifiers report it; the chain continues after the last good receipt
      }
    }
    if (last === undefined) continue
    const seq = (parseJson(last) as Map<string, unknown>).get('chain_seq')
    return {seq: seq instanceof JsonNumber ? BigInt(seq.text) : 0n, hash: evidenceReceiptHash(last)}
  }
  return undefined
}

export class EvidenceEmitter {
  emitted = 0
  failures = 0
  lastError: string | undefined

  private constructor(private readonly opts: EvidenceEmitterOptions, private nextSeq: bigint, private prevHash: string) {}

  static async open(opts: EvidenceEmitterOptions): Promise<EvidenceEmitter> {
    const tail = await evidenceTail(opts.dir, opts.recorder.sessionId)
    return tail === undefined ? new EvidenceEmitter(opts, 0n, 'genesis') : new EvidenceEmitter(opts, tail.seq + 1n, tail.hash)
  }

  /** Signs, chains and records one `proxy_decision`; false (counted) when it could not. */
  emit(f: ProxyDecisionFields): boolean {
    try {
      const ts = formatGoTime(fromEpochNanos(this.opts.clock.nowNanos()))
      const receipt = signEvidence(
        {
          payloadKind: 'proxy_decision',
          eventId: this.opts.newId(),
          timestamp: ts,
          principal: this.opts.principal,
          actor: this.opts.actor,
          chainSeq: this.nextSeq,
          chainPrevHash: this.prevHash,
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
        {keyPair: this.opts.keyPair, keyId: this.opts.keyId, purpose: 'receipt-signing'},
      )
      const encoded = encodeEvidenceReceipt(receipt)
      this.opts.recorder.append({
        ts,
        type: 'evidence_receipt',
        eventKind: 'proxy_decision',
        transport: f.transport,
        summary: `proxy_decision: ${f.verdict}${f.liveVerdict !== f.verdict ? ` (live ${f.liveVerdict})` : ''} ${f.winningSource}`,
        detailJson: encoded,
      })
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
