/**
 * SSE (`text/event-stream`) scanning, §7.1: events are assembled incrementally (never the whole
 * stream), each event's data is response-scanned, and the stream is terminated on a hit
 * (`action: block`) or on an event whose data is larger than `max_event_bytes`. Only the bytes
 * of the `data:` fields count (the configuration reference: `event:`, `id:` and `retry:` are not
 * counted); the event's other lines get `METADATA_ALLOWANCE` more bytes, so that metadata alone
 * cannot grow the buffer without bound. The event is relayed as received, so an event that holds
 * anything besides `data:` lines (comments, other fields, lines that are no field at all, a page
 * served as `text/event-stream`) is scanned whole too, with the same action as its data.
 */
import {utf8Length} from './entropy.js'
import {EventFieldTails} from './event-field-tails.js'
import {jsonMessageParts} from './json-texts.js'
import {scanResponse, scanResponseRead, unsuppressed, type ResponseMatch, type ResponseScanner, type ResponseScanResult, type Suppressor} from './response-scanner.js'
import {StreamTail} from './stream-tail.js'

export type SseOutcome =
  /** Forward `raw` (the event's bytes exactly as received, incl. its terminating blank line). */
  | {readonly kind: 'event'; readonly raw: string; readonly warn: readonly ResponseMatch[]}
  /** Stop the stream; nothing further may be forwarded. */
  | {readonly kind: 'terminate'; readonly reason: 'prompt_injection' | 'event_too_large'; readonly matches: readonly ResponseMatch[]}

export interface SseStreamScanner {
  /** Feed the next decoded chunk; returns outcomes for every event completed by it. */
  push(chunk: string): SseOutcome[]
  /** End of stream: a trailing partial event is scanned and flushed. */
  end(): SseOutcome[]
}

/** The fields of one SSE event the stream scanners read (unknown fields and comments dropped). */
export interface SseEventFields {
  readonly event?: string
  readonly id?: string
  readonly retry?: string
  readonly data: readonly string[]
}

/** The fields of one raw event (lines split on CRLF, CR or LF; one space after the colon dropped). */
export function parseSseEvent(raw: string): SseEventFields {
  let event: string | undefined
  let id: string | undefined
  let retry: string | undefined
  const data: string[] = []
  for (const line of raw.split(/\r\n|\r|\n/)) {
    if (line === '' || line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon >= 0 ? line.slice(0, colon) : line
    let value = colon >= 0 ? line.slice(colon + 1) : ''
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') data.push(value)
    else if (field === 'event') event = value
    else if (field === 'id') id = value
    else if (field === 'retry') retry = value
  }
  return {...(event === undefined ? {} : {event}), ...(id === undefined ? {} : {id}), ...(retry === undefined ? {} : {retry}), data}
}

/** A field's value (or a comment's text) as a parser reads it: one space after the colon dropped. */
const valueOf = (v: string): string => (v.startsWith(' ') ? v.slice(1) : v)

/** Longer field names are read as text lines, so that a stream cannot key a tail per line of a page. */
const FIELD_NAME_CHARS = 32

/**
 * The pieces of one raw event a token stream may spread over events, keyed by where they stand:
 * each comment, each field other than `data` (by name, as written), each line that is no field,
 * and each string value and number of data that is one JSON document (by member path, array
 * indexes left out). `relayed` is true when the event holds a line other than `data:` lines.
 */
export function sseEventPieces(raw: string, data: string): {relayed: boolean; fields: Array<readonly [string, string]>} {
  const fields: Array<readonly [string, string]> = []
  let relayed = false
  for (const line of raw.split(/\r\n|\r|\n/)) {
    if (line === '') continue
    const colon = line.indexOf(':')
    if (colon === 0) fields.push([':', valueOf(line.slice(1))])
    // A line that is no field, or whose "name" is longer than a field's (text with a colon in it), is kept as a line.
    else if (colon < 0 || colon > FIELD_NAME_CHARS) fields.push(['', line])
    else if (line.slice(0, colon) !== 'data') fields.push([`${line.slice(0, colon)}:`, valueOf(line.slice(colon + 1))])
    else continue
    relayed = true
  }
  // Not one JSON document: its text is read by the stream tail.
  for (const [path, v] of jsonMessageParts(data, false)?.fields ?? []) fields.push([`data:${path}`, v])
  return {relayed, fields}
}

/** Data of one event: the `data:` field values joined by `\n` (one leading space stripped). */
export function sseEventData(raw: string): string {
  return parseSseEvent(raw).data.join('\n')
}

/** Index just past the first blank line (event terminator), or -1. */
function eventEnd(buf: string): number {
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]
    if (c !== '\n' && c !== '\r') continue
    let j = i + (c === '\r' && buf[i + 1] === '\n' ? 2 : 1)
    const d = buf[j]
    if (d === '\n') return j + 1
    if (d === '\r') return buf[j + 1] === '\n' ? j + 2 : j + 1
    i = j - 1
  }
  return -1
}

