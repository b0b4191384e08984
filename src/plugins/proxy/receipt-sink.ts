/**
 * The receipt sink: the one Decision → signed receipts in the flight recorder's two chains (the
 * v1 ActionReceipt chain and the v2 `proxy_decision` chain). One class for both subjects, so a
 * run's HTTP requests and the tool calls of every MCP transport land in one chain machinery. The
 * bytes of both mappings are pinned by the receipt vectors and goldens: HTTP receipts
 * (runtime.md §21.1, receipts.md §8) and MCP receipts (mcp.md §15.4) keep the fields they had.
 *
 * URL requests: every decision is a receipt (targets arrive redacted for content-scanner blocks,
 * so no secret is ever signed); with a contract in force or a scoped exception used, also a v2
 * `proxy_decision`.
 *
 * Tool calls — which decisions get a receipt, with which classification, target and layer:
 * * every `tools/call` final decision (allow, warn, block; gate blocks included) — classified by
 *   tool name, target = tool name, layer/pattern/severity of the deciding gate (empty when clean);
 *   with a contract resolved, also a v2 `proxy_decision`;
 * * a response injection finding (any action) — `unclassified`, target `response:<id>` or
 *   `server_response`, layer `mcp_response_scan`; a media-policy block likewise, layer `media_policy`;
 *   a live stream its session cut (airlock hard/drain, reset, terminate: mcp/pipeline/live-cut.ts)
 *   likewise, layer `airlock`, as the HTTP proxy records the WebSocket it cuts; an exchange the
 *   kill switch cut in flight likewise, layer `kill_switch` (pattern `kill_switch:<source>`);
 * * a DLP warn-pattern hit on any message — layer `dlp`, verdict `warn`.
 * Other messages (initialize, resources/read, clean responses) and blocks of non-`tools/call`
 * requests produce none.
 */
import {formatGoTime, fromEpochNanos} from '../canonical/index.js'
import {isToolCall, type AirlockEvidence, type Decision, type DecisionSink, type HitlEvidence, type RequestDecision, type TaintEvidence, type ToolCallDecision} from '../decision/index.js'
import {classifyHttpMethod, classifyMcp, type DecisionReceiptFields, type EvidenceEmitter, proxyDecisionFields, type ReceiptEmitter} from '../recorder/index.js'

/** The layers of a response-side tool-call Decision that get a receipt (above). */
const LIVE_RESPONSE_LAYERS: ReadonlySet<string> = new Set(['mcp_response_scan', 'media_policy', 'airlock', 'kill_switch'])

/**
 * The signed half of an open recorder: the v1 receipt chain and the v2 `proxy_decision` chain.
 * Every transport, HTTP and MCP, writes into these two emitters through a `ReceiptSink`.
 */
export interface ReceiptChains {
  readonly emitter: ReceiptEmitter
  readonly evidence: EvidenceEmitter
  readonly publicKeyHex: string
}

export interface ReceiptSinkOptions {
  /** `flight_recorder.raw_escrow`: a URL request's receipt also escrows the target as sent. */
  readonly escrow: boolean
  /**
   * The contract agent (mcp.md §1.2) as the actor of tool-call receipts; '' or `_default` keeps the
   * configured actor. (A URL request's Decision names its own agent.)
   */
  readonly toolCallAgent?: string
  /** Called with the error text when a tool-call receipt could not be written (never affects the message). */
  readonly onError?: (message: string) => void
}

/**
 * Receipt fields #23–31 of a Decision's taint evidence. An override's attribution has no field of
 * its own in the receipt: it is named in `taint_decision_reason` (`taint_trust_override by <who>:
 * <reason>`), so the signed record says who let the action through (docs/compatibility.md).
 */
