/**
 * Request body (§6.2): buffered up to `max_body_bytes` (over the limit fails closed whether or
 * not scanning is on: nothing is streamed unscanned) and scanned whatever its Content-Type, with
 * the suppressor the suppression stage prepared. A block is a finding: an exception may waive a
 * DLP block; a body that cannot be scanned is refused in every mode; what audit mode turned into a
 * warning is recorded as the block enforcement would answer (the settle stages). Warn findings
 * are upgraded by the session's level.
 */
import {safeTarget, urlHost} from '../../core.js'
import {UNSCANNABLE_BODY_HINT} from '../../hints.js'
import {matchesAnyDomain, type ContentScanResult} from '../../../scanner/index.js'
import {readRequestBody, requestHasBody, scanReadBody, type RequestBodyOptions} from '../../request-body.js'
import {wouldBlockIfEnforced} from '../audit-mode.js'
import {endClientClosed} from '../client-closed.js'
import type {Finding, RequestGateContext, Stage} from '../context.js'

/**
 * envelope-redaction §12: when redaction replaced something and the forwarded body is clean,
 * DLP on the original bytes decides ("redacted-DLP-only"): a hit there still counts. A block it
 * would cause is excused only for a host in `response_scanning.exempt_domains`, and then
 * `request_body_scanning.action` applies (`warn` forwards the redacted body) — the reference's
 * rule (R6, replicated; docs/redaction.md). Costs a second scan only for redacted requests.
 */
async function afterRedaction(ctx: RequestGateContext, host: string, r: ContentScanResult): Promise<ContentScanResult> {
  const red = ctx.redacted!
  if (!red.replaced || r.action === 'block' || r.dlp.length > 0) return r
  const pre = await scanReadBody(ctx.snap, ctx.req, red.original, host, bodyOptions(ctx))
  if (pre.layer !== 'body_dlp' || pre.dlp.length === 0) return r
  const settings = ctx.snap.scanner.settings
  if (pre.action === 'block' && matchesAnyDomain(host, settings.responseScanning.exemptDomains) !== null) {
    const action = settings.requestBodyScanning.action === 'block' && settings.enforce ? 'block' : 'warn'
    return {...pre, action, injection: r.injection}
  }
  return {...pre, injection: r.injection}
}

/** How the body is read: whether the transport knows it has one (HTTP/2), and the request's suppressor. */
function bodyOptions(ctx: RequestGateContext): RequestBodyOptions {
  return {...(ctx.hasBody === undefined ? {} : {hasBody: ctx.hasBody}), ...(ctx.suppress === undefined ? {} : {suppress: ctx.suppress})}
}

/** A finding that did not block is logged (`body_dlp` or `body_prompt_injection`, not blocked). */
function logWarning(ctx: RequestGateContext, r: ContentScanResult): false {
  if (r.action === 'warn' && r.layer !== null) {
    ctx.ports.audit.event('warn', r.layer === 'body_dlp' ? 'body_dlp' : 'body_prompt_injection', 'request body finding (not blocked)', {url: safeTarget(ctx.snap, ctx.target, r.layer), detail: r.detail, request_id: ctx.b.requestId, agent: ctx.b.agent})
  }
  return false
}

/**
 * The finding of a scan that blocks, or that audit mode turned into a warning. Only DLP findings
 * can be waived: an unscannable body, prompt injection and the session's warn upgrades stand.
 */
function bodyFinding(r: ContentScanResult): Finding {
  const found = r.dlp.length > 0 || r.injection.length > 0
  const layer = r.layer ?? 'body_dlp'
  // A body that could not be scanned carries the DLP layer but no finding: its own hint.
  const hint = !found && r.action === 'block' && layer === 'body_dlp' ? {hint: UNSCANNABLE_BODY_HINT} : {}
  return {
    block: {stage: 'body_scan', layer, detail: r.detail, status: 403, reason: r.reason ?? 'dlp_match', ...hint},
    waivable: r.layer === 'body_dlp' && r.dlp.length > 0 ? {layer: 'body_dlp', reason: r.reason, findings: r.dlp} : undefined,
    mode: r.action !== 'block' ? 'unenforced' : found ? 'record' : 'stands',
    rest: (ctx) => logWarning(ctx, r),
  }
}

export const bodyStage: Stage = {
  id: 'body',
  run(ctx) {
    // No body (every GET): no read, no await, no promise.
    if (!requestHasBody(ctx.req, ctx.hasBody)) return false
    return scanBody(ctx)
  },
}

/** A request that has a body: read (or taken from the redaction stage), scanned, judged. */
async function scanBody(ctx: RequestGateContext): Promise<boolean> {
  const {snap, rec, block} = ctx
  const host = urlHost(ctx.target)
  const opts = bodyOptions(ctx)
  // Read already by the redaction stage: scan what is forwarded.
  const reqBody = ctx.redacted !== undefined
    ? {kind: 'read' as const, body: ctx.body!, scan: await afterRedaction(ctx, host, await scanReadBody(snap, ctx.req, ctx.body!, host, opts))}
    : await readRequestBody(snap, ctx.req, host, ctx.verifiedBody === undefined ? opts : {...opts, buffered: ctx.verifiedBody})
  if (reqBody.kind === 'over_limit') {
    block({stage: 'body_scan', layer: 'body_dlp', detail: reqBody.detail, status: 403, reason: 'dlp_match', hint: UNSCANNABLE_BODY_HINT})
    return true
  }
  if (reqBody.kind === 'client_closed') return endClientClosed(ctx)
  if (reqBody.kind !== 'read') return false
  ctx.body = reqBody.body
  // What DLP judged: the bytes as received (redaction's original when it rewrote them).
  rec.scanned.body = ctx.redacted?.original ?? reqBody.body
  const r = reqBody.scan
  ctx.warnings.push(...r.dlpWarnings.map((w) => w.pattern))
  if (r.action === 'block') {
    ctx.finding = bodyFinding(r)
    return false
  }
  const t = rec.session
  const ps = snap.sessions
  if (t !== null) {
    const upgraded = r.action === 'warn' && r.layer !== null && ps!.warn(t, r.detail, ctx.sessionHost, r.layer === 'body_dlp', ctx.shown) !== null
    const up = ps!.warnFindings(t, r.dlpWarnings, ctx.sessionHost, ctx.shown)
    if (upgraded || up !== null) {
      const layer = upgraded ? r.layer! : 'body_dlp'
      block({stage: 'body_scan', layer, detail: `${upgraded ? r.detail : `request body DLP warn: ${up!.names}`} (warn upgraded to block at escalation level ${ps!.levelOf(t)})`, status: 403, reason: upgraded ? (r.reason ?? 'dlp_match') : 'dlp_match'})
      return true
    }
  }
  if (wouldBlockIfEnforced(r, snap.scanner.settings.requestBodyScanning.action)) {
    ctx.finding = bodyFinding(r)
    return false
  }
  return logWarning(ctx, r)
}
