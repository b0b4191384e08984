/**
 * One decision per MCP message and direction (ARCHITECTURE "one evaluator, one decision"). The
 * pipeline functions (`decideRequest`, `decideResponse`) return it; the transport only carries
 * out `forward` / `answer` and hands the same object to `McpRecorder.record` (today: stderr
 * log lines and metrics; later the shared gate's receipts, capture and audit sinks). No sink
 * re-derives a verdict.
 */
import type {RedactionSummary} from '../../redaction/index.js'
import type {JsonValue} from '../../canonical/index.js'
import type {ReasonCode} from '../../scanner/index.js'
import type {McpContractFields} from './contract-step.js'

export type McpTransport = 'mcp_stdio' | 'mcp_http_upstream' | 'mcp_ws' | 'mcp_http_listener'

export type McpDirection = 'request' | 'response'

/** The stage that decided (`none` for a clean allow). */
export type McpStage =
  | 'none' | 'kill_switch' | 'header_dlp' | 'batch' | 'parse' | 'content' | 'tool_policy' | 'session_binding' | 'chain'
  | 'confused_deputy' | 'media_policy' | 'tool_scan' | 'response_scan' | 'contract' | 'contract_upstream'
  | 'denial_of_wallet' | 'session' | 'cross_request' | 'taint'

/**
 * A fact the audit and metrics sinks report beyond the verdict itself (mcp.md §15.7): a DoW or
 * CEE finding (blocking or not), a chain match, an adaptive upgrade of the action. Bounded
 * vocabulary; `detail` never holds a matched value.
 */
export interface McpFact {
  readonly kind: 'denial_of_wallet' | 'cross_request_entropy' | 'cross_request_fragment' | 'chain_detection' | 'adaptive_upgrade' | 'tool_redirect'
  /** `block` or `warn` (upgrade: the action after the upgrade). */
  readonly action: string
  /** Budget name, chain pattern, or `<from>-><to>` for an upgrade. */
  readonly name: string
  readonly detail: string
  /** Chain pattern severity; upgrade: the level label. */
  readonly severity?: string
  /** `tool_redirect` (containment.md §7): the event's fields (names, digests, no argument value). */
  readonly fields?: Readonly<Record<string, string | number>>
}

/**
 * A `tools/call` the tool policy sends to a redirect profile (mcp.md §8.5): the decision carrying
 * it is the fail-closed block; the redirect step (`mcp-proxy/redirect.ts`) runs the profile and
 * replaces it with the handler's result, or keeps the block.
 */
export interface McpRedirectRequest {
  readonly profile: string
  /** The rule that selected the profile. */
  readonly rule: string
}

/**
 * What happened to the message: `allow` forwarded untouched (or rewritten by media metadata
 * stripping / strip), `warn` forwarded with findings, `block` not forwarded (answered with an
 * error where it has an id, dropped otherwise), `redirect` not forwarded, answered with the
 * redirect handler's output (§8.5), `would_block` a block not enforced (`enforce: false`):
 * forwarded, recorded as HTTP records its `would_block` (receipt verdict `warn`).
 */
export type McpVerdict = 'allow' | 'warn' | 'block' | 'redirect' | 'would_block'

export interface McpDecision {
  readonly direction: McpDirection
  readonly transport: McpTransport
  /** Per-direction message number (non-empty lines on stdio). */
  readonly line: number
  /** Raw JSON id, null for notifications and unreadable ids. */
  readonly id: string | null
  readonly method: string
  /** `params.name` of a `tools/call`, else ''. */
  readonly tool: string
  readonly verdict: McpVerdict
  readonly stage: McpStage
  /** Receipt-style layer (`mcp_input_scanning`, `mcp_tool_policy`, `mcp_response_scan`, …); '' when clean. */
  readonly layer: string
  readonly reason: ReasonCode | null
  /** Pattern / rule names and error texts, never a matched value. */
  readonly findings: readonly string[]
  /** `action: warn` DLP pattern names seen. */
  readonly dlpWarnings: readonly string[]
  /** The line sent on in the message's direction (original, rewritten, or a replacement error); null = nothing. */
  readonly forward: string | null
  /** A line sent back to the message's sender (request blocks: the client's error); null = nothing. */
  readonly answer: string | null
  /** Log lines this decision produces (without the `pipelock: ` prefix), in order. */
  readonly notes: readonly string[]
  /** The contract pinned for a `tools/call` and what it concluded (learn-lifecycle §7.10). */
  readonly contract?: McpContractFields
  /** What redaction replaced in a `tools/call`'s arguments: profile, provider, counts per class, never a value. */
  readonly redaction?: RedactionSummary
  /**
   * `params.arguments` of a `tools/call` as parsed, for capture only (which redacts it before
   * writing): never logged, echoed or signed.
   */
  readonly args?: JsonValue
  /** Receipt severity of the deciding gate (mcp.md §15.4); absent for clean allows. */
  readonly severity?: string
  /** Receipt pattern of the deciding gate: first DLP/injection pattern, policy rule, chain, reason. */
  readonly pattern?: string
  /** The session the message was judged in (§15.2); absent when sessions are off. */
  readonly session?: string
  /** Audit facts (§15.7) in the order they happened. */
  readonly facts?: readonly McpFact[]
  /** Set on the fail-closed block of a `tools/call` the policy redirects, until the redirect step ran. */
  readonly redirect?: McpRedirectRequest
  /** The receipt `action_id` of a forwarded `tools/call` that carries a mediation envelope (its `rid`). */
  readonly actionId?: string
}

/** The one record step every decision goes through (audit line + metrics today). */
export interface McpRecorder {
  record(decision: McpDecision): void
}