export function taintReceiptFields(t: TaintEvidence): NonNullable<DecisionReceiptFields['taint']> {
  let reason = t.reason
  if (t.override !== undefined && (t.override.grantedBy !== '' || t.override.reason !== '')) {
    reason += ` by ${t.override.grantedBy === '' ? 'unknown' : t.override.grantedBy}${t.override.reason !== '' ? `: ${t.override.reason}` : ''}`
  }
  return {
    sessionTaintLevel: t.level,
    sessionContaminated: t.contaminated,
    recentTaintSources: t.sources.map((x) => ({url: x.url, kind: x.kind, level: x.level, timestamp: formatGoTime(fromEpochNanos(BigInt(Math.round(x.atMs * 1e6))))})),
    sessionTaskId: t.taskId,
    sessionTaskLabel: t.taskLabel,
    authorityKind: t.authority,
    taintDecision: t.decision,
    taintDecisionReason: reason,
    taskOverrideApplied: t.taskOverrideApplied,
  }
}

/** Receipt fields #17–20 of an operator's answer to a held request (docs/ask.md). */
export function hitlReceiptFields(h: HitlEvidence): NonNullable<DecisionReceiptFields['resolution']> {
  return {decisionPhase: 'outcome', deferId: h.id, resolutionPolicy: `hitl:${h.outcome}`, resolutionSource: h.decidedBy === '' ? 'pipelock' : `operator:${h.decidedBy}`}
}

function receiptVerdict(d: RequestDecision): string {
  switch (d.verdict) {
    case 'block':
      return 'block'
    case 'would_block':
      return 'warn' // a block decision not enforced (enforce: false)
    default:
      return 'allow' // `error`: allowed by policy, upstream failed
  }
}

type McpClass = ReturnType<typeof classifyMcp>

export class ReceiptSink implements DecisionSink {
  private readonly agent: string
  constructor(private readonly chains: ReceiptChains, private readonly o: ReceiptSinkOptions) {
    const a = o.toolCallAgent ?? ''
    this.agent = a === '_default' ? '' : a
  }

  /** Records `d`; returns the id of the v1 receipt of a URL request (a block names it). */
  record(d: Decision): string | undefined {
    if (isToolCall(d)) {
      this.toolCallDecision(d)
      return undefined
    }
    return this.request(d)
  }

  // A tier change is signed like a decision: target = the session, verdict block while quarantined.
  recordAirlock(c: AirlockEvidence): void {
    const e = this.chains.emitter
    const before = e.failures
    e.emit({
      target: c.sessionKey,
      transport: 'airlock',
      verdict: c.to === 'none' ? 'allow' : 'block',
      layer: 'airlock',
      pattern: `${c.from}->${c.to} (${c.trigger})`,
      ...(c.agent ? {agent: c.agent} : {}),
      sessionId: c.sessionKey,
    })
    if (e.failures > before) this.o.onError?.(`receipt emission failed: ${e.lastError ?? 'unknown error'}`)
  }

