/**
 * The one order of the request gate (ARCHITECTURE "One gate, one decision"): the kill switch
 * first (every transport, stages/kill-switch.ts; the identity was resolved at dispatch, server.ts);
 * then the identity stage refuses a claimed name bound elsewhere → inbound envelope verification
 * (before any scanning, spec §6.1) → the URL checks → session / airlock → taint → header DLP →
 * redaction → suppression (the request-body suppressor) → body → git push → address protection →
 * A2A → cross-request → contract → budget → the mediation envelope (built on allow only, attached
 * as the request is forwarded). Redaction rewrites the body before body DLP, which then scans what
 * is forwarded and still sees what redaction missed; the envelope's digest covers the forwarded
 * (redacted) body. A new stage is one file in stages/ and one entry here (docs/architecture.md).
 */
import type {SettleId, StageId} from './context.js'

export const STAGE_ORDER: readonly StageId[] = [
  'kill_switch', 'identity', 'envelope_verify', 'url_scan', 'url_dlp', 'session', 'taint', 'header_dlp', 'redaction', 'suppression', 'body', 'git_push', 'address', 'a2a', 'cross_request', 'contract', 'budget', 'envelope',
]

/**
 * The settle stages, run after any stage of the order that left a finding, before the next one:
 * the exception waiver (a matching scoped exception waives an enforced block, one per request,
 * operations.md §8.3), then the mode (answers the block when enforcing; in audit mode,
 * `enforce: false`, records the would-block and lets the request go on). So a stage's block is
 * waived, downgraded, recorded or answered in one place whichever stage found it.
 */
export const SETTLE_ORDER: readonly SettleId[] = ['exception', 'mode']
