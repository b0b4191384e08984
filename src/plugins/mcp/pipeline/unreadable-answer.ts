/**
 * An upstream answer the HTTP transports refuse before any message of it can be judged: a body
 * still compressed (pipelock never decompresses, so it cannot be scanned), one over the 10 MiB
 * message limit, a redirect (never followed: the server's answer would come from a place nobody
 * chose), or a JSON body not complete within the upstream timeout. No message reaches the
 * response gate, so without this Decision the refusal would leave only a stderr line: the
 * transport records it (a response-side block, like a cut) before it answers the pending request,
 * so the refusal has a receipt and an audit event with its reason, as the HTTP proxy's refusal of
 * a compressed or oversized body does. The same holds on the bridge's GET stream, where nothing is
 * pending (`answer` null).
 */
import type {ReasonCode} from '../../scanner/index.js'
import {mcpError} from '../jsonrpc/errors.js'
import type {McpDecision} from './decision.js'
import type {LiveCutSubject} from './live-cut.js'
import type {McpContext} from './request.js'
import {sessionOf} from './session-gates.js'

/**
 * Why the answer was refused: a compressed body, one too large to read whole (a body or an SSE
 * line over 10 MiB), a 3xx redirect, or a JSON body still incomplete when the upstream timeout ran out.
 */
export type UnreadableAnswer = 'compressed' | 'too_large' | 'redirect' | 'timeout'

/**
 * The receipt reason of each refusal, from the closed vocabulary: a redirect is an answer that is
 * no MCP message at all (a POST is answered with JSON, an event stream or 202), as an unparseable one is.
 */
const REASONS: Readonly<Record<UnreadableAnswer, ReasonCode>> = {
  compressed: 'compressed_response',
  too_large: mcpError('response_unscanned').reason!,
  redirect: 'parse_error',
  timeout: 'timeout',
}

/**
 * The block Decision of a refused answer: `forward` is `answer` (the `-32003` line the transport
 * sends the client for its pending request, unchanged); `why` names what was wrong.
 */
export function unreadableAnswerDecision(ctx: McpContext, subject: LiveCutSubject, kind: UnreadableAnswer, why: string, answer: string | null): McpDecision {
  const sess = sessionOf(ctx)
  const reason = REASONS[kind]
  return {
    direction: 'response', transport: ctx.state.transport, line: ++ctx.state.outputLine, id: subject.id, method: subject.method, tool: subject.tool,
    verdict: 'block', stage: 'response_scan', layer: 'mcp_response_scan', reason, findings: [why], dlpWarnings: [],
    forward: answer, answer: null, notes: [`upstream answer refused: ${why}`], pattern: reason, severity: 'high',
    ...(sess !== null ? {session: sess.key} : {}),
  }
}
