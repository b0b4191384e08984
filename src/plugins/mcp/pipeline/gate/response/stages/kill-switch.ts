/** The kill switch, first (mcp.md §15.1): every server message is denied while it is on; a notification is dropped. */
import {errorLine, mcpError} from '../../../../jsonrpc/errors.js'
import {decide, replace, type McpResponseStage} from '../context.js'

export const killSwitchResponseStage: McpResponseStage = {
  id: 'kill_switch',
  run(ctx) {
    const ks = ctx.mcp.deps.killSwitch.status()
    if (!ks.active) return false
    const {frame, at} = ctx
    const err = mcpError('kill_switch', ks.message)
    if (frame.id === null) {
      ctx.base.notes.push(`response ${at}kill switch dropped notification (source=${ks.source})`)
      return decide(ctx, replace(ctx, 'kill_switch', 'kill_switch', err, []))
    }
    ctx.base.notes.push(`response ${at}kill switch denied (source=${ks.source})`)
    if (frame.hasMethod && !frame.isResponse) {
      // Fix Q20: a server-initiated request is answered to the server, not the client.
      return decide(ctx, {...replace(ctx, 'kill_switch', 'kill_switch', err, []), forward: null, answer: errorLine(frame.id, err)})
    }
    return decide(ctx, replace(ctx, 'kill_switch', 'kill_switch', err, []))
  },
}
