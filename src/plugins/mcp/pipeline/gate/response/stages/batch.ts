/**
 * A batch JSON-RPC message is not MCP: blocked, and nothing of it is forwarded. [fix] Each response
 * inside it that answers a request the client is waiting for is answered in its stead (`-32003`,
 * waiting.ts), on every transport, so the client is told rather than left waiting for ever (the
 * HTTP bridge's client waited for ever; the listener's got `202` on an SSE answer).
 */
import {mcpError} from '../../../../jsonrpc/errors.js'
import {decide, replace, type McpResponseStage} from '../context.js'
import {answerWaiting} from '../waiting.js'

export const batchResponseStage: McpResponseStage = {
  id: 'batch',
  run(ctx) {
    if (!ctx.frame.isBatch) return false
    ctx.base.notes.push(`${ctx.at}blocked batch JSON-RPC message (not supported by MCP)`)
    const items = Array.isArray(ctx.frame.value) ? ctx.frame.value : []
    const forward = answerWaiting(ctx, items, 'the server answered in a JSON-RPC batch, which MCP does not carry')
    return decide(ctx, {...replace(ctx, 'batch', 'mcp_response_scan', mcpError('batch_request'), ['batch']), forward})
  },
}
