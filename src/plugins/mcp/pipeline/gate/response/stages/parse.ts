/**
 * A message that is not a JSON-RPC 2.0 object is blocked (its injection names logged first); the
 * client gets an error with a null id. A parsed message is set as `ctx.msg`.
 */
import {errorLine, mcpError} from '../../../../jsonrpc/errors.js'
import {isObject} from '../../../../jsonrpc/frame.js'
import {scanResponseFrame, unparseableResponse} from '../../../response-scans.js'
import {decide, type McpResponseStage} from '../context.js'

export const parseResponseStage: McpResponseStage = {
  id: 'parse',
  run(ctx) {
    const {frame, at} = ctx
    const notes = ctx.base.notes
    const msg = frame.value
    if (!unparseableResponse(frame) && isObject(msg)) {
      ctx.msg = msg
      return false
    }
    const jsonrpc = isObject(msg) ? msg.get('jsonrpc') : undefined
    const error = frame.error ?? (isObject(msg) ? `not a JSON-RPC 2.0 response: jsonrpc="${typeof jsonrpc === 'string' ? jsonrpc : ''}"` : 'invalid JSON structure')
    notes.push(`${at}${error}`)
    const scans = ctx.pre ?? scanResponseFrame(ctx.mcp.deps, ctx.mcp.settings.toolScan.enabled, frame)
    const names = scans.kind === 'unparseable' ? scans.injection : []
    if (names.length > 0) notes.push(`${at}injection detected (${names.join(', ')}), action=block`)
    notes.push(`${at}blocking unparseable response`)
    const err = mcpError('response_unparseable')
    return decide(ctx, {...ctx.base, id: null, verdict: 'block', stage: 'parse', layer: 'mcp_response_scan', reason: err.reason, findings: [error], forward: errorLine(null, err), answer: null})
  },
}
