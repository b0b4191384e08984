/**
 * Audit mode (`enforce: false`) for the content scanners: they answer `warn` for what enforcement
 * would block, so the gate records that finding as the request's `would_block` (one Decision per
 * request: RequestRecord folds it into the outcome) and the request goes on — the same evidence
 * the URL scan, taint, the WebSocket header check and the reverse proxy's URL check leave.
 */
import type {ContentScanResult} from '../../scanner/index.js'
import {blockDecision, enforcing} from '../core.js'
import type {RequestGateContext} from './context.js'

/** Whether `r` (a `warn`) would have been a block with `enforce: true`. */
export function wouldBlockIfEnforced(r: ContentScanResult, action: string): boolean {
  if (r.action !== 'warn' || r.layer === null) return false
  if (r.layer === 'body_prompt_injection') return true
  return r.dlp.length > 0 && (action === 'block' || r.dlp.some((m) => m.severity === 'critical'))
}

/** Records `r` as the request's would-block when audit mode turned its block into a warning. */
export function recordAuditFinding(ctx: Pick<RequestGateContext, 'ports' | 'snap' | 'b' | 'rec' | 'shown'>, stage: 'header_dlp' | 'body_scan', r: ContentScanResult): void {
  if (enforcing(ctx.snap) || !wouldBlockIfEnforced(r, ctx.snap.scanner.settings.requestBodyScanning.action)) return
  ctx.rec.record(blockDecision(ctx.ports, ctx.b, ctx.shown, {stage, layer: r.layer!, reason: r.reason ?? 'dlp_match', detail: r.detail, status: 0, enforced: false}))
}
