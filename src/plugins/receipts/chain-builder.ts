import {fromPlain, JsonNumber, type JsonObject} from '../canonical/index.js'
import type {Ed25519KeyPair} from '../signing/index.js'
import {actionReceiptHash, signActionReceipt, type ActionReceipt} from './action-receipt.js'
import {encodeDecisionRecord, signRecordBytes, type DecisionRecordFields, type SignedReceiptBytes} from './decision-record.js'
import {encodeRotationEndorsement, signRotationEndorsement, type RotationEndorsement} from './rotation-endorsement.js'
import {sessionOpenGenesis} from './session-genesis.js'

// The producer side of a v1 receipt chain (receipts.md §6.5–6.6, §8): links each receipt to
// the previous one, opens runs with a bound `g1:` genesis, emits heartbeats and closes, and
// rotates keys with an endorsement. Pure: timestamps and ids come from the caller.

export interface RunIdentity {
  runNonce: string
  openNonce: string
  recorderSession: string
  signerKeyEpoch: string
  heartbeatSeconds: number
}

/** Fields common to control receipts. */
export interface ControlFields {
  actionId: string
  timestamp: string
  principal?: string
  actor?: string
  policyHash?: string
}

/** An action record without the fields the chain owns (chain_seq, chain_prev_hash, run_nonce). */
export type RecordFields = Record<string, unknown>

export class ReceiptChainBuilder {
  private keyPair: Ed25519KeyPair
  private keyHex: string
  private seq = -1n
  private prev = ''
  private run: RunIdentity | undefined
  private beat = 0n
  private segmentCount = 0n
  private pendingTransition: {priorKey: string; priorSeq: bigint; priorHash: string} | undefined

  /**
   * `resume`: continue an existing chain after a restart from its tail receipt (its chain_seq
   * and receipt hash). The next `openRun` is then a restart session_open carrying the prior tail;
   * with `priorSignerKey` (the tail's signer, another key) it also opens a rotated segment.
   */
  constructor(keyPair: Ed25519KeyPair, resume?: {seq: bigint; hash: string; priorSignerKey?: string}) {
    this.keyPair = keyPair
    this.keyHex = keyPair.publicKey.toString('hex')
    if (resume !== undefined) {
      this.seq = resume.seq
      this.prev = resume.hash
      // seq counts from 0 within the segment, so the segment holds seq + 1 receipts so far
      this.segmentCount = resume.seq + 1n
      // The tail was signed by a retired key (an endorsement authorised this one): the next
      // openRun starts a new segment with a key_transition marker (§6.6).
      if (resume.priorSignerKey !== undefined && resume.priorSignerKey !== this.keyHex) {
        this.pendingTransition = {priorKey: resume.priorSignerKey, priorSeq: resume.seq, priorHash: resume.hash}
      }
    }
  }

  /** Hash of the last receipt ('' before the first). */
  get head(): string {
    return this.prev
  }

  /** chain_seq of the last receipt (-1 before the first). */
  get headSeq(): bigint {
    return this.seq
  }

  get signerKey(): string {
    return this.keyHex
  }

  /** Opens a run: the chain's first receipt (bound genesis), a restart, or a rotated segment's first receipt. */
  openRun(run: RunIdentity, f: ControlFields): ActionReceipt {
    const first = this.seq < 0n
    const transition = this.pendingTransition
    const seq = first || transition !== undefined ? 0n : this.seq + 1n
    const open: Record<string, unknown> = {
      run_nonce: run.runNonce,
      open_nonce: run.openNonce,
      recorder_session: run.recorderSession,
      policy_hash: f.policyHash ?? '',
      signer_key_epoch: run.signerKeyEpoch,
      heartbeat_seconds: run.heartbeatSeconds,
      chain_open_seq: Number(seq),
    }
    let prevHash: string
    if (first) {
      prevHash = sessionOpenGenesis(fromPlain(open) as JsonObject)
      open.genesis_hash = prevHash
    } else {
      prevHash = this.prev
      open.prior_chain_head = this.prev
      open.prior_chain_seq = new JsonNumber(this.seq.toString())
    }
    const record: Record<string, unknown> = {
      ...controlRecord(f, 'session:open'),
      chain_prev_hash: prevHash,
      chain_seq: new JsonNumber(seq.toString()),
      run_nonce: run.runNonce,
      session_control: {kind: 'session_open', open},
    }
    if (transition !== undefined) {
      record.key_transition = {
        prior_signer_key: transition.priorKey,
        prior_chain_seq: new JsonNumber(transition.priorSeq.toString()),
        prior_chain_hash: transition.priorHash,
      }
    }
    this.run = run
    this.beat = 0n
    if (transition !== undefined || first) this.segmentCount = 0n
    this.pendingTransition = undefined
    return this.sign(record, seq)
  }

