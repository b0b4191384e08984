/**
 * URL scan (transports §2, scanner stages 1–14: scheme, SSRF, blocklist, DLP, entropy, rate
 * limit, data budget, DNS), then the request's session is opened. An enforced block is answered;
 * an unenforced one is recorded as `would_block` and the request goes on (request-gate.ts).
 */
import {hostOfUrl} from '../../session-gate.js'
import {urlVerdict} from '../../request-gate.js'
import type {Stage} from '../context.js'

export const urlScanStage: Stage = {
  id: 'url_scan',
  async run(ctx) {
    const scan = await urlVerdict(ctx.core, ctx.snap, ctx.b, ctx.target, ctx.shownAs, ctx.rec, ctx.block, ctx.warnings, ctx.resolver)
    if (scan === null) return true
    ctx.scan = scan
    ctx.shown = ctx.shownAs(scan.allowed ? null : scan.layer)
    if (ctx.rec.session !== null) ctx.sessionHost = ctx.tunnel?.host ?? hostOfUrl(ctx.target)
    return false
  },
}