/** The SSE event size limit in force: `max_event_bytes`, or 64 KiB when unset (runtime §7.1). */
export function sseMaxEventBytes(sc: ResponseScanner): number {
  const n = sc.settings.responseScanning.sseStreaming.maxEventBytes
  return n > 0 ? n : 65536
}

/** Bytes an event's lines other than `data:` (event, id, retry, comments) may add to the data's limit. */
export const METADATA_ALLOWANCE = 65536

/**
 * True when `raw` (a whole event, or the part of one received so far) holds more than `max` bytes
 * of data, or more than `max + METADATA_ALLOWANCE` bytes in all. An event no longer than `max`
 * in all is never parsed here.
 */
function overLimit(raw: string, max: number): boolean {
  const n = utf8Length(raw)
  if (n <= max) return false
  if (n > max + METADATA_ALLOWANCE) return true
  return utf8Length(sseEventData(raw)) > max
}

export function createSseStreamScanner(sc: ResponseScanner, suppress?: Suppressor): SseStreamScanner {
  const cfg = sc.settings.responseScanning.sseStreaming
  const max = sseMaxEventBytes(sc)
  let buf = ''
  let done = false
  const tail = new StreamTail()
  const fieldTails = new EventFieldTails()
  /**
   * The event's data on its own, then (when clean) behind the rolling tail of the ones before;
   * then the event as relayed, when it holds more than its data; then each of its fields behind
   * that field's tail (a JSON token stream, whose pieces the data's tail keeps apart).
   */
  const scanRaw = (raw: string): ResponseScanResult => {
    const data = sseEventData(raw)
    const r = tail.next(data, (t) => scanResponseRead(sc, t), (v) => v.clean).verdict
    if (!r.clean) return r
    const pieces = sseEventPieces(raw, data)
    if (pieces.relayed) {
      const whole = scanResponseRead(sc, raw)
      if (!whole.clean) return whole
    }
    const across = fieldTails.next(pieces.fields)
    const v = across.text === null ? r : scanResponse(sc, across.text)
    across.settle(v.clean)
    return v
  }
  const scanEvent = (raw: string): SseOutcome => {
    let r: ResponseScanResult
    try {
      r = scanRaw(raw)
    } catch {
      done = true // fail closed
      return {kind: 'terminate', reason: 'prompt_injection', matches: []}
    }
    if (!r.clean && suppress !== undefined) {
      const kept = unsuppressed(r.matches, suppress)
      if (kept.length === 0) return {kind: 'event', raw, warn: []}
      r = {...r, matches: kept}
    }
    if (r.clean) return {kind: 'event', raw, warn: []}
    // Core hits always terminate; configured hits follow sse_streaming.action.
    if (r.core || cfg.action !== 'warn') {
      done = true
      return {kind: 'terminate', reason: 'prompt_injection', matches: r.matches}
    }
    return {kind: 'event', raw, warn: r.matches}
  }
  return {
    push(chunk: string): SseOutcome[] {
      if (done) return []
      buf += chunk
      const out: SseOutcome[] = []
      for (;;) {
        const end = eventEnd(buf)
        if (end < 0) break
        const raw = buf.slice(0, end)
        buf = buf.slice(end)
        if (overLimit(raw, max)) {
          done = true
          out.push({kind: 'terminate', reason: 'event_too_large', matches: []})
          return out
        }
        const o = scanEvent(raw)
        out.push(o)
        if (done) return out
      }
      if (overLimit(buf, max)) {
        done = true
        out.push({kind: 'terminate', reason: 'event_too_large', matches: []})
      }
      return out
    },
    end(): SseOutcome[] {
      if (done || buf === '') return []
      const raw = buf
      buf = ''
      return [scanEvent(raw)]
    },
  }
}
