/**
 * Server→client: the one verdict function for a message (spec mcp.md §5.1). The message is parsed
 * into the response gate's context and the transport's row of response stages runs over it in the
 * one order (gate/response/order.ts): frame → kill switch → session → batch → unparseable →
 * confused deputy → scans completed → media policy → tool-definition scan → general injection
 * scan → action. A message no stage answered is forwarded here: a tools/list feeds the
 * session-binding inventory only when it is forwarded (fix Q6).
 */
import {parseFrame} from '../jsonrpc/frame.js'
import type {ResponseScans} from './response-scans.js'
import type {McpDecision, McpFact} from './decision.js'
import {forwardList, type McpResponseGateContext} from './gate/response/context.js'
import {runMcpResponseGate} from './gate/response/transport-stages.js'
import type {McpContext} from './request.js'
import {settleCall} from './in-flight.js'
import {sessionOf} from './session-gates.js'

/** `pre`: this message's `scanResponseFrame`, computed off the event loop by the scan pool; absent = computed by the stages. */
export function decideResponse(ctx: McpContext, raw: string, pre?: ResponseScans): McpDecision {
  const {state} = ctx
  const http = state.transport !== 'mcp_stdio'
  const line = ++state.outputLine
  const frame = parseFrame(raw)
  // A response ends its call's flight whatever its verdict: the server has answered.
  if (frame.isResponse) settleCall(state, frame.id)
  const notes: string[] = []
  const sess = sessionOf(ctx)
  const facts: McpFact[] = []
  const base = {direction: 'response' as const, transport: state.transport, line, id: frame.id, method: frame.method, tool: '', dlpWarnings: [], notes, facts, ...(sess !== null ? {session: sess.key} : {})}
  const g: McpResponseGateContext = {
    mcp: ctx, pre, at: http ? '' : `line ${line}: `, frame, base, sess,
    serverRequest: frame.hasMethod && !frame.isResponse && frame.id !== null,
    entry: null, msg: null, scans: null, tools: null, defs: [], toolFindings: [], decision: null,
  }
  if (runMcpResponseGate(state.transport, g)) return g.decision!
  const forward = forwardList(g, g.scans!.text)
  const {toolFindings} = g
  const warned = toolFindings.length > 0
  if (!warned) sess?.clean()
  return {
    ...base, verdict: warned ? 'warn' : 'allow', stage: warned ? 'tool_scan' : 'none', layer: warned ? 'mcp_tool_scanning' : '',
    reason: warned ? 'tool_poisoning' : null, findings: toolFindings, forward, answer: null,
  }
}
