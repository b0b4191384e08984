/**
 * MCP sessions in the session manager (spec mcp.md §1.2, §15.2; runtime §12, §14): the runtime
 * side of the pipeline's session step. Stdio-client transports get an *invocation* session
 * (`mcp-stdio-<n>`, `mcp-http-<n>`, `mcp-ws-<n>`, one process-wide counter from 1 shared by all
 * prefixes) that the admin API refuses to reset, terminate, re-task or trust; a listener gets the
 * client's *identity* session, which in `pipelock run` is the same session as that client's
 * HTTP-proxy traffic. The manager is passed in, so `mcp proxy` uses its own and `pipelock run`
 * passes the proxy's (the admin API then sees MCP sessions next to HTTP ones).
 */
import {classifyMcpToolCall, levelLabel, type BaseAction, type Session, type SessionManager, type SignalKind} from '../sessions/index.js'
import type {McpAddressHold, McpAirlockDeny, McpLiveCutCause, McpSessionHandle, McpSessionSource, McpTaintVerdict, McpTransport} from '../mcp/index.js'

const PREFIX: Record<Exclude<McpTransport, 'mcp_http_listener'>, string> = {
  mcp_stdio: 'mcp-stdio-',
  mcp_http_upstream: 'mcp-http-',
  mcp_ws: 'mcp-ws-',
}

const BASE_ACTIONS: ReadonlySet<string> = new Set(['allow', 'warn', 'ask', 'strip', 'block'])

/**
 * The receipts' action type of a message (recorder `classifyMcp(method, tool).actionType`),
 * which the airlock reads as "read-only or not". Injected, so a wrap without the airlock never
 * loads it (start-up laziness); without it every message is `unclassified`.
 */
export type McpActionClassifier = (method: string, tool: string) => string

/**
 * The session of a listener client whose address the deployment bound to an agent (a
 * `source_cidrs` match in `pipelock run`): the agent and the key its HTTP traffic uses, so both
 * transports are one session, judged alone. Null for any other listener client: an unbound
 * identity, keyed on its address and held by what that address earned in other sessions (issue
 * 37 item 1).
 */
export type McpBoundSession = (clientIp: string) => {readonly agent: string; readonly key: string} | null

export class McpSessions implements McpSessionSource {
  private seq = 0

  /**
   * `agent` names the sessions (`_default` for `mcp proxy` without `--agent`); `log` gets the
   * Appendix A line `pipelock: session escalated <from> -> <to> (score=<x.x>)` (the manager's
   * observer belongs to its owner: `pipelock run` audits escalations there).
   */
  constructor(
    readonly manager: SessionManager, private readonly agent: string, private readonly log: (line: string) => void = () => undefined,
    private readonly classify?: McpActionClassifier, private readonly boundSession?: McpBoundSession,
  ) {}

  open(transport: McpTransport, clientIp?: string): McpSessionHandle {
    let key: string
    let agent = this.agent
    // Only a client with an address can be held by it; invocation sessions have none.
    let unbound = false
    if (transport === 'mcp_http_listener' || clientIp !== undefined) {
      const ip = clientIp ?? ''
      const bound = ip === '' ? null : (this.boundSession?.(ip) ?? null)
      if (bound !== null) {
        // A bound client's MCP messages and HTTP requests are one session: it sheds nothing by changing transport.
        key = bound.key
        agent = bound.agent
      } else {
        // runtime §3.2: `agent|ip`, or the bare IP for anonymous/default traffic.
        key = this.agent === '' || this.agent === '_default' || this.agent === 'anonymous' ? ip : `${this.agent}|${ip}`
        unbound = ip !== ''
      }
    } else {
      key = `${PREFIX[transport]}${++this.seq}`
    }
    const s = this.manager.touch(key, agent, clientIp ?? '')
    s.unbound = unbound
    return new Handle(this.manager, s, agent, this.log, this.classify, unbound)
  }
}

