/**
 * The WebSocket handshake's header DLP (transports §3.2 step 11): DLP on the headers that will be
 * forwarded upstream, in the order the transport gives them; the first header with a finding
 * decides (layer `dlp_header`). Its block is a finding: an exception may waive it, audit mode
 * records it as `would_block` and the handshake goes on.
 */
import type {Stage} from '../context.js'

export const forwardedHeaderDlpStage: Stage = {
  id: 'header_dlp',
  run(ctx) {
    const {snap} = ctx
    for (const [name, value] of ctx.headers?.() ?? []) {
      const r = snap.scanner.scanTextForDlp(value)
      if (r.matches.length === 0) continue
      const detail = `DLP match in ${name} header: ${[...new Set(r.matches.map((m) => m.pattern))].join(', ')}`
      // Waived as header DLP, like every other transport's (the exception step knows no
      // `dlp_header` label: the handshake's blocks were never waived before the parity test).
      ctx.finding = {block: {stage: 'header_dlp', layer: 'dlp_header', detail, status: 403, reason: 'dlp_match'}, waivable: {layer: 'header_dlp', reason: 'dlp_match', findings: r.matches}, mode: 'record'}
      return false
    }
    return false
  },
}
