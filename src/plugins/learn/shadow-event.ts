import {decodeSummary, readCaptureInputs, SummaryDecodeError, type RecorderEntry} from '../capture/index.js'
import type {CapturedEvent} from './shadow-replay.js'

// The capture's events as `learn shadow` replays them: read, decoded and chain-checked, in capture
// order. On this thread (`readCapturedEvents`) or on a decode worker (shadow-decode-thread.ts),
// which hands them over in batches (`EventBatch`) — the same events either way.

const ZERO_TIME_SECONDS = -62135596800 // Go's zero time, 0001-01-01T00:00:00Z

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

/** `observedAtNs` of an entry's time (undefined for Go's zero time and before). */
function observedAt(epochSeconds: number, nanos: number): bigint | undefined {
  return epochSeconds <= ZERO_TIME_SECONDS ? undefined : BigInt(epochSeconds) * 1_000_000_000n + BigInt(nanos)
}

/** A recorder entry as a replayable capture event; undefined when it is not one (skipped). */
export function capturedEvent(e: RecorderEntry): CapturedEvent | undefined {
  if (e.type !== 'capture') return undefined
  try {
    decodeSummary(e.detail)
  } catch (err) {
    if (err instanceof SummaryDecodeError) return undefined
    throw err
  }
  const d = e.detail as Record<string, unknown>
  const r = (d.request ?? {}) as Record<string, unknown>
  return {
    surface: str(d.surface),
    method: str(r.method),
    url: str(r.url),
    toolName: str(r.tool_name),
    toolArgsJson: str(r.tool_args_json),
    mcpMethod: str(r.mcp_method),
    mcpServer: str(r.mcp_server),
    effectiveAction: str(d.effective_action),
    payloadRef: str(d.payload_ref),
    observedAtNs: observedAt(e.epochSeconds, e.nanos),
  }
}

/** Where a replay's events go, in capture order. */
export interface CapturedEventSink {
  /** A capture record: its event, or undefined when it is not a replayable one (skipped). */
  onEvent: (ev: CapturedEvent | undefined) => void
  /** Called with a number of input bytes read (progress). */
  onBytes: (n: number) => void
  /** Awaited after the events of each read chunk (or batch) were handed on: the reading waits for it. */
  afterChunk: () => Promise<void>
  /** Read size of the capture files. */
  chunkSize: number
}

/** The capture files' events, read on this thread (capture `readCaptureInputs`). */
export function readCapturedEvents(files: readonly string[], sink: CapturedEventSink): Promise<void> {
  return readCaptureInputs(
    files.map((f) => ({name: f})),
    {
      onEntry: (e) => {
        if (e.type === 'capture') sink.onEvent(capturedEvent(e))
      },
      afterChunk: sink.afterChunk,
      chunkSize: sink.chunkSize,
      onBytes: sink.onBytes,
    },
  )
}

/**
 * Events of a capture as one structured-clone message: a flat array of strings (the event's nine
 * string fields each; cloned as flat strings, so none keeps a larger text alive once it is a
 * memo's key) and the entries' times as numbers (`observedAtNs` is made where the event is taken
 * apart, by the same function). Cloning a few hundred strings costs less than the objects would.
 */
export interface EventBatch {
  strings: string[]
  /** `epochSeconds`, `nanos` of each event's entry. */
  times: number[]
  /** Capture records that are not replayable events (`capturedEvent` undefined). */
  skipped: number
  /** Input bytes read since the previous batch. */
  bytes: number
}

export function emptyBatch(): EventBatch {
  return {strings: [], times: [], skipped: 0, bytes: 0}
}

/** Adds a capture entry to `b` (as `readCapturedEvents` would hand it on). */
export function addEntry(b: EventBatch, e: RecorderEntry): void {
  if (e.type !== 'capture') return
  const ev = capturedEvent(e)
  if (ev === undefined) {
    b.skipped++
    return
  }
  b.strings.push(ev.surface, ev.method, ev.url, ev.toolName, ev.toolArgsJson, ev.mcpMethod, ev.mcpServer ?? '', ev.effectiveAction, ev.payloadRef)
  b.times.push(e.epochSeconds, e.nanos)
}

/** Hands `b`'s records to `sink.onEvent` in order (skipped ones first: only their count matters). */
export function deliverBatch(b: EventBatch, sink: Pick<CapturedEventSink, 'onEvent'>): void {
  for (let i = 0; i < b.skipped; i++) sink.onEvent(undefined)
  const s = b.strings
  const t = b.times
  for (let i = 0, j = 0; j < t.length; i += 9, j += 2) {
    sink.onEvent({
      surface: s[i] as string,
      method: s[i + 1] as string,
      url: s[i + 2] as string,
      toolName: s[i + 3] as string,
      toolArgsJson: s[i + 4] as string,
      mcpMethod: s[i + 5] as string,
      mcpServer: s[i + 6] as string,
      effectiveAction: s[i + 7] as string,
      payloadRef: s[i + 8] as string,
      observedAtNs: observedAt(t[j] as number, t[j + 1] as number),
    })
  }
}
