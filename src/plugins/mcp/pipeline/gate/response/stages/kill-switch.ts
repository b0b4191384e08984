/**
 * The kill switch, first (mcp.md §15.1): every server message is denied while it is on; a
 * notification is dropped. A server-initiated request is answered to the server, not the client
 * (fix Q20): `replace` routes it so, as for every response stage.
 */
import {mcpError} from '../../../../jsonrpc/errors.js'
import {decide, replace, type McpResponseStage} from '../context.js'

export const killSwitchResponseStage: McpResponseStage = {
  id: 'kill_switch',
  run(ctx) {
    const ks = ctx.mcp.deps.killSwitch.status()
    if (!ks.active) return false
    const {frame, at} = ctx
    ctx.base.notes.push(frame.id === null ? `response ${at}kill switch dropped notification (source=${ks.source})` : `response ${at}kill switch denied (source=${ks.source})`)
    return decide(ctx, replace(ctx, 'kill_switch', 'kill_switch', mcpError('kill_switch', ks.message), []))
  },
}
