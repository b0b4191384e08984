/**
 * Suppression (operations.md §4.3, §4.4): prepares the request's request-body DLP suppressor for
 * the body stage, from the transport's per-request `RequestSuppression` (against the full target
 * URL). It is a stage that prepares, not a settle stage that filters findings afterwards, because
 * suppression acts inside the body scan: a suppressed finding is removed before the scanner picks
 * the body's action (a suppressed critical match leaves the remaining ones to decide, §6.2) and
 * before redaction's second look at the original bytes (stages/body.ts), and a body whose only
 * findings are suppressed is clean — no finding would be left for a settle stage to see, yet its
 * `finding_suppressed` audit and counters are due. Filtering afterwards would re-derive the
 * scanner's verdict outside the scanner. The response and SSE scans take their suppressors from
 * the same `RequestSuppression` after the gate (relay/forward-exchange.ts, fetch-handler.ts).
 */
import type {Stage} from '../context.js'

export const suppressionStage: Stage = {
  id: 'suppression',
  // No `suppress` entries: no suppressor to prepare (RequestSuppression.for answers undefined).
  applies: (snap) => snap.config.suppress.length > 0,
  run(ctx) {
    if (ctx.suppression !== undefined) ctx.suppress = ctx.suppression.for('body_dlp', ctx.target)
    return false
  },
}
