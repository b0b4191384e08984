/**
 * URL scan (transports §2, scanner stages 1–14: scheme, SSRF, blocklist, DLP, entropy, rate
 * limit, data budget, DNS), then the request's session is opened. A block is stated as a finding:
 * an exception may waive it, audit mode records it as `would_block` (folded into the request's
 * outcome by RequestRecord, and still scored) and the request goes on (the settle stages).
 */
import type {UrlScanResult} from '../../../scanner/index.js'
import {scanBlockStatus, shownLayer, urlScanEager} from '../../core.js'
import {hostOfUrl} from '../../session-gate.js'
import type {RequestGateContext, Stage} from '../context.js'

export const urlScanStage: Stage = {
  id: 'url_scan',
  // Synchronous when the scan decided without DNS (an address, a host override, no internal
  // ranges): the gate then goes on without a promise turn. Else the scan's own promise, continued once.
  run(ctx) {
    const r = urlScanEager(ctx.snap, ctx.target, ctx.resolver, ctx.parsed)
    return r instanceof Promise ? r.then((scan) => scanned(ctx, scan)) : scanned(ctx, r)
  },
}

function scanned(ctx: RequestGateContext, scan: UrlScanResult): false {
  const rec = ctx.rec
  rec.open(ctx.b)
  // Warn-pattern names join the request's list before any block, so a block Decision carries them.
  for (const w of scan.warnings) ctx.warnings.push(w.pattern)
  if (!scan.allowed) {
    ctx.finding = {block: {stage: 'url_scan', layer: scan.layer, detail: scan.detail, status: scanBlockStatus(scan), scan, retryAfter: scan.retryAfter}, waivable: scan, mode: 'record'}
  }
  ctx.scan = scan
  ctx.shown = ctx.shownAs(shownLayer(scan))
  if (rec.session !== null) ctx.sessionHost = ctx.tunnel?.host ?? hostOfUrl(ctx.target)
  return false
}
