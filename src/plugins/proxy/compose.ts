/**
 * The composition root of `pipelock run`'s proxy: builds the runtime's parts from the config (the
 * snapshot in force, the upstream pool and dialer, the kill switch, the audit log, metrics and the
 * Decision fan-out, live tunnels, TLS interception, the WebSocket proxy, held requests, the admin
 * APIs, the clock and request ids) and hands each transport exactly the ports it declares
 * (`FetchPorts`, `ForwardPorts`, `ConnectPorts`, `ReversePorts`, `WebSocketPorts`,
 * `InterceptPorts`). The parts stay here and in the listeners (`ProxyServer`); nothing below
 * receives the runtime as a whole (no service locator).
 */
import {randomBytes} from 'node:crypto'
import {systemClock, uuidv7, type Clock as NanoClock} from '../canonical/index.js'
import type {LoadedConfig, PipelockConfig} from '../config/index.js'
import {Agent as UndiciAgent} from '../dispatch/index.js'
import {RELOAD_OUTCOMES, type ContractRuntime} from '../gate/index.js'
import {KillSwitchApi, KillSwitchController, type KillSwitchInputs} from '../killswitch/index.js'
import {REASON_CODES} from '../scanner/index.js'
import {buildTrustStore} from '../tls/index.js'
import type {Agent} from 'undici'
import {ApprovalQueue} from './approvals.js'
import {ApprovalsApi} from './approvals-api.js'
import {AuditLog, type AuditWriter} from './audit-log.js'
import {ceeWebSocketMessage, renderCeeMetrics} from './cee-gate.js'
import type {ConnectPorts} from './connect-handler.js'
import {snapshotFor} from './core.js'
import {WallMillis} from './wall-millis.js'
import {DecisionFanout, type DecisionSink} from './decision.js'
import {renderEnvelopeMetrics} from './envelope-runtime.js'
import {EventLoopLag} from './event-loop.js'
import type {ExceptionStore} from './exception-store.js'
import {unwaivablePattern} from './exception-rules.js'
import {ASK_WITHDRAWN, ASK_WITHOUT_CHANNEL, askConfigured, noApprovalsReason} from './features.js'
import {requireLoaded} from './feature-load.js'
import type {FetchPorts} from './fetch-handler.js'
import type {GatePorts} from './gate/context.js'
import {killSwitchExempts} from './gate/stages/kill-switch.js'
import {HealthWatchdog} from './health.js'
import {isBound, sessionKey} from './identity.js'
import {InterceptMetrics} from './intercept/metrics.js'
import type {InterceptPorts} from './intercept/request.js'
import {Interceptor, interceptsHost} from './intercept/runtime.js'
import {refuseInterceptedUpgrade, type InterceptUpgrade} from './intercept/upgrade.js'
import {ProxyMetrics, renderFamily} from './metrics.js'
import {PolicyApi, type PolicyHooks} from './policy-api.js'
import type {Clock, Dialer, RequestIds, SnapshotSource, StreamRegistry, TunnelRegistry} from './ports.js'
import type {ForwardPorts} from './relay/forward-exchange.js'
import {ResponseTransformState} from './relay/response-transforms.js'
import {RelayBufferPool} from './relay-buffer-pool.js'
import {RequestBases} from './request-base.js'
import type {ReverseContext, ReversePorts} from './reverse/handler.js'
import {parseReverseUpstream} from './reverse/url.js'
import {SessionApi} from './session-api.js'
import {airlockEvidenceOf, type AirlockChange} from './session-gate.js'
import {createSafeAgent, dialValidated} from './ssrf-dialer.js'
import {hostAddressCidrs} from './host-addresses.js'
import {buildSnapshot, type ProxySnapshot} from './state.js'
import {OffloadCounters} from './scan-offload/counters.js'
// Type only: the `/ws` relay (and the `ws` package) is loaded by the run service when enabled.
import type {WebSocketPorts, WebSocketProxy} from './websocket/handshake.js'

