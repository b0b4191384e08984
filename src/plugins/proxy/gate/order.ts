/**
 * The one order of the request gate (ARCHITECTURE "One gate, one decision"): the kill switch
 * first (every transport, stages/kill-switch.ts; the identity was resolved at dispatch, server.ts);
 * then the identity stage refuses a claimed name bound elsewhere → inbound envelope verification
 * (before any scanning, spec §6.1) → the URL checks → session / airlock → taint → header DLP →
 * redaction → body → git push → address protection → A2A → cross-request → contract → budget →
 * the mediation envelope (built on allow only, attached as the request is forwarded). Redaction
 * rewrites the body before body DLP, which then scans what is forwarded and still sees what
 * redaction missed; the envelope's digest covers the forwarded (redacted) body. The exception waiver and audit mode (`enforce: false`) are applied inside the stages
 * that can be waived or downgraded, so a stage's block is waived, recorded or answered in one
 * place. A new stage is one file in stages/ and one entry here (docs/architecture.md).
 */
import type {StageId} from './context.js'

export const STAGE_ORDER: readonly StageId[] = [
  'kill_switch', 'identity', 'envelope_verify', 'url_scan', 'url_dlp', 'session', 'taint', 'header_dlp', 'redaction', 'body', 'git_push', 'address', 'a2a', 'cross_request', 'contract', 'budget', 'envelope',
]
