/**
 * The one order of the request gate (ARCHITECTURE "One gate, one decision"): identity is bound
 * and the kill switch checked at dispatch (server.ts, before a transport parses anything), then
 * the URL checks → session / airlock → taint → header DLP → redaction → body → cross-request →
 * contract → budget (redaction rewrites the body before body DLP, which then scans what is
 * forwarded and still sees what redaction missed). The exception waiver and audit mode
 * (`enforce: false`) are applied inside the stages that can be waived or downgraded, so a
 * stage's block is waived, recorded or answered in one place. A new stage is one file in stages/ and one entry here (docs/architecture.md).
 */
import type {StageId} from './context.js'

export const STAGE_ORDER: readonly StageId[] = [
  'url_scan', 'url_dlp', 'session', 'taint', 'header_dlp', 'redaction', 'body', 'cross_request', 'contract', 'budget',
]