export interface ComposeOptions {
  readonly loaded: LoadedConfig
  readonly version: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly audit: readonly AuditWriter[]
  readonly clock?: NanoClock
  /** Extra decision consumers (flight recorder, capture) — they read the same Decision. */
  readonly sinks?: readonly DecisionSink[]
  /** The live-lock runtime when `learn_lock.enabled` (learn-lifecycle §7). */
  readonly contracts?: ContractRuntime | null
  /** Scoped exceptions (issue 14): null/absent without a signing flight recorder. */
  readonly exceptions?: ExceptionStore | null
  /** The policy-change trail's admin hooks (change note, reload), once it runs. */
  readonly policy?: () => PolicyHooks | null
  /** The `/ws` relay's class, loaded only when `websocket_proxy.enabled` (bench: startup; lazy loading). */
  readonly webSocketProxy?: typeof WebSocketProxy
  /**
   * The proxy embedded by the sandbox: its main listener serves the agent's egress only, and
   * every client is the sandbox's bridge on 127.0.0.1, so a client's address binds no agent.
   */
  readonly egressOnly?: boolean
}

/** The ports of each transport, built once; each object holds exactly its transport's members. */
export interface TransportPorts {
  readonly fetch: FetchPorts
  readonly forward: ForwardPorts
  readonly connect: ConnectPorts
  readonly reverse: ReversePorts
}

/** The admin APIs mounted on the main listener or `kill_switch.api_listen` (§12); null when no API token existed at start-up. */
export interface AdminApis {
  readonly killSwitch: KillSwitchApi
  readonly sessions: SessionApi | null
  readonly policy: PolicyApi | null
  readonly approvals: ApprovalsApi | null
}

function killSwitchInputs(c: PipelockConfig): KillSwitchInputs {
  return {enabled: c.kill_switch.enabled, sentinelFile: c.kill_switch.sentinel_file, message: c.kill_switch.message}
}

/** The config snapshot in force: replaced whole on reload, read once per request. */
class SnapshotHolder implements SnapshotSource {
  constructor(private current: ProxySnapshot) {}
  snapshot(): ProxySnapshot {
    return this.current
  }
  replace(next: ProxySnapshot): void {
    this.current = next
  }
}

/**
 * The live work the kill switch cuts: tunnels and WebSocket relays (counted against the tunnel
 * cap; shutdown destroys them too) and responses still streaming. Its activation cuts every one
 * of a client it does not exempt (`cut`); a stream of a transport that exempts no one is cut
 * whoever its client is.
 */
class LiveWork implements TunnelRegistry, StreamRegistry {
  /** Each tunnel's destroy function, its client's address, and what the kill switch does to it. */
  private readonly tunnels = new Map<() => void, {clientIp: string; cut: () => void}>()
  /** Each stream's cut function, its client's address, and whether its transport exempts anyone. */
  private readonly streams = new Map<() => void, {clientIp: string; exemptable: boolean}>()
  constructor(private readonly killSwitch: KillSwitchController, private readonly refuses: (clientIp: string) => boolean) {}
  trackTunnel(destroy: () => void, clientIp: string, killSwitchCut: () => void = destroy): () => void {
    this.tunnels.set(destroy, {clientIp, cut: killSwitchCut})
    this.missedCut(destroy, this.tunnels, this.refuses(clientIp), killSwitchCut)
    return () => this.tunnels.delete(destroy)
  }
  trackStream(cut: () => void, clientIp: string, exemptable: boolean): () => void {
    this.streams.set(cut, {clientIp, exemptable})
    this.missedCut(cut, this.streams, !exemptable || this.refuses(clientIp))
    return () => this.streams.delete(cut)
  }
  /** The switch came on while this one was being set up (a WebSocket's dial): it missed the cut, so it is cut on the next turn. */
  private missedCut(key: () => void, registered: ReadonlyMap<() => void, unknown>, refused: boolean, cut: () => void = key): void {
    if (refused) this.killSwitch.cutIfMissed(() => registered.has(key), cut)
  }
  activeTunnels(): number {
    return this.tunnels.size
  }
  /** The kill switch came on. */
  cut(): void {
    for (const {clientIp, cut} of [...this.tunnels.values()]) if (this.refuses(clientIp)) cut()
    for (const [cut, s] of [...this.streams]) if (!s.exemptable || this.refuses(s.clientIp)) cut()
  }
  /** Shutdown: every tunnel (a stream ends with its response when the server closes). */
  destroyAll(): void {
    for (const destroy of [...this.tunnels.keys()]) destroy()
  }
}

