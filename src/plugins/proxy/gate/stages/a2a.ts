/**
 * A2A request scanning (scanners-extra §2.3–§2.5): on a request the detection recognises (media
 * type `application/a2a+json` or an A2A binding path), every `A2A-Extensions` URI through the URL
 * scan, then the body (read by the body stage) through the field-aware A2A walk and the
 * context-id smuggling tracker. `action: block` blocks when the proxy enforces (the forward proxy
 * of the reference blocks even with `enforce: false`; fixed, as its TLS interception does);
 * otherwise the finding is logged and, in audit mode, recorded as the request's would-block.
 */
import {a2aSettingsFromConfig, isA2aRequest, scanA2aBody, scanA2aExtensions, type A2aVerdict} from '../../../a2a/index.js'
import {a2aScanners} from '../../a2a-scanners.js'
import {blockDecision, enforcing} from '../../core.js'
import {ResponseTransformState} from '../../relay/response-transforms.js'
import type {RequestGateContext, Stage} from '../context.js'

function answer(ctx: RequestGateContext, v: A2aVerdict, stage: 'header_dlp' | 'body_scan', layer: 'a2a_header' | 'a2a_scan'): boolean {
  if (v.clean) return false
  const enforce = enforcing(ctx.snap)
  if (v.action === 'block' && enforce) {
    ctx.block({stage, layer, detail: v.reason, status: 403, reason: 'dlp_match'})
    return true
  }
  ctx.ports.audit.event('warn', layer, 'A2A request finding (not blocked)', {url: ctx.shown, detail: v.reason, action: v.action, request_id: ctx.b.requestId, agent: ctx.b.agent})
  if (v.action === 'block') {
    ctx.rec.record(blockDecision(ctx.ports, ctx.b, ctx.shown, {stage, layer, reason: 'dlp_match', detail: v.reason, status: 0, enforced: false}))
  }
  return false
}

export const a2aStage: Stage = {
  id: 'a2a',
  async run(ctx) {
    const cfg = ctx.snap.config.a2a_scanning
    if (!cfg.enabled) return false
    if (!isA2aRequest(String(ctx.req.headers['content-type'] ?? ''), ctx.target)) return false
    const s = a2aSettingsFromConfig(cfg)
    const scanners = a2aScanners(ctx.snap)
    const ext = ctx.req.headers['a2a-extensions']
    // Node joins repeated header lines with ", ": every line is read (the reference reads the first).
    const lines = ext === undefined ? [] : Array.isArray(ext) ? ext : [ext]
    if (answer(ctx, await scanA2aExtensions(lines, s, scanners), 'header_dlp', 'a2a_header')) return true
    if (ctx.body === null || ctx.body.length === 0) return false
    const state = (ctx.ports.transforms ?? new ResponseTransformState()).a2a
    return answer(ctx, await scanA2aBody(ctx.body.toString('utf8'), s, scanners, state, ctx.b.sessionKey), 'body_scan', 'a2a_scan')
  },
}
