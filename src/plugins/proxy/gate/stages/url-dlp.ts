/**
 * The reverse proxy's URL check (transports §4.3 step 3): DLP on the request-target as text, and
 * beyond the spec the URL DLP every other transport runs (the URL target set: query values
 * joined, path segments and query parameters decoded one by one) on the upstream URL the
 * request is forwarded to — the text scan alone let a key split over two query values, two path
 * segments or a `%20` through. The full URL scan does not apply there: the upstream is the
 * operator's own (loopback is normal), so SSRF, blocklist and rate-limit checks would judge the
 * operator, not the agent. Critical
 * findings hard-block whatever `action` says (§6 #31 fix); the block is a finding an exception may
 * waive. A finding that does not block — a `warn` action, a waived block, or audit mode, which
 * records no would-block here — is audited as not blocked and marks the session.
 */
import {coreDlpHint} from '../../hints.js'
import type {RequestGateContext, Stage} from '../context.js'

/** The evidence of a URL DLP finding that did not block. */
function notBlocked(ctx: RequestGateContext, detail: string): void {
  const {b, rec} = ctx
  ctx.ports.audit.event('warn', 'body_dlp', 'reverse proxy URL DLP finding (not blocked)', {url: ctx.shown, detail, request_id: b.requestId, agent: b.agent})
  if (rec.session !== null) rec.session.finding = true
}

export const urlDlpStage: Stage = {
  id: 'url_dlp',
  run(ctx) {
    const {snap, rec, b} = ctx
    if (snap.sessions !== null && rec.session === null) {
      rec.open(b)
      ctx.sessionHost = ctx.budgetHost ?? ''
    }
    const path = ctx.req.url ?? '/'
    const text = snap.scanner.scanTextForDlp(path)
    const asUrl = snap.scanner.scanUrlDlp(ctx.target)
    if (!asUrl.parsed) {
      // The handler built the target from a path that decoded; one that does not parse is refused, never forwarded unscanned.
      ctx.block({stage: 'url_scan', layer: 'parser', detail: 'invalid request path', status: 400, reason: 'bad_request'})
      return true
    }
    const url = {matches: [...text.matches, ...asUrl.matches], warnings: [...text.warnings, ...asUrl.warnings]}
    ctx.warnings.push(...new Set(url.warnings.map((w) => w.pattern)))
    if (url.matches.length === 0) {
      // A warn-only match lets the request on, but the URL it matched in is never shown in clear.
      ctx.shown = ctx.shownAs(url.warnings.length > 0 ? 'dlp' : null)
      return false
    }
    const names = [...new Set(url.matches.map((m) => m.pattern))].join(', ')
    const action = snap.scanner.settings.requestBodyScanning.action
    const critical = url.matches.some((m) => m.severity === 'critical')
    const detail = `URL DLP: ${names}`
    ctx.shown = ctx.shownAs('dlp')
    if (!critical && action !== 'block') {
      notBlocked(ctx, detail)
      return false
    }
    ctx.finding = {
      block: {stage: 'url_scan', layer: 'dlp', detail, status: 403, reason: 'dlp_match', ...coreDlpHint(url.matches)}, waivable: {layer: 'dlp', reason: 'dlp_match', findings: url.matches}, mode: 'pass',
      passed: (c) => notBlocked(c, detail),
    }
    return false
  },
}