/** Milliseconds and request ids on the injected clock. */
class RequestClock implements Clock, RequestIds {
  private counter = 0
  /** The system clock: read without BigInt arithmetic (several reads per request), never going back. */
  private readonly system: WallMillis | null
  constructor(readonly nanos: NanoClock) {
    this.system = nanos === systemClock ? new WallMillis() : null
  }
  /** Milliseconds with microsecond digits: `nowNanos() / 1000` (integer division) in ms. */
  nowMs(): number {
    if (this.system !== null) return this.system.nowMs()
    return Number(this.nanos.nowNanos() / 1000n) / 1000
  }
  /** The wall clock's whole milliseconds (`nowNanos() / 10^6`), as the audit log's `time` reads it. */
  wallMs(): number {
    return this.system ? Date.now() : Number(this.nanos.nowNanos() / 1_000_000n)
  }
  nextRequestId(): string {
    return `req-${++this.counter}`
  }
}

/**
 * The proxy runtime, composed from the config. `ProxyServer` owns it (listeners, reload,
 * shutdown) and routes requests to the transports with `ports`; the parts are read by the
 * listeners' own paths (health, metrics, the admin APIs) and by the run service.
 */
export class ProxyRuntime {
  readonly version: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly clock: RequestClock
  readonly startedAt: number
  private readonly state: SnapshotHolder
  readonly killSwitch: KillSwitchController
  readonly audit: AuditLog
  readonly metrics: ProxyMetrics
  readonly sink: DecisionFanout
  readonly upstream: Agent
  readonly contracts: ContractRuntime | null
  readonly exceptions: ExceptionStore | null
  readonly tunnels: LiveWork
  /** The CONNECT download relays' read buffers, reused from tunnel to tunnel (bench: connect). */
  readonly relayBuffers = new RelayBufferPool()
  /** A2A card baseline and contexts, tracking-domain pattern: one per process, kept across reloads. */
  readonly transforms = new ResponseTransformState()
  /** Interception counters: one set for the proxy's life, fed by the decision fan-out (transports §2.13). */
  readonly tlsMetrics = new InterceptMetrics()
  readonly loopLag = new EventLoopLag()
  /** The scan pool's counts for `/metrics`: one set for the process, whatever snapshot's pool did the work. */
  private readonly offloadCounters = new OffloadCounters()
  /** TLS interception (transports §2); rebuilt with a fresh leaf cache after every reload. */
  interceptor: Interceptor | null = null
  /** The upstream TLS trust list (transports §2.2), shared by every TLS leg; re-read when interception is (re)built. */
  private upstreamCa: string[] | undefined
  /** `/ws` (transports §3) when `websocket_proxy.enabled` at start-up (enabling needs a restart). */
  readonly wsProxy: WebSocketProxy | null
  /**
   * Held requests (`ask`, docs/ask.md): the queue of a run with an operator channel (an API token at
   * start-up, which mounts the admin API). It exists whatever the action, so a reload to `ask` holds
   * from the next request; what is held follows the config in force (the scan asks only under `ask`).
   */
  readonly approvals: ApprovalQueue | undefined
  /** Whether an API token existed at start-up (gates the session admin API, §12). */
  readonly startupApiToken: boolean
  readonly admin: AdminApis
  readonly watchdog: HealthWatchdog | null
  readonly bases: RequestBases
  readonly ports: TransportPorts
  /** What a dial of the proxy's own uses (SSRF-validated against the scanner in force). */
  private readonly dialer: Dialer
  /** Ports of an intercepted tunnel's inner requests, and of its pre-dial. */
  private readonly interceptPorts: InterceptPorts & Dialer
  /** Whether a client's address may bind it to an agent (`source_cidrs`): not in the sandbox's proxy. */
  private readonly addressBinding: boolean

