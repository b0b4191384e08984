/** The agent's budgets on a tools/call — denial-of-wallet, tool-call limits (mcp.md §10.1): `block` answers, `warn` counts as clean. */
import {goJson} from '../../../../canonical/index.js'
import {mcpError} from '../../../jsonrpc/errors.js'
import {answer, type McpGateStage} from '../context.js'

export const budgetStage: McpGateStage = {
  id: 'budget',
  run(ctx) {
    const budget = ctx.mcp.deps.budget
    const frame = ctx.frame
    if (!ctx.isCall || frame.toolName === '' || budget == null) return false
    const f = budget.observe(frame.toolName, frame.args === undefined ? '' : goJson(frame.args))
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
