/**
 * The narrow ports the composition root (compose.ts) hands the gate, the relay and each transport.
 * A part declares what it uses as an intersection of these (`FetchPorts`, `ConnectPorts`, …, next
 * to the part) and receives an object holding exactly those members: nothing can reach past its
 * declared ports for another part of the runtime (no service locator).
 */
import type {OnReadOpts, Socket} from 'node:net'
import type {Agent} from 'undici'
import type {ContractRuntime} from '../gate/index.js'
import type {KillSwitchController} from '../killswitch/index.js'
import type {ApprovalQueue} from './approvals.js'
import type {AuditLog} from './audit-log.js'
import type {Decision} from './decision.js'
import type {ExceptionStore} from './exception-store.js'
import type {Interceptor} from './intercept/runtime.js'
import type {ProxyMetrics} from './metrics.js'
import type {RelayBufferPool} from './relay-buffer-pool.js'
import type {ResponseTransformState} from './relay/response-transforms.js'
import type {LookupAll} from './ssrf-dialer.js'
import type {ProxySnapshot} from './state.js'

/** Milliseconds on the injected clock (durations, timers' bookkeeping). */
export interface Clock {
  nowMs(): number
}

/** A fresh request id (`req-<n>`): one per request, inner requests of a tunnel included. */
export interface RequestIds {
  nextRequestId(): string
}

/** The config snapshot in force (replaced whole on reload; a request reads it once). */
export interface SnapshotSource {
  snapshot(): ProxySnapshot
}

/**
 * The one record step's fan-out: every sink reads the Decision; returns the id of the receipt the
 * flight recorder signed. The same `record(d)` as the Decision fan-out, so a sink that moves is a rename.
 */
export interface EvidenceSink {
  readonly sink: {record(d: Decision): string | undefined; readonly readsMethodOverrides?: boolean}
}

/** Audit-log events that are not Decisions (tunnel close, media exposure, transforms). */
export interface AuditTrail {
  readonly audit: AuditLog
}

/** The proxy's counters beyond what the Decision fan-out counts (SNI outcomes, tunnel bytes, …). */
export interface MetricsPort {
  readonly metrics: ProxyMetrics
}

/** The SSRF-safe upstream pool for HTTP exchanges (the forward proxy and /fetch). */
export interface UpstreamPool {
  readonly upstream: Agent
}

/**
 * TCP to a validated address; `onread` as `net.connect` takes it (the CONNECT relay's reused read
 * buffer); `lookupAll` answers the dial's DNS question (default: the system resolver; a CONNECT
 * passes the answer its URL scan got, tunnel-dns.ts — every address is validated either way).
 */
export interface Dialer {
  dial(host: string, port: number, onread?: OnReadOpts, lookupAll?: LookupAll): Promise<Socket>
}

/**
 * Live tunnels and relays: registered while open; destroyed when the kill switch activates (those
 * of a client `kill_switch.allowlist_ips` exempts are kept), and all at shutdown.
 */
export interface TunnelRegistry {
  /**
   * Registers a live tunnel of `clientIp`; the returned function unregisters it. Registered
   * while the switch is on (it came on during a dial) and not exempt: cut on the next turn.
   * `killSwitchCut` is what the kill switch's activation does to it (default `destroy`; shutdown
   * always destroys).
   */
  trackTunnel(destroy: () => void, clientIp: string, killSwitchCut?: () => void): () => void
  activeTunnels(): number
}

/** Responses still streaming to the agent (relay/live-cut.ts): cut when the kill switch activates, as tunnels are, but not counted as tunnels. */
export interface StreamRegistry {
  /**
   * Registers a stream of `clientIp`; `exemptable`: its transport spares a client
   * `kill_switch.allowlist_ips` exempts. Returns the unregister function.
   */
  trackStream(cut: () => void, clientIp: string, exemptable: boolean): () => void
}

/** The kill switch (§11.2): its state, sources and message. */
export interface KillSwitchPort {
  readonly killSwitch: KillSwitchController
}

/** The live-lock runtime (`learn_lock.enabled`), or null. */
export interface ContractsPort {
  readonly contracts: ContractRuntime | null
}

/** Scoped exceptions granted through the admin API (exception-gate.ts), or null. */
export interface ExceptionsPort {
  readonly exceptions?: ExceptionStore | null
}

/** Held requests (`ask`, approvals.ts): present when an operator channel (the admin API) exists. */
export interface ApprovalsPort {
  readonly approvals?: ApprovalQueue | undefined
}

/** Browser Shield / A2A response state kept for the process (card baseline, contexts); absent: fresh per response. */
export interface TransformStatePort {
  readonly transforms?: ResponseTransformState
}

/** Read buffers the CONNECT download relays reuse from tunnel to tunnel; without it each tunnel allocates its own. */
export interface RelayBuffersPort {
  readonly relayBuffers?: RelayBufferPool
}

/** TLS interception in force (`tls_interception.enabled`; rebuilt on reload), or null. */
export interface InterceptorSource {
  readonly interceptor: Interceptor | null
  /**
   * Interception is enabled and `host` would be intercepted, but no CA is loaded (a reload turned
   * it on with one that failed to load; transports §2.7 step 15): the tunnel must be closed.
   * A true answer is counted as `outcome="failed"`.
   */
  interceptionUnavailable(host: string): boolean
}

/** The product version (the WebSocket relay's `User-Agent`). */
export interface VersionPort {
  readonly version: string
}
