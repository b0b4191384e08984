import {JsonNumber, type JsonObject} from '../canonical/index.js'
import {
  actionReceiptHash,
  prepareActionReceiptCheck,
  recordString,
  recordUint,
  SIGNATURE_VERIFICATION_FAILED,
  type ActionReceipt,
  type DecodedKey,
  type SignatureCheck,
} from './action-receipt.js'
import {AdaptiveSignatureChecks, type SignatureChecks, type SignatureFailure} from './parallel-signatures.js'
import {endorsesBoundary, handOverPaths, type RotationEndorsement} from './rotation-endorsement.js'
import {sessionOpenGenesis} from './session-genesis.js'
import {sha256Hex} from '../signing/index.js'

// Receipt chain verification, Profile B (receipts.md §6.4–6.6). The verifier is a state
// machine fed one receipt at a time, so memory stays constant in the number of receipts.

/**
 * One element of a chain as the extractor yields it. `place` is an opaque number the caller may
 * give an item (the evidence verifier encodes its file and line); a failure at that item returns
 * it as `brokenAtPlace`, so a caller can name where the failing receipt is without keeping an
 * index entry per receipt (bench: verify; memory flat in the number of receipts).
 */
export type ChainItem =
  | {
      kind: 'receipt'
      receipt: ActionReceipt
      hasRecordObject: boolean
      place?: number
      /** GoJSON(receipt) (§5.1) when the reader has it as text already (a canonical line's detail): hashed as is. */
      receiptJson?: string
    }
  | {kind: 'evidence_v2'; chainSeq: string; place?: number}

export interface ChainOptions {
  /** Pinned signer key, lowercase hex. Empty/undefined: trust the first receipt's key. */
  pinnedKey?: string
  /** How errors name the pinned key when its hex is not to be shown (a key read from a file; see prepareActionReceiptCheck). */
  pinnedKeyName?: string
  /** Recorder session id the endorsements are bound to. */
  sessionId?: string
  /** Verified rotation endorsements (see parseRotationEndorsement) the user named: each must be used (§6.6). */
  endorsements?: readonly RotationEndorsement[]
  /**
   * Verified endorsements found beside the evidence (a recorder directory's `rotation-<n>.json`),
   * offered like the named ones but never required: one the evidence has no boundary for (a
   * rotation not yet in force, or one whose boundary retention removed) is reported in
   * `unusedFound`, not fatal. They are trusted only from a pinned key.
   */
  found?: readonly RotationEndorsement[]
  /**
   * The chain continues after a retention cut (policy-extra.md §3.3): the first receipt follows
   * the receipt `seq`/`prevHash` named by the anchor, inside the run it names (if any).
   */
  resume?: {seq: bigint; prevHash: string; run?: {runNonce: string; openNonce: string}}
}

export interface ChainResult {
  valid: boolean
  receiptCount: number
  finalSeq?: string
  rootHash?: string
  /** Canonical RFC3339Nano timestamps of the first and last receipt. */
  startTime?: string
  endTime?: string
  error?: string
  /** The failing receipt's declared chain_seq (or its index for pre-check failures); absent when no position applies. */
  brokenAtSeq?: string
  /** 0-based position of the failing receipt in the input; absent when no position applies. */
  brokenAtIndex?: number
  /** The failing item's `place`, when it was given one. */
  brokenAtPlace?: number
  /** The chain broke at a key_transition boundary that no endorsement given authorises. */
  unendorsedBoundary?: true
  /** Indices into `found` of the endorsements no boundary used. */
  unusedFound?: number[]
  /**
   * A chain resumed after a retention cut under another key than the pinned one: that key, and
   * the endorsements (indices into named ++ found) by which the pinned key handed over to it.
   */
  resumedUnder?: {key: string; via: number[]}
}

class ChainBreak extends Error {
  constructor(
    message: string,
    readonly at: string | undefined,
  ) {
    super(message)
  }
}

function obj(record: JsonObject, name: string): JsonObject | undefined {
  const v = record.get(name)
  return v instanceof Map ? v : undefined
}