  constructor(opts: ComposeOptions) {
    const cfg = opts.loaded.config
    this.version = opts.version
    this.env = opts.env
    this.contracts = opts.contracts ?? null
    this.exceptions = opts.exceptions ?? null
    this.clock = new RequestClock(opts.clock ?? systemClock)
    const clock = this.clock
    this.startedAt = clock.nowMs()
    this.addressBinding = opts.egressOnly !== true
    this.state = new SnapshotHolder(buildSnapshot(cfg, opts.loaded.hash, opts.env, clock.nanos, {audit: () => this.audit, airlockEvidence: (c) => this.recordAirlock(c), offloadCounters: this.offloadCounters, ...this.machineCarry()}))
    const snapshot = (): ProxySnapshot => this.state.snapshot()
    this.killSwitch = new KillSwitchController(killSwitchInputs(cfg))
    // Live tunnels are torn down the moment the switch activates (§11.2), but those of a client
    // allowlist_ips exempts (all its traffic is, egress included).
    this.tunnels = new LiveWork(this.killSwitch, (ip) => !killSwitchExempts({snapshot}, ip))
    this.killSwitch.onActivate(() => this.tunnels.cut())
    // The sentinel file has no caller to name (the API and SIGUSR1 log their own toggles).
    this.killSwitch.onSentinelChange((present) => {
      const file = snapshot().config.kill_switch.sentinel_file
      this.audit.event('warn', 'kill_switch', `kill switch ${present ? 'ACTIVATED' : 'DEACTIVATED'} via sentinel file`, {source: 'sentinel', active: present, file})
    })
    const logging = cfg.logging
    this.audit = new AuditLog([...opts.audit], {includeAllowed: logging.include_allowed, includeBlocked: logging.include_blocked, now: () => new Date(clock.wallMs())})
    this.metrics = new ProxyMetrics(opts.version, this.startedAt, () => clock.nowMs(), {
      killSwitchSources: () => this.killSwitch.status().sources,
      activeTunnels: () => this.tunnels.activeTunnels(),
      sessions: () => snapshot().sessions,
      crossRequest: () => snapshot().cee?.stats() ?? null,
    })
    this.metrics.addRenderer((out) => renderCeeMetrics(out, snapshot().cee, undefined))
    this.metrics.addRenderer((out) => this.loopLag.render(out))
    this.metrics.addRenderer((out) => renderEnvelopeMetrics(out, snapshot().mediation))
    this.metrics.addRenderer((out) => this.offloadCounters.render(out, snapshot().bodyScans.stats()))
    this.sink = new DecisionFanout([this.audit, this.metrics, this.tlsMetrics, ...(opts.sinks ?? [])])
    this.renderContractMetrics()
    this.upstream = createSafeAgent({scanner: () => snapshot().scanner.url, timeoutMs: cfg.fetch_proxy.timeout_seconds * 1000})
    this.dialer = {dial: async (host, port, onread, lookupAll) => await dialValidated({scanner: () => snapshot().scanner.url, ...(lookupAll !== undefined ? {lookupAll} : {})}, host, port, onread)}
    this.startupApiToken = this.apiToken() !== ''
    this.approvals = this.startupApiToken ? this.approvalQueue() : undefined

    // ---- ports: each object is exactly its part's declared type.
    const gate: GatePorts = {
      snapshot, nowMs: () => clock.nowMs(), audit: this.audit, metrics: this.metrics, killSwitch: this.killSwitch,
      trackStream: (cut, ip, exemptable) => this.tunnels.trackStream(cut, ip, exemptable), approvals: this.approvals, transforms: this.transforms, sink: this.sink, contracts: this.contracts, exceptions: this.exceptions,
    }
    const forward: ForwardPorts = {...gate, upstream: this.upstream}
    const runtime = this
    const connect: ConnectPorts = {
      ...gate, dial: this.dialer.dial, trackTunnel: (d, ip, cut) => this.tunnels.trackTunnel(d, ip, cut), activeTunnels: () => this.tunnels.activeTunnels(), relayBuffers: this.relayBuffers,
      get interceptor() {
        return runtime.interceptor
      },
      interceptionUnavailable: (host) => {
        const t = snapshot().config.tls_interception
        const unavailable = runtime.interceptor === null && t.enabled && interceptsHost(t.passthrough_domains, host)
        if (unavailable) runtime.tlsMetrics.count('failed')
        return unavailable
      },
    }
    const fetch: FetchPorts = {...gate, upstream: this.upstream}
    this.ports = {fetch, forward, connect, reverse: gate}
    this.interceptPorts = {...forward, nextRequestId: () => clock.nextRequestId(), dial: this.dialer.dial}
    const wsPorts: WebSocketPorts = {
      ...gate, dial: this.dialer.dial, version: this.version, trackTunnel: (d, ip, cut) => this.tunnels.trackTunnel(d, ip, cut), activeTunnels: () => this.tunnels.activeTunnels(),
    }

    // A CA that cannot be loaded refuses start-up (transports §2.1, §2.2).
    if (cfg.tls_interception.enabled) this.interceptor = this.buildInterceptor(cfg)
    // With interception enabled but no CA loaded (a failed reload), the families still render: its
    // refused tunnels are counted as `failed`, and the leaf cache is empty.
    this.metrics.addRenderer((out) => {
      if (this.interceptor !== null) this.interceptor.render(out)
      else if (snapshot().config.tls_interception.enabled) this.tlsMetrics.render(out, 0)
    })
    // Every client message also feeds cross-request detection (operations §5.4: WebSocket frames);
    // a blocking finding closes the relay with 1008 `cross_request_deny`.
    this.wsProxy = cfg.websocket_proxy.enabled
      ? new (requireLoaded('websocket_proxy', opts.webSocketProxy))(wsPorts, {
          frame: (f, ctx) => {
            const r = ceeWebSocketMessage(gate, {snap: snapshotFor(gate, ctx.base), b: ctx.base}, {host: ctx.host, data: f.data, isText: !f.isBinary, json: f.json})
            return r?.block ? {detail: r.block.detail} : null
          },
        }, () => this.trustStore())
      : null
    const wsMetrics = this.wsProxy?.metrics
    if (wsMetrics !== undefined) this.metrics.addRenderer((out) => wsMetrics.render(out))
    this.bases = new RequestBases({snapshot, nowMs: () => clock.nowMs(), nextRequestId: () => clock.nextRequestId(), audit: this.audit, metrics: this.metrics})
    this.admin = this.adminApis(opts.policy)
    this.watchdog = this.healthWatchdog(cfg)
  }

