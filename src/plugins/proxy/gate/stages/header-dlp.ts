/**
 * Header DLP (§6.3) on the request's headers (or the transport's list): audit mode records what
 * enforcement would block; a DLP block may be waived by an exception; warn findings are upgraded
 * by the session's escalation level.
 */
import {headerList} from '../../core.js'
import {recordAuditFinding} from '../audit-mode.js'
import type {Stage} from '../context.js'

export const headerDlpStage: Stage = {
  id: 'header_dlp',
  run(ctx) {
    const {rec, block} = ctx
    const hdr = ctx.snap.scanner.scanRequestHeaders(ctx.headers?.() ?? headerList(ctx.req))
    recordAuditFinding(ctx, 'header_dlp', hdr)
    ctx.warnings.push(...hdr.dlpWarnings.map((w) => w.pattern))
    if (hdr.action === 'block' && (hdr.dlp.length === 0 || !rec.waive({layer: 'header_dlp', reason: 'dlp_match', findings: hdr.dlp}))) {
      block({stage: 'header_dlp', layer: 'header_dlp', detail: hdr.detail, status: 403, reason: 'dlp_match'})
      return true
    }
    const t = rec.session
    if (t === null) return false
    const ps = rec.sessions!
    const upgraded = hdr.action === 'warn' && ps.warn(t, hdr.detail, ctx.sessionHost, true, ctx.shown) !== null
    const up = ps.warnFindings(t, hdr.dlpWarnings, ctx.sessionHost, ctx.shown)
    if (!upgraded && up === null) return false
    block({stage: 'header_dlp', layer: 'header_dlp', detail: `${hdr.action === 'warn' ? hdr.detail : `header DLP warn: ${up!.names}`} (warn upgraded to block at escalation level ${ps.levelOf(t)})`, status: 403, reason: 'dlp_match'})
    return true
  },
}
