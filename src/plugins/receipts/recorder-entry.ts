import {
  JsonNumber,
  JsonSyntaxError,
  parseGoTime,
  parseStrictJson,
  utcTimeString,
  TimeFormatError,
  type JsonObject,
  type JsonValue,
} from '../canonical/index.js'
import {hash as oneShotHash} from 'node:crypto'

// Flight-recorder entries (receipts.md §7.1–7.2). Entries form their own hash chain, separate
// from the receipt chain inside `action_receipt` entries.

/**
 * The fields an entry hash covers (§7.2), with `ts` rendered in UTC RFC3339Nano and `detail`
 * as the bytes written in the line. Every decoded entry form carries these.
 */
export interface EntryHashFields {
  v: number
  seq: string
  ts: string
  sessionId: string
  traceId: string
  type: string
  eventKind: string
  transport: string
  summary: string
  /** The detail bytes exactly as written in the line. */
  detailJson: string
  rawRef: string
  prevHash: string
}

export interface RecorderEntry extends Omit<EntryHashFields, 'detailJson'> {
  /** `ts` as written. */
  ts: string
  /** Parsed `detail`. */
  detail: JsonValue
  /** Exact source text of `detail` (entry hashes cover these bytes, not a re-serialisation). */
  detailRaw: string
  hash: string
}

export class EntryError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'EntryError'
  }
}

const STRING_FIELDS = ['session_id', 'trace_id', 'type', 'event_kind', 'transport', 'summary', 'raw_ref', 'prev_hash', 'hash'] as const

/** Parses one JSONL line as an entry (v 1 or 2). Throws EntryError with Go's texts (without the `line n:` prefix). */
export function parseRecorderEntry(text: string): RecorderEntry {
  let parsed
  try {
    parsed = parseStrictJson(text, {topLevelSpans: true})
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new EntryError(`parsing entry: ${e.message}`)
    throw e
  }
  const obj = parsed.value
  if (!(obj instanceof Map)) throw new EntryError('parsing entry: not a JSON object')
  return entryFromObject(obj, parsed.spans as Map<string, [number, number]>, text)
}

/** Builds an entry from a parsed line object and its member spans. */
export function entryFromObject(obj: JsonObject, spans: Map<string, [number, number]>, text: string): RecorderEntry {
  const v = obj.get('v')
  const vText = v instanceof JsonNumber ? v.text : v === undefined ? '0' : JSON.stringify(v)
  if (vText !== '1' && vText !== '2') throw new EntryError(`unsupported entry version ${vText} (accepted: 1, 2)`)
  const ts = obj.get('ts')
  if (typeof ts !== 'string') throw new EntryError('parsing entry: ts: expected RFC 3339 time string')
  try {
    parseGoTime(ts)
  } catch (e) {
    if (e instanceof TimeFormatError) throw new EntryError(`parsing entry: ${e.message}`)
    throw e
  }
  const seq = obj.get('seq')
  if (seq !== undefined && !(seq instanceof JsonNumber && /^(0|[1-9]\d*)$/.test(seq.text))) {
    throw new EntryError('parsing entry: seq: expected unsigned integer')
  }
  const strings: Record<string, string> = {}
  for (const f of STRING_FIELDS) {
    const x = obj.get(f)
    if (x !== undefined && typeof x !== 'string') throw new EntryError(`parsing entry: ${f}: expected string`)
    strings[f] = (x as string | undefined) ?? ''
  }
  const span = spans.get('detail')
  return {
    v: Number(vText),
    seq: seq === undefined ? '0' : (seq as JsonNumber).text,
    ts,
    sessionId: strings.session_id as string,
    traceId: strings.trace_id as string,
    type: strings.type as string,
    eventKind: strings.event_kind as string,
    transport: strings.transport as string,
    summary: strings.summary as string,
    detail: obj.has('detail') ? (obj.get('detail') as JsonValue) : null,
    detailRaw: span === undefined ? 'null' : text.slice(span[0], span[1]),
    rawRef: strings.raw_ref as string,
    prevHash: strings.prev_hash as string,
    hash: strings.hash as string,
  }
}

/**
 * Entry hash (§7.2; learn-compile §2.4): SHA-256 of the NUL-joined projection, `event_kind` only
 * in v2. The one implementation shared by the flight recorder, capture files and their readers.
 */
export function entryProjectionHash(f: EntryHashFields): string {
  // One string, no intermediate array (every recorder and capture line is hashed once written
  // and once verified), and one-shot hashing: no Hash object per entry.
  const z = '\u0000'
  const head = f.v === 1 ? '1' : String(f.v)
  const kind = f.v === 1 ? '' : f.eventKind + z
  const joined = head + z + f.seq + z + f.ts + z + f.sessionId + z + f.traceId + z + f.type + z + kind + f.transport + z + f.summary + z + f.detailJson + z + f.rawRef + z + f.prevHash
  return oneShotHash('sha256', joined, 'hex')
}

/** Entry hash of an entry as read or built (its `ts` is re-rendered in UTC first). */
export function recorderEntryHash(e: Omit<RecorderEntry, 'hash' | 'detail'>): string {
  // The fields named one by one: a spread copy of the entry cost more than the hash (bench: verify).
  return entryProjectionHash({
    v: e.v,
    seq: e.seq,
    ts: utcTimeString(e.ts),
    sessionId: e.sessionId,
    traceId: e.traceId,
    type: e.type,
    eventKind: e.eventKind,
    transport: e.transport,
    summary: e.summary,
    detailJson: e.detailRaw,
    rawRef: e.rawRef,
    prevHash: e.prevHash,
  })
}

/**
 * The entry hash chain (Go library texts). Fed entries of one session in order; returns the
 * first error or undefined. Checkpoint signatures are checked when `checkpointKey` is given.
 */
export class EntryChainVerifier {
  private prev: string | undefined
  private failed: string | undefined
  count = 0

  constructor(private readonly verifyCheckpoint?: (prevHash: string, signatureHex: string) => boolean) {}

  /** The chain continues after a retention cut: the first entry links to `prevHash` (policy-extra.md §3.3). */
  resumeAfter(prevHash: string): void {
    if (this.count === 0) this.prev = prevHash
  }

  push(e: RecorderEntry): string | undefined {
    if (this.failed !== undefined) return this.failed
    const computed = recorderEntryHash(e)
    let err: string | undefined
    if (computed !== e.hash) err = `entry seq ${e.seq}: hash mismatch: computed ${computed}, stored ${e.hash}`
    else if (this.prev === undefined && e.prevHash !== 'genesis') {
      err = `entry seq ${e.seq}: first entry PrevHash should be "genesis", got "${e.prevHash}"`
    } else if (this.prev !== undefined && e.prevHash !== this.prev) {
      err = `entry seq ${e.seq}: chain break: PrevHash ${e.prevHash} != previous Hash ${this.prev}`
    } else if (e.type === 'checkpoint' && this.verifyCheckpoint !== undefined) {
      const sig = e.detail instanceof Map ? e.detail.get('signature') : undefined
      if (typeof sig !== 'string' || sig === '') err = `entry seq ${e.seq}: checkpoint missing signature`
      else if (!this.verifyCheckpoint(e.prevHash, sig)) err = `entry seq ${e.seq}: checkpoint signature verification failed`
    }
    this.prev = e.hash
    this.count++
    this.failed = err
    return err
  }
}
