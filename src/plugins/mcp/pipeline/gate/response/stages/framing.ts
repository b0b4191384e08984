/**
 * MCP's stdio transport carries one message per line. A server that writes a message over several
 * lines (pretty-printed JSON) breaks it: the stdio wrap joins such lines into the one message they
 * make (mcp-proxy line-messages.ts) and this stage refuses it whole — it is not relayed, reassembled
 * or otherwise, since a client reading the server directly could not read it either. The request
 * it answers is answered in its stead (`-32003`, waiting.ts); a server request written so is
 * answered to the server with the same error; a notification is dropped.
 */
import {mcpError} from '../../../../jsonrpc/errors.js'
import {decide, replace, type McpResponseStage} from '../context.js'
import {answerWaiting} from '../waiting.js'

const WHY = "the server wrote a JSON-RPC message over several lines, which MCP's stdio transport does not carry (one message per line)"

export const framingResponseStage: McpResponseStage = {
  id: 'framing',
  run(ctx) {
    const {frame} = ctx
    // An unparsable text is left to the parse stage.
    if (frame.lines < 2 || frame.value === undefined) return false
    ctx.base.notes.push(`${ctx.at}blocked a JSON-RPC message written over several lines (MCP's stdio transport carries one message per line: the server must not pretty-print)`)
    const d = replace(ctx, 'framing', 'mcp_response_scan', mcpError('upstream', WHY), ['multi-line message'])
    const forward = ctx.serverRequest ? null : answerWaiting(ctx, [frame.value], WHY)
    return decide(ctx, {...d, reason: 'parse_error', forward})
  },
}
