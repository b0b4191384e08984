/**
 * The exception waiver (operations.md §8.3; the request gate's first settle stage, order.ts): a
 * block that would be answered (enforcing, or one that stands in every mode) and whose layer can
 * be waived is checked against the scoped exceptions in force; a match is used once — at most one
 * per request (`RequestRecord.waive`) — and the request goes on through the rest of the order,
 * whose stages may still block it. Audit mode never spends a grant: its blocks are recorded, not
 * answered (stages/mode.ts). The use rides on the request's next Decision (exception-gate.ts).
 */
import type {SettleStage} from '../context.js'
import {answers} from './mode.js'

export const exceptionStage: SettleStage = {
  id: 'exception',
  run(ctx) {
    const f = ctx.finding
    if (f?.waivable === undefined || !answers(ctx.snap, f.mode) || !ctx.rec.waive(f.waivable)) return false
    ctx.finding = undefined
    f.passed?.(ctx)
    return false
  },
}
