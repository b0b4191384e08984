/**
 * URL scan (transports §2, scanner stages 1–14: scheme, SSRF, blocklist, DLP, entropy, rate
 * limit, data budget, DNS), then the request's session is opened. An enforced block may be waived
 * by an exception, else it is answered; an unenforced one is recorded as `would_block` (folded
 * into the request's outcome by RequestRecord) and still scored, and the request goes on.
 */
import {blockDecision, enforcing, scanBlockStatus, urlScan} from '../../core.js'
import {hostOfUrl} from '../../session-gate.js'
import type {Stage} from '../context.js'

export const urlScanStage: Stage = {
  id: 'url_scan',
  async run(ctx) {
    const {snap, rec} = ctx
    const scan = await urlScan(snap, ctx.target, undefined, ctx.resolver)
    rec.open(ctx.b)
    // Warn-pattern names join the request's list before any block, so a block Decision carries them.
    ctx.warnings.push(...scan.warnings.map((w) => w.pattern))
    if (!scan.allowed) {
      if (enforcing(snap)) {
        if (!rec.waive(scan)) {
          ctx.block({stage: 'url_scan', layer: scan.layer, detail: scan.detail, status: scanBlockStatus(scan), scan})
          return true
        }
      } else {
        rec.record(blockDecision(ctx.ports, ctx.b, ctx.shownAs(scan.layer), {stage: 'url_scan', layer: scan.layer, detail: scan.detail, status: 0, enforced: false, scan}))
      }
    }
    ctx.scan = scan
    ctx.shown = ctx.shownAs(scan.allowed ? null : scan.layer)
    if (rec.session !== null) ctx.sessionHost = ctx.tunnel?.host ?? hostOfUrl(ctx.target)
    return false
  },
}
