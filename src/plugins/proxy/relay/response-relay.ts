/**
 * A response on its way to the agent, as the shared relay functions take it (SSE, streamed and
 * buffered bodies): one object instead of seven positional parameters.
 */
import type {ServerResponse} from 'node:http'
import type {DecisionBase} from '../core.js'
import type {AuditTrail, Clock, SnapshotSource, StreamRegistry} from '../ports.js'
import type {Decision} from '../decision.js'
import type {RequestSession} from '../session-gate.js'
import type {UpstreamResponse} from '../upstream.js'

export interface ResponseRelay {
  /** The kill switch cuts a body still streaming when it activates (relay/live-cut.ts). */
  readonly ports: SnapshotSource & Clock & AuditTrail & StreamRegistry
  /** The agent's response. */
  readonly res: ServerResponse
  readonly b: DecisionBase
  /** The request's session (null: session profiling off): its airlock, reset and terminate cut a streaming body. */
  readonly session: RequestSession | null
  /** What the upstream answered (its host is not read here: the reverse proxy does not derive it). */
  readonly up: Omit<UpstreamResponse, 'finalHost'>
  /** The target as it appears in logs and Decisions. */
  readonly shown: string
  /** `action: warn` DLP patterns of the request; the Decision carries them. */
  readonly warnings: string[]
  /** The request's one record step (RequestRecord.record). */
  readonly record: (d: Decision) => unknown
  /**
   * The longest quiet between two chunks of a streamed body, when the upstream client does not
   * bound it (`HopPolicy.bodyTimeoutMs` 0); `idleField` names the setting it comes from.
   */
  readonly idleMs?: number
  readonly idleField?: string
}

/**
 * The relay's bound between two chunks of the upstream body (`idleMs`), or null when it has none:
 * past it the body is destroyed with an error naming the setting (`no data for 120 s
 * (forward_proxy.idle_timeout_seconds)`). The reader refreshes it per chunk and clears it at the end.
 */
export function quietBound(r: ResponseRelay): NodeJS.Timeout | null {
  const ms = r.idleMs
  if (ms === undefined) return null
  return setTimeout(() => r.up.body.destroy(new Error(`no data for ${ms / 1000} s (${r.idleField ?? 'idle timeout'})`)), ms)
}
