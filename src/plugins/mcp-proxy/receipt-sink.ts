/**
 * Signed receipts for MCP decisions (mcp.md §15.4): the same recorder and receipt-chain
 * machinery as `pipelock run` (`proxy.openRecorder`), fed from the one `McpDecision`. Which
 * decisions get a receipt, and with which classification, target and layer:
 *
 * * every `tools/call` final decision (allow, warn, block; gate blocks included) — classified by
 *   tool name, target = tool name, layer/pattern/severity of the deciding gate (empty when clean);
 * * a response injection finding (any action) — `unclassified`, target `response:<id>` or
 *   `server_response`, layer `mcp_response_scan`; a media-policy block likewise, layer `media_policy`;
 * * a DLP warn-pattern hit on any message — layer `dlp`, verdict `warn`.
 *
 * Other messages (initialize, resources/read, clean responses) and blocks of non-`tools/call`
 * requests produce none. With a contract resolved, the call is also a v2 `proxy_decision`.
 */
import {classifyMcp, proxyDecisionFields} from '../recorder/index.js'
import type {McpDecision, McpRecorder} from '../mcp/index.js'
import type {ReceiptChains} from '../proxy/index.js'

export interface McpReceiptSinkOptions {
  readonly chains: ReceiptChains
  /** The contract agent (§1.2) as the receipt actor; '' or `_default` keeps the configured actor. */
  readonly agent: string
  /** Invocation session (`mcp-stdio-1`, …) when sessions are on; '' otherwise. */
  readonly sessionId?: string
  /** Called with the error text when a receipt could not be written (never affects the message). */
  readonly onError?: (message: string) => void
}

export class McpReceiptSink implements McpRecorder {
  constructor(private readonly o: McpReceiptSinkOptions) {}

  record(d: McpDecision): void {
    if (d.direction === 'request' && d.method === 'tools/call') this.toolCall(d)
    else if (d.direction === 'response' && (d.layer === 'mcp_response_scan' || d.layer === 'media_policy') && d.pattern !== undefined) {
      this.emit(d, {actionType: 'unclassified', sideEffectClass: 'none', reversibility: 'unknown'}, d.id === null ? 'server_response' : `response:${d.id}`, d.verdict, d.layer, d.pattern, d.severity)
    }
    for (const w of d.dlpWarnings) {
      const resource = d.tool !== '' ? d.tool : d.method
      this.emit(d, classifyMcp(resource, resource), resource, 'warn', 'dlp', w, undefined)
    }
  }

  private toolCall(d: McpDecision): void {
    const cls = classifyMcp('tools/call', d.tool)
    const c = d.contract
    // A block not enforced (audit mode) is a `warn` receipt, as HTTP writes its would_block.
    const verdict = d.verdict === 'would_block' ? 'warn' : d.verdict
    if (c !== undefined) {
      this.o.chains.evidence.emit(proxyDecisionFields({actionType: cls.actionType, target: d.tool, verdict, transport: d.transport}, c))
    }
    this.emit(d, cls, d.tool, verdict, d.layer, d.pattern, d.severity, d.actionId)
  }

  private emit(d: McpDecision, cls: ReturnType<typeof classifyMcp>, target: string, verdict: string, layer: string, pattern: string | undefined, severity: string | undefined, actionId?: string): void {
    const e = this.o.chains.emitter
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
      ...(this.o.agent !== '' && this.o.agent !== '_default' ? {agent: this.o.agent} : {}),
      // The decision's own session (mcp-stdio-1 …, the listener's identity key) when sessions are on.
      ...((d.session ?? this.o.sessionId) ? {sessionId: d.session ?? this.o.sessionId} : {}),
      ...(d.contract !== undefined ? {contract: d.contract} : {}),
      ...(d.redaction !== undefined ? {redaction: d.redaction} : {}),
    })
    if (e.failures > before) this.o.onError?.(`receipt emission failed: ${e.lastError ?? 'unknown error'}`)
  }
}
