/**
 * A live MCP stream cut by its session (operations §6 item 4, on MCP; docs/airlock.md "Long-lived
 * connections"): an HTTP listener's open SSE response or a WebSocket bridge, torn down when the
 * session enters airlock hard or drain, or is reset or terminated. The transport registers the
 * stream with the session (`McpSessionHandle.registerLive`) and, when the session cuts it, records
 * this Decision before it answers and closes, as the HTTP WebSocket relay records its close.
 */
import {errorLine, mcpError} from '../jsonrpc/errors.js'
import type {McpDecision} from './decision.js'
import {sessionOf} from './session-gates.js'
import type {McpContext} from './request.js'

/** What was pending on the stream: the request whose answer it carried (`id` null: none, or a notification). */
export interface LiveCutSubject {
  readonly id: string | null
  readonly method: string
  readonly tool: string
}

/**
 * The block Decision of a cut stream: stage `session`, layer `airlock`, reason `airlock_active`
 * (a reset or terminate, tier `none`, says so in its finding). `forward` is the error the client
 * gets for its pending request, in place of the answer the stream would have carried; null
 * when nothing was pending.
 */
export function liveCutDecision(ctx: McpContext, subject: LiveCutSubject, tier: string): McpDecision {
  const sess = sessionOf(ctx)
  const why = tier === 'hard' || tier === 'drain' ? tier : 'none'
  const err = mcpError('airlock', `${why}: live stream cut`)
  const pattern = why === 'none' ? 'airlock:session_reset' : `airlock:${why}`
  const line = ++ctx.state.outputLine
  return {
    direction: 'response', transport: ctx.state.transport, line, id: subject.id, method: subject.method, tool: subject.tool,
    verdict: 'block', stage: 'session', layer: 'airlock', reason: err.reason,
    findings: [pattern], dlpWarnings: [],
    forward: subject.id === null ? null : errorLine(subject.id, err), answer: null,
    notes: [`live stream cut: session ${sess?.key ?? ''} ${why === 'none' ? 'reset' : `in airlock ${why}`}`],
    pattern, severity: 'high',
    ...(sess !== null ? {session: sess.key} : {}),
  }
}
