/** The media policy's outcome (computed with the scans): a refused media type or size blocks the message. */
import {mcpError} from '../../../../jsonrpc/errors.js'
import {decide, replace, type McpResponseStage} from '../context.js'

export const mediaPolicyResponseStage: McpResponseStage = {
  id: 'media_policy',
  run(ctx) {
    const m = ctx.scans!.media
    if (m === null || m.kind !== 'block') return false
    ctx.base.notes.push(`${ctx.at}media policy blocked MCP response (${m.reason})`)
    ctx.sess?.signal('block', 'media', m.reason)
    return decide(ctx, {...replace(ctx, 'media_policy', 'media_policy', mcpError('media_policy', m.reason), [m.reason]), pattern: m.reason, severity: 'high'})
  },
}
