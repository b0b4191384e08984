/**
 * The reverse proxy's URL check (transports §4.3 step 3): DLP on the request-target alone. The
 * full URL scan does not apply there: the upstream is the operator's own (loopback is normal),
 * so SSRF, blocklist and rate-limit checks would judge the operator, not the agent. Critical
 * findings hard-block whatever `action` says (§6 #31 fix); a block may be waived by an exception.
 */
import {enforcing} from '../../core.js'
import type {Stage} from '../context.js'

export const urlDlpStage: Stage = {
  id: 'url_dlp',
  run(ctx) {
    const {snap, rec, b, ports} = ctx
    if (snap.sessions !== null && rec.session === null) {
      rec.open(b)
      ctx.sessionHost = ctx.budgetHost ?? ''
    }
    const path = ctx.req.url ?? '/'
    const url = snap.scanner.scanTextForDlp(path)
    ctx.warnings.push(...url.warnings.map((w) => w.pattern))
    if (url.matches.length === 0) {
      ctx.shown = ctx.shownAs(null)
      return false
    }
    const names = [...new Set(url.matches.map((m) => m.pattern))].join(', ')
    const action = snap.scanner.settings.requestBodyScanning.action
    const critical = url.matches.some((m) => m.severity === 'critical')
    ctx.shown = ctx.shownAs('dlp')
    if (enforcing(snap) && (critical || action === 'block') && !rec.waive({layer: 'dlp', reason: 'dlp_match', findings: url.matches})) {
      ctx.block({stage: 'url_scan', layer: 'dlp', detail: `URL DLP: ${names}`, status: 403, reason: 'dlp_match'})
      return true
    }
    ports.audit.event('warn', 'body_dlp', 'reverse proxy URL DLP finding (not blocked)', {url: ctx.shown, detail: `URL DLP: ${names}`, request_id: b.requestId, agent: b.agent})
    if (rec.session !== null) rec.session.finding = true
    return false
  },
}
