/**
 * The session/adaptive step of the MCP gate (spec mcp.md §15.2, runtime §14) as the pipeline sees
 * it: a handle on one session, injected by the runtime (the session manager lives in layer 3).
 * The transport opens the handle (invocation session `mcp-stdio-<n>` … or the listener's identity
 * session); the pipeline only calls these methods at their place in the one gate order:
 * kill switch → on-entry recovery → scanners → `block_all` / upgrade → CEE → contract → mode.
 */
import type {LiveCutCause} from '../../sessions/index.js'

/** Adaptive signals MCP traffic raises (runtime §14.2 points). */
export type McpSignal = 'block' | 'near_miss' | 'strip'

export interface McpSessionEntry {
  /** The session's level has `block_all` (runtime §14.3). */
  readonly blockAll: boolean
  /** Level label (`normal`, `elevated`, `high`, `critical`). */
  readonly label: string
}

export interface McpSessionHandle {
  /** Session key (`mcp-stdio-1`, `mcp-http-2`, `mcp-ws-3`, or the listener's client key). */
  readonly key: string
  /**
   * The session key of a listener client whose address a deployment bound (a source CIDR): its
   * cross-request window is its session's, shared with its HTTP requests as the proxy keeps a
   * bound identity's. Undefined for every other session (the transport's own key is used).
   */
  readonly boundKey?: string | undefined
  /** Once per message, both directions: due time recovery, then the level as it now stands. */
  enter(): McpSessionEntry
  /** `UpgradeAction(action, level)`; unchanged while adaptive enforcement is off. */
  upgrade(action: string): string
  signal(kind: McpSignal, target: string, detail: string): void
  /** Deferred clean decay (a message that produced no finding at all). */
  clean(): void
  /**
   * Taint (policy-extra §1.3): a server message was seen — from a remote (HTTP/WS) server or a
   * local (stdio) one; `injection` when the response scanner found prompt injection in it.
   */
  exposure?(remote: boolean, injection: boolean): void
  /** Taint (policy-extra §1.10): the judgement of a `tools/call`; null when allowed. */
  taintCall?(tool: string, args: unknown): McpTaintVerdict | null
  /**
   * The airlock (operations §6 item 3, on MCP): the session's tier against the message's receipt
   * action class (`method`, and `tool` for a `tools/call`); null when the tier lets it through.
   * A denial is counted and audited (`airlock_deny`) by the session manager.
   */
  airlock?(method: string, tool: string): McpAirlockDeny | null
  /**
   * Issue 37 item 1 on MCP: for an unbound identity (the HTTP listener's, unless a source CIDR
   * bound the client's address), what its client address earned in other sessions — their
   * airlock tier against this message's action class, or a level that blocks everything. Read,
   * never copied: the session that earned it is its only holder. Null when nothing holds it.
   */
  addressHold?(method: string, tool: string): McpAddressHold | null
  /**
   * Registers a live stream of the session (a listener's exchange waiting on or streaming its
   * upstream answer, a WebSocket bridge, a stdio wrap's calls waiting on the server) to be cut
   * when the session enters airlock hard or drain (from a lower tier, or hard → drain), is reset
   * or terminated, or is evicted; `cut` is told which. A stream opened under the tier in force is
   * not cut for it (the gate let its message through). Returns the unregister function.
   */
  registerLive?(cut: (cause: McpLiveCutCause) => void): () => void
}

/**
 * What cut a live MCP stream: the operator's reset or terminate, the session entering airlock
 * hard or drain, or its eviction — the session manager's own cause, passed on. After a reset or
 * terminate the session's tier is `none`, so the tier cannot tell the cause: the cut is told it.
 */
export type McpLiveCutCause = LiveCutCause

/** An address hold (`addressHold`): the tier or level, and the session of the same address that earned it. */
export type McpAddressHold =
  | {readonly kind: 'airlock'; readonly tier: string; readonly actionClass: string; readonly session: string; readonly clientIp: string}
  | {readonly kind: 'block_all'; readonly label: string; readonly session: string; readonly clientIp: string}

/** A message the session's airlock tier holds: the tier and the message's action class. */
export interface McpAirlockDeny {
  readonly tier: string
  readonly actionClass: string
}

/** A `tools/call` the taint policy stops: `block`, or `ask` (held nowhere on MCP: denied). */
export interface McpTaintVerdict {
  readonly decision: 'ask' | 'block'
  readonly reason: string
  readonly actionRef: string
}
