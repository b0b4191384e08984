/**
 * Server-sent events relayed to the agent (§7.1), shared by the forward exchange and the reverse
 * proxy: each event assembled, response-scanned and flushed as soon as it is complete.
 */
import type {Suppressor} from '../../scanner/index.js'
import {budgetBytes, budgetKey} from '../agent-budget.js'
import {redactUrl} from '../block.js'
import {allowDecision, blockDecision, snapshotFor} from '../core.js'
import {inboundResponseHeaders} from '../header-hygiene.js'
import type {RequestSession} from '../session-gate.js'
import type {SseEventCheck} from './a2a-stream.js'
import {recordBytes} from './data-budget.js'
import type {ResponseRelay} from './response-relay.js'

/** SSE (§7.1): events assembled and response-scanned one by one, each flushed as soon as it is complete. */
export async function relaySse(
  r: ResponseRelay, t: RequestSession | null, suppress?: Suppressor,
  /** A further check of each event the generic scan passes (A2A streams, relay/a2a-stream.ts). */
  eventCheck?: SseEventCheck,
): Promise<void> {
  const {ports, res, b, up, shown, warnings, record} = r
  const snap = snapshotFor(ports, b)
  const sse = snap.scanner.sseStream(suppress)
  const decoder = new TextDecoder('utf-8')
  // The stream is allowed when it starts (recorded before the first event is answered); a later
  // termination by response scanning is a second decision of its own.
  record(allowDecision(ports, b, shown, {status: up.statusCode, bytes: 0, warnings}))
  res.writeHead(up.statusCode, inboundResponseHeaders(up.headers))
  res.flushHeaders()
  let bytes = 0
  let terminated = false
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
        if (o.warn.length > 0 && t !== null) t.finding = true
        if (o.warn.length > 0) ports.audit.event('warn', 'response_scan', 'SSE event matched injection patterns (warn)', {url: shown, patterns: [...new Set(o.warn.map((w) => w.pattern))], request_id: b.requestId, agent: b.agent})
      } else {
        terminated = true
        ports.audit.event('warn', 'response_scan', 'SSE stream terminated', {url: shown, reason: o.reason, patterns: [...new Set(o.matches.map((w) => w.pattern))], request_id: b.requestId, agent: b.agent})
        return
      }
    }
  }
  try {
    for await (const c of up.body) {
      bytes += (c as Buffer).length
      await emit(sse.push(decoder.decode(c as Buffer, {stream: true})))
      if (terminated || cut !== null || res.destroyed) break
    }
    if (!terminated && cut === null) await emit(sse.push(decoder.decode()))
    if (!terminated && cut === null) await emit(sse.end())
  } catch {
    terminated = true
  }
  up.body.destroy()
  res.end()
  recordBytes(snap, up.finalUrl, bytes)
  budgetBytes(snap, budgetKey(b), bytes)
  const ended = cut as {layer: string; detail: string; block: boolean} | null
  if (ended?.block === true) {
    record(blockDecision(ports, b, redactUrl(shown, false), {stage: 'response', layer: ended.layer, reason: 'prompt_injection', detail: ended.detail, status: up.statusCode, enforced: true, warnings}))
  } else if (terminated) {
    record(blockDecision(ports, b, redactUrl(shown, false), {stage: 'response', layer: 'response_scan', reason: 'prompt_injection', detail: 'SSE stream terminated by response scanning', status: up.statusCode, enforced: true, warnings}))
  }
}
