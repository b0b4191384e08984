/**
 * One session's state (runtime spec §3.2, §14, §16). Mutable and owned by the SessionManager;
 * the fields an airlock needs (tier, entry time, in-flight count, cancel functions) are here
 * already so airlock (§15) can be layered on without reshaping the session.
 */
import {clientHostOf} from './client-host.js'
import type {AirlockTier} from './airlock.js'
import {DomainWindow} from './domain-window.js'
import {TaintState, type TrustOverride} from './taint.js'

export type SessionKind = 'identity' | 'invocation'

/** Why a session's in-flight exchanges are cut: the operator action that cut them. */
export type ExchangeCutCause = 'reset' | 'terminate'
/**
 * Why a session's live work (tunnels, WebSockets, streams) is cut: an operator's reset or
 * terminate, the session entering airlock hard or drain, or its eviction. The cut work records
 * it, so a terminated session's WebSocket does not say it was quarantined.
 */
export type LiveCutCause = ExchangeCutCause | 'hard' | 'drain' | 'evicted'
export type {AirlockTier} from './airlock.js'

/** MCP transports name their per-invocation sessions with these prefixes (§3.2). */
export const INVOCATION_PREFIXES = ['mcp-stdio-', 'mcp-http-', 'mcp-ws-'] as const

/**
 * Identity keys are `agent|ip` (or a bare IP); an agent that merely *names* itself `mcp-stdio-…`
 * still has an identity key (it contains `|`), so it cannot make its session unresettable.
 */
export function sessionKindOf(key: string): SessionKind {
  return !key.includes('|') && INVOCATION_PREFIXES.some((p) => key.startsWith(p)) ? 'invocation' : 'identity'
}

export type SessionEventKind = 'signal' | 'anomaly' | 'escalation' | 'deescalation' | 'upgrade' | 'taint' | 'airlock_enter' | 'airlock_override' | 'airlock_deescalate'

/** One entry of `recent_events` (§12 SessionDetail). */
export interface SessionEvent {
  readonly atMs: number
  readonly kind: SessionEventKind
  readonly type?: string
  readonly target: string
  readonly detail: string
  readonly severity: 'info' | 'warn' | 'critical'
  /** Threat score after the event. */
  readonly score: number
}

export const MAX_RECENT_EVENTS = 20

export class Session {
  readonly kind: SessionKind
  lastActivityMs: number
  threatScore = 0
  level = 0
  threshold: number
  /** Last escalation or time-recovery step; the 5-minute quiet period counts from here. */
  lastLevelChangeMs = -Infinity
  blockAll = false
  airlockTier: AirlockTier = 'none'
  airlockEnteredAtMs: number | null = null
  /** What put the session in its tier (explain: `on_high`, `manual`, `timer`) and from where. */
  airlockTrigger = ''
  airlockTriggerSource = ''
  /** The current drain saw its in-flight requests reach 0 (counted once per drain). */
  drainDone = false
  /**
   * The identity of its latest request was a claim (no listener or CIDR binding): what its client
   * address earned in other sessions holds it too (`SessionManager.addressHold`), and explain,
   * inspect and whoami must say so.
   */
  unbound = false
  /** Outstanding HTTP exchanges and open tunnels of this session (§12 `in_flight`). */
  inFlight = 0
  currentTaskId: string
  currentTaskLabel = ''
  readonly taint = new TaintState()
  /** Operator trust grants for the current task (cleared with the task). */
  readonly overrides: TrustOverride[] = []
  /** Created on the first observed host. */
  domains: DomainWindow | null = null
  volumeCount = 0
  volumeMean = 0
  anomalies = 0
  /** Live work (tunnels, WebSockets) to cut on reset/terminate and on entering airlock hard/drain. */
  readonly cancels = new Set<(cause: LiveCutCause) => void>()
  /**
   * Live work inside other live work of the session (a `wss://` relay or a stream inside an
   * intercepted tunnel): cut with the rest, but not counted, since the operator sees the agent's
   * connection (the tunnel) counted once.
   */
  readonly innerCancels = new Set<(cause: LiveCutCause) => void>()
  /**
   * Buffered fetch/forward/reverse exchanges and requests held for an operator, still waiting on
   * their answer: only a reset or terminate cuts them (entering hard or drain lets them finish, so
   * a drain can complete). Each returns whether it cut anything (an exchange whose answer is
   * already out has nothing left to cut).
   */
  readonly exchanges = new Set<(cause: ExchangeCutCause) => boolean>()
  readonly events: SessionEvent[] = []
  /** The host `clientIp` stands for when holds are kept by address (`clientHostOf`: all of loopback is one). */
  readonly clientHost: string

  constructor(
    readonly key: string,
    readonly agent: string,
    readonly clientIp: string,
    readonly createdAtMs: number,
    baseThreshold: number,
    taskId: string,
  ) {
    this.kind = sessionKindOf(key)
    this.clientHost = clientHostOf(clientIp)
    this.lastActivityMs = createdAtMs
    this.threshold = baseThreshold
    this.currentTaskId = taskId
  }

  addEvent(e: SessionEvent): void {
    this.events.push(e)
    if (this.events.length > MAX_RECENT_EVENTS) this.events.shift()
  }

  /** Fires and forgets every registered cancel function, telling each why; returns how many connections they were (`innerCancels` not counted). */
  cancelAll(cause: LiveCutCause): number {
    const fns = [...this.cancels]
    const inner = [...this.innerCancels]
    this.cancels.clear()
    this.innerCancels.clear()
    for (const f of [...fns, ...inner]) {
      try {
        f(cause)
      } catch {
        // one failing cancel must not keep the others alive
      }
    }
    return fns.length
  }

  /** Cuts every registered in-flight exchange (reset, terminate); returns how many were cut. */
  cutExchanges(cause: ExchangeCutCause): number {
    const fns = [...this.exchanges]
    this.exchanges.clear()
    let cut = 0
    for (const f of fns) {
      try {
        if (f(cause)) cut++
      } catch {
        // one failing cut must not keep the others alive
      }
    }
    return cut
  }
}
