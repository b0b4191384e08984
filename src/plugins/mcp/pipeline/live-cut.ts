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
import type {McpLiveCutCause} from './session-step.js'
import type {McpContext} from './request.js'
import type {KillSwitchView} from './settings.js'

/** What was pending on the stream: the request whose answer it carried (`id` null: none, or a notification). */
export interface LiveCutSubject {
  readonly id: string | null
  readonly method: string
  readonly tool: string
}

/** How a cut's cause reads after the session's key: `in airlock hard`, `terminated`, `reset`, `evicted`. */
export function liveCutWords(cause: McpLiveCutCause): string {
  switch (cause) {
    case 'terminate':
      return 'terminated'
    case 'reset':
      return 'reset'
    case 'evicted':
      return 'evicted'
    default:
      return `in airlock ${cause}`
  }
}

/**
 * The block Decision of a cut stream: stage `session`, layer `airlock`, reason `airlock_active`,
 * its error, finding and note naming the cause (a terminated session is not said to be reset or
 * quarantined). `forward` is the error the client gets for its pending request, in place of the
 * answer the stream would have carried; null when nothing was pending.
 */
export function liveCutDecision(ctx: McpContext, subject: LiveCutSubject, cause: McpLiveCutCause): McpDecision {
  const sess = sessionOf(ctx)
  const tier = cause === 'hard' || cause === 'drain'
  const words = liveCutWords(cause)
  const pattern = tier ? `airlock:${cause}` : `airlock:session_${words}`
  return cutDecision(ctx, subject, {
    stage: 'session', layer: 'airlock', err: tier ? mcpError('airlock', `${cause}: live stream cut`) : mcpError('session_cut', words), findings: [pattern], pattern,
    note: `live stream cut: session ${sess?.key ?? ''} ${words}`,
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
