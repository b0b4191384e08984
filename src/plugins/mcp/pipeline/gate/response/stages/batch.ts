/**
 * A batch JSON-RPC message is not MCP: blocked, and nothing of it is forwarded. [fix] Over stdio,
 * each response inside it that answers a request the client is waiting for is answered in its
 * stead (`-32003`, one line each), so the client is told rather than left waiting for ever.
 */
import {goJson, type JsonValue} from '../../../../../canonical/index.js'
import {errorLine, mcpError} from '../../../../jsonrpc/errors.js'
import {isObject} from '../../../../jsonrpc/frame.js'
import {decide, replace, type McpResponseGateContext, type McpResponseStage} from '../context.js'

export const batchResponseStage: McpResponseStage = {
  id: 'batch',
  run(ctx) {
    if (!ctx.frame.isBatch) return false
    ctx.base.notes.push(`${ctx.at}blocked batch JSON-RPC message (not supported by MCP)`)
    const answered = ctx.at === '' ? [] : waitingIds(ctx)
    const err = mcpError('upstream', 'the server answered in a JSON-RPC batch, which MCP does not carry')
    return decide(ctx, {...replace(ctx, 'batch', 'mcp_response_scan', mcpError('batch_request'), ['batch']), forward: answered.length === 0 ? null : answered.map((id) => errorLine(id, err)).join('\n')})
  },
}

/** The ids of the batch's responses that answer requests still waiting (each consumed once). */
function waitingIds(ctx: McpResponseGateContext): string[] {
  const items: JsonValue = ctx.frame.value ?? []
  if (!Array.isArray(items)) return []
  const ids: string[] = []
  for (const item of items) {
    if (!isObject(item) || !(item.has('result') || item.has('error'))) continue
    const id = item.get('id')
    if (id === undefined || id === null) continue
    const raw = goJson(id)
    if (ctx.mcp.state.tracker.consume(raw)) ids.push(raw)
  }
  return ids
}