function sessionPart(record: JsonObject, part: 'open' | 'heartbeat' | 'close'): JsonObject | undefined {
  const sc = obj(record, 'session_control')
  return sc === undefined ? undefined : obj(sc, part)
}

function str(o: JsonObject, name: string): string {
  const v = o.get(name)
  return typeof v === 'string' ? v : ''
}

function uint(o: JsonObject, name: string): bigint {
  const v = o.get(name)
  return v instanceof JsonNumber ? BigInt(v.text) : 0n
}

/**
 * The pre-checks that §6.4 runs over the whole list before the loop. Fed in a first pass;
 * `error()` then says whether the chain fails before any receipt is verified.
 */
export class ChainPrecheck {
  private index = 0
  private missingAt: number | undefined
  private missingPlace: number | undefined
  private sessionMismatch: string | undefined
  private sawOpen = false
  private transitionBeforeOpen = false

  constructor(private readonly options: ChainOptions) {}

  observe(item: ChainItem): void {
    const i = this.index++
    if (item.kind !== 'receipt') return
    if (!item.hasRecordObject) {
      if (this.missingAt === undefined) {
        this.missingAt = i
        this.missingPlace = item.place
      }
      return
    }
    const record = item.receipt.record
    const open = sessionPart(record, 'open')
    if (open !== undefined) {
      const recorderSession = str(open, 'recorder_session')
      if (this.sessionMismatch === undefined && recorderSession !== (this.options.sessionId ?? '')) {
        this.sessionMismatch = `signed recorder session '${recorderSession}' does not match endorsement session '${this.options.sessionId ?? ''}'`
      }
    }
    if (record.has('key_transition') && !this.sawOpen) this.transitionBeforeOpen = true
    if (open !== undefined) this.sawOpen = true
  }

  /** `usedFound`: an endorsement found beside the evidence was used (then its rules apply as to a named one). */
  failure(usedFound = false): ChainBreak | undefined {
    if (this.missingAt !== undefined) {
      return new ChainBreak(`seq ${this.missingAt}: missing or invalid action_record`, String(this.missingAt))
    }
    const endorsements = this.options.endorsements ?? []
    if (endorsements.length === 0 && !usedFound) return undefined
    if (!this.options.pinnedKey) return new ChainBreak('rotation endorsement verification requires at least one trusted root key', undefined)
    if ((this.options.sessionId ?? '').trim() === '') {
      return new ChainBreak('rotation endorsement verification requires a recorder session ID', undefined)
    }
    if (this.sessionMismatch !== undefined) return new ChainBreak(this.sessionMismatch, undefined)
    if (this.transitionBeforeOpen) return new ChainBreak('root receipt segment has no signed session_open recorder binding', undefined)
    return undefined
  }

  /** Builds the failed result for a pre-check failure. */
  result(usedFound = false): ChainResult | undefined {
    const f = this.failure(usedFound)
    return f === undefined ? undefined : breakResult(f, this.index, this.missingAt, this.missingAt === undefined ? undefined : this.missingPlace)
  }
}

function breakResult(b: ChainBreak, count: number, index?: number, place?: number): ChainResult {
  const r: ChainResult = {valid: false, receiptCount: count, error: b.message}
  if (b.at !== undefined) r.brokenAtSeq = b.at
  if (index !== undefined) r.brokenAtIndex = index
  if (place !== undefined) r.brokenAtPlace = place
  return r
}

