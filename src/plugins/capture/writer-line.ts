import {copyString} from '../canonical/index.js'
import type {EntryHashFields} from '../receipts/index.js'
import {detailJsonOf, UTC_TS_SOURCE, utcTimeOf} from './entry.js'

/**
 * A `type: capture` line read in the capture writer's own layout (writer.ts, summary.ts), without
 * JSON.parse: what `decodeEntry` and then `decodeSummary` give for it, as flat fields. Only the
 * summary fields a replay reads are returned.
 */
export interface WriterCapture extends EntryHashFields {
  hash: string
  epochSeconds: number
  nanos: number
  surface: string
  effectiveAction: string
  payloadRef: string
  /** `sha256:<hex>` of the sidecar plaintext ('' when absent). */
  payloadSha256: string
  method: string
  url: string
  toolName: string
  toolArgsJson: string
  mcpMethod: string
  mcpServer: string
  /** The summary members only compile reads (`decodeSummary`'s): '' / 0 when absent. */
  agent: string
  actionClass: string
  payloadBytes: number
  scannerBytes: number
}

// A JSON string without escapes or control characters (so its text is its value), captured or
// not; an integer as JSON writes it with at most 15 digits (decodeSummary's integer check holds).
const STR = '"([^"\\\\\\u0000-\\u001f]*)"'
const SKIP = '"[^"\\\\\\u0000-\\u001f]*"'
const INT = '-?(?:0|[1-9]\\d{0,14})'
const opt = (key: string, value: string): string => `(?:,"${key}":${value})?`

/**
 * The line as RecorderEntryChain.next writes a capture entry (v 2, seq below 2^64: at most 19
 * digits, a writer-form UTC `ts`), with the detail as summaryJson writes it: members in its
 * order, each at most once, optional ones where it puts them; findings `null` and no `headers` (anything else takes the
 * general path). Irregexp matches the literal keys and checks every string's characters in one
 * native pass: a quarter of JSON.parse's cost on the writer's ≈ 840-byte lines.
 */
const WRITER_CAPTURE = new RegExp(
  '^\\{"v":2,"seq":(0|[1-9]\\d{0,18}),"ts":"(' + UTC_TS_SOURCE + ')","session_id":' + STR + opt('trace_id', STR) + ',"type":"capture"' + opt('event_kind', STR) +
    ',"transport":' + STR + ',"summary":' + STR +
    ',"detail":(\\{"capture_schema_version":1,"surface":' + STR + ',"subsurface":' + SKIP + opt('batch_index', INT) +
    ',"config_hash":' + SKIP + ',"build_version":' + SKIP + ',"build_sha":' + SKIP +
    opt('agent', STR) + opt('session_id_original', SKIP) + opt('profile', SKIP) + opt('action_class', STR) + opt('payload_ref', STR) +
    opt('payload_sha256', STR) + opt('payload_bytes', `(${INT})`) + ',"payload_complete":(?:true|false),"transform_kind":' + SKIP +
    opt('wire_payload_bytes', INT) + opt('wire_payload_sample', SKIP) + opt('scanner_bytes', `(${INT})`) + opt('scanner_sample', SKIP) +
    ',"request":\\{"method":' + STR + ',"url":' + STR + opt('body_sample', SKIP) + opt('tool_name', STR) + opt('tool_args_json', STR) +
    opt('mcp_method', STR) + opt('mcp_server', STR) + '\\}' +
    ',"raw_findings":null,"effective_findings":null,"effective_action":' + STR + ',"outcome":' + SKIP + opt('skip_reason', SKIP) + '\\})' +
    opt('raw_ref', STR) + ',"prev_hash":' + STR + ',"hash":' + STR + '\\}$',
)

/**
 * A value kept beyond the line (a replayed event's URL becomes a memo key): a match is a slice
 * of the read chunk's text in V8, which would stay alive with it.
 */
function own(s: string | undefined): string {
  return s === undefined ? '' : copyString(s)
}

const asIs = (s: string | undefined): string => s ?? ''

/**
 * Reads a `type: capture` line in the writer's exact layout (`WRITER_CAPTURE`, a writer-form UTC
 * `ts`). Anything else gives undefined and the general path (`decodeEntry`, `decodeSummary`)
 * decides, so a line is never read differently from it (differential test:
 * shadow-writer-line.test).
 *
 * The summary's strings are copies (`copyString`) unless `slices` is set: then they are V8 slices
 * of `line` (and of the text it was cut from), and a caller that keeps one beyond the line copies
 * it itself (compile keeps only the few it puts in its bounded caches, copied on insertion).
 */
export function decodeWriterCapture(line: string, slices = false): WriterCapture | undefined {
  const m = WRITER_CAPTURE.exec(line)
  if (m === null) return undefined
  // The writer-form `ts` is matched in the line (UTC_TS_SOURCE): its parts are m[3]…m[9].
  const time = utcTimeOf(m[2] as string, m[3] as string, m[4] as string, m[5] as string, m[6] as string, m[7] as string, m[8] as string, m[9])
  if (time === undefined) return undefined
  const keep = slices ? asIs : own
  return {
    v: 2,
    seq: m[1] as string,
    ts: time.canonical,
    epochSeconds: time.epochSeconds,
    nanos: time.nanos,
    sessionId: m[10] as string,
    traceId: m[11] ?? '',
    type: 'capture',
    eventKind: m[12] ?? '',
    transport: m[13] as string,
    summary: m[14] as string,
    detailJson: detailJsonOf(m[15]),
    surface: keep(m[16]),
    agent: m[17] ?? '',
    actionClass: m[18] ?? '',
    payloadRef: keep(m[19]),
    payloadSha256: m[20] ?? '',
    // INT: at most 15 digits, so the Number is the integer decodeSummary reads.
    payloadBytes: m[21] === undefined ? 0 : Number(m[21]),
    scannerBytes: m[22] === undefined ? 0 : Number(m[22]),
    method: keep(m[23]),
    url: keep(m[24]),
    toolName: keep(m[25]),
    toolArgsJson: keep(m[26]),
    mcpMethod: keep(m[27]),
    mcpServer: keep(m[28]),
    effectiveAction: keep(m[29]),
    rawRef: m[30] ?? '',
    prevHash: m[31] as string,
    hash: m[32] as string,
  }
}