  /** Appends an ordinary receipt. */
  append(fields: RecordFields): ActionReceipt {
    if (this.pendingTransition !== undefined) throw new Error('a rotated segment must start with openRun')
    const seq = this.seq + 1n
    const record: Record<string, unknown> = {version: 1, delegation_chain: null, ...fields}
    record.chain_prev_hash = seq === 0n ? 'genesis' : this.prev
    record.chain_seq = new JsonNumber(seq.toString())
    if (this.run !== undefined) record.run_nonce = this.run.runNonce
    return this.sign(record, seq)
  }

  /**
   * Appends a decision receipt, encoded and signed as bytes (decision-record.ts): the same bytes
   * `append` gives for these fields, without building a record tree.
   */
  appendDecision(fields: DecisionRecordFields): SignedReceiptBytes & {seq: bigint} {
    if (this.pendingTransition !== undefined) throw new Error('a rotated segment must start with openRun')
    const seq = this.seq + 1n
    const link = {prevHash: seq === 0n ? 'genesis' : this.prev, seq, ...(this.run !== undefined ? {runNonce: this.run.runNonce} : {})}
    const signed = signRecordBytes(encodeDecisionRecord(fields, link), this.keyPair, this.keyHex)
    this.seq = seq
    this.prev = signed.hash
    this.segmentCount++
    return {...signed, seq}
  }

  heartbeat(f: ControlFields): ActionReceipt {
    const run = this.requireRun()
    const seq = this.seq + 1n
    this.beat++
    return this.sign(
      {
        ...controlRecord(f, 'session:heartbeat'),
        chain_prev_hash: this.prev,
        chain_seq: new JsonNumber(seq.toString()),
        run_nonce: run.runNonce,
        session_control: {
          kind: 'heartbeat',
          heartbeat: {
            run_nonce: run.runNonce,
            open_nonce: run.openNonce,
            beat: new JsonNumber(this.beat.toString()),
            chain_head: this.prev,
            chain_seq_head: new JsonNumber(this.seq.toString()),
            heartbeat_time: f.timestamp,
            fsync_errors_gated: 0,
            durability_blocks: 0,
          },
        },
      },
      seq,
    )
  }

  closeRun(f: ControlFields, reason = 'graceful_shutdown'): ActionReceipt {
    const run = this.requireRun()
    const seq = this.seq + 1n
    const receipt = this.sign(
      {
        ...controlRecord(f, 'session:close'),
        chain_prev_hash: this.prev,
        chain_seq: new JsonNumber(seq.toString()),
        run_nonce: run.runNonce,
        session_control: {
          kind: 'session_close',
          close: {
            run_nonce: run.runNonce,
            open_nonce: run.openNonce,
            final_seq: new JsonNumber(seq.toString()),
            root_hash: this.prev,
            // the close commits to the segment's receipt count including itself
            receipt_count: new JsonNumber((this.segmentCount + 1n).toString()),
            close_reason: reason,
            fsync_errors_gated: 0,
            durability_blocks: 0,
          },
        },
      },
      seq,
    )
    this.run = undefined
    return receipt
  }

  /**
   * Retires the current key in favour of `next`: returns the endorsement (signed by the old
   * key) that verifiers need; the next receipt must be `openRun`, which carries key_transition.
   */
  rotateKey(next: Ed25519KeyPair, rotatedAt: string, sessionId: string): RotationEndorsement & {json: string} {
    if (this.seq < 0n) throw new Error('cannot rotate before the first receipt')
    const endorsement = signRotationEndorsement(this.keyPair, {
      sessionId,
      priorSignerKey: this.signerKey,
      priorFinalSeq: this.seq,
      priorTailHash: this.prev,
      newSignerKey: next.publicKey.toString('hex'),
      rotatedAt,
    })
    this.pendingTransition = {priorKey: this.signerKey, priorSeq: this.seq, priorHash: this.prev}
    this.keyPair = next
    this.keyHex = next.publicKey.toString('hex')
    return {...endorsement, json: encodeRotationEndorsement(endorsement)}
  }

  private requireRun(): RunIdentity {
    if (this.run === undefined) throw new Error('no open run')
    return this.run
  }

  private sign(record: Record<string, unknown>, seq: bigint): ActionReceipt {
    const receipt = signActionReceipt(fromPlain(record), this.keyPair)
    // Chain state advances only after a successful signature (a failed emit leaves no fork).
    this.seq = seq
    this.prev = actionReceiptHash(receipt)
    this.segmentCount++
    return receipt
  }
}

function controlRecord(f: ControlFields, target: string): Record<string, unknown> {
  return {
    version: 1,
    action_id: f.actionId,
    action_type: 'unclassified',
    timestamp: f.timestamp,
    principal: f.principal ?? '',
    actor: f.actor ?? '',
    delegation_chain: null,
    target,
    side_effect_class: 'none',
    reversibility: 'unknown',
    policy_hash: f.policyHash ?? '',
    verdict: 'allow',
    transport: 'session',
  }
}
