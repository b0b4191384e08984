/** Tool policy (mcp.md §8) on a tools/call: matching rules are findings for `mode` (no short-circuit). */
import type {McpGateStage} from '../context.js'

export const toolPolicyStage: McpGateStage = {
  id: 'tool_policy',
  run(ctx) {
    const policy = ctx.mcp.settings.policy
    if (!ctx.isCall || policy === null) return false
    ctx.policy = policy.check(ctx.frame.toolName, ctx.frame.args)
    ctx.reasons.push(...ctx.policy.rules.map((r) => `policy:${r}`))
    return false
  },
}