/** The §6.4 loop. Call `push` for each item in order, then `finish`. */
export class ChainVerifier {
  private i = 0
  private prev = ''
  private prevSeq = 0n
  private expectedKey: string | undefined
  private segmentStart = 0
  private segmentCount = 0
  private readonly opens = new Map<string, string>()
  private readonly closed = new Set<string>()
  private active: {run: string; open: string} | undefined
  /** Indices into `pool` of the endorsements consumed. */
  private readonly used = new Set<number>()
  /** Named endorsements, then found ones; found ones count only under a pinned key. */
  private readonly pool: readonly RotationEndorsement[]
  private readonly named: number
  private unendorsed = false
  private resumedUnder: ChainResult['resumedUnder']
  private firstTime: string | undefined
  private lastTime: string | undefined
  private broken: ChainBreak | undefined
  /** Index of the receipt the loop broke at, and whether it broke before its signature check. */
  private brokenIndex = -1
  private brokenPlace: number | undefined
  private brokenBeforeCrypto = false
  /** The last signer key decoded (one decode per segment, not per receipt). */
  private signerKey: DecodedKey | undefined
  /** The Ed25519 operation of the last pushed receipt, for the caller to run (or queue); `place` is the item's. */
  pendingCheck: {index: number; check: SignatureCheck; seq: string; place?: number} | undefined

  /**
   * Runs every check except the Ed25519 operation itself, which it leaves in `pendingCheck`
   * after each push; `finish(failure)` then merges the lowest failing signature, if any.
   */
  constructor(private readonly options: ChainOptions) {
    this.expectedKey = options.pinnedKey ? options.pinnedKey : undefined
    this.named = options.endorsements?.length ?? 0
    this.pool = [...(options.endorsements ?? []), ...(options.pinnedKey ? (options.found ?? []) : [])]
    const r = options.resume
    if (r !== undefined) {
      this.resumed = true
      this.prev = r.prevHash
      this.prevSeq = r.seq
      // positions inside the segment continue from the cut (seq = index in the segment)
      this.segmentStart = -Number(r.seq + 1n)
      this.segmentCount = Number(r.seq + 1n)
      if (r.run !== undefined) {
        this.opens.set(r.run.runNonce, r.run.openNonce)
        this.active = {run: r.run.runNonce, open: r.run.openNonce}
      }
    }
  }

  /** True when the chain resumes after a retention cut instead of starting at genesis. */
  private resumed = false

  /** True once an endorsement found beside the evidence has been consumed. */
  get usedFound(): boolean {
    for (const i of this.used) if (i >= this.named) return true
    return false
  }

  /** False once the chain is broken (further items are ignored). */
  get ok(): boolean {
    return this.broken === undefined
  }

  push(item: ChainItem): boolean {
    this.pendingCheck = undefined
    if (this.broken !== undefined) return false
    try {
      this.step(item)
      this.i++
      return true
    } catch (e) {
      if (e instanceof ChainBreak) {
        this.broken = e
        this.brokenIndex = this.i
        this.brokenPlace = item.place
        return false
      }
      throw e
    }
  }

  /** `failedSignature`: in deferred mode, the lowest receipt whose signature did not verify. */
  finish(failedSignature?: SignatureFailure): ChainResult {
    if (failedSignature !== undefined) {
      // The earliest failure wins; at the same receipt, the order of §6.4 decides.
      const at = failedSignature.index
      const loopFirst = this.broken !== undefined && (this.brokenIndex < at || (this.brokenIndex === at && this.brokenBeforeCrypto))
      if (!loopFirst) {
        const seq = failedSignature.label
        return breakResult(new ChainBreak(`seq ${seq}: signature: ${SIGNATURE_VERIFICATION_FAILED}`, seq), at, at, failedSignature.place)
      }
    }
    if (this.broken !== undefined) return {...breakResult(this.broken, this.i, this.brokenIndex, this.brokenPlace), ...(this.unendorsed ? {unendorsedBoundary: true} : {})}
    for (let i = 0; i < this.named; i++) {
      if (!this.used.has(i)) return {valid: false, receiptCount: this.i, error: 'unused rotation endorsement does not match a required boundary'}
    }
    const unusedFound = (this.options.found ?? []).map((_, i) => i).filter((i) => !this.used.has(this.named + i))
    const extra = {...(unusedFound.length === 0 ? {} : {unusedFound}), ...(this.resumedUnder === undefined ? {} : {resumedUnder: this.resumedUnder})}
    if (this.i === 0) return {valid: true, receiptCount: 0, ...extra}
    return {
      valid: true,
      receiptCount: this.i,
      finalSeq: this.prevSeq.toString(),
      rootHash: this.prev,
      startTime: this.firstTime,
      endTime: this.lastTime,
      ...extra,
    }
  }

