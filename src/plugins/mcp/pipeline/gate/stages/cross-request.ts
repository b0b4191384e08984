/** Cross-request detection (mcp.md §10.2) on a message forwarded so far: a blocking finding answers -32005 (a would-block in audit mode, as HTTP's cross-request stage). */
import {ceeStep} from '../../session-gates.js'
import {holdOrAnswer, type McpGateStage} from '../context.js'

export const crossRequestStage: McpGateStage = {
  id: 'cross_request',
  run(ctx) {
    const cee = ceeStep(ctx.mcp, ctx.frame, ctx.at, ctx.base.notes, ctx.base.facts)
    if (cee.warned) ctx.ceeWarned = true
    if (cee.block === null) return false
    return holdOrAnswer(ctx, 'cross_request', 'cross_request', cee.block, [...ctx.reasons, cee.block.message], {pattern: cee.pattern, severity: 'critical'})
  },
}
