/**
 * The one order of the request gate (ARCHITECTURE "One gate, one decision"): identity is bound
 * and the kill switch checked at dispatch (server.ts, before a transport parses anything), then
 * the URL checks → session / airlock → taint → header DLP → body → git push → cross-request → contract →
 * budget. The exception waiver and audit mode (`enforce: false`) are applied inside the stages
 * that can be waived or downgraded, so a stage's block is waived, recorded or answered in one
 * place. A new stage is one file in stages/ and one entry here (docs/architecture.md).
 */
import type {StageId} from './context.js'

export const STAGE_ORDER: readonly StageId[] = [
  'url_scan', 'url_dlp', 'session', 'taint', 'header_dlp', 'body', 'git_push', 'cross_request', 'contract', 'budget',
]