  snapshot(): ProxySnapshot {
    return this.state.snapshot()
  }

  /**
   * What a snapshot takes from this machine and this runtime, not from the config: the host's own
   * interface addresses, read afresh at start-up and at each reload (an address added since is
   * covered from then on), and whether client addresses bind agents.
   */
  private machineCarry(): {hostAddresses: string[]; addressBinding: boolean} {
    return {hostAddresses: hostAddressCidrs(), addressBinding: this.addressBinding}
  }

  /** Env `PIPELOCK_KILLSWITCH_API_TOKEN` wins over the config (§11.3). */
  apiToken(): string {
    const e = this.env.PIPELOCK_KILLSWITCH_API_TOKEN
    return e !== undefined && e !== '' ? e : this.snapshot().config.kill_switch.api_token
  }

  /**
   * Hot reload (§20.6): new scanner and windows; kill-switch config/sentinel inputs replaced,
   * api/signal kept. `restartPending`: the file's fields this reload kept at their running value.
   * Returns how many tunnels and `/ws` relays are open (they keep the admission they were given
   * under the previous policy until they close, transports §2.12) and the warnings the operator
   * must see (stderr).
   */
  reload(loaded: LoadedConfig, restartPending: readonly string[] = []): {openTunnels: number, warnings: string[]} {
    // Sessions survive a reload: the manager is carried over with new settings (§20.6).
    const previous = this.snapshot()
    this.state.replace(buildSnapshot(loaded.config, loaded.hash, this.env, this.clock.nanos, {previous, audit: () => this.audit, airlockEvidence: (c) => this.recordAirlock(c), offloadCounters: this.offloadCounters, ...this.machineCarry()}))
    // Requests that began under the old config finish their scans with it; its threads end then.
    previous.bodyScans.retire()
    this.killSwitch.updateInputs(killSwitchInputs(loaded.config))
    this.reloadInterceptor(loaded.config)
    const l = loaded.config.logging
    this.audit.setOptions({includeAllowed: l.include_allowed, includeBlocked: l.include_blocked, now: () => new Date(this.clock.wallMs())})
    const warnings = this.reloadAsk(previous.config, loaded.config)
    const open = this.tunnels.activeTunnels()
    this.audit.event('info', 'config_reload', 'config reloaded', {
      status: 'success', detail: `mode=${loaded.config.mode}`, config_hash: loaded.hash,
      ...(restartPending.length > 0 ? {restart_pending: [...restartPending]} : {}), ...(open > 0 ? {open_tunnels: open} : {}),
    })
    return {openTunnels: open, warnings}
  }

