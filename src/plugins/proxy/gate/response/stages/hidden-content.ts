/**
 * Response stage `hidden_content` (/fetch only, §4.1 step 19): what the page hides from a reader
 * (comments, scripts, styles, hidden elements) is scanned on its own, since the page text the
 * agent gets leaves it out; a warn is upgraded to a block at the session's escalation level.
 */
import {createHiddenExtractor} from '../../../text-extract.js'
import type {ResponseStage} from '../context.js'

export const hiddenContentStage: ResponseStage = {
  id: 'hidden_content',
  run(ctx) {
    const markup = ctx.page?.markup ?? ''
    if (markup === '') return false
    const hidden = createHiddenExtractor().hidden(markup)
    if (hidden === '') return false
    const h = ctx.snap.scanner.decideResponse(hidden, {host: ctx.host, ...(ctx.suppress ? {suppress: ctx.suppress} : {})})
    if (h.action === 'block') {
      ctx.block({stage: 'response', layer: 'response_scan', detail: `hidden content: ${h.detail}`, status: 403, reason: 'prompt_injection'})
      return true
    }
    if (h.action === 'allow') return false
    ctx.exposure = 'prompt_injection'
    const t = ctx.rec.session
    const ps = ctx.snap.sessions
    if (t !== null && ps!.warn(t, 'hidden content injection', ctx.host, false, ctx.shown) !== null) {
      ctx.block({stage: 'response', layer: 'response_scan', detail: `hidden content contains injection (warn upgraded to block at escalation level ${ps!.levelOf(t)})`, status: 403, reason: 'prompt_injection'})
      return true
    }
    return false
  },
}
