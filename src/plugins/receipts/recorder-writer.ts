import {goJson, goQuote, JsonNumber, utcTimeString, type JsonObject, type JsonValue} from '../canonical/index.js'
import {encodeActionReceipt, recordString, type ActionReceipt} from './action-receipt.js'
import {entryProjectionHash} from './recorder-entry.js'

// Producing flight-recorder lines (receipts.md §7.1–7.3): one compact GoJSON entry per line in
// field order, each entry hash-chained to the previous one. File handling lives in the recorder.

export interface EntryInput {
  ts: string
  /**
   * `ts` is already Go's RFC3339Nano rendering of a UTC instant (`UtcNanoFormatter`), so the
   * parse-and-re-render that normalises other inputs is skipped (it would return `ts` itself).
   */
  tsCanonical?: boolean
  type: string
  eventKind?: string
  transport?: string
  summary: string
  /** Compact GoJSON of the detail (hashed exactly as written). */
  detailJson: string
  traceId?: string
  rawRef?: string
  /**
   * The detail before redaction, for raw escrow (policy-extra.md §3.4): sealed to the escrow key
   * instead of `detailJson` when given. Never written to the line.
   */
  rawDetailJson?: string
}

export class RecorderEntryChain {
  private seq = 0n
  private prev = 'genesis'

  constructor(
    readonly sessionId: string,
    start?: {seq: bigint; prevHash: string},
  ) {
    if (start !== undefined) {
      this.seq = start.seq
      this.prev = start.prevHash
    }
  }

  /** seq of the next entry. */
  get nextSeq(): bigint {
    return this.seq
  }

  /** Hash of the last entry (`genesis` before the first). */
  get head(): string {
    return this.prev
  }

  /** Where the chain stands: the next entry's seq and the hash it will link to (for `rewind`). */
  position(): {seq: bigint; prevHash: string} {
    return {seq: this.seq, prevHash: this.prev}
  }

  /**
   * Back to `p`: the entries made since were never written. For a writer whose readers treat a
   * broken link as fatal (capture files, learn-compile §4): a lost record is counted as a drop,
   * and the chain goes on from the last entry that is in the file.
   */
  rewind(p: {seq: bigint; prevHash: string}): void {
    this.seq = p.seq
    this.prev = p.prevHash
  }

  /** Returns the next entry line (without newline) and advances the chain. */
  next(input: EntryInput): {line: string; seq: bigint; hash: string} {
    const ts = input.tsCanonical === true ? input.ts : utcTimeString(input.ts)
    const base = {
      v: 2,
      seq: this.seq.toString(),
      ts,
      sessionId: this.sessionId,
      traceId: input.traceId ?? '',
      type: input.type,
      eventKind: input.eventKind ?? '',
      transport: input.transport ?? '',
      summary: input.summary,
      detailJson: input.detailJson,
      rawRef: input.rawRef ?? '',
      prevHash: this.prev,
    }
    // `ts` is in its UTC rendering already: hash the projection directly (recorderEntryHash would re-render it).
    const hash = entryProjectionHash(base)
    let line = `{"v":2,"seq":${base.seq},"ts":${goQuote(ts)},"session_id":${goQuote(base.sessionId)}`
    if (base.traceId !== '') line += `,"trace_id":${goQuote(base.traceId)}`
    line += `,"type":${goQuote(base.type)}`
    if (base.eventKind !== '') line += `,"event_kind":${goQuote(base.eventKind)}`
    line += `,"transport":${goQuote(base.transport)},"summary":${goQuote(base.summary)},"detail":${base.detailJson}`
    if (base.rawRef !== '') line += `,"raw_ref":${goQuote(base.rawRef)}`
    line += `,"prev_hash":${goQuote(base.prevHash)},"hash":${goQuote(hash)}}`
    const seq = this.seq
    this.seq++
    this.prev = hash
    return {line, seq, hash}
  }

  /** The `action_receipt` entry for a receipt (§7.3). */
  receiptEntry(receipt: ActionReceipt, ts: string): {line: string; seq: bigint; hash: string} {
    const r = receipt.record
    const actionType = recordString(r, 'action_type')
    const transport = recordString(r, 'transport')
    return this.next({
      ts,
      type: 'action_receipt',
      eventKind: actionType,
      transport,
      summary: `receipt: ${recordString(r, 'verdict')} ${actionType} ${transport}`,
      detailJson: encodeActionReceipt(receipt),
    })
  }

  /** A `checkpoint` entry covering entries [firstSeq, lastSeq]; `sign` signs the ASCII prev_hash. */
  checkpoint(ts: string, firstSeq: bigint, sign?: (prevHash: string) => string): {line: string; seq: bigint; hash: string} {
    const lastSeq = this.seq - 1n
    const count = lastSeq - firstSeq + 1n
    const detail: JsonObject = new Map<string, JsonValue>([
      ['entry_count', new JsonNumber(count.toString())],
      ['first_seq', new JsonNumber(firstSeq.toString())],
      ['last_seq', new JsonNumber(lastSeq.toString())],
      ['signature', sign === undefined ? '' : sign(this.prev)],
    ])
    return this.next({
      ts,
      type: 'checkpoint',
      eventKind: 'checkpoint',
      transport: '',
      summary: `checkpoint: ${count} entries [seq ${firstSeq}-${lastSeq}]`,
      detailJson: goJson(detail),
    })
  }
}
