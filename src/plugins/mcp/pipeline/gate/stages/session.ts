/**
 * The session preflight of an MCP message (mcp.md §4.4, runtime §14.3, operations §6 item 3), as
 * the HTTP `session` stage: first the airlock — the session's tier against the message's receipt
 * action class (hard lets reads through, drain nothing) —, then `block_all`: an all-clean message
 * of a session at that level is denied; then, for an unbound identity, the tier and `block_all`
 * its client address earned in other sessions (issue 37 item 1, as the HTTP `session` stage).
 * None is downgraded by audit mode (`enforce: false`), as on HTTP: a quarantine is not a finding.
 */
import {mcpError} from '../../../jsonrpc/errors.js'
import {answer, type McpGateStage} from '../context.js'

export const sessionStage: McpGateStage = {
  id: 'session',
  run(ctx) {
    const {entry, sess, frame} = ctx
    if (entry === null) return false
    const air = sess?.airlock?.(frame.method, frame.toolName) ?? null
    if (air !== null) {
      const what = `${air.tier}: ${air.actionClass} ${ctx.isCall ? 'tool call' : 'message'} refused`
      ctx.base.notes.push(frame.id === null ? `blocked notification (no response sent): session in airlock ${what}` : `${ctx.at}session in airlock ${what}`)
      return answer(ctx, 'session', 'airlock', mcpError('airlock', what), [`airlock:${air.tier}`], {pattern: `airlock:${air.tier}`, severity: 'high'})
    }
    // A message with findings was already judged at its (upgraded) level by `mode`, unless audit
    // mode only recorded them (a would-block): block_all then still denies it.
    if (entry.blockAll && !(ctx.reasons.length > 0 && ctx.held === null)) {
      ctx.base.notes.push(frame.id === null ? `blocked notification (no response sent): session escalation level ${entry.label}` : `${ctx.at}session deny — escalation level ${entry.label}`)
      return answer(ctx, 'session', 'session_deny', mcpError('escalation', entry.label), [`escalation_level:${entry.label}`], {pattern: `escalation_level:${entry.label}`, severity: 'critical'})
    }
    // The address's hold applies whatever this session's own level made of the findings: that
    // level is not the one the address earned.
    const hold = sess?.addressHold?.(frame.method, frame.toolName) ?? null
    if (hold === null) return false
    const who = `(session ${hold.session}; the identity is not bound)`
    if (hold.kind === 'airlock') {
      const what = `${hold.tier}: ${hold.actionClass} ${ctx.isCall ? 'tool call' : 'message'} refused`
      const why = `client address ${hold.clientIp} in airlock ${hold.tier} ${who}`
      ctx.base.notes.push(frame.id === null ? `blocked notification (no response sent): ${why}` : `${ctx.at}${why}`)
      return answer(ctx, 'session', 'airlock', mcpError('airlock', what), [`airlock:${hold.tier}`], {pattern: `airlock:${hold.tier}`, severity: 'high'})
    }
    const why = `client address ${hold.clientIp} at escalation level ${hold.label} ${who}`
    ctx.base.notes.push(frame.id === null ? `blocked notification (no response sent): ${why}` : `${ctx.at}session deny — ${why}`)
    return answer(ctx, 'session', 'session_deny', mcpError('escalation', hold.label), [`escalation_level:${hold.label}`], {pattern: `escalation_level:${hold.label}`, severity: 'critical'})
  },
}
