import {EVIDENCE_GENESIS} from './envelope-schema.js'
import {evidenceReceiptHash} from './canonical-form.js'
import type {ParsedEvidenceReceipt} from './parse.js'
import {verifyEvidence, type VerifyEvidenceOptions} from './verify.js'

// EvidenceReceipt v2 chains (receipts.md §9.4 "v2 receipt hash"; docs/receipts.md). The
// reference has no v2 chain verifier; these are the rules we verify, one receipt at a time so
// memory stays constant:
//
//   * `chain_prev_hash` "genesis" starts a chain and requires `chain_seq` 0. A later genesis in
//     the same input starts another chain (a new emitter run: `learn shadow` starts one per run).
//   * Any other non-empty `chain_prev_hash` continues the current chain: `chain_seq` is the
//     previous receipt's + 1 and `chain_prev_hash` is the previous receipt's v2 hash.
//   * `chain_seq` 0 with an empty `chain_prev_hash` is an unchained receipt: the lifecycle
//     commands (ratify, promote, rollback, redaction) append such standalone receipts. Each is
//     verified on its own; nothing proves that none was removed or reordered.
//   * Every receipt's signature is checked with the key its `signer_key_id` names (the caller
//     resolves it) and the authority matrix is enforced (verifyEvidence does both).

/** How the caller resolved the key for one receipt: a key to verify with, or why there is none. */
export type EvidenceKeyChoice = {publicKey: Uint8Array | string; signerKeyId?: string} | {error: string}

export interface EvidenceChainState {
  receiptCount: number
  /** Receipts that belong to a chain (genesis-started). */
  chainedCount: number
  /** Standalone receipts (chain_seq 0, empty chain_prev_hash). */
  unchainedCount: number
  /** Number of chains started at genesis. */
  chains: number
  /** Last chained receipt. */
  finalSeq?: string
  rootHash?: string
  startTime?: string
  endTime?: string
}

export class EvidenceChainVerifier {
  private readonly state: EvidenceChainState = {receiptCount: 0, chainedCount: 0, unchainedCount: 0, chains: 0}
  private prevHash: string | undefined
  private prevSeq = 0n

  /** The chain continues after a retention cut from the receipt `seq`/`hash` an anchor names. */
  resumeAfter(seq: bigint, hash: string): void {
    if (this.prevHash !== undefined) return
    this.prevHash = hash
    this.prevSeq = seq
    this.state.chains++
  }

  /**
   * Verifies one receipt in input order. Returns the failure text (prefixed `chain_seq <n>:`
   * where a position applies), or undefined. After a failure the caller stops feeding.
   */
  push(r: ParsedEvidenceReceipt, key: EvidenceKeyChoice): string | undefined {
    const at = `chain_seq ${r.chainSeq}`
    if ('error' in key) return `${at}: ${key.error}`
    const options: VerifyEvidenceOptions = {publicKey: key.publicKey}
    if (key.signerKeyId !== undefined) options.expectedSignerKeyId = key.signerKeyId
    const v = verifyEvidence(r, options)
    if (!v.valid) return `${at}: ${v.error}`
    return this.accept(r)
  }

  /**
   * Links one receipt whose signature cannot be checked (no key pinned): the caller has
   * validated its structure. Counts it like a verified one.
   */
  pushUnsigned(r: ParsedEvidenceReceipt): string | undefined {
    return this.accept(r)
  }

  /** Links a receipt whose own checks passed, and counts it. */
  private accept(r: ParsedEvidenceReceipt): string | undefined {
    const linkError = this.link(r)
    if (linkError !== undefined) return linkError
    this.state.receiptCount++
    this.state.startTime ??= r.timestamp
    this.state.endTime = r.timestamp
    return undefined
  }

  private link(r: ParsedEvidenceReceipt): string | undefined {
    const seq = r.chainSeq
    const prev = r.chainPrevHash
    const at = `chain_seq ${seq}`
    if (prev === '') {
      if (seq !== 0n) return `${at}: empty chain_prev_hash on a chained receipt (only an unchained receipt, chain_seq 0, has none)`
      this.state.unchainedCount++
      return undefined
    }
    if (prev === EVIDENCE_GENESIS) {
      if (seq !== 0n) return `${at}: chain_prev_hash "genesis" requires chain_seq 0`
      this.state.chains++
    } else {
      if (this.prevHash === undefined) {
        return `${at}: chain does not start at genesis: the receipts before chain_seq ${seq} are missing`
      }
      if (seq !== this.prevSeq + 1n) return `seq gap: expected ${this.prevSeq + 1n}, got ${seq}`
      if (prev !== this.prevHash) return `${at}: chain_prev_hash mismatch`
    }
    this.prevHash = evidenceReceiptHash(r)
    this.prevSeq = seq
    this.state.chainedCount++
    this.state.finalSeq = seq.toString()
    this.state.rootHash = this.prevHash
    return undefined
  }

  result(): EvidenceChainState {
    return {...this.state}
  }
}
