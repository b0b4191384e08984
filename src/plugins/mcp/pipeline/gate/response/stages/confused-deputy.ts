/** Confused deputy: a response to an id the client never sent (or already answered) is replaced by an error. */
import {errorLine, mcpError} from '../../../../jsonrpc/errors.js'
import {decide, replace, type McpResponseStage} from '../context.js'

export const confusedDeputyStage: McpResponseStage = {
  id: 'confused_deputy',
  run(ctx) {
    const {frame} = ctx
    if (!frame.isResponse || ctx.mcp.state.tracker.consume(frame.id)) return false
    ctx.base.notes.push(`${ctx.at}confused deputy: unsolicited response ID ${frame.id ?? 'null'}`)
    return decide(ctx, {...replace(ctx, 'confused_deputy', 'mcp_response_scan', mcpError('confused_deputy'), ['unsolicited response id']), forward: errorLine(frame.id, mcpError('confused_deputy'))})
  },
}
