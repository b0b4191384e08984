/**
 * The media policy, tool-definition scans and the injection scan, computed here or off the event
 * loop by the scan pool for a large message (`ctx.pre`); the same function either way. Fail
 * closed: a message whose scan could not complete is never forwarded.
 */
import {mcpError} from '../../../../jsonrpc/errors.js'
import {scanResponseFrame} from '../../../response-scans.js'
import {decide, replace, type McpResponseStage} from '../context.js'

export const scanResultStage: McpResponseStage = {
  id: 'scan_result',
  run(ctx) {
    const scans = ctx.pre ?? scanResponseFrame(ctx.mcp.deps, ctx.mcp.settings.toolScan.enabled, ctx.frame, false)
    if (scans.kind === 'message') {
      ctx.scans = scans
      return false
    }
    const why = scans.kind === 'failed' ? scans.error : 'scan result does not match the message'
    ctx.base.notes.push(`${ctx.at}response scan failed (${why}), blocking`)
    return decide(ctx, {...replace(ctx, 'response_scan', 'mcp_response_scan', mcpError('response_unscanned'), [`content scan failed: ${why}`]), pattern: 'scan_failed', severity: 'high'})
  },
}
