/**
 * MCP's stdio transport carries one message per line (spec mcp.md §1.3). A client that writes a
 * request over several lines (pretty-printed JSON) breaks it: each line judged alone was refused
 * `-32700` with `id: null`, once per line, and the request itself never answered. The transports
 * that read their client on stdin join such lines into the one message they make (mcp-proxy
 * line-messages.ts, as for the server's side) and this stage refuses it whole: it is not
 * forwarded, since a server reading the client directly could not read it either. One answer,
 * `-32600` with the request's id (`id: null` when the joined text is not JSON); a notification
 * gets none, as any refused notification.
 */
import {errorLine, mcpError} from '../../../jsonrpc/errors.js'
import {answer, type McpGateStage} from '../context.js'

/** The words of the answer and of the finding: how many lines, and the rule they break. */
function framingWhy(lines: number): string {
  return `message spans ${lines} lines; MCP stdio messages are one JSON object per line`
}

export const framingStage: McpGateStage = {
  id: 'framing',
  run(ctx) {
    const {frame} = ctx
    if (frame.lines < 2) return false
    const why = framingWhy(frame.lines)
    const err = mcpError('listener_invalid_request', why)
    ctx.base.notes.push(`${ctx.at}blocked a JSON-RPC message written over ${frame.lines} lines (MCP's stdio transport carries one message per line: the client must not pretty-print)`)
    // Not JSON at all: answered once with `id: null`, as an unreadable line is.
    const extra = frame.value === undefined && frame.id === null ? {answer: errorLine(null, err)} : {}
    return answer(ctx, 'framing', 'mcp_input_scanning', err, [`multi-line message (${frame.lines} lines)`], extra)
  },
}
