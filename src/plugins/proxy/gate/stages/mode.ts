/**
 * Mode (`enforce`, runtime §4; the request gate's settle stage, order.ts): ends the finding the
 * stage before it left. A block that stands is answered through the transport's `block`, which
 * records it first. In audit mode (`enforce: false`) a downgradable block is not answered: the
 * stage's own report runs, the block is recorded as the request's `would_block` (held by
 * RequestRecord and folded into the request's one Decision; the session scores it at once) and
 * the request goes on to the stage's rest and the next stage.
 */
import {blockDecision, enforcing} from '../../core.js'
import type {ProxySnapshot} from '../../state.js'
import type {FindingMode, SettleStage} from '../context.js'

/** Whether a finding of `mode` is answered under `snap` (the exception stage waives only these). */
export function answers(snap: ProxySnapshot, mode: FindingMode): boolean {
  return mode === 'stands' || (mode !== 'unenforced' && enforcing(snap))
}

export const modeStage: SettleStage = {
  id: 'mode',
  run(ctx) {
    const f = ctx.finding
    if (f === undefined) return false
    if (answers(ctx.snap, f.mode)) {
      ctx.block(f.block)
      return true
    }
    f.passed?.(ctx)
    if ((f.mode === 'record' || f.mode === 'unenforced') && !enforcing(ctx.snap)) {
      const {stage, layer, reason, detail, scan} = f.block
      ctx.rec.record(blockDecision(ctx.ports, ctx.b, ctx.shown, {stage, layer, ...(reason ? {reason} : {}), detail, status: 0, enforced: false, ...(scan ? {scan} : {})}))
    }
    return false
  },
}
