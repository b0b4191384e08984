/** DLP of the request headers the MCP HTTP listener found (mcp.md §4.6): a match blocks (a would-block in audit mode). */
import {mcpError} from '../../../jsonrpc/errors.js'
import {holdOrAnswer, type McpGateStage} from '../context.js'

export const headerDlpStage: McpGateStage = {
  id: 'header_dlp',
  run(ctx) {
    const found = ctx.extras.headerDlp
    if (found === undefined || found.length === 0) return false
    ctx.base.notes.push(`DLP match in request headers: ${found.join(', ')}`)
    ctx.sess?.signal('block', 'request_headers', 'header DLP')
    return holdOrAnswer(ctx, 'header_dlp', 'header_dlp', mcpError('input_scanning', '', 'dlp_match'), [...found])
  },
}
