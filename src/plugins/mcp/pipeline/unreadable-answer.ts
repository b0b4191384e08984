/**
 * An upstream answer the HTTP transports refuse before any message of it can be judged: a body
 * still compressed (pipelock never decompresses, so it cannot be scanned), or one over the 10 MiB
 * message limit. No message reaches the response gate, so without this
 * Decision the refusal would leave only a stderr line: the transport records it (a response-side
 * block, like a cut) before it answers the pending request, so the refusal has a receipt and an
 * audit event with its reason, as the HTTP proxy's refusal of a compressed or oversized body does.
 */
import {mcpError} from '../jsonrpc/errors.js'
import type {McpDecision} from './decision.js'
import type {LiveCutSubject} from './live-cut.js'
import type {McpContext} from './request.js'
import {sessionOf} from './session-gates.js'

/** Why the answer was refused: a compressed body, or one too large to read whole (a body or an SSE line over 10 MiB). */
export type UnreadableAnswer = 'compressed' | 'too_large'

/**
 * The block Decision of a refused answer: `forward` is `answer` (the `-32003` line the transport
 * sends the client for its pending request, unchanged); `why` names what was wrong.
 */
export function unreadableAnswerDecision(ctx: McpContext, subject: LiveCutSubject, kind: UnreadableAnswer, why: string, answer: string | null): McpDecision {
  const sess = sessionOf(ctx)
  const reason = kind === 'compressed' ? 'compressed_response' : mcpError('response_unscanned').reason!
  return {
    direction: 'response', transport: ctx.state.transport, line: ++ctx.state.outputLine, id: subject.id, method: subject.method, tool: subject.tool,
    verdict: 'block', stage: 'response_scan', layer: 'mcp_response_scan', reason, findings: [why], dlpWarnings: [],
    forward: answer, answer: null, notes: [`upstream answer refused: ${why}`], pattern: reason, severity: 'high',
    ...(sess !== null ? {session: sess.key} : {}),
  }
}

