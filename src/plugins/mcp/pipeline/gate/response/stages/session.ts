/**
 * The session step (mcp.md §5.1 steps 3–4): due time recovery, the message's exposure (taint,
 * policy-extra §1.3: a remote server's content is untrusted, a local (stdio) one's internal), then
 * the level's `block_all` (no signal).
 */
import {mcpError} from '../../../../jsonrpc/errors.js'
import {decide, replace, type McpResponseStage} from '../context.js'

export const sessionResponseStage: McpResponseStage = {
  id: 'session',
  run(ctx) {
    const {sess} = ctx
    const state = ctx.mcp.state
    const entry = (ctx.entry = sess?.enter() ?? null)
    sess?.exposure?.(state.transport !== 'mcp_stdio', false)
    if (entry?.blockAll !== true) return false
    if (state.blockAllNoted !== true) {
      state.blockAllNoted = true
      ctx.base.notes.push(`session deny — escalation level ${entry.label}, blocking all responses`)
    }
    return decide(ctx, {...replace(ctx, 'session', 'session_deny', mcpError('escalation', entry.label), [`escalation_level:${entry.label}`]), pattern: `escalation_level:${entry.label}`, severity: 'critical'})
  },
}
