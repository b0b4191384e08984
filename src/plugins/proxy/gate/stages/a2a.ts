/**
 * A2A request scanning (scanners-extra §2.3–§2.5): on a request the detection recognises (media
 * type `application/a2a+json` or an A2A binding path), every `A2A-Extensions` URI through the URL
 * scan, then the body (read by the body stage) through the field-aware A2A walk and the
 * context-id smuggling tracker. `action: block` blocks when the proxy enforces (the forward proxy
 * of the reference blocks even with `enforce: false`; fixed, as its TLS interception does);
 * otherwise the finding is logged. A `block` is a finding no exception waives: the mode stage
 * answers it when the proxy enforces; in audit mode it is logged as not blocked and recorded as
 * the request's would-block, and the body is still scanned.
 */
import {a2aSettingsFromConfig, isA2aRequest, scanA2aBody, scanA2aExtensions, type A2aSettings, type A2aVerdict} from '../../../a2a/index.js'
import {a2aScanners} from '../../a2a-scanners.js'
import {ResponseTransformState} from '../../relay/response-transforms.js'
import type {RequestGateContext, Stage} from '../context.js'

type Rest = (ctx: RequestGateContext) => boolean | Promise<boolean>

function notBlocked(ctx: RequestGateContext, v: A2aVerdict, layer: 'a2a_header' | 'a2a_scan'): void {
  ctx.ports.audit.event('warn', layer, 'A2A request finding (not blocked)', {url: ctx.shown, detail: v.reason, action: v.action, request_id: ctx.b.requestId, agent: ctx.b.agent})
}

/** One A2A verdict: a block is stated as a finding (`rest` runs once it did not end the request), anything else is logged and `rest` runs now. */
function judge(ctx: RequestGateContext, v: A2aVerdict, stage: 'header_dlp' | 'body_scan', layer: 'a2a_header' | 'a2a_scan', rest?: Rest): boolean | Promise<boolean> {
  if (!v.clean && v.action !== 'block') notBlocked(ctx, v, layer)
  if (v.clean || v.action !== 'block') return rest?.(ctx) ?? false
  ctx.finding = {block: {stage, layer, detail: v.reason, status: 403, reason: 'dlp_match'}, mode: 'record', passed: (c) => notBlocked(c, v, layer), rest}
  return false
}

/** The body (read by the body stage) through the field-aware A2A walk and the context-id tracker. */
async function scanBody(ctx: RequestGateContext, s: A2aSettings, scanners: ReturnType<typeof a2aScanners>): Promise<boolean> {
  if (ctx.body === null || ctx.body.length === 0) return false
  const state = (ctx.ports.transforms ?? new ResponseTransformState()).a2a
  return judge(ctx, await scanA2aBody(ctx.body.toString('utf8'), s, scanners, state, ctx.b.sessionKey), 'body_scan', 'a2a_scan')
}

export const a2aStage: Stage = {
  id: 'a2a',
  applies: (snap) => snap.config.a2a_scanning.enabled,
  run(ctx) {
    const cfg = ctx.snap.config.a2a_scanning
    // Off, or not an A2A request: no promise.
    if (!cfg.enabled) return false
    if (!isA2aRequest(String(ctx.req.headers['content-type'] ?? ''), ctx.target)) return false
    return scanRequest(ctx, a2aSettingsFromConfig(cfg))
  },
}

/** An A2A request: its extension URIs, then (once they did not end it) its body. */
async function scanRequest(ctx: RequestGateContext, s: A2aSettings): Promise<boolean> {
  const scanners = a2aScanners(ctx.snap)
  const ext = ctx.req.headers['a2a-extensions']
  // Node joins repeated header lines with ", ": every line is read (the reference reads the first).
  const lines = ext === undefined ? [] : Array.isArray(ext) ? ext : [ext]
  return judge(ctx, await scanA2aExtensions(lines, s, scanners), 'header_dlp', 'a2a_header', (c) => scanBody(c, s, scanners))
}
