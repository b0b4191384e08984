/**
 * Class-preserving redaction (envelope-redaction §12, §16–§19): with `redaction.enabled`, the
 * request body is read here (same cap and fail-closed over-limit answer as the body stage) and a
 * JSON body is rewritten into typed placeholders before body DLP runs; the body stage then scans
 * what will be forwarded, so DLP still sees whatever redaction missed. A body redaction cannot
 * handle (non-JSON outside the allowlists, unparseable, over a limit) is refused with 403
 * `redaction_failure` in every mode: `enforce: false` and exceptions do not waive it.
 */
import {UNSCANNABLE_BODY_HINT} from '../../hints.js'
import {isCompressedEncoding} from '../../../scanner/index.js'
import {readCapped} from '../../read-capped.js'
import {requestHasBody} from '../../request-body.js'
import {endClientClosed} from '../client-closed.js'
import type {RequestGateContext, Stage} from '../context.js'

/** Host (with port) and decoded path of an absolute URL; null when it does not parse. */
function hostAndPath(target: string): {host: string; path: string} | null {
  let u: URL
  try {
    u = new URL(target)
  } catch {
    return null
  }
  let path = u.pathname
  try {
    path = decodeURIComponent(path)
  } catch {
    // a malformed escape: matched as written
  }
  return {host: u.host, path}
}

export const redactionStage: Stage = {
  id: 'redaction',
  applies: (snap) => snap.redactor !== null,
  run(ctx) {
    const redactor = ctx.snap.redactor
    // Redaction off, or no body (every GET): no promise.
    if (redactor === null || (ctx.verifiedBody === undefined && !requestHasBody(ctx.req, ctx.hasBody))) return false
    return redact(ctx, redactor)
  },
}

/** A body to redact: read (or the envelope stage's), then rewritten or refused. */
async function redact(ctx: RequestGateContext, redactor: NonNullable<RequestGateContext['snap']['redactor']>): Promise<boolean> {
  const max = ctx.snap.scanner.settings.requestBodyScanning.maxBodyBytes
  // The inbound envelope's digest check may have read the body already (stage envelope_verify).
  const why = {exceeded: ctx.verifiedBody !== undefined && ctx.verifiedBody.length > max}
  const body = ctx.verifiedBody !== undefined ? (why.exceeded ? null : ctx.verifiedBody) : await readCapped(ctx.req, max, {overflow: 'discard', why})
  if (body === null && !why.exceeded) return endClientClosed(ctx)
  if (body === null) {
    ctx.block({stage: 'body_scan', layer: 'body_dlp', detail: `request body exceeds max_body_bytes (${max})`, status: 403, reason: 'dlp_match', hint: UNSCANNABLE_BODY_HINT})
    return true
  }
  ctx.body = body
  ctx.redacted = {original: body, replaced: false}
  // Empty or compressed bodies are the body stage's (clean, and refused, respectively).
  if (body.length === 0 || isCompressedEncoding(String(ctx.req.headers['content-encoding'] ?? ''))) return false
  const at = hostAndPath(ctx.target)
  const out = at === null
    ? {kind: 'blocked' as const, reason: 'body_unparseable' as const}
    // Over 64 KiB on the scan pool (docs/scanner.md, "Large bodies").
    : await ctx.snap.bodyScans.redactBody(redactor, {host: at.host, path: at.path, method: ctx.method, contentType: String(ctx.req.headers['content-type'] ?? '')}, body)
  if (out.kind === 'blocked') {
    ctx.block({stage: 'body_scan', layer: 'redaction', detail: `redaction blocked request: ${out.reason}`, status: 403, reason: 'redaction_failure'})
    return true
  }
  if (out.kind === 'rewritten') {
    ctx.body = out.body
    if (out.summary !== null) {
      ctx.rec.redaction = out.summary
      ctx.redacted = {original: body, replaced: true}
    }
  }
  return false
}
