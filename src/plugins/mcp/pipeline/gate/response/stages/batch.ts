/** A batch JSON-RPC message is not MCP: blocked, and nothing is forwarded. */
import {mcpError} from '../../../../jsonrpc/errors.js'
import {decide, replace, type McpResponseStage} from '../context.js'

export const batchResponseStage: McpResponseStage = {
  id: 'batch',
  run(ctx) {
    if (!ctx.frame.isBatch) return false
    ctx.base.notes.push(`${ctx.at}blocked batch JSON-RPC message (not supported by MCP)`)
    return decide(ctx, {...replace(ctx, 'batch', 'mcp_response_scan', mcpError('batch_request'), ['batch']), forward: null})
  },
}