  /**
   * After a retention cut the segment the chain resumes in may be a later key's: retention can
   * expire the pinned key's whole segment, boundary included, while the endorsement that handed
   * the recorder over stays. The first remaining receipt's key is then trusted when the pinned
   * key reaches it through endorsements (each verified, signed by its prior key), which count
   * as used. The anchor does not name the key at the cut, so which of the keys the pinned one
   * handed over to was in force there rests on that receipt's signature alone.
   */
  private resumeKey(signerKey: string): void {
    const pinned = this.expectedKey
    const want = signerKey.toLowerCase()
    if (pinned === undefined || pinned === want) return
    const path = handOverPaths([pinned], this.pool, this.options.sessionId ?? '').get(want)
    if (path === undefined) return
    for (const idx of path) this.used.add(idx)
    this.expectedKey = want
    this.resumedUnder = {key: want, via: path}
  }

  private step(item: ChainItem): void {
    const i = this.i
    if (item.kind === 'evidence_v2') {
      throw new ChainBreak('v2 chain verification is not implemented; verify v2 receipts individually with verify_evidence()', item.chainSeq)
    }
    const receipt = item.receipt
    const record = receipt.record
    if (!item.hasRecordObject) throw new ChainBreak(`seq ${i}: missing or invalid action_record`, String(i))
    const seq = recordUint(record, 'chain_seq')
    const at = seq.toString()
    this.brokenBeforeCrypto = true
    const fail = (msg: string): never => {
      throw new ChainBreak(`seq ${at}: ${msg}`, at)
    }
    const marker = obj(record, 'key_transition')
    if (this.expectedKey === undefined) this.expectedKey = receipt.signerKey // §6.2: first receipt's key, verbatim
    // resumed after a cut: the key in force there (a boundary's prior key when the cut fell on one)
    else if (i === 0 && this.resumed) this.resumeKey(marker === undefined ? receipt.signerKey : str(marker, 'prior_signer_key'))

    // 2. position rules
    if (i === 0 && !this.resumed) {
      if (marker !== undefined) fail('chain starts at a key_transition segment without the prior segment')
      if (seq !== 0n) fail('root receipt segment must start at chain_seq 0')
    } else if (marker !== undefined) {
      this.checkBoundary(receipt, marker, seq, fail)
      this.expectedKey = receipt.signerKey.toLowerCase()
      this.segmentStart = i
      this.segmentCount = 0
    } else if (seq === 0n) {
      fail('unexpected seq 0 without a key_transition boundary')
    }

    // 3. signature against the expected key
    const name = this.options.pinnedKeyName !== undefined && this.expectedKey === this.options.pinnedKey ? this.options.pinnedKeyName : undefined
    const check = prepareActionReceiptCheck(receipt, this.expectedKey, this.signerKey, name)
    if (typeof check === 'string') fail(`signature: ${check}`)
    if (this.signerKey?.hex !== receipt.signerKey) this.signerKey = {hex: receipt.signerKey, bytes: (check as SignatureCheck).publicKey}
    this.pendingCheck = {index: i, check: check as SignatureCheck, seq: at, place: item.place}
    this.brokenBeforeCrypto = false

    // 4. position inside the segment
    const want = BigInt(i - this.segmentStart)
    if (seq !== want) throw new ChainBreak(`seq gap: expected ${want}, got ${seq}`, at)

    // 5. previous-hash rule
    const prevField = recordString(record, 'chain_prev_hash')
    let expectedPrev: string
    if (i === 0 && !this.resumed) {
      const anchorErr = firstReceiptAnchor(record, prevField, seq)
      if (anchorErr !== undefined) fail(anchorErr)
      expectedPrev = prevField.startsWith('g1:') ? prevField : 'genesis'
    } else {
      expectedPrev = this.prev
      const open = sessionPart(record, 'open')
      if (open !== undefined) {
        const restartErr = this.restartCheck(open, prevField, seq)
        if (restartErr !== undefined) fail(restartErr)
      }
    }
    if (prevField !== expectedPrev) fail('chain_prev_hash mismatch')

    // 6. run state machine
    const stateErr = this.sessionState(record, expectedPrev, seq)
    if (stateErr !== undefined) fail(stateErr)

    // 7. advance
    this.prev = item.receiptJson !== undefined ? sha256Hex(item.receiptJson) : actionReceiptHash(receipt)
    this.prevSeq = seq
    this.segmentCount++
    const ts = recordString(record, 'timestamp')
    if (this.firstTime === undefined) this.firstTime = ts
    this.lastTime = ts
  }

