import {CanonicalReader, isGoTime, JsonNumber, type JsonObject, type JsonValue} from '../canonical/index.js'
import {canonicalActionReceipt, type ActionReceipt} from './action-receipt.js'
import {ACTION_RECORD} from './action-record-schema.js'
import type {RecorderEntry} from './recorder-entry.js'

// The common line of a recorder file, read in one pass (bench: verify): an `action_receipt` entry in
// the form the recorders write it — compact, entry fields in the writer's order, and a receipt
// whose action record is in canonical GoJSON (receipts.md §5.1, §7.1). For such a line the strict
// parse, the entry fields, the record's projection and its GoJSON are read off the text at once:
// the record's bytes are a slice of the line, the receipt's GoJSON is the detail's text.
// Any other line — another entry type, whitespace, an escape, another key order, an `ext`, a
// value the full reader would re-spell — is declined (undefined) and read in full by
// classifyLine, which reports every error; so a declined line costs one partial scan more,
// and an accepted one yields exactly what the full reader yields (test/unit/receipts/canonical-line.test.ts
// compares both on generated and mutated lines).

export interface CanonicalReceiptEntry {
  entry: RecorderEntry
  receipt: ActionReceipt
}

/** Reads an `action_receipt` entry line in canonical form; undefined for any other line. */
export function readCanonicalReceiptEntry(text: string): CanonicalReceiptEntry | undefined {
  const r = new CanonicalReader(text)
  if (!r.take('{"v":')) return undefined
  const v = r.take('2') ? 2 : r.take('1') ? 1 : 0
  if (v === 0) return undefined
  let seq: string | undefined = '0'
  if (r.take(',"seq":')) seq = r.uintText()
  if (seq === undefined || !r.take(',"ts":')) return undefined
  const ts = r.rawString()
  if (ts === undefined) return undefined
  const sessionId = r.take(',"session_id":') ? r.rawString() : ''
  const traceId = r.take(',"trace_id":') ? r.rawString() : ''
  if (sessionId === undefined || traceId === undefined || !r.take(',"type":"action_receipt"')) return undefined
  const eventKind = r.take(',"event_kind":') ? r.rawString() : ''
  const transport = r.take(',"transport":') ? r.rawString() : ''
  const summary = r.take(',"summary":') ? r.rawString() : ''
  if (eventKind === undefined || transport === undefined || summary === undefined || !r.take(',"detail":')) return undefined

  // detail: exactly GoJSON(receipt) without `ext` (§5.1): version, action_record, signature, signer_key
  const detailStart = r.pos
  if (!r.take('{"version":')) return undefined
  const version = r.uintText(15)
  if (version === undefined || !r.take(',"action_record":')) return undefined
  const recordStart = r.pos
  const record = r.struct(ACTION_RECORD)
  if (record === undefined) return undefined
  const recordEnd = r.pos
  if (!r.take(',"signature":')) return undefined
  const signature = r.goString()
  if (signature === undefined || !r.take(',"signer_key":')) return undefined
  const signerKey = r.goString()
  if (signerKey === undefined || !r.take('}')) return undefined
  const detailEnd = r.pos

  const rawRef = r.take(',"raw_ref":') ? r.rawString() : ''
  const prevHash = r.take(',"prev_hash":') ? r.rawString() : ''
  const hash = r.take(',"hash":') ? r.rawString() : ''
  if (rawRef === undefined || prevHash === undefined || hash === undefined || !r.take('}') || !r.done) return undefined
  // The entry's ts must parse (the full reader refuses the line otherwise); the record's timestamp
  // was checked as canonical by the struct reader, so an equal ts needs no second parse.
  if (ts !== record.get('timestamp') && !isGoTime(ts)) return undefined

  const recordJson = text.slice(recordStart, recordEnd)
  const receipt = canonicalActionReceipt(version, record, recordJson, signature, signerKey)
  if (receipt === undefined) return undefined
  const detail: JsonObject = new Map<string, JsonValue>([
    ['version', new JsonNumber(version)],
    ['action_record', record],
    ['signature', signature],
    ['signer_key', signerKey],
  ])
  const entry: RecorderEntry = {
    v,
    seq,
    ts,
    sessionId,
    traceId,
    type: 'action_receipt',
    eventKind,
    transport,
    summary,
    detail,
    detailRaw: text.slice(detailStart, detailEnd),
    rawRef,
    prevHash,
    hash,
  }
  return {entry, receipt}
}
