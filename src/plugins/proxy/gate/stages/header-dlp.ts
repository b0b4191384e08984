/**
 * Header DLP (§6.3) on the request's headers (or the transport's list): a block is a finding — an
 * exception may waive a DLP block; headers that cannot be scanned are refused in every mode — and
 * what audit mode turned into a warning is recorded as the block enforcement would answer (the
 * settle stages). Then warn findings are upgraded by the session's escalation level.
 */
import type {ContentScanResult} from '../../../scanner/index.js'
import {headerList} from '../../core.js'
import {wouldBlockIfEnforced} from '../audit-mode.js'
import type {RequestGateContext, Stage} from '../context.js'

/** The session's escalation level upgrades warn findings to a block (that stands: it is the session's answer). */
function upgradeWarnings(ctx: RequestGateContext, hdr: ContentScanResult): boolean {
  const t = ctx.rec.session
  if (t === null) return false
  const ps = ctx.rec.sessions!
  const upgraded = hdr.action === 'warn' && ps.warn(t, hdr.detail, ctx.sessionHost, true, ctx.shown) !== null
  const up = ps.warnFindings(t, hdr.dlpWarnings, ctx.sessionHost, ctx.shown)
  if (!upgraded && up === null) return false
  ctx.block({stage: 'header_dlp', layer: 'header_dlp', detail: `${hdr.action === 'warn' ? hdr.detail : `header DLP warn: ${up!.names}`} (warn upgraded to block at escalation level ${ps.levelOf(t)})`, status: 403, reason: 'dlp_match'})
  return true
}

export const headerDlpStage: Stage = {
  id: 'header_dlp',
  run(ctx) {
    const hdr = ctx.snap.scanner.scanRequestHeaders(ctx.headers?.() ?? headerList(ctx.req))
    for (const w of hdr.dlpWarnings) ctx.warnings.push(w.pattern)
    const blocks = hdr.action === 'block'
    if (!blocks && !wouldBlockIfEnforced(hdr, ctx.snap.scanner.settings.requestBodyScanning.action)) return upgradeWarnings(ctx, hdr)
    const dlp = hdr.dlp.length > 0
    ctx.finding = {
      block: {stage: 'header_dlp', layer: 'header_dlp', detail: hdr.detail, status: 403, reason: 'dlp_match'},
      waivable: dlp ? {layer: 'header_dlp', reason: 'dlp_match', findings: hdr.dlp} : undefined,
      mode: !blocks ? 'unenforced' : dlp ? 'record' : 'stands',
      rest: (c) => upgradeWarnings(c, hdr),
    }
    return false
  },
}