class Handle implements McpSessionHandle {
  constructor(
    private readonly m: SessionManager, private s: Session, private readonly agent: string, private readonly log: (line: string) => void,
    private readonly classify: McpActionClassifier | undefined, private readonly unbound: boolean,
  ) {}

  get key(): string {
    return this.s.key
  }

  get boundKey(): string | undefined {
    return this.unbound || this.s.clientIp === '' ? undefined : this.s.key
  }

  enter(): {blockAll: boolean; label: string} {
    // touch: due time recovery and last activity; an idle-evicted session comes back fresh.
    this.s = this.m.touch(this.s.key, this.agent, this.s.clientIp)
    return {blockAll: this.s.blockAll, label: levelLabel(this.s.level)}
  }

  upgrade(action: string): string {
    if (!BASE_ACTIONS.has(action)) return action
    // An unbound listener client is judged at its client address's highest level (levelHolder), as on HTTP.
    const to = this.m.upgrade(this.unbound ? this.m.levelHolder(this.s) : this.s, action as BaseAction)
    if (to !== action) this.m.noteUpgrade(this.s, action as BaseAction, 'mcp', `${action} -> ${to}`)
    return to
  }

  signal(kind: SignalKind & ('block' | 'near_miss' | 'strip'), target: string, detail: string): void {
    const from = this.s.level
    this.m.signal(this.s, kind, target, detail)
    if (this.s.level > from) this.log(`pipelock: session escalated ${levelLabel(from)} -> ${levelLabel(this.s.level)} (score=${this.s.threatScore.toFixed(1)})`)
  }

  clean(): void {
    this.m.decay(this.s)
  }

  exposure(remote: boolean, injection: boolean): void {
    // A remote server's messages are untrusted content; a local (stdio) server's are internal.
    this.m.recordExposure(this.s, '', remote ? 'mcp' : '', injection ? 'prompt_injection' : 'mcp_response')
  }

  airlock(method: string, tool: string): McpAirlockDeny | null {
    const tier = this.s.airlockTier
    if (tier === 'none' || tier === 'soft') return null
    // The receipts' action class (receipts §8) decides what "read-only" means for a message.
    const cls = this.classify?.(method, tool) ?? 'unclassified'
    return this.m.airlockAllows(this.s, 'mcp', cls) ? null : {tier, actionClass: cls}
  }

  addressHold(method: string, tool: string): McpAddressHold | null {
    if (!this.unbound) return null
    // The same read as the HTTP gate's (SessionManager.addressHold): one release frees every name.
    const cls = this.classify?.(method, tool) ?? 'unclassified'
    const hold = this.m.addressHold(this.s, 'mcp', cls)
    if (hold === null) return null
    const by = hold.by
    return hold.kind === 'airlock'
      ? {kind: 'airlock', tier: by.airlockTier, actionClass: cls, session: by.key, clientIp: by.clientIp}
      : {kind: 'block_all', label: levelLabel(by.level), session: by.key, clientIp: by.clientIp}
  }

  registerLive(cut: (cause: McpLiveCutCause) => void): () => void {
    // The message was judged by the gate under the tier in force (a read at hard may stream its
    // answer): only entering hard or drain afterwards, a reset or a terminate cuts it. The cause
    // is the manager's, not the tier read after the cut (a reset or terminate leaves it `none`).
    return this.m.registerLive(this.s, cut, true)
  }

  taintCall(tool: string, args: unknown): McpTaintVerdict | null {
    // An unbound listener client is judged by what its client address read (taintHolder), as on HTTP.
    const ev = this.m.evaluateTaint(this.unbound ? this.m.taintHolder(this.s) : this.s, classifyMcpToolCall(tool, args, this.m.pathClassifier))
    if (ev.decision === 'allow') return null
    return {decision: ev.decision, reason: ev.reason, actionRef: ev.action.ref}
  }
}
