/**
 * The listener's A2A finding (scanners-extra §2.5): the `A2A-Extensions` header or the A2A walk
 * of an A2A method's body. `block` answers -32001 (a would-block in audit mode); otherwise a note.
 */
import {mcpError} from '../../../jsonrpc/errors.js'
import {holdOrAnswer, type McpGateStage} from '../context.js'

export const a2aStage: McpGateStage = {
  id: 'a2a',
  run(ctx) {
    const a = ctx.extras.a2a
    if (a === undefined) return false
    if (!a.block) {
      ctx.base.notes.push(`a2a ${a.on}: warning (${a.reason})`)
      return false
    }
    ctx.base.notes.push(`${ctx.at}blocked ${ctx.frame.method || 'unknown'} request (${a.reason})`)
    ctx.sess?.signal('block', 'a2a', a.on === 'header' ? 'A2A header' : 'A2A input')
    return holdOrAnswer(ctx, 'content', a.on === 'header' ? 'a2a_header' : 'mcp_a2a_scanning', mcpError(a.on === 'header' ? 'a2a_header' : 'a2a_input'), [a.reason], {pattern: a.reason})
  },
}
