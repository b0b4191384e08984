/**
 * The agent's budgets on a tools/call — denial-of-wallet, tool-call limits (mcp.md §10.1): `block`
 * answers, `warn` counts as clean. A call it lets through takes a slot of `max_concurrent_tool_calls`
 * (when set and the call has an id), which `decideRequest` keeps for a forwarded call.
 */
import {goJson} from '../../../../canonical/index.js'
import {mcpError} from '../../../jsonrpc/errors.js'
import {answer, type McpGateStage} from '../context.js'

export const budgetStage: McpGateStage = {
  id: 'budget',
  run(ctx) {
    const frame = ctx.frame
    if (!ctx.isCall || frame.toolName === '') return false
    const budget = ctx.mcp.deps.budget?.trackerFor(ctx.mcp.state.clientIp) ?? null
    if (budget === null) return false
    const f = budget.observe(frame.toolName, frame.args === undefined ? '' : goJson(frame.args))
    if ((f === null || f.action === 'warn') && budget.settings.maxConcurrent > 0 && frame.id !== null) ctx.lease = budget.begin()
    if (f === null) return false
    ctx.base.facts.push({kind: 'denial_of_wallet', action: f.action, name: f.budget, detail: f.reason})
    ctx.base.notes.push(`${ctx.at}tools/call "${frame.toolName}" DoW ${f.action}: ${f.reason} (${f.budget})`)
    if (f.action === 'block') {
      ctx.sess?.signal('block', frame.toolName, f.reason)
      return answer(ctx, 'denial_of_wallet', 'mcp_denial_of_wallet', mcpError('denial_of_wallet', f.reason), [f.reason], {pattern: f.reason, severity: 'high'})
    }
    ctx.sess?.signal('near_miss', frame.toolName, f.reason)
    ctx.dowWarned = true
    return false
  },
}
