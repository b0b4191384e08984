/**
 * Confused deputy: a response to an id the client never sent (or already answered) is replaced by
 * an error. On the server's own stream (`serverStream`, the bridge's GET stream) it is dropped
 * instead: nothing there answers a request, and an error with a forged id would be one more
 * answer the client never asked for. A second response to the request a POST's answer carries
 * (`answers`: the upstream answering one id twice) is dropped too: an error with that id would be
 * a second answer to a request that already has its one. The dropped message is still scanned,
 * so its record says what it carried.
 */
import {errorLine, mcpError} from '../../../../jsonrpc/errors.js'
import {scanMessage, toolsListOf} from '../../../../scan/response.js'
import {scanResponseFrame} from '../../../response-scans.js'
import {decide, replace, type McpResponseGateContext, type McpResponseStage} from '../context.js'

export const confusedDeputyStage: McpResponseStage = {
  id: 'confused_deputy',
  run(ctx) {
    const {frame} = ctx
    const stream = ctx.mcp.serverStream === true
    if (!frame.isResponse || ctx.mcp.state.tracker.consume(frame.id)) return false
    if (stream) return dropped(ctx, `confused deputy: unsolicited response ID ${frame.id ?? 'null'} on the server's GET stream`, 'unsolicited response id')
    if (frame.id !== null && frame.id === ctx.mcp.answers) return dropped(ctx, `upstream protocol violation: a second response to request ${frame.id}`, 'duplicate response id')
    ctx.base.notes.push(`${ctx.at}confused deputy: unsolicited response ID ${frame.id ?? 'null'}`)
    return decide(ctx, {...replace(ctx, 'confused_deputy', 'mcp_response_scan', mcpError('confused_deputy'), ['unsolicited response id']), forward: errorLine(frame.id, mcpError('confused_deputy'))})
  },
}

/** `what` the note calls the dropped response; `finding` the record's first finding. */
function dropped(ctx: McpResponseGateContext, what: string, finding: string): true {
  const {frame, mcp} = ctx
  const scans = ctx.pre ?? scanResponseFrame(mcp.deps, false, frame)
  const msg = ctx.msg!
  const names = scans.kind !== 'message' ? [] : scans.injection ?? scanMessage(mcp.deps.scanner, msg, toolsListOf(msg) !== null).names
  const found = names.length > 0 ? ` (injection detected: ${names.join(', ')})` : ''
  ctx.base.notes.push(`${ctx.at}${what}, dropped${found}`)
  return decide(ctx, {
    ...ctx.base, verdict: 'block', stage: 'confused_deputy', layer: 'mcp_response_scan', reason: mcpError('confused_deputy').reason,
    findings: [finding, ...names], forward: null, answer: null, ...(names.length > 0 ? {pattern: names[0], severity: 'high'} : {}),
  })
}
