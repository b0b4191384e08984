/**
 * Server-sent events relayed to the agent (§7.1), shared by the forward exchange and the reverse
 * proxy: each event assembled, response-scanned and flushed as soon as it is complete.
 */
import {sseMaxEventBytes, type Suppressor} from '../../scanner/index.js'
import {budgetBytes, budgetKey} from '../agent-budget.js'
import {redactUrl} from '../block.js'
import {allowDecision, blockDecision, snapshotFor} from '../core.js'
import {answerGone} from '../answer-gone.js'
import {inboundResponseHeaders} from '../header-hygiene.js'
import type {SseEventCheck} from './a2a-stream.js'
import {recordBytes} from './data-budget.js'
import {LiveCut} from './live-cut.js'
import {quietBound, type ResponseRelay} from './response-relay.js'

/** SSE (§7.1): events assembled and response-scanned one by one, each flushed as soon as it is complete. */
export async function relaySse(
  r: ResponseRelay, suppress?: Suppressor,
  /** A further check of each event the generic scan passes (A2A streams, relay/a2a-stream.ts). */
  eventCheck?: SseEventCheck,
): Promise<void> {
  const {ports, res, b, up, shown, warnings, record, session: t} = r
  const snap = snapshotFor(ports, b)
  const sse = snap.scanner.sseStream(suppress)
  const decoder = new TextDecoder('utf-8')
  // The stream is allowed when it starts (recorded before the first event is answered); a later
  // termination by response scanning is a second decision of its own.
  record(allowDecision(ports, b, shown, {status: up.statusCode, bytes: 0, warnings}))
  res.writeHead(up.statusCode, inboundResponseHeaders(up.headers))
  res.flushHeaders()
  // The kill switch, the session's airlock, a reset or a terminate cut the stream while it lasts.
  const live = new LiveCut(ports, b, snap.sessions, t, () => up.body.destroy())
  // A stream quiet for longer than the idle bound is ended as an upstream failure.
  const idle = quietBound(r)
  let bytes = 0
  /** Why the stream ended early: a finding or an oversized event (recorded as a block), or the upstream failing (not a block). */
  let ended: 'prompt_injection' | 'event_too_large' | 'upstream' | null = null
  /** Set when the event check ended the stream: recorded as its own block, or only logged. */
  let cut: {layer: string; detail: string; block: boolean} | null = null
  const emit = async (outcomes: ReturnType<typeof sse.push>): Promise<void> => {
    for (const o of outcomes) {
      if (o.kind === 'event') {
        if (eventCheck !== undefined) {
          const v = await eventCheck(o.raw)
          if (v.kind === 'cut') {
            cut = v
            return
          }
          res.write(v.out)
        } else res.write(o.raw)
        if (o.warn.length > 0 && t !== null) {
          t.finding = true
          // An event relayed with a finding makes the session hostile (docs/taint.md), as a
          // buffered response relayed with one does.
          snap.sessions?.exposure(t, shown, '', 'prompt_injection')
        }
        if (o.warn.length > 0) ports.audit.event('warn', 'response_scan', 'SSE event matched injection patterns (warn)', {url: shown, patterns: [...new Set(o.warn.map((w) => w.pattern))], request_id: b.requestId, agent: b.agent})
      } else {
        ended = o.reason
        ports.audit.event('warn', 'response_scan', 'SSE stream terminated', {url: shown, reason: o.reason, patterns: [...new Set(o.matches.map((w) => w.pattern))], request_id: b.requestId, agent: b.agent})
        return
      }
    }
  }
  try {
    for await (const c of up.body) {
      idle?.refresh()
      bytes += (c as Buffer).length
      await emit(sse.push(decoder.decode(c as Buffer, {stream: true})))
      if (ended !== null || cut !== null || answerGone(res) || live.cutBy !== null) break
    }
    if (ended === null && cut === null && live.cutBy === null) await emit(sse.push(decoder.decode()))
    if (ended === null && cut === null && live.cutBy === null) await emit(sse.end())
  } catch (e) {
    // The upstream failed mid-stream: the stream was allowed and is cut short, nothing was blocked.
    if (live.cutBy === null) {
      ended = 'upstream'
      ports.audit.event('warn', 'response_scan', 'SSE stream ended by an upstream error', {url: shown, error: (e as Error).message, request_id: b.requestId, agent: b.agent})
    }
  }
  live.end()
  if (idle !== null) clearTimeout(idle)
  up.body.destroy()
  const liveCut = live.cutBy
  if (liveCut !== null) {
    // Recorded before the agent sees the end; an SSE comment (ignored by event parsers) says why.
    record(blockDecision(ports, b, redactUrl(shown, false), {stage: liveCut.stage, layer: liveCut.layer, reason: liveCut.reason, detail: liveCut.detail, status: up.statusCode, enforced: true, warnings}))
    if (!answerGone(res)) res.write(`: pipelock: ${liveCut.detail}\n\n`)
  }
  res.end()
  recordBytes(snap, up.finalUrl, bytes)
  budgetBytes(snap, budgetKey(b), bytes)
  const checked = cut as {layer: string; detail: string; block: boolean} | null
  // Set inside emit (a closure): read with its declared type, not the narrowing of the catch above.
  const why = ended as 'prompt_injection' | 'event_too_large' | 'upstream' | null
  const target = redactUrl(shown, false)
  if (checked?.block === true) {
    record(blockDecision(ports, b, target, {stage: 'response', layer: checked.layer, reason: 'prompt_injection', detail: checked.detail, status: up.statusCode, enforced: true, warnings}))
  } else if (why === 'prompt_injection') {
    record(blockDecision(ports, b, target, {stage: 'response', layer: 'response_scan', reason: 'prompt_injection', detail: 'SSE stream terminated by response scanning', status: up.statusCode, enforced: true, warnings}))
  } else if (why === 'event_too_large') {
    record(blockDecision(ports, b, target, {
      stage: 'response', layer: 'response_scan', reason: 'data_budget', status: up.statusCode, enforced: true, warnings,
      detail: `SSE stream terminated: an event whose data is larger than response_scanning.sse_streaming.max_event_bytes (${sseMaxEventBytes(snap.scanner.response)}), or whose other lines add more than 64 KiB to it`,
    }))
  }
}
