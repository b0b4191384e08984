/**
 * Client→server: the one verdict function for a message (spec mcp.md §4). The message is read
 * (mediation-meta strip, frame, redaction of a tools/call's arguments) into the MCP gate's
 * context, and the transport's row of stages runs over it in the one MCP order
 * (gate/order.ts: kill switch → batch → content scan → tool policy / budget / session binding →
 * chain → parse-error block → address → merge (strictest action) → block_all → CEE → contract →
 * taint). Gate order differs by transport only where it changes state (§4.3); here every
 * non-short-circuiting gate runs before the chain gate on both, which gives the same results.
 */
import {goJson, RawJson} from '../../canonical/index.js'
import {GENERIC_PROVIDER, type Redactor, type RedactionSummary} from '../../redaction/index.js'
import {isObject, parseFrame, recoverRequestId, type McpFrame} from '../jsonrpc/frame.js'
import {NO_POLICY_MATCH} from '../policy/compile.js'
import type {ContentVerdict} from '../scan/request.js'
import type {McpDecision} from './decision.js'
import type {CallRedaction, McpDecisionBase, McpGateContext} from './gate/context.js'
import {CLEAN} from './gate/stages/content.js'
import {blockReason, receiptOf} from './gate/stages/mode.js'
import {runMcpGate} from './gate/transport-stages.js'
import {holdCall} from './in-flight.js'
import {sessionOf} from './session-gates.js'
import type {McpDeps, McpSessionState, McpSettings} from './settings.js'

export {batchAnswer} from './gate/stages/batch.js'
export {requestScanRuns, unscannedContent} from './gate/stages/content.js'

export interface McpContext {
  readonly settings: McpSettings
  readonly deps: McpDeps
  readonly state: McpSessionState
  /**
   * The server's own stream of messages (the bridge's GET stream, mcp.md §3.2.2): requests and
   * notifications belong there, a response only to a request still pending. One to any other id
   * is dropped rather than answered (the confused-deputy stage).
   */
  readonly serverStream?: boolean
  /**
   * The id (raw JSON text) of the request whose POST answer this message came in (the HTTP
   * listener and bridge): a response to that id once it has been answered is the upstream
   * answering twice, dropped rather than answered (the client has had its one answer).
   */
  readonly answers?: string | null
}

const MEDIATION_META = 'com.pipelock/mediation'

/**
 * The frame the request pipeline judges: parsed, with a client-supplied mediation envelope
 * removed. The scan pool's worker builds the same frame from the same text, so its content scan
 * is the one this thread would compute.
 */
export function requestFrame(raw: string): McpFrame {
  const frame = stripMediationMeta(parseFrame(raw))
  // [ext] A request refused for a duplicate key is still answered (issue 37): with its id when the
  // envelope names one unambiguously, so the client is not left waiting for its own timeout.
  if (frame.id === null && !frame.isBatch && frame.value === undefined && (frame.error ?? '').startsWith('duplicate object key')) {
    const id = recoverRequestId(frame.text)
    if (id !== null) return {...frame, id}
  }
  return frame
}

/** Removes a client-supplied mediation envelope (anti-spoofing; fix: on every transport). */
function stripMediationMeta(frame: McpFrame): McpFrame {
  const v = frame.value
  if (!isObject(v)) return frame
  const params = v.get('params')
  if (!isObject(params)) return frame
  const meta = params.get('_meta')
  if (!isObject(meta) || !meta.has(MEDIATION_META)) return frame
  meta.delete(MEDIATION_META)
  return parseFrame(goJson(v))
}

/**
 * `params.arguments` of a `tools/call` through the redactor (the JSON rewrite of HTTP bodies, on
 * the arguments' JSON text): null when redaction is off, the message is no parsed tools/call, or
 * nothing was replaced (the frame is then forwarded as received). The scan pool runs it too, for a
 * large message, before its content scan (`PooledRedaction`).
 */
export function redactCallArguments(redactor: Redactor | null | undefined, frame: McpFrame): CallRedaction | null {
  if (redactor === undefined || redactor === null || frame.method !== 'tools/call' || frame.error !== null || frame.args === undefined) return null
  const out = redactor.redactText(goJson(frame.args), GENERIC_PROVIDER)
  if (out.kind === 'blocked') return {kind: 'blocked', reason: out.reason}
  if (out.kind !== 'rewritten' || out.summary === null) return null
  const v = frame.value
  if (!isObject(v)) return null
  const params = v.get('params')
  if (!isObject(params)) return null
  params.set('arguments', new RawJson(out.body.toString('utf8')))
  return {kind: 'rewritten', frame: parseFrame(goJson(v)), summary: out.summary}
}

/**
 * A call's redaction as the scan pool answers it, as data: the rewritten message's text (its frame
 * is read again here) and summary, or the failure. Null: nothing rewritten or blocked.
 */
export type PooledRedaction = {readonly kind: 'rewritten'; readonly raw: string; readonly summary: RedactionSummary} | {readonly kind: 'blocked'; readonly reason: string}

export function pooledRedaction(red: CallRedaction | null): PooledRedaction | null {
  return red === null || red.kind === 'blocked' ? red : {kind: 'rewritten', raw: red.frame.text, summary: red.summary}
}

