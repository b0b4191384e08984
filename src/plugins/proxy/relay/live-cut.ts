/**
 * A response that is still streaming to the agent (an SSE stream, a body relayed unchanged) is
 * live work, like a tunnel or a WebSocket: the kill switch's activation (runtime §11.2) and the
 * session's airlock hard or drain, reset or terminate (OP §6 item 4) cut it at once. Before this,
 * only tunnels and WebSockets were registered: an SSE stream through the forward or reverse proxy
 * kept flowing after the kill switch was thrown or the session was terminated.
 *
 * The stream is registered with the live work the kill switch cuts (`StreamRegistry`, beside the
 * tunnels), which spares a client inside `kill_switch.allowlist_ips` where the transport's
 * admission does (`KILL_SWITCH_ANSWERS`). The session's cut is
 * registered as admitted: the stream was let through under the tier in force (a `GET` at hard),
 * so only a later change cuts it (entering hard or drain, a reset, a terminate).
 */
import type {LiveCutCause} from '../../sessions/index.js'
import type {DecisionBase} from '../core.js'
import type {DecisionStage} from '../decision.js'
import {KILL_SWITCH_ANSWERS, KILL_SWITCH_BLOCK} from '../gate/stages/kill-switch.js'
import type {StreamRegistry} from '../ports.js'
import type {ProxySessions, RequestSession} from '../session-gate.js'

/** The block Decision fields of a cut stream (its status is the stream's own: the head was sent). */
export interface LiveCutBlock {
  readonly stage: DecisionStage
  readonly layer: string
  readonly reason: 'kill_switch_active' | 'airlock_active'
  readonly detail: string
}

/**
 * What a session's cut of live work says of its cause (a stream's or a WebSocket's recorded
 * detail): a terminated or reset session was not quarantined, and an operator reading the block
 * must see which action cut it.
 */
export function sessionCutCause(cause: LiveCutCause): string {
  switch (cause) {
    case 'terminate':
      return 'session terminated'
    case 'reset':
      return 'session reset'
    case 'evicted':
      return 'session evicted'
    default:
      return `session quarantined at airlock tier ${cause}`
  }
}

function sessionCut(cause: LiveCutCause): LiveCutBlock {
  return {stage: 'session', layer: 'airlock', reason: 'airlock_active', detail: `stream cut: ${sessionCutCause(cause)}`}
}

/** One streaming response's registration with the kill switch and its session. */
export class LiveCut {
  /** Why the stream was cut; null while it is not. */
  private why: LiveCutBlock | null = null
  private readonly undo: Array<() => void> = []

  /** `cut` ends the stream (destroys the upstream body); it is called at most once. */
  constructor(ports: StreamRegistry, b: DecisionBase, sessions: ProxySessions | null, session: RequestSession | null, cut: () => void) {
    const fire = (why: LiveCutBlock): void => {
      if (this.why !== null) return
      this.why = why
      cut()
    }
    this.undo.push(ports.trackStream(() => fire(KILL_SWITCH_BLOCK), b.clientIp, KILL_SWITCH_ANSWERS[b.transport].allowlist))
    // A stream inside an intercepted tunnel is cut with its tunnel, which is the one connection counted.
    if (sessions !== null && session !== null) this.undo.push(sessions.registerLive(session, (cause) => fire(sessionCut(cause)), true, b.transport !== 'intercept'))
  }

  /** The cut's Decision fields, or null when the stream was not cut. */
  get cutBy(): LiveCutBlock | null {
    return this.why
  }

  /** The stream ended: nothing is cut any more. */
  end(): void {
    for (const u of this.undo.splice(0)) u()
  }
}
