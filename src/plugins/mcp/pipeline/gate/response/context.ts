/**
 * What one server→client message brings to the MCP response gate (docs/architecture.md, "The MCP
 * response gate"): `decideResponse` parses the message into this context, runs the transport's row
 * of response stages over it in the one order (order.ts), and every stage reads and writes only
 * here. A stage answers by setting `decision` and returning true (a block, or the warn of an
 * injection `warn`/`strip`); a message no stage answered is forwarded by `decideResponse` as an
 * allow, or as a warn when the tool scan's findings did not block.
 */
import {goJson, strconvQuote, type JsonObject} from '../../../../canonical/index.js'
import type {SyncGateStage} from '../../../../stages/index.js'
import {errorLine, type McpError} from '../../../jsonrpc/errors.js'
import {isObject, parseFrame, type McpFrame} from '../../../jsonrpc/frame.js'
import type {ToolDefinition} from '../../../tools/scan.js'
import type {McpDecision, McpStage} from '../../decision.js'
import type {McpContext} from '../../request.js'
import type {ResponseScans} from '../../response-scans.js'
import {upgraded} from '../../session-gates.js'
import type {McpSessionEntry, McpSessionHandle} from '../../session-step.js'
import type {McpDecisionBase} from '../context.js'

/** The stages of the MCP response gate, in the one order they run (order.ts). */
export type McpResponseStageId = 'kill_switch' | 'session' | 'batch' | 'framing' | 'parse' | 'confused_deputy' | 'scan_result' | 'media_policy' | 'tool_scan' | 'response_scan'

export interface McpResponseGateContext {
  readonly mcp: McpContext
  /** This message's `scanResponseFrame`, computed off the event loop by the scan pool; absent = computed by the stages. */
  readonly pre: ResponseScans | undefined
  /** Log prefix: `line N: ` over stdio, '' on the HTTP transports. */
  readonly at: string
  readonly frame: McpFrame
  readonly base: McpDecisionBase
  readonly sess: McpSessionHandle | null
  /** A server-initiated request (sampling/createMessage, elicitation/create …): its block is answered to the server. */
  readonly serverRequest: boolean
  /** The session as entered for this message (due recovery done) once the kill switch let it in. */
  entry: McpSessionEntry | null

  // Written by the stages, read by the later ones and by `decideResponse` after the gate.
  /** The parsed message (set by `parse`; read by the stages after it). */
  msg: JsonObject | null
  /** The completed scans of the message (set by `scan_result`). */
  scans: Extract<ResponseScans, {kind: 'message'}> | null
  /** A tools/list's tools when tool scanning is on (set by `tool_scan`). */
  tools: JsonObject[] | null
  /** The tools decoded once: the tool scan and the forwarded-names baseline both read them. */
  defs: ToolDefinition[]
  /** `tool:finding` of every tool-definition finding that did not block. */
  toolFindings: string[]
  /** The answer, once a stage gave one. */
  decision: McpDecision | null
}

/** A stage of the MCP response gate: synchronous (a message is decided without awaiting). */
export type McpResponseStage = SyncGateStage<McpResponseStageId, McpResponseGateContext>

/**
 * The block-and-replace Decision: the client gets the JSON-RPC error in place of the message; a
 * blocked server-initiated request is answered to the server, never relayed as an error to the
 * client (fix Q20 for every block, issue 37); messages without an id never receive an error.
 */
export function replace(ctx: McpResponseGateContext, stage: McpStage, layer: string, err: McpError, findings: readonly string[]): McpDecision {
  const {frame, serverRequest} = ctx
  return {
    ...ctx.base, verdict: 'block', stage, layer, reason: err.reason, findings,
    forward: frame.id === null || serverRequest ? null : errorLine(frame.id, err), answer: serverRequest ? errorLine(frame.id, err) : null,
  }
}

/** Ends the gate with `d`. */
export function decide(ctx: McpResponseGateContext, d: McpDecision): true {
  ctx.decision = d
  return true
}

/** The session level's upgrade of a response-side action, logged and kept as an audit fact. */
export function upgrade(ctx: McpResponseGateContext, action: string, surface: string): string {
  const {sess, entry} = ctx
  if (sess === null) return action
  const to = upgraded(sess.upgrade(action), action, entry?.label ?? '', ctx.base.notes)
  if (to !== action) ctx.base.facts.push({kind: 'adaptive_upgrade', action: to, name: `${action}->${to}`, detail: surface, severity: entry?.label ?? ''})
  return to
}

/**
 * A forwarded tools/list feeds the session-binding inventory (fix Q6: only when it is forwarded).
 * The first one is the pinned baseline; a name a later list brings stays outside it, and the log
 * line says what its calls will get. Returns the text to forward: under `unknown_tool_action:
 * block` the tools outside the baseline are taken out of the list, since the client could never
 * call them (a `warn` keeps them listed, as their calls are relayed).
 */
export function forwardList(ctx: McpResponseGateContext, text: string): string {
  if (ctx.tools === null) return text
  const result = ctx.msg?.get('result')
  const next = isObject(result) ? result.get('nextCursor') : undefined
  const names = ctx.defs.map((t) => t.name)
  const {baseline} = ctx.mcp.state
  const added = baseline.addForwarded(names, {id: ctx.frame.id, more: typeof next === 'string' && next !== ''})
  const binding = ctx.mcp.settings.binding
  if (binding === null) return text
  const outcome = binding.unknownToolAction === 'block' ? 'refused' : 'flagged'
  for (const n of added) ctx.base.notes.push(`tool "${n}" added post-baseline; calls to it are ${outcome} (unknown_tool_action: ${binding.unknownToolAction})`)
  if (binding.unknownToolAction !== 'block') return text
  const withheld = baseline.outside(names)
  if (withheld.length === 0) return text
  ctx.base.notes.push(`${ctx.at}tools/list: withheld ${withheld.map((n) => strconvQuote(n)).join(', ')} (outside the session baseline; unknown_tool_action: block)`)
  return withholdTools(text, new Set(withheld))
}

/** `text` (a tools/list response) without the tools named in `names`. */
function withholdTools(text: string, names: ReadonlySet<string>): string {
  const msg = parseFrame(text).value
  const result = isObject(msg) ? msg.get('result') : undefined
  const tools = isObject(result) ? result.get('tools') : undefined
  if (!isObject(msg) || !isObject(result) || !Array.isArray(tools)) return text
  result.set('tools', tools.filter((t) => {
    const name = isObject(t) ? t.get('name') : undefined
    return typeof name !== 'string' || !names.has(name)
  }))
  return goJson(msg)
}