  /**
   * `ask` across a reload (§20.6). To `ask` without a channel from start-up: it blocks, and the
   * operator is told. Away from `ask`: what the queue holds is answered now (a deny, `cancelled`)
   * rather than left waiting for an answer the new policy would not ask for.
   */
  private reloadAsk(before: PipelockConfig, after: PipelockConfig): string[] {
    const asks = askConfigured(after)
    if (asks && this.approvals === undefined) {
      this.audit.event('warn', 'config_reload', ASK_WITHOUT_CHANNEL, {})
      return [ASK_WITHOUT_CHANNEL]
    }
    if (!asks && askConfigured(before) && this.approvals !== undefined) {
      const n = this.approvals.withdrawAll(ASK_WITHDRAWN)
      if (n > 0) this.audit.event('warn', 'config_reload', `${n} held request(s) denied: response_scanning.action is no longer ask`, {withdrawn: n})
    }
    return []
  }

  /** The reverse proxy's context: its upstream and plain pool (no SSRF connector: the upstream is the operator's choice). */
  reverseContext(): ReverseContext {
    const upstream = parseReverseUpstream(this.snapshot().config.reverse_proxy.upstream)!
    // No redirects followed.
    return {ports: this.ports.reverse, upstream, agent: new UndiciAgent({connect: {timeout: 10_000}})}
  }

  /** Every DLP pattern name the running scanners (all profiles) can report. */
  dlpFindingNames(): string[] {
    const snap = this.snapshot()
    const names = new Set<string>()
    for (const view of [snap, snap.fallback, ...snap.profiles.values()]) for (const p of view.scanner.dlp.all) names.add(p.name)
    return [...names]
  }

