/**
 * The kill switch, first (mcp.md §15.1): every message is denied while it is on; a notification
 * is dropped. A message it lets in enters its session (§4.1 step 4: due time recovery; the
 * level's `block_all` is applied by the `session` stage).
 */
import {mcpError} from '../../../jsonrpc/errors.js'
import {answer, type McpGateStage} from '../context.js'

export const killSwitchStage: McpGateStage = {
  id: 'kill_switch',
  run(ctx) {
    const ks = ctx.mcp.deps.killSwitch.status()
    if (!ks.active) {
      ctx.entry = ctx.sess?.enter() ?? null
      return false
    }
    ctx.base.notes.push(ctx.frame.id === null ? `${ctx.at}kill switch dropped notification (source=${ks.source})` : `${ctx.at}kill switch denied (source=${ks.source})`)
    return answer(ctx, 'kill_switch', 'kill_switch', mcpError('kill_switch', ks.message), [])
  },
}
