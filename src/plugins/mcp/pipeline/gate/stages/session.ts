/** The session's `block_all` (mcp.md §4.4, runtime §14.3): an all-clean message of a session at that level is denied. */
import {mcpError} from '../../../jsonrpc/errors.js'
import {answer, type McpGateStage} from '../context.js'

export const sessionStage: McpGateStage = {
  id: 'session',
  run(ctx) {
    const entry = ctx.entry
    // A message with findings was already judged at its (upgraded) level by `mode`.
    if (ctx.reasons.length > 0 || entry === null || !entry.blockAll) return false
    ctx.base.notes.push(ctx.frame.id === null ? `blocked notification (no response sent): session escalation level ${entry.label}` : `${ctx.at}session deny — escalation level ${entry.label}`)
    return answer(ctx, 'session', 'session_deny', mcpError('escalation', entry.label), [`escalation_level:${entry.label}`], {pattern: `escalation_level:${entry.label}`, severity: 'critical'})
  },
}
