/** A message the content scan could not read (§4.1): answered; a message without a readable id is dropped. */
import {errorLine, mcpError} from '../../../jsonrpc/errors.js'
import {answer, type McpGateStage} from '../context.js'

export const parseStage: McpGateStage = {
  id: 'parse',
  run(ctx) {
    const error = ctx.content.error
    if (error === null) return false
    // A scan that could not complete is `pattern_unavailable` (transient), not the message's fault.
    const err = mcpError('input_scanning', '', ctx.content.unavailable === true ? 'pattern_unavailable' : 'parse_error')
    const frame = ctx.frame
    // [fix] A line that is not JSON at all cannot be told from a notification, and the reference
    // dropped it unanswered, calling it one. JSON-RPC answers it -32700 with id null, as the
    // HTTP listener does (its 400), so a client that sent it is not left waiting.
    if (frame.value === undefined && frame.error !== null && frame.error.startsWith('invalid JSON') && !ctx.http) {
      ctx.base.notes.push(`${ctx.at}blocked unreadable message (${error}): answered -32700 with id null`)
      return answer(ctx, 'parse', 'mcp_input_scanning', err, [error], {pattern: error, answer: errorLine(null, mcpError('listener_invalid_json'))})
    }
    ctx.base.notes.push(frame.id === null ? `blocked notification (no response sent): ${error}` : `${ctx.at}blocked ${frame.method || 'unknown'} request (${error})`)
    return answer(ctx, 'parse', 'mcp_input_scanning', err, [error], {pattern: error})
  },
}