  private checkBoundary(receipt: ActionReceipt, marker: JsonObject, seq: bigint, fail: (m: string) => never): void {
    if (seq !== 0n) fail('key_transition marker on a non-genesis receipt (seq != 0)')
    if (str(marker, 'prior_chain_hash') !== this.prev) fail('key_transition prior_chain_hash does not match actual prior tail hash')
    if (recordString(receipt.record, 'chain_prev_hash') !== this.prev) fail('segment-genesis chain_prev_hash does not match prior tail hash')
    if (str(marker, 'prior_signer_key') !== this.expectedKey) fail('key_transition prior_signer_key does not match prior segment key')
    if (uint(marker, 'prior_chain_seq') !== this.prevSeq) fail('key_transition prior_chain_seq does not match prior segment final seq')
    const boundary = {sessionId: this.options.sessionId ?? '', priorSignerKey: this.expectedKey ?? '', priorFinalSeq: this.prevSeq, priorTailHash: this.prev, newSignerKey: receipt.signerKey.toLowerCase()}
    const matches: number[] = []
    this.pool.forEach((e, idx) => {
      if (!this.used.has(idx) && endorsesBoundary(e, boundary)) matches.push(idx)
    })
    if (matches.length === 0) {
      this.unendorsed = true
      fail('rotation endorsement does not match receipt boundary')
    }
    if (matches.length > 1) fail('multiple rotation endorsements match one receipt boundary')
    this.used.add(matches[0] as number)
  }

  private restartCheck(open: JsonObject, prevField: string, seq: bigint): string | undefined {
    if (prevField.startsWith('g1:')) return 'restart session_open must not use g1 chain_prev_hash'
    if (str(open, 'genesis_hash') !== '') return 'restart session_open must not carry genesis_hash'
    if (uint(open, 'chain_open_seq') !== seq) return 'session_open chain_open_seq does not match receipt chain_seq'
    if (str(open, 'prior_chain_head') !== this.prev) return 'session_open prior_chain_head does not match prior tail hash'
    if (uint(open, 'prior_chain_seq') !== this.prevSeq) return 'session_open prior_chain_seq does not match prior tail seq'
    return undefined
  }

  private sessionState(record: JsonObject, prevHash: string, seq: bigint): string | undefined {
    const run = recordString(record, 'run_nonce')
    if (run === '') return record.has('session_control') ? 'session_control receipt missing run_nonce' : undefined
    const open = sessionPart(record, 'open')
    if (open !== undefined) {
      if (str(open, 'run_nonce') !== run) return 'session_open run_nonce does not match receipt run_nonce'
      const openNonce = str(open, 'open_nonce')
      if (openNonce === '') return 'session_open open_nonce is empty'
      if (this.opens.has(run)) return 'duplicate session_open for run_nonce'
      this.opens.set(run, openNonce)
      this.closed.delete(run)
      this.active = {run, open: openNonce}
      return undefined
    }
    if (!this.opens.has(run)) return 'run_nonce first receipt is not a matching session_open'
    if (this.closed.has(run)) return 'record observed after session_close'
    for (const [part, label] of [['heartbeat', 'heartbeat'], ['close', 'session_close']] as const) {
      const p = sessionPart(record, part)
      if (p === undefined) continue
      if (str(p, 'run_nonce') !== run) return `${label} run_nonce does not match receipt run_nonce`
      if (this.active === undefined) return `${label} has no active session_open`
      if (this.active.run !== run) return `${label} run_nonce does not match active session_open`
      if (str(p, 'open_nonce') !== this.opens.get(run)) return `${label} open_nonce does not match session_open`
      if (str(p, 'open_nonce') !== this.active.open) return `${label} open_nonce does not match active session_open`
      if (part === 'heartbeat') {
        if (str(p, 'chain_head') !== prevHash) return 'heartbeat chain_head mismatch'
        if (uint(p, 'chain_seq_head') !== seq - 1n) return 'heartbeat chain_seq_head mismatch'
      } else {
        if (str(p, 'root_hash') !== prevHash) return 'session_close root_hash mismatch'
        if (uint(p, 'final_seq') !== seq) return 'session_close final_seq mismatch'
        if (uint(p, 'receipt_count') !== BigInt(this.segmentCount + 1)) return 'session_close receipt_count mismatch'
        this.closed.add(run)
        this.active = undefined
      }
    }
    return undefined
  }
}