  /** Stops the timers and watchers and cuts every live tunnel (shutdown, before the listeners drain). */
  stop(): void {
    this.watchdog?.stop()
    this.loopLag.stop()
    this.approvals?.close()
    this.snapshot().sessions?.stop()
    this.snapshot().cee?.stop()
    this.tunnels.destroyAll()
  }

  /** Closes the upstream pools and the scan pool's threads (after the listeners drained). */
  async closePools(): Promise<void> {
    await this.upstream.close().catch(() => undefined)
    await this.interceptor?.close()
    await this.snapshot().bodyScans.close()
  }

  /** An airlock tier change, recorded by the evidence sinks (a receipt per change, OP §6). */
  private recordAirlock(c: AirlockChange): void {
    this.sink.recordAirlock(airlockEvidenceOf(c))
  }

  private renderContractMetrics(): void {
    const rt = this.contracts
    if (rt === null) return
    this.metrics.addRenderer((out) => {
      const s = rt.status()
      renderFamily(out, 'pipelock_contract_reload_total', 'Contract store reloads by outcome (learn-lifecycle §7.3).', 'counter', RELOAD_OUTCOMES.map((o) => [{outcome: o}, rt.reloads.get(o) ?? 0] as const))
      renderFamily(out, 'pipelock_contract_generation', 'Generation of the active manifest in force (0: none).', 'gauge', [[{}, Number(s.generation)]])
      renderFamily(out, 'pipelock_contract_store_healthy', '1 while the contract store loads; 0 after a failed reload.', 'gauge', [[{}, s.healthy ? 1 : 0]])
      renderFamily(out, 'pipelock_contract_watch_errors_total', 'Contract store watcher errors.', 'counter', [[{}, rt.watchErrors]])
      renderFamily(out, 'pipelock_contract_active', 'The active manifest in force, by mode and hash.', 'gauge', s.manifestHash === '' ? [] : [[{mode: s.mode, manifest_hash: s.manifestHash}, 1]])
    })
  }

  private approvalQueue(): ApprovalQueue {
    return new ApprovalQueue({
      nowMs: () => this.clock.nowMs(),
      timeoutSeconds: () => this.snapshot().config.response_scanning.ask_timeout_seconds,
      newId: () => `ask-${uuidv7(this.clock.nanos.nowNanos(), (n) => randomBytes(n))}`,
      onAnswer: (item, a, waitedMs) => {
        this.audit.event(a.outcome === 'allow' || a.outcome === 'strip' ? 'info' : 'warn', 'hitl_decision', 'held request answered', {
          id: item.id, kind: item.kind, transport: item.transport, agent: item.agent, target: item.target, reason: item.reason,
          decision: a.outcome, decided_by: a.decidedBy, latency_ms: Math.round(waitedMs), ...(a.reason !== '' ? {decision_reason: a.reason} : {}),
        })
      },
    })
  }

  private approvalsApi(queue: ApprovalQueue, token: () => string, audit: () => AuditLog, nowMs: () => number): ApprovalsApi {
    return new ApprovalsApi({
      token, audit, nowMs,
      // Nothing to list while the config in force does not ask and nothing was ever held: the 409 says so.
      approvals: () => (askConfigured(this.snapshot().config) || !queue.empty ? queue : null),
      noQueue: () => noApprovalsReason(this.snapshot().config),
    })
  }