function fromPool(red: PooledRedaction | null): CallRedaction | null {
  return red === null || red.kind === 'blocked' ? red : {kind: 'rewritten', frame: parseFrame(red.raw), summary: red.summary}
}

/** Transport facts that feed the decision (HTTP listener). */
export interface RequestExtras {
  /** DLP pattern names found in the request headers (listener, §4.6). */
  readonly headerDlp?: readonly string[]
  /** The request presents an `Mcp-Session-Id` bound to another client address (listener, gate/stages/session-id.ts). */
  readonly foreignSessionId?: boolean
  /**
   * The content scan of this message's `requestFrame`, computed off the event loop by the scan
   * pool (large messages); absent = computed here. Every other gate runs here, in order.
   */
  readonly content?: ContentVerdict
  /**
   * The redaction of this message's arguments, made by the scan pool before its content scan
   * (which then read the redacted frame); absent = made here.
   */
  readonly redaction?: PooledRedaction | null
  /**
   * An A2A finding of the listener (scanners-extra §2.5): the `A2A-Extensions` header or the
   * A2A walk of an A2A method's body. `block` short-circuits with -32001; otherwise a note.
   */
  readonly a2a?: {readonly on: 'header' | 'input'; readonly reason: string; readonly block: boolean}
}

export function decideRequest(ctx: McpContext, raw: string, extras: RequestExtras = {}): McpDecision {
  const g = gateContext(ctx, raw, extras)
  const d = decided(ctx, g)
  // The budget stage's concurrency slot: held by a forwarded call until it is answered, else free again.
  if (g.lease !== null) {
    if (d.forward !== null && g.frame.id !== null) holdCall(ctx.state, g.frame.id, g.lease)
    else g.lease()
  }
  return d
}

function decided(ctx: McpContext, g: McpGateContext): McpDecision {
  if (runMcpGate(ctx.state.transport, g)) return g.decision!
  const {frame, base, http, at, reasons} = g
  const trackable = http ? frame.hasMethod && !frame.isResponse && frame.id !== null : frame.id !== null
  if (trackable) ctx.state.tracker.track(frame.id!, frame.hasMethod && !frame.isResponse)
  // A page of a paginated tools/list continues the first listing (the binding baseline).
  if (frame.method === 'tools/list' && !frame.isResponse) ctx.state.baseline.noteListRequest(frame.id, hasCursor(frame.value))
  // Audit mode: the held would-block is the message's one Decision, and it is forwarded.
  if (g.held !== null) return {...g.held, forward: frame.text, answer: null, ...g.contract}
  if (reasons.length === 0) {
    if (!g.dowWarned && !g.ceeWarned) g.sess?.clean()
    return {...base, verdict: 'allow', stage: 'none', layer: '', reason: null, findings: [], forward: frame.text, answer: null, ...g.contract}
  }
  // `mode` merged the findings to warn: forwarded with them.
  base.notes.push(http ? `input: warning (${reasons.join(', ')})` : `${at}warning — ${frame.method} request contains flagged content (${reasons.join(', ')})`)
  const {stage, layer} = g.warnAt!
  return {...base, verdict: 'warn', stage, layer, reason: blockReason(g, null), findings: reasons, forward: frame.text, answer: null, ...g.contract, ...receiptOf(g, stage)}
}

/** The gate's context for one message: the frame read (and its arguments redacted), the session entered (§4.1 step 4). */
function gateContext(ctx: McpContext, raw: string, extras: RequestExtras): McpGateContext {
  const {settings, state} = ctx
  const http = state.transport !== 'mcp_stdio'
  const line = ++state.inputLine
  let frame = requestFrame(raw)
  // Redaction of tools/call arguments (envelope-redaction §19) before the content scan, which
  // then scans what is forwarded; a failure is answered by the redaction stage.
  const red = extras.redaction !== undefined ? fromPool(extras.redaction) : redactCallArguments(settings.redactor, frame)
  if (red !== null && red.kind === 'rewritten') frame = red.frame
  const isCall = frame.method === 'tools/call' && frame.error === null
  const sess = sessionOf(ctx)
  const base: McpDecisionBase = {
    direction: 'request', transport: state.transport, line, id: frame.id, method: frame.method, tool: frame.toolName, dlpWarnings: [], notes: [], facts: [],
    ...(isCall && frame.args !== undefined ? {args: frame.args} : {}),
    ...(sess !== null ? {session: sess.key} : {}),
    ...(red !== null && red.kind === 'rewritten' ? {redaction: red.summary} : {}),
  }
  return {
    mcp: ctx, extras, http, at: http ? 'input: ' : `input line ${line}: `, frame, red, isCall, base, sess, entry: null,
    content: CLEAN, policy: NO_POLICY_MATCH, dowWarned: false, lease: null, binding: null, drift: null, chain: null, address: null, reasons: [], action: '', warnAt: null, ceeWarned: false, contract: {}, decision: null, held: null,
  }
}

/** The message's `params.cursor` is a string (a request for a later page). */
function hasCursor(v: McpFrame['value']): boolean {
  const params = isObject(v) ? v.get('params') : undefined
  return isObject(params) && typeof params.get('cursor') === 'string'
}
