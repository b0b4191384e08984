/**
 * Request body (§6.2): buffered up to `max_body_bytes` (over the limit fails closed whether or
 * not scanning is on: nothing is streamed unscanned) and scanned whatever its Content-Type; a
 * DLP block may be waived by an exception; warn findings are upgraded by the session's level.
 */
import {safeTarget, urlHost} from '../../core.js'
import {readRequestBody, requestHasBody} from '../../request-body.js'
import {recordAuditFinding} from '../audit-mode.js'
import type {Stage} from '../context.js'

export const bodyStage: Stage = {
  id: 'body',
  async run(ctx) {
    const {snap, rec, block} = ctx
    // No body (every GET): no read, no await.
    if (!requestHasBody(ctx.req, ctx.hasBody)) return false
    const opts = ctx.bodyOptions?.() ?? {}
    const reqBody = await readRequestBody(snap, ctx.req, urlHost(ctx.target), ctx.verifiedBody === undefined ? opts : {...opts, buffered: ctx.verifiedBody})
    if (reqBody.kind === 'over_limit') {
      block('body_scan', 'body_dlp', reqBody.detail, 403, 'dlp_match')
      return true
    }
    if (reqBody.kind !== 'read') return false
    ctx.body = reqBody.body
    const r = reqBody.scan
    ctx.warnings.push(...r.dlpWarnings.map((w) => w.pattern))
    // Only DLP findings can be waived: an unscannable or over-size body, prompt injection and the
    // session's warn upgrades stand.
    if (r.action === 'block' && !(r.layer === 'body_dlp' && r.dlp.length > 0 && rec.waive({layer: 'body_dlp', reason: r.reason, findings: r.dlp}))) {
      block('body_scan', r.layer ?? 'body_dlp', r.detail, 403, r.reason ?? 'dlp_match')
      return true
    }
    const t = rec.session
    const ps = snap.sessions
    if (t !== null && r.action !== 'block') {
      const upgraded = r.action === 'warn' && r.layer !== null && ps!.warn(t, r.detail, ctx.sessionHost, r.layer === 'body_dlp', ctx.shown) !== null
      const up = ps!.warnFindings(t, r.dlpWarnings, ctx.sessionHost, ctx.shown)
      if (upgraded || up !== null) {
        const layer = upgraded ? r.layer! : 'body_dlp'
        block('body_scan', layer, `${upgraded ? r.detail : `request body DLP warn: ${up!.names}`} (warn upgraded to block at escalation level ${ps!.levelOf(t)})`, 403, upgraded ? (r.reason ?? 'dlp_match') : 'dlp_match')
        return true
      }
    }
    recordAuditFinding(ctx, 'body_scan', r)
    if (r.action === 'warn' && r.layer !== null) {
      ctx.core.audit.event('warn', r.layer === 'body_dlp' ? 'body_dlp' : 'body_prompt_injection', 'request body finding (not blocked)', {url: safeTarget(snap, ctx.target, r.layer), detail: r.detail, request_id: ctx.b.requestId, agent: ctx.b.agent})
    }
    return false
  },
}