// §6.5.1: the first receipt's anchor, legacy `genesis` or bound `g1:` session-open genesis.
function firstReceiptAnchor(record: JsonObject, prevField: string, seq: bigint): string | undefined {
  const open = sessionPart(record, 'open')
  if (!prevField.startsWith('g1:')) {
    if (prevField === 'genesis' && open !== undefined) return 'session_open on legacy genesis must use bound g1 chain_prev_hash'
    if (prevField === 'genesis' && recordString(record, 'run_nonce') !== '') return 'run_nonce first receipt is not a matching session_open'
    return undefined
  }
  if (open === undefined) return 'g1 chain_prev_hash requires SessionControl.Open'
  if (seq !== 0n) return 'bound session_open genesis must be chain_seq 0'
  const g = sessionOpenGenesis(open)
  if (prevField !== g) return 'session_open genesis hash mismatch'
  if (str(open, 'genesis_hash') !== g) return 'session_open genesis_hash mismatch'
  if (uint(open, 'chain_open_seq') !== seq) return 'session_open chain_open_seq does not match receipt chain_seq'
  if (str(open, 'prior_chain_head') !== '' || uint(open, 'prior_chain_seq') !== 0n) {
    return 'bound genesis session_open must not carry prior chain tail'
  }
  return undefined
}

/**
 * Verifies a chain in one streaming pass (memory constant in the number of receipts). The
 * reference extracts every receipt and runs the §6.4 pre-checks before the loop; the same
 * verdict falls out of observing every item while the loop runs: the whole input is still
 * read after a break (a later unparsable line aborts extraction, as there), and a pre-check
 * failure is reported in preference to a loop failure.
 */
export async function verifyChain(
  items: AsyncIterable<ChainItem>,
  options: ChainOptions = {},
  signatures: SignatureChecks = new AdaptiveSignatureChecks(),
): Promise<ChainResult> {
  async function* batches(): AsyncGenerator<readonly ChainItem[]> {
    for await (const item of items) yield [item]
  }
  return verifyChainBatches(batches(), options, signatures)
}

/** verifyChain over batches of items (one asynchronous step per batch, not per receipt). */
export async function verifyChainBatches(
  batches: AsyncIterable<readonly ChainItem[]>,
  options: ChainOptions = {},
  signatures: SignatureChecks = new AdaptiveSignatureChecks(),
): Promise<ChainResult> {
  const pre = new ChainPrecheck(options)
  const verifier = new ChainVerifier(options)
  try {
    for await (const batch of batches) {
      for (const item of batch) {
        pre.observe(item)
        if (!verifier.ok) continue
        verifier.push(item)
        const pending = verifier.pendingCheck
        if (pending === undefined) continue
        // add() returns a promise only when it has to wait (a full batch, every worker busy)
        const wait = signatures.add(pending.index, pending.check, pending.seq, pending.place)
        if (wait !== undefined) await wait
      }
    }
  } catch (e) {
    await signatures.finish().catch(() => undefined) // stop the workers; the extraction error wins
    throw e
  }
  const failed = await signatures.finish()
  return pre.result(verifier.usedFound) ?? verifier.finish(failed)
}
