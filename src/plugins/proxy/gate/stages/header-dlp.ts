/**
 * Header DLP (§6.3): the exception waiver for its DLP findings, then the session's upgrade of
 * its warn findings by escalation level (request-gate.ts `headerDlpGate`).
 */
import {headerDlpGate} from '../../request-gate.js'
import {recordAuditFinding} from '../audit-mode.js'
import type {Stage} from '../context.js'

export const headerDlpStage: Stage = {
  id: 'header_dlp',
  run(ctx) {
    return headerDlpGate(ctx.snap, ctx.rec, ctx.req, ctx.sessionHost, ctx.shown, ctx.block, ctx.warnings, ctx.headers?.(), (r) => recordAuditFinding(ctx, 'header_dlp', r))
  },
}
