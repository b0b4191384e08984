/**
 * Audit mode (`enforce: false`) for the content scanners: they answer `warn` for what enforcement
 * would block, so their stage states that warning as a finding of mode `unenforced`, which the
 * mode stage records as the request's `would_block` (one Decision per request: RequestRecord folds
 * it into the outcome) while the request goes on — the same evidence the URL scan, taint, the
 * WebSocket header check and the address check leave.
 */
import type {ContentScanResult} from '../../scanner/index.js'

/** Whether `r` (a `warn`) would have been a block with `enforce: true`. */
export function wouldBlockIfEnforced(r: ContentScanResult, action: string): boolean {
  if (r.action !== 'warn' || r.layer === null) return false
  if (r.layer === 'body_prompt_injection') return true
  return r.dlp.length > 0 && (action === 'block' || r.dlp.some((m) => m.severity === 'critical'))
}
