/** A message the content scan could not read (§4.1): answered; a message without a readable id is dropped. */
import {mcpError} from '../../../jsonrpc/errors.js'
import {answer, type McpGateStage} from '../context.js'

export const parseStage: McpGateStage = {
  id: 'parse',
  run(ctx) {
    const error = ctx.content.error
    if (error === null) return false
    // A scan that could not complete is `pattern_unavailable` (transient), not the message's fault.
    const err = mcpError('input_scanning', '', ctx.content.unavailable === true ? 'pattern_unavailable' : 'parse_error')
    const frame = ctx.frame
    ctx.base.notes.push(frame.id === null ? `blocked notification (no response sent): ${error}` : `${ctx.at}blocked ${frame.method || 'unknown'} request (${error})`)
    return answer(ctx, 'parse', 'mcp_input_scanning', err, [error], {pattern: error})
  },
}
