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
import {recordBytes} from './data-budget.js'
import type {ResponseRelay} from './response-relay.js'

/** SSE (§7.1): events assembled and response-scanned one by one, each flushed as soon as it is complete. */
export async function relaySse(r: ResponseRelay, t: RequestSession | null, suppress?: Suppressor): Promise<void> {
  const {core, res, b, up, shown, warnings, record} = r
  const snap = snapshotFor(core, b)
  const sse = snap.scanner.sseStream(suppress)
  const decoder = new TextDecoder('utf-8')
  // The stream is allowed when it starts (recorded before the first event is answered); a later
  // termination by response scanning is a second decision of its own.
  record(allowDecision(core, b, shown, up.statusCode, 0, warnings))
  res.writeHead(up.statusCode, inboundResponseHeaders(up.headers))
  res.flushHeaders()
  let bytes = 0
  let terminated = false
  const emit = (outcomes: ReturnType<typeof sse.push>): void => {
    for (const o of outcomes) {
      if (o.kind === 'event') {
        res.write(o.raw)
        if (o.warn.length > 0 && t !== null) t.finding = true
        if (o.warn.length > 0) core.audit.event('warn', 'response_scan', 'SSE event matched injection patterns (warn)', {url: shown, patterns: [...new Set(o.warn.map((w) => w.pattern))], request_id: b.requestId, agent: b.agent})
      } else {
        terminated = true
        core.audit.event('warn', 'response_scan', 'SSE stream terminated', {url: shown, reason: o.reason, patterns: [...new Set(o.matches.map((w) => w.pattern))], request_id: b.requestId, agent: b.agent})
        return
      }
    }
  }
  try {
    for await (const c of up.body) {
      bytes += (c as Buffer).length
      emit(sse.push(decoder.decode(c as Buffer, {stream: true})))
      if (terminated || res.destroyed) break
    }
    if (!terminated) emit(sse.push(decoder.decode()))
    if (!terminated) emit(sse.end())
  } catch {
    terminated = true
  }
  up.body.destroy()
  res.end()
  recordBytes(snap, up.finalUrl, bytes)
  budgetBytes(snap, budgetKey(b), bytes)
  if (terminated) {
    record(blockDecision(core, b, redactUrl(shown, false), {stage: 'response', layer: 'response_scan', reason: 'prompt_injection', detail: 'SSE stream terminated by response scanning', status: up.statusCode, enforced: true, warnings}))
  }
}
