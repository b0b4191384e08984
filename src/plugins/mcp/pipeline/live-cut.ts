/**
 * A live MCP stream cut by its session (operations §6 item 4, on MCP; docs/airlock.md "Long-lived
 * connections"): an HTTP listener's open SSE response or a WebSocket bridge, torn down when the
 * session enters airlock hard or drain, or is reset or terminated. The transport registers the
 * stream with the session (`McpSessionHandle.registerLive`) and, when the session cuts it, records
 * this Decision before it answers and closes, as the HTTP WebSocket relay records its close.
 * The kill switch cuts an HTTP listener's exchange still in flight the same way
 * (`killSwitchCutDecision`), as it cuts the HTTP proxy's live streams.
 */
import {errorLine, mcpError, type McpError} from '../jsonrpc/errors.js'
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
  const pattern = why === 'none' ? 'airlock:session_reset' : `airlock:${why}`
  return cutDecision(ctx, subject, {
    stage: 'session', layer: 'airlock', err: mcpError('airlock', `${why}: live stream cut`), findings: [pattern], pattern,
    note: `live stream cut: session ${sess?.key ?? ''} ${why === 'none' ? 'reset' : `in airlock ${why}`}`,
  })
}

/**
 * The block Decision of an exchange the kill switch cut while the upstream was still answering
 * (stage and layer `kill_switch`, reason `kill_switch_active`, receipt pattern `kill_switch:<source>`): `forward` is the kill-switch error
 * the client gets for its pending request, as the response stage would have given it once the
 * answer arrived; null when nothing was pending.
 */
export function killSwitchCutDecision(ctx: McpContext, subject: LiveCutSubject, ks: ReturnType<KillSwitchView['status']>): McpDecision {
  return cutDecision(ctx, subject, {
    stage: 'kill_switch', layer: 'kill_switch', err: mcpError('kill_switch', ks.message), findings: [], pattern: `kill_switch:${ks.source ?? ''}`,
    note: `response kill switch cut the exchange in flight (source=${ks.source})`,
  })
}

/** A cut's response-side block Decision: the pending request (if any) gets `err`; severity high. */
function cutDecision(
  ctx: McpContext, subject: LiveCutSubject,
  c: {stage: McpDecision['stage']; layer: string; err: McpError; findings: string[]; pattern: string; note: string},
): McpDecision {
  const sess = sessionOf(ctx)
  return {
    direction: 'response', transport: ctx.state.transport, line: ++ctx.state.outputLine, id: subject.id, method: subject.method, tool: subject.tool,
    verdict: 'block', stage: c.stage, layer: c.layer, reason: c.err.reason, findings: c.findings, dlpWarnings: [],
    forward: subject.id === null ? null : errorLine(subject.id, c.err), answer: null,
    notes: [c.note], pattern: c.pattern, severity: 'high',
    ...(sess !== null ? {session: sess.key} : {}),
  }
}
