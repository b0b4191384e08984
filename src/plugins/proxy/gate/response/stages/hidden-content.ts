/**
 * Response stage `hidden_content` (/fetch only, §4.1 step 19): what the page hides from a reader
 * (comments, scripts, styles, hidden elements) is scanned on its own, since the page text the
 * agent gets leaves it out; a warn is upgraded to a block at the session's escalation level.
 */
import type {ResponseDecision} from '../../../../scanner/index.js'
import type {ResponseGateContext, ResponseStage} from '../context.js'

export const hiddenContentStage: ResponseStage = {
  id: 'hidden_content',
  run(ctx) {
    const markup = ctx.page?.markup ?? ''
    if (markup === '') return false
    // A page over 64 KiB is extracted and decided on the scan pool (docs/scanner.md, "Large bodies").
    const h = ctx.snap.bodyScans.decideHidden(ctx.snap.scanner, markup, {host: ctx.host, ...(ctx.suppress ? {suppress: ctx.suppress} : {})})
    return h instanceof Promise ? h.then((d) => applied(ctx, d)) : applied(ctx, h)
  },
}

/** The hidden content's decision (null: the page hides nothing) applied: blocked, escalated, or noted as an exposure. */
function applied(ctx: ResponseGateContext, h: ResponseDecision | null): boolean {
  if (h === null || h.action === 'allow') return false
  if (h.action === 'block') {
    ctx.block({stage: 'response', layer: 'response_scan', detail: `hidden content: ${h.detail}`, status: 403, reason: 'prompt_injection'})
    return true
  }
  ctx.exposure = 'prompt_injection'
  const t = ctx.rec.session
  const ps = ctx.snap.sessions
  if (t !== null && ps!.warn(t, 'hidden content injection', ctx.host, false, ctx.shown) !== null) {
    ctx.block({stage: 'response', layer: 'response_scan', detail: `hidden content contains injection (warn upgraded to block at escalation level ${ps!.levelOf(t)})`, status: 403, reason: 'prompt_injection'})
    return true
  }
  return false
}
