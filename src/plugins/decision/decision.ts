/**
 * The one Decision (ARCHITECTURE "one evaluator, one decision"): what every gate yields and every
 * evidence sink reads — the recorder (receipts), capture, the audit log, metrics and the event
 * emitters. No sink re-derives a verdict.
 *
 * A Decision has one subject: a URL request (`pipelock run`'s HTTP transports: forward, fetch,
 * CONNECT, interception, reverse, WebSocket) or a tool call (an MCP message on the stdio wrap, the
 * HTTP and WebSocket bridges, the MCP listener and `run --mcp-listen`). The two variants share the
 * common part — transport, verdict, deciding stage and layer, block-reason code, the contract the
 * action was judged under, the redaction summary, the receipt action id — and each carries the
 * facts of its subject. They are told apart by the subject itself (`isToolCall`: a tool call has a
 * message direction, a URL request has none), so the HTTP hot path builds no extra field.
 *
 * The variants keep the field names their gates, receipts and capture records were written with
 * (an HTTP Decision's `warnings`, a tool call's `dlpWarnings`): the receipt and capture bytes of
 * both are pinned by vectors and goldens, and the sinks map each field once.
 */
import type {JsonValue} from '../canonical/index.js'
import type {ContractContext} from '../enforcement/index.js'
import type {RedactionSummary} from '../redaction/index.js'
import type {ReasonCode, ReasonRetry, ReasonSeverity, ResultClass} from '../scanner/index.js'
import type {OverrideUse} from '../sessions/index.js'

/** The HTTP transports of `pipelock run` (a URL-request subject). */
export type HttpTransport = 'fetch' | 'forward' | 'connect' | 'intercept' | 'websocket' | 'reverse'

/** The MCP transports (a tool-call subject). */
export type McpTransport = 'mcp_stdio' | 'mcp_http_upstream' | 'mcp_ws' | 'mcp_http_listener'

/** The stage that decided a URL request; `allow` decisions carry `none`. */
export type DecisionStage =
  | 'none' | 'kill_switch' | 'identity' | 'url_scan' | 'contract' | 'session' | 'taint' | 'header_dlp' | 'body_scan' | 'git_push' | 'redirect' | 'response' | 'upstream' | 'capacity' | 'sni' | 'cross_request' | 'budget' | 'authority' | 'tls_handshake' | 'upgrade' | 'envelope'
  // A WebSocket frame-level close (protocol, limit, timer, cross-request) after the handshake.
  | 'ws_frame'

/** The stage that decided a tool call (`none` for a clean allow). */
export type McpStage =
  | 'none' | 'kill_switch' | 'header_dlp' | 'session_id' | 'batch' | 'framing' | 'parse' | 'content' | 'tool_policy' | 'session_binding' | 'tool_drift' | 'chain'
  | 'confused_deputy' | 'media_policy' | 'tool_scan' | 'response_scan' | 'contract' | 'contract_upstream'
  | 'denial_of_wallet' | 'session' | 'cross_request' | 'taint'

/** The common part of every Decision, whatever its subject. */
interface DecisionCommon {
  /** Scanner label or fixed layer (`kill_switch`, `header_dlp`, `mcp_tool_policy`, …). */
  readonly layer: string
  /** The block-reason code (the `X-Pipelock-Block-Reason` / MCP error `data` vocabulary); null when none. */
  readonly reason: ReasonCode | null
  /** The contract pinned for the action and what it concluded (learn-lifecycle §7.10). */
  readonly contract?: ContractContext
  /**
   * What class-preserving redaction replaced (envelope-redaction §19): profile, provider and
   * counts per class, never a value.
   */
  readonly redaction?: RedactionSummary
  /** The receipt `action_id` chosen in advance: the mediation envelope's `rid` names it (envelope spec §2.1). */
  readonly actionId?: string
}

