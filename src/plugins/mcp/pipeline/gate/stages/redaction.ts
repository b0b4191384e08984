/**
 * Redaction of a tools/call's arguments (envelope-redaction §19). The rewrite is done as the
 * frame is read (the content scan then scans what is forwarded); this stage answers a redaction
 * that failed, after the kill switch and batch checks.
 */
import {mcpError} from '../../../jsonrpc/errors.js'
import {answer, type McpGateStage} from '../context.js'

export const redactionStage: McpGateStage = {
  id: 'redaction',
  run(ctx) {
    if (ctx.red === null || ctx.red.kind !== 'blocked') return false
    const detail = `redaction blocked request: ${ctx.red.reason}`
    ctx.base.notes.push(ctx.frame.id === null ? `blocked notification (no response sent): ${detail}` : `${ctx.at}blocked tools/call request (${detail})`)
    ctx.sess?.signal('block', ctx.frame.toolName, detail)
    return answer(ctx, 'content', 'redaction', mcpError('input_scanning', '', 'redaction_failure'), [detail], {pattern: detail, severity: 'critical'})
  },
}
