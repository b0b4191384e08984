/**
 * The MCP HTTP listener's `Mcp-Session-Id` is bound to the client it was issued to ([fix], mcp.md
 * §3.3): the listener remembers which client address the upstream handed each id to (or first
 * presented it, for an id issued before a restart), and a request presenting an id bound to another
 * address is refused. The id is a bearer token of the upstream session — its server-side state,
 * what the server authorized — so a client that learned another's id must not act in that session.
 * Policy never follows the id (chain, taint, budgets and escalation are keyed by the client's
 * address): a claimed id neither loosens the policy nor borrows the session behind it. The
 * listener finds the mismatch (`extras.foreignSessionId`); the id itself is never logged.
 */
import {mcpError} from '../../../jsonrpc/errors.js'
import {holdOrAnswer, type McpGateStage} from '../context.js'

export const sessionIdStage: McpGateStage = {
  id: 'session_id',
  run(ctx) {
    if (ctx.extras.foreignSessionId !== true) return false
    ctx.base.notes.push(`${ctx.at}blocked: Mcp-Session-Id was issued to another client`)
    ctx.sess?.signal('block', 'mcp_session_id', 'foreign Mcp-Session-Id')
    return holdOrAnswer(ctx, 'session_id', 'session_id', mcpError('session_id'), ['foreign Mcp-Session-Id'])
  },
}