  private request(d: RequestDecision): string | undefined {
    const {emitter, evidence} = this.chains
    const c = d.contract
    const x = d.exception
    // With a contract in force, the decision is also a v2 proxy_decision in its own chain (§7.10).
    // A scoped exception's use is one too, contract or not (operations.md §8.3): the scanner
    // would have blocked (live_verdict), the exception decided (winning_source names its id).
    if (x !== undefined) {
      evidence.emit(proxyDecisionFields({actionType: classifyHttpMethod(d.method).actionType, target: d.target, verdict: receiptVerdict(d), transport: d.transport}, {
        liveVerdict: 'block',
        policySources: [...(c?.policySources ?? []), `scanner:${x.layer}`, `exception:${x.id}`],
        winningSource: d.verdict === 'block' ? (c?.winningSource ?? `scanner:${d.layer}`) : `exception:${x.id}`,
        ruleId: x.rule,
        activeManifestHash: c?.activeManifestHash ?? '', contractHash: c?.contractHash ?? '', selectorId: c?.selectorId ?? '', generation: c?.generation ?? 0n,
      }))
    } else if (c !== undefined) {
      evidence.emit(proxyDecisionFields({actionType: classifyHttpMethod(d.method).actionType, target: d.target, verdict: receiptVerdict(d), transport: d.transport}, c))
    }
    return emitter.emit({
      // transports §1.4: WebSocket receipts carry the literal method `WS` (the handshake's
      // Decision keeps `GET`, which the contract gate and capture need).
      method: d.transport === 'websocket' ? 'WS' : d.method,
      target: d.target,
      ...(this.o.escrow && d.url !== undefined ? {rawTarget: d.url} : {}),
      transport: d.transport,
      verdict: receiptVerdict(d),
      ...(d.layer !== 'all' ? {layer: d.layer} : {}),
      ...(d.severity ? {severity: d.severity} : {}),
      ...(d.requestId ? {requestId: d.requestId} : {}),
      ...(d.agent ? {agent: d.agent} : {}),
      ...(d.sessionKey ? {sessionId: d.sessionKey} : {}),
      ...(c !== undefined ? {contract: c} : {}),
      ...(d.actionId !== undefined ? {actionId: d.actionId} : {}),
      ...(d.redaction !== undefined ? {redaction: d.redaction} : {}),
      ...(d.taint !== undefined ? {taint: taintReceiptFields(d.taint)} : {}),
      ...(d.hitl !== undefined ? {resolution: hitlReceiptFields(d.hitl)} : {}),
    })
  }

  private toolCallDecision(d: ToolCallDecision): void {
    if (d.direction === 'request' && d.method === 'tools/call') this.toolCall(d)
    else if (d.direction === 'response' && LIVE_RESPONSE_LAYERS.has(d.layer) && d.pattern !== undefined) {
      this.emitToolCall(d, {actionType: 'unclassified', sideEffectClass: 'none', reversibility: 'unknown'}, d.id === null ? 'server_response' : `response:${d.id}`, d.verdict, d.layer, d.pattern, d.severity)
    }
    for (const w of d.dlpWarnings) {
      const resource = d.tool !== '' ? d.tool : d.method
      this.emitToolCall(d, classifyMcp(resource, resource), resource, 'warn', 'dlp', w, undefined)
    }
  }

  private toolCall(d: ToolCallDecision): void {
    const cls = classifyMcp('tools/call', d.tool)
    const c = d.contract
    // A block not enforced (audit mode) is a `warn` receipt, as a request's would_block is.
    const verdict = d.verdict === 'would_block' ? 'warn' : d.verdict
    if (c !== undefined) {
      this.chains.evidence.emit(proxyDecisionFields({actionType: cls.actionType, target: d.tool, verdict, transport: d.transport}, c))
    }
    this.emitToolCall(d, cls, d.tool, verdict, d.layer, d.pattern, d.severity, d.actionId)
  }

  private emitToolCall(d: ToolCallDecision, cls: McpClass, target: string, verdict: string, layer: string, pattern: string | undefined, severity: string | undefined, actionId?: string): void {
    const e = this.chains.emitter
    const before = e.failures
    e.emit({
      // The mediation envelope's `rid` names this receipt (mcp-proxy/mediation.ts).
      ...(actionId !== undefined ? {actionId} : {}),
      actionClass: cls,
      target,
      transport: d.transport,
      verdict,
      ...(layer !== '' ? {layer} : {}),
      ...(pattern ? {pattern} : {}),
      ...(severity ? {severity} : {}),
      ...(this.agent !== '' ? {agent: this.agent} : {}),
      // The decision's own session (mcp-stdio-1 …, the listener's identity key) when sessions are on.
      ...(d.session ? {sessionId: d.session} : {}),
      ...(d.contract !== undefined ? {contract: d.contract} : {}),
      ...(d.redaction !== undefined ? {redaction: d.redaction} : {}),
    })
    if (e.failures > before) this.o.onError?.(`receipt emission failed: ${e.lastError ?? 'unknown error'}`)
  }
}