  private adminApis(policy: ComposeOptions['policy']): AdminApis {
    const nowMs = (): number => this.clock.nowMs()
    const token = (): string => this.apiToken()
    const audit = (): AuditLog => this.audit
    const sessions = this.startupApiToken
      ? new SessionApi({
          token, nowMs, audit,
          sessions: () => this.snapshot().sessions,
          cee: () => this.snapshot().cee,
          identify: (req, clientIp) => {
            // whoami has no listener context: rows 2–7 of operations.md §2.2. The caller's address
            // is matched against the source CIDRs as the gate matches it, so a CIDR-bound caller is
            // classified as bound (its own session, no hold of its client address), as the gate treats it.
            const id = this.bases.identityOf(req, clientIp, undefined, undefined)
            return {agent: id.name, key: sessionKey(id.name, clientIp), bound: isBound(id)}
          },
        })
      : null
    return {
      sessions,
      // Without a token at start-up there is no API (404: the admin client says to set one and restart).
      approvals: this.approvals !== undefined ? this.approvalsApi(this.approvals, token, audit, nowMs) : null,
      policy: sessions !== null
        ? new PolicyApi({
            token, audit, exceptions: () => this.exceptions, allow: (bucket) => sessions.allow(bucket), policy: () => policy?.() ?? null,
            checkPattern: (p) => unwaivablePattern(p, this.dlpFindingNames(), Object.keys(REASON_CODES)),
          })
        : null,
      killSwitch: new KillSwitchApi({
        controller: this.killSwitch, token, nowMs,
        onToggle: (active, ip) => {
          this.audit.event('warn', 'kill_switch', `kill switch ${active ? 'ACTIVATED' : 'DEACTIVATED'} via API`, {client_ip: ip, source: 'api', active})
        },
      }),
    }
  }

  private healthWatchdog(cfg: PipelockConfig): HealthWatchdog | null {
    const hw = cfg.health_watchdog
    if (!hw.enabled) return null
    return new HealthWatchdog({
      intervalMs: hw.interval_seconds * 1000,
      nowMs: () => this.clock.nowMs(),
      probe: () => this.snapshot().scanner.scanUrl('ftp://wedge-probe.invalid/', {resolver: async () => [], rateLimiter: this.snapshot().rateLimiter}),
      hasConfig: () => this.snapshot() !== undefined,
      killSwitchWired: () => true,
      sessionsPresent: () => !this.snapshot().config.session_profiling.enabled || this.snapshot().sessions !== null,
    })
  }

  private trustStore(): string[] {
    return (this.upstreamCa ??= buildTrustStore(this.env))
  }

  private buildInterceptor(config: PipelockConfig): Interceptor {
    return new Interceptor({
      config,
      env: this.env,
      ports: this.interceptPorts,
      ca: (this.upstreamCa = buildTrustStore(this.env)),
      scanner: () => this.snapshot().scanner.url,
      nowMs: () => this.clock.nowMs(),
      metrics: this.tlsMetrics,
      // transports §2.8: `wss://` inside an intercepted tunnel goes through the WebSocket proxy's
      // own admission and relay (URL scan, session and airlock, header DLP, contract, budget,
      // per-message scanning), the upstream dialled over TLS before the client is upgraded.
      // Without websocket_proxy the upgrade is refused (a block, never forwarded unscanned).
      upgrade: (u: InterceptUpgrade) => {
        const ws = this.wsProxy
        if (ws === null) return refuseInterceptedUpgrade(u)
        const wss = 'wss:' + u.url.slice(u.url.indexOf(':') + 1)
        ws.handleUpgrade({req: u.req, socket: u.socket, head: u.head, b: u.base, rawQuery: `url=${encodeURIComponent(wss)}`}).catch(() => u.socket.destroy())
      },
    })
  }

  /** After a reload: a new CA load and an empty leaf cache; a failure keeps the previous interceptor (transports §2.1). */
  private reloadInterceptor(config: PipelockConfig): void {
    if (!config.tls_interception.enabled) {
      if (this.interceptor !== null) this.audit.event('warn', 'config_reload', 'TLS interception disabled — CONNECT tunnel body/header scanning lost', {})
      void this.interceptor?.close()
      this.interceptor = null
      return
    }
    try {
      const next = this.buildInterceptor(config)
      void this.interceptor?.close()
      this.interceptor = next
    } catch (e) {
      this.audit.event('error', 'error', `TLS cert cache reload failed: ${(e as Error).message}`, {})
    }
  }
}