/** A URL request's Decision (the HTTP transports). */
export interface RequestDecision extends DecisionCommon {
  readonly requestId: string
  readonly transport: HttpTransport
  readonly method: string
  /** Target as safe to log: redacted for content-scanner blocks (§10.4). */
  readonly target: string
  readonly agent: string
  readonly clientIp: string
  readonly sessionKey: string
  /** The profile that applied (operations.md §2.4): the bounded metric label. */
  readonly profile?: string
  /**
   * True when a listener or source CIDR bound the agent identity; false or absent when the client
   * claimed it (header, query) or none was given. Capture never files a claim under a bound agent.
   */
  readonly bound?: boolean
  /**
   * What happened to the request. `would_block` = a block decision not enforced (enforce:false);
   * `error` = allowed by policy but the upstream could not be reached or read (502).
   */
  readonly verdict: 'allow' | 'block' | 'would_block' | 'error'
  readonly stage: DecisionStage
  readonly severity: ReasonSeverity | null
  readonly retry: ReasonRetry | null
  readonly class: ResultClass | null
  /** Human reason: pattern names and hosts only, never a matched value. */
  readonly detail: string
  readonly hint?: string
  /** HTTP status the client saw (0 for a silently closed tunnel). */
  readonly status: number
  /** Names of `action: warn` DLP patterns seen on the way. */
  readonly warnings: readonly string[]
  readonly bytes: number
  readonly durationMs: number
  /**
   * The request target as the client sent it, for capture only (which redacts it before writing):
   * never logged, echoed or signed. Absent on decisions made before a target was known.
   */
  readonly url?: string
  /**
   * The bytes the deciding stage scanned (the request body for `body_scan`, the response body for
   * `response`), for capture escrow only: sealed to the escrow key, never logged, echoed or signed.
   */
  readonly payload?: Uint8Array
  /** A scoped exception that waived a block of this request (exception-gate.ts). */
  readonly exception?: ExceptionUse
  /** The session's taint and the taint evaluation of this request (receipts §4.2 #23–31). */
  readonly taint?: TaintEvidence
  /** A human answer to a held request (`ask`): who, and what (docs/ask.md). */
  readonly hitl?: HitlEvidence
  /**
   * The other methods the request named through a method override (header or `_method`), as the
   * contract judged them; capture writes them so `learn shadow` judges the request the same way.
   */
  readonly methodOverrides?: readonly string[]
}

export type McpDirection = 'request' | 'response'

/**
 * What happened to an MCP message: `allow` forwarded untouched (or rewritten by media metadata
 * stripping / strip), `warn` forwarded with findings, `block` not forwarded (answered with an
 * error where it has an id, dropped otherwise), `redirect` not forwarded, answered with the
 * redirect handler's output (mcp.md §8.5), `would_block` a block not enforced (`enforce: false`):
 * forwarded, recorded as a request's `would_block` is (receipt verdict `warn`).
 */
export type McpVerdict = 'allow' | 'warn' | 'block' | 'redirect' | 'would_block'

/** A tool call's (an MCP message's) Decision, one per message and direction. */
export interface ToolCallDecision extends DecisionCommon {
  readonly direction: McpDirection
  readonly transport: McpTransport
  /** Per-direction message number (non-empty lines on stdio). */
  readonly line: number
  /** Raw JSON-RPC id, null for notifications and unreadable ids. */
  readonly id: string | null
  readonly method: string
  /** `params.name` of a `tools/call`, else ''. */
  readonly tool: string
  readonly verdict: McpVerdict
  readonly stage: McpStage
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
}

/** The one Decision: a URL request or a tool call. */
export type Decision = RequestDecision | ToolCallDecision

/** True for a tool-call (MCP) Decision: only a message has a direction. */
export function isToolCall(d: Decision): d is ToolCallDecision {
  return 'direction' in d
}

/**
 * A fact the audit and metrics sinks report beyond a tool call's verdict (mcp.md §15.7): a DoW or
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

/** A scoped exception's use: the block it waived and the grant (operations.md §8.3). */
export interface ExceptionUse {
  readonly id: string
  /** The finding waived: the grant's pattern when it named one, else the blocking label. */
  readonly rule: string
  /** The scanner label and reason code that would have blocked. */
  readonly layer: string
  readonly reason: string
  readonly usesLeft: number
  readonly expiresAt: string
  readonly grantedBy: string
  readonly grantReason: string
}

/** What a receipt says about taint (receipts §4.2 fields 23–31), plus who granted an override. */
export interface TaintEvidence {
  readonly level: string
  readonly contaminated: boolean
  readonly sources: readonly {readonly url: string; readonly kind: string; readonly level: number; readonly atMs: number}[]
  readonly taskId: string
  readonly taskLabel: string
  readonly authority: string
  readonly decision: string
  readonly reason: string
  /** A runtime (task) grant decided (receipts' `task_override_applied`). */
  readonly taskOverrideApplied: boolean
  /** The override that turned the decision into allow, with its attribution. */
  readonly override?: OverrideUse
}

/** An operator's answer to a held request (the approval queue's id, who, and the outcome). */
export interface HitlEvidence {
  readonly id: string
  readonly outcome: 'allow' | 'deny' | 'strip' | 'timeout'
  readonly decidedBy: string
}

/** An airlock tier change (OP §6): not a request, but evidence all the same (a receipt per change). */
export interface AirlockEvidence {
  readonly sessionKey: string
  readonly agent: string
  readonly clientIp: string
  readonly from: string
  readonly to: string
  /** `adaptive`, `api`, `timer` or `reload`. */
  readonly trigger: string
  readonly detail: string
}
