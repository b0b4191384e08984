/**
 * A live MCP stream cut by its session (operations §6 item 4, on MCP; docs/airlock.md "Long-lived
 * connections"): an HTTP listener's open SSE response or a WebSocket bridge, torn down when the
 * session enters airlock hard or drain, or is reset or terminated. The transport registers the
 * stream with the session (`McpSessionHandle.registerLive`) and, when the session cuts it, records
 * this Decision before it answers and closes, as the HTTP WebSocket relay records its close.
 * The kill switch cuts an HTTP listener's exchange still in flight the same way
 * (`killSwitchCutDecision`), as it cuts the HTTP proxy's live streams.
 */
import {errorLine, mcpError} from '../jsonrpc/errors.js'
import type {McpDecision} from './decision.js'
import {sessionOf} from './session-gates.js'
import type {McpContext} from './request.js'
import type {KillSwitchView} from './settings.js'

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

/**
 * The block Decision of an exchange the kill switch cut while the upstream was still answering
 * (stage and layer `kill_switch`, reason `kill_switch_active`, receipt pattern `kill_switch:<source>`): `forward` is the kill-switch error
 * the client gets for its pending request, as the response stage would have given it once the
 * answer arrived; null when nothing was pending.
 */
export function killSwitchCutDecision(ctx: McpContext, subject: LiveCutSubject, ks: ReturnType<KillSwitchView['status']>): McpDecision {
  const sess = sessionOf(ctx)
  const err = mcpError('kill_switch', ks.message)
  return {
    direction: 'response', transport: ctx.state.transport, line: ++ctx.state.outputLine, id: subject.id, method: subject.method, tool: subject.tool,
    verdict: 'block', stage: 'kill_switch', layer: 'kill_switch', reason: err.reason, findings: [], dlpWarnings: [],
    forward: subject.id === null ? null : errorLine(subject.id, err), answer: null,
    notes: [`response kill switch cut the exchange in flight (source=${ks.source})`],
    pattern: `kill_switch:${ks.source ?? ''}`, severity: 'high',
    ...(sess !== null ? {session: sess.key} : {}),
  }
}
