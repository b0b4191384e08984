/**
 * The running proxy: listeners (§2), the kill-switch gate in front of everything (§11.2),
 * routing to the transports, `/health`, `/stats`, `/metrics`, config snapshots and reload, and
 * graceful shutdown (§1.3, 5 s drain).
 */
import http, {type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo, OnReadOpts, Socket} from 'node:net'
import type {Duplex} from 'node:stream'
import type {Agent} from 'undici'
import {Agent as UndiciAgent} from '../dispatch/index.js'
import {parseGoUrl, systemClock, uuidv7, type Clock} from '../canonical/index.js'
import {randomBytes} from 'node:crypto'
import type {LoadedConfig, PipelockConfig} from '../config/index.js'
import {RELOAD_OUTCOMES, type ContractRuntime} from '../gate/index.js'
import {bearerMatches, isExempt, KillSwitchApi, KillSwitchController, type KillSwitchInputs} from '../killswitch/index.js'
import {AuditLog, type AuditWriter} from './audit-log.js'
import {blockHeaders, killSwitchBody, sendJson, sendTextError} from './block.js'
import {handleConnect, killSwitchConnectDeny} from './connect-handler.js'
import {KILL_SWITCH_BLOCK} from './gate/stages/kill-switch.js'
import {writeRawResponse} from './relay/raw-response.js'
import {blockDecision, safeTarget, snapshotFor, type DecisionBase, type ProxyCore} from './core.js'
import {DecisionFanout, type DecisionSink, type Transport} from './decision.js'
import {handleFetch} from './fetch-handler.js'
import {directoryBody, DIRECTORY_PATH} from '../envelope/index.js'
import {renderEnvelopeMetrics} from './envelope-runtime.js'
import {queryParam} from './relay/query-target.js'
import {handleForward} from './relay/forward-exchange.js'
import {HealthWatchdog} from './health.js'
import {agentListeners, contractSelector, type AgentListenAddress} from './agent-listeners.js'
import {PipelockError} from '../errors/index.js'
import {clientIpOf, isBound, sessionKey, type AgentIdentity} from './identity.js'
import {ProxyMetrics, renderFamily} from './metrics.js'
import {SessionApi} from './session-api.js'
import {ApprovalQueue} from './approvals.js'
import {ApprovalsApi} from './approvals-api.js'
import {askConfigured} from './features.js'
import {PolicyApi, type PolicyHooks} from './policy-api.js'
import type {ExceptionStore} from './exception-store.js'
import {unwaivablePattern} from './exception-rules.js'
import type {ConfigDrift} from './policy-change.js'
import {REASON_CODES} from '../scanner/index.js'
import {airlockEvidenceOf, type AirlockChange} from './session-gate.js'
import {ceeWebSocketMessage, renderCeeMetrics} from './cee-gate.js'
import {AuthThrottle, guardApiRequest, STRONG_TOKEN_MIN} from './auth-throttle.js'
import {allowHalfOpenResponses, answerAndDestroy, CONNECTIONS_CHECK_INTERVAL_MS} from './socket-hygiene.js'
import {createSafeAgent, dialValidated, type LookupAll} from './ssrf-dialer.js'
import {buildSnapshot, type ProxySnapshot} from './state.js'
import {FORWARD_PROXY_HINT} from './banner.js'
import {hintHeader} from './hints.js'
import {EventLoopLag} from './event-loop.js'
import {InterceptMetrics} from './intercept/metrics.js'
import {Interceptor} from './intercept/runtime.js'
import {buildTrustStore} from '../tls/index.js'
import {refuseInterceptedUpgrade} from './intercept/upgrade.js'
// Type only: the `/ws` relay (and the `ws` package) is loaded by the run service when enabled.
import type {WebSocketProxy} from './websocket/handshake.js'
import {requireLoaded} from './feature-load.js'
import {handleReverse} from './reverse/handler.js'
import {parseReverseUpstream} from './reverse/url.js'
import {RelayBufferPool} from './relay-buffer-pool.js'
import {ResponseTransformState} from './relay/response-transforms.js'

export interface ProxyServerOptions {
  readonly loaded: LoadedConfig
  readonly version: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly audit: readonly AuditWriter[]
  readonly clock?: Clock
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
  /** The config file on disk differs from the running policy (a refused reload, issue 34); undefined when in step. */
  readonly configDrift?: () => ConfigDrift | undefined
}

export interface ListenAddresses {
  readonly main: string
  /** Agent listeners (operations.md §2.7), in config order. */
  readonly agents?: readonly AgentListenAddress[]
  readonly api?: string
  readonly metrics?: string
  /** The scan API (`scan_api.listen`, scanners-extra §1), bound by the run after the proxy. */
  readonly scanApi?: string
  /** The reverse-proxy listener (transports §4.1), when enabled. */
  readonly reverse?: string
}

function killSwitchInputs(c: PipelockConfig): KillSwitchInputs {
  return {enabled: c.kill_switch.enabled, sentinelFile: c.kill_switch.sentinel_file, message: c.kill_switch.message}
}

/** `host:port` → listen args; `:8890` means all interfaces. */
export function splitListen(addr: string): {host: string | undefined; port: number} {
  const i = addr.lastIndexOf(':')
  const host = i <= 0 ? undefined : addr.slice(0, i).replace(/^\[|\]$/g, '')
  return {host: host === '' ? undefined : host, port: Number(addr.slice(i + 1))}
}

function formatAddress(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
}

export class ProxyServer implements ProxyCore {
  readonly version: string
  readonly killSwitch: KillSwitchController
  readonly metrics: ProxyMetrics
  readonly audit: AuditLog
  readonly sink: DecisionFanout
  readonly upstream: Agent
  readonly contracts: ContractRuntime | null
  readonly exceptions: ExceptionStore | null
  /** Exceptions and change notes on the admin API; mounted with the session API. */
  private readonly policyApi: PolicyApi | null
  private readonly configDrift: () => ConfigDrift | undefined
  /** TLS interception (transports §2); rebuilt with a fresh leaf cache after every reload. */
  interceptor: Interceptor | null = null
  /** Interception counters: one set for the proxy's life, fed by the decision fan-out (transports §2.13). */
  private readonly tlsMetrics = new InterceptMetrics()
  private readonly loopLag = new EventLoopLag()
  private snap: ProxySnapshot
  private readonly clock: Clock
  private readonly env: Readonly<Record<string, string | undefined>>
  /** The upstream TLS trust list (transports §2.2), shared by every TLS leg; re-read when interception is (re)built. */
  private upstreamCa: string[] | undefined
  private readonly startedAt: number
  private requestCounter = 0
  private readonly tunnels = new Set<() => void>()
  /** The CONNECT download relays' read buffers, reused from tunnel to tunnel (bench: connect). */
  readonly relayBuffers = new RelayBufferPool()
  /** A2A card baseline and contexts, tracking-domain pattern: one per process, kept across reloads. */
  readonly transforms = new ResponseTransformState()
  private readonly servers: http.Server[] = []
  private readonly sockets = new Set<Socket>()
  /** Sockets accepted on an agent listener → the listener's profile (operations.md §2.7, row 1). */
  private readonly boundSockets = new WeakMap<object, string>()
  private readonly watchdog: HealthWatchdog | null
  private readonly ksApi: KillSwitchApi
  /** §12: mounted only when an API token existed at start-up. */
  private readonly sessionApi: SessionApi | null
  /** Held requests (`ask`, docs/ask.md): with `response_scanning.action: ask` and an API token at start-up. */
  readonly approvals: ApprovalQueue | undefined
  private readonly approvalsApi: ApprovalsApi | null
  private pollTimer: NodeJS.Timeout | undefined
  private reverseAgent: Agent | undefined
  private readonly authThrottle = new AuthThrottle(() => this.nowMs())
  /** Whether an API token existed at start-up (gates the session admin API, §12). */
  readonly startupApiToken: boolean
  /** `/ws` (transports §3) when `websocket_proxy.enabled` at start-up (enabling needs a restart). */
  private readonly wsProxy: WebSocketProxy | null

  constructor(opts: ProxyServerOptions) {
    this.version = opts.version
    this.configDrift = opts.configDrift ?? (() => undefined)
    this.contracts = opts.contracts ?? null
    this.exceptions = opts.exceptions ?? null
    this.clock = opts.clock ?? systemClock
    this.env = opts.env
    this.startedAt = this.nowMs()
    this.snap = buildSnapshot(opts.loaded.config, opts.loaded.hash, opts.env, this.clock, {audit: () => this.audit, airlockEvidence: (c) => this.recordAirlock(c)})
    this.killSwitch = new KillSwitchController(killSwitchInputs(opts.loaded.config))
    this.killSwitch.onActivate(() => {
      // Live tunnels are torn down the moment the switch activates (§11.2).
      for (const destroy of [...this.tunnels]) destroy()
    })
    const logging = opts.loaded.config.logging
    this.audit = new AuditLog([...opts.audit], {includeAllowed: logging.include_allowed, includeBlocked: logging.include_blocked, now: () => new Date(Number(this.clock.nowNanos() / 1_000_000n))})
    this.metrics = new ProxyMetrics(opts.version, this.startedAt, () => this.nowMs(), {
      killSwitchSources: () => this.killSwitch.status().sources,
      activeTunnels: () => this.tunnels.size,
      sessions: () => this.snap.sessions,
      crossRequest: () => this.snap.cee?.stats() ?? null,
    })
    this.metrics.addRenderer((out) => renderCeeMetrics(out, this.snap.cee, undefined))
    this.metrics.addRenderer((out) => this.loopLag.render(out))
    this.metrics.addRenderer((out) => renderEnvelopeMetrics(out, this.snap.mediation))
    this.sink = new DecisionFanout([this.audit, this.metrics, this.tlsMetrics, ...(opts.sinks ?? [])])
    const rt = this.contracts
    if (rt !== null) {
      this.metrics.addRenderer((out) => {
        const s = rt.status()
        renderFamily(out, 'pipelock_contract_reload_total', 'Contract store reloads by outcome (learn-lifecycle §7.3).', 'counter', RELOAD_OUTCOMES.map((o) => [{outcome: o}, rt.reloads.get(o) ?? 0] as const))
        renderFamily(out, 'pipelock_contract_generation', 'Generation of the active manifest in force (0: none).', 'gauge', [[{}, Number(s.generation)]])
        renderFamily(out, 'pipelock_contract_store_healthy', '1 while the contract store loads; 0 after a failed reload.', 'gauge', [[{}, s.healthy ? 1 : 0]])
        renderFamily(out, 'pipelock_contract_watch_errors_total', 'Contract store watcher errors.', 'counter', [[{}, rt.watchErrors]])
        renderFamily(out, 'pipelock_contract_active', 'The active manifest in force, by mode and hash.', 'gauge', s.manifestHash === '' ? [] : [[{mode: s.mode, manifest_hash: s.manifestHash}, 1]])
      })
    }
    this.upstream = createSafeAgent({scanner: () => this.snap.scanner.url, timeoutMs: opts.loaded.config.fetch_proxy.timeout_seconds * 1000})
    // A CA that cannot be loaded refuses start-up (transports §2.1, §2.2).
    if (opts.loaded.config.tls_interception.enabled) this.interceptor = this.buildInterceptor(opts.loaded.config)
    this.metrics.addRenderer((out) => this.interceptor?.render(out))
    this.startupApiToken = this.apiToken() !== ''
    // Every client message also feeds cross-request detection (operations §5.4: WebSocket frames);
    // a blocking finding closes the relay with 1008 `cross_request_deny`.
    this.wsProxy = opts.loaded.config.websocket_proxy.enabled
      ? new (requireLoaded('websocket_proxy', opts.webSocketProxy))(this, {
          frame: (f, ctx) => {
            const r = ceeWebSocketMessage(this, snapshotFor(this, ctx.base), ctx.base, ctx.host, f.data, !f.isBinary)
            return r?.block ? {detail: r.block.detail} : null
          },
        }, () => this.trustStore())
      : null
    const wsMetrics = this.wsProxy?.metrics
    if (wsMetrics !== undefined) this.metrics.addRenderer((out) => wsMetrics.render(out))
    this.sessionApi = this.startupApiToken
      ? new SessionApi({
          token: () => this.apiToken(),
          sessions: () => this.snap.sessions,
          cee: () => this.snap.cee,
          nowMs: () => this.nowMs(),
          audit: () => this.audit,
          identify: (req, clientIp) => {
            // whoami has no listener context: rows 3–7 of operations.md §2.2 (no listener, no CIDR).
            const agent = this.identityOf(req, '', undefined, undefined).name
            return {agent, key: sessionKey(agent, clientIp)}
          },
        })
      : null
    const startCfg = opts.loaded.config
    this.approvals = this.startupApiToken && askConfigured(startCfg)
      ? new ApprovalQueue({
          nowMs: () => this.nowMs(),
          timeoutSeconds: () => this.snap.config.response_scanning.ask_timeout_seconds,
          newId: () => `ask-${uuidv7(this.clock.nowNanos(), (n) => randomBytes(n))}`,
          onAnswer: (item, a, waitedMs) => {
            this.audit.event(a.outcome === 'allow' || a.outcome === 'strip' ? 'info' : 'warn', 'hitl_decision', 'held request answered', {
              id: item.id, kind: item.kind, transport: item.transport, agent: item.agent, target: item.target, reason: item.reason,
              decision: a.outcome, decided_by: a.decidedBy, latency_ms: Math.round(waitedMs), ...(a.reason !== '' ? {decision_reason: a.reason} : {}),
            })
          },
        })
      : undefined
    this.approvalsApi = this.startupApiToken
      ? new ApprovalsApi({token: () => this.apiToken(), audit: () => this.audit, approvals: () => this.approvals ?? null, nowMs: () => this.nowMs()})
      : null
    const sessionApi = this.sessionApi
    this.policyApi = sessionApi !== null
      ? new PolicyApi({
          token: () => this.apiToken(), audit: () => this.audit, exceptions: () => this.exceptions, allow: (bucket) => sessionApi.allow(bucket), policy: () => opts.policy?.() ?? null,
          checkPattern: (p) => unwaivablePattern(p, this.dlpFindingNames(), Object.keys(REASON_CODES)),
        })
      : null
    this.ksApi = new KillSwitchApi({
      controller: this.killSwitch,
      token: () => this.apiToken(),
      nowMs: () => this.nowMs(),
      onToggle: (active, ip) => {
        this.audit.event('warn', 'kill_switch', `kill switch ${active ? 'ACTIVATED' : 'DEACTIVATED'} via API`, {client_ip: ip, source: 'api', active})
      },
    })
    const hw = opts.loaded.config.health_watchdog
    this.watchdog = hw.enabled
      ? new HealthWatchdog({
          intervalMs: hw.interval_seconds * 1000,
          nowMs: () => this.nowMs(),
          probe: () => this.snap.scanner.scanUrl('ftp://wedge-probe.invalid/', {resolver: async () => [], rateLimiter: this.snap.rateLimiter}),
          hasConfig: () => this.snap !== undefined,
          killSwitchWired: () => true,
          sessionsPresent: () => !this.snap.config.session_profiling.enabled || this.snap.sessions !== null,
        })
      : null
  }

  // ---- ProxyCore
  snapshot(): ProxySnapshot {
    return this.snap
  }
  nowMs(): number {
    return Number(this.clock.nowNanos() / 1000n) / 1000
  }
  nextRequestId(): string {
    return `req-${++this.requestCounter}`
  }
  async dial(host: string, port: number, onread?: OnReadOpts, lookupAll?: LookupAll): Promise<Socket> {
    return await dialValidated({scanner: () => this.snap.scanner.url, ...(lookupAll !== undefined ? {lookupAll} : {})}, host, port, onread)
  }
  trackTunnel(destroy: () => void): () => void {
    this.tunnels.add(destroy)
    return () => this.tunnels.delete(destroy)
  }
  activeTunnels(): number {
    return this.tunnels.size
  }

  /** An airlock tier change, recorded by the evidence sinks (a receipt per change, OP §6). */
  private recordAirlock(c: AirlockChange): void {
    this.sink.recordAirlock(airlockEvidenceOf(c))
  }

  /** Env `PIPELOCK_KILLSWITCH_API_TOKEN` wins over the config (§11.3). */
  apiToken(): string {
    const e = this.env.PIPELOCK_KILLSWITCH_API_TOKEN
    return e !== undefined && e !== '' ? e : this.snap.config.kill_switch.api_token
  }

  get config(): PipelockConfig {
    return this.snap.config
  }

  private trustStore(): string[] {
    return (this.upstreamCa ??= buildTrustStore(this.env))
  }

  private buildInterceptor(config: PipelockConfig): Interceptor {
    return new Interceptor({
      config,
      env: this.env,
      ca: (this.upstreamCa = buildTrustStore(this.env)),
      scanner: () => this.snap.scanner.url,
      nowMs: () => this.nowMs(),
      metrics: this.tlsMetrics,
      // transports §2.8: `wss://` inside an intercepted tunnel goes through the WebSocket proxy's
      // own admission and relay (URL scan, session and airlock, header DLP, contract, budget,
      // per-message scanning), the upstream dialled over TLS before the client is upgraded.
      // Without websocket_proxy the upgrade is refused (a block, never forwarded unscanned).
      upgrade: (u) => {
        const ws = this.wsProxy
        if (ws === null) return refuseInterceptedUpgrade(u)
        const wss = 'wss:' + u.url.slice(u.url.indexOf(':') + 1)
        ws.handleUpgrade(u.req, u.socket, u.head, u.base, `url=${encodeURIComponent(wss)}`).catch(() => u.socket.destroy())
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

  /** Hot reload (§20.6): new scanner and windows; kill-switch config/sentinel inputs replaced, api/signal kept. */
  applyConfig(loaded: LoadedConfig): void {
    // Sessions survive a reload: the manager is carried over with new settings (§20.6).
    this.snap = buildSnapshot(loaded.config, loaded.hash, this.env, this.clock, {previous: this.snap, audit: () => this.audit, airlockEvidence: (c) => this.recordAirlock(c)})
    this.killSwitch.updateInputs(killSwitchInputs(loaded.config))
    this.reloadInterceptor(loaded.config)
    const l = loaded.config.logging
    this.audit.setOptions({includeAllowed: l.include_allowed, includeBlocked: l.include_blocked, now: () => new Date(Number(this.clock.nowNanos() / 1_000_000n))})
    this.audit.event('info', 'config_reload', 'config reloaded', {status: 'success', detail: `mode=${loaded.config.mode}`, config_hash: loaded.hash})
  }

  // ---- listeners
  async start(): Promise<ListenAddresses> {
    const c = this.snap.config
    const main = this.proxyServer(undefined)
    const out: {main: string; api?: string; metrics?: string; agents?: AgentListenAddress[]; reverse?: string} = {main: await this.listen(main, c.fetch_proxy.listen, 'proxy (--listen / fetch_proxy.listen)')}
    // operations.md §2.7: each agent listener runs the same proxy handler with the profile bound.
    const agents: AgentListenAddress[] = []
    for (const {name, addr} of agentListeners(c)) {
      agents.push({name, addr: await this.listen(this.proxyServer(name), addr, `agent "${name}" listener (agents.${name}.listeners)`)})
    }
    if (agents.length > 0) out.agents = agents
    if (c.kill_switch.api_listen !== '') {
      const api = this.createServer((req, res) => this.routeApi(req, res))
      out.api = await this.listen(api, c.kill_switch.api_listen, 'admin API (kill_switch.api_listen)')
    }
    if (c.metrics_listen !== '') {
      const m = this.createServer((req, res) => this.routeMetrics(req, res))
      out.metrics = await this.listen(m, c.metrics_listen, 'metrics (metrics_listen)')
    }
    if (c.reverse_proxy.enabled) out.reverse = await this.startReverse()
    this.watchdog?.start()
    // The sentinel file must tear down idle tunnels too, not only on the next read.
    this.pollTimer = setInterval(() => this.killSwitch.poll(), 250)
    this.pollTimer.unref()
    return out
  }

  /** The proxy listener (main, or an agent's with its profile bound). */
  private proxyServer(bound: string | undefined): http.Server {
    const server = this.createServer((req, res) => this.route(req, res, bound))
    // §1.4: read-header 5 s, read (whole request) 10 s, idle keep-alive 120 s. Node has no
    // response write deadline; responses are bounded by the upstream timeouts instead, and
    // CONNECT sockets leave the server's request tracking once handed to the tunnel.
    server.headersTimeout = 5_000
    server.requestTimeout = 10_000
    server.keepAliveTimeout = 120_000
    server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onConnect(req, socket, head))
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head))
    if (bound !== undefined) server.on('connection', (sock: Socket) => this.boundSockets.set(sock, bound))
    return server
  }

  /** The reverse-proxy listener (transports §4.1): its own server, not behind the main kill-switch gate. */
  private async startReverse(): Promise<string> {
    const c = this.snap.config
    const upstream = parseReverseUpstream(c.reverse_proxy.upstream)!
    // No SSRF connector: the upstream is the operator's choice (loopback is normal). No redirects followed.
    const agent = new UndiciAgent({connect: {timeout: 10_000}})
    this.reverseAgent = agent
    const ctx = {core: this as ProxyCore, upstream, agent}
    const server = this.createServer((req, res) => this.run(res, handleReverse(ctx, req, res, this.base(req, 'reverse'))))
    server.headersTimeout = 5_000
    server.requestTimeout = 10_000
    server.keepAliveTimeout = 120_000
    // Upgrade requests are refused (§6 #36): the response path cannot scan a 101 stream.
    server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => {
      socket.on('error', () => undefined)
      writeRawResponse(socket, 403, 'Forbidden', {...blockHeaders('bad_request'), 'Content-Type': 'application/json'}, JSON.stringify({error: 'blocked by pipelock', blocked: true, block_reason: 'upgrade requests are not supported by the reverse proxy', direction: 'request'}) + '\n')
    })
    return await this.listen(server, c.reverse_proxy.listen, 'reverse proxy (reverse_proxy.listen)')
  }

  private createServer(handler: (req: IncomingMessage, res: ServerResponse) => void): http.Server {
    const server = http.createServer({maxHeaderSize: 16 * 1024, connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS}, (req, res) => {
      try {
        handler(req, res)
      } catch {
        if (!res.headersSent) sendTextError(res, 500, 'internal error')
        else res.destroy()
      }
    })
    // Malformed request line, oversized headers, bad framing: 400/431 and close; never a crash (§25.11).
    server.on('clientError', (err: Error & {code?: string}, socket: Duplex) => {
      if (!socket.writable || (err.code === 'ECONNRESET')) {
        socket.destroy()
        return
      }
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW'
      const status = tooLarge ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
      const text = tooLarge ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'
      answerAndDestroy(socket, `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ${text.length + 1}\r\n\r\n${text}\n`)
    })
    allowHalfOpenResponses(server)
    server.on('connection', (s: Socket) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    this.servers.push(server)
    return server
  }

  /** Binds one listener; a failure names the listener and the address (`cannot listen on …: EADDRINUSE`). */
  private async listen(server: http.Server, addr: string, role: string): Promise<string> {
    const {host, port} = splitListen(addr)
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(addr, role, err)))
      server.listen({host, port}, () => {
        server.off('error', reject)
        resolve()
      })
    })
    return formatAddress(server.address() as AddressInfo)
  }

  private base(req: IncomingMessage, transport: Transport, queryAgent?: string): DecisionBase {
    const clientIp = clientIpOf(req.socket.remoteAddress)
    const id = this.identityOf(req, clientIp, queryAgent, this.boundSockets.get(req.socket))
    const agent = id.name
    return {
      requestId: this.nextRequestId(), transport, method: req.method ?? '', agent, clientIp, sessionKey: sessionKey(agent, clientIp), startMs: this.nowMs(),
      profile: id.profile, auth: id.auth, ...contractSelector(this.snap.config, id), bound: isBound(id),
      ...(id.refused !== undefined ? {identityRefused: id.refused} : {}),
    }
  }

  /** operations.md §2.2, resolved once per request; a self-declared name DLP flags becomes `anonymous`, counted and audited (never echoed). */
  private identityOf(req: IncomingMessage, clientIp: string, queryAgent: string | undefined, bound: string | undefined): AgentIdentity {
    const header = req.headers['x-pipelock-agent']
    const r = this.snap.agentNames.resolve({...(bound !== undefined ? {bound} : {}), clientIp, header: Array.isArray(header) ? header[0] : header, ...(queryAgent !== undefined ? {query: queryAgent} : {})})
    if (r.rejected) {
      this.metrics.agentNamesRejected.inc({reason: 'dlp'})
      this.audit.event('warn', 'agent_name_rejected', 'agent name looks like a secret; using anonymous', {client_ip: clientIp})
    }
    return r.identity
  }

  /**
   * §11.2 for the listener's own paths (health, metrics, the admin API, unknown paths); true when
   * the request was denied (response already written). The transports (forward, /fetch, CONNECT,
   * /ws) meet the kill switch as the first stage of their gate (gate/stages/kill-switch.ts).
   */
  private gate(req: IncomingMessage, originForm: boolean, path: string, deny: (headers: Record<string, string>) => void, transport: Transport): boolean {
    if (!this.killSwitch.poll().active) return false
    const c = this.snap.config.kill_switch
    const exempt = isExempt(
      {method: req.method ?? '', originForm, path, clientIp: clientIpOf(req.socket.remoteAddress)},
      {healthExempt: c.health_exempt, metricsExempt: c.metrics_exempt, apiExempt: c.api_exempt, apiOnMainListener: c.api_listen === '', allowlistIps: c.allowlist_ips},
    )
    if (exempt) return false
    const b = this.base(req, transport)
    // The target was never scanned: redacted if it carries anything DLP recognises (§10.4).
    const target = originForm ? path : transport === 'connect' ? safeTarget(this.snap, `https://${req.url ?? ''}/`, 'kill_switch') : safeTarget(this.snap, req.url ?? '', 'kill_switch')
    const receipt = this.sink.record(blockDecision(this, b, target, {...KILL_SWITCH_BLOCK, status: transport === 'forward' ? 403 : 503, enforced: true}))
    // Every transport names the block the same way (the gate parity test): reason, layer, receipt.
    deny(blockHeaders('kill_switch_active', 'kill_switch', {receipt}))
    return true
  }

  private route(req: IncomingMessage, res: ServerResponse, bound?: string): void {
    const target = req.url ?? ''
    const originForm = target.startsWith('/')
    const q = target.indexOf('?')
    const path = originForm ? (q < 0 ? target : target.slice(0, q)) : ''
    if (bound !== undefined && path.startsWith('/api/v1/')) {
      // operations.md §2.7 (quirk fixed): admin routes are never mounted on an agent's own port.
      req.resume()
      sendTextError(res, 404, '404 page not found')
      return
    }
    const rawQuery = originForm && q >= 0 ? target.slice(q + 1) : ''
    const absolute = !originForm && /^[a-z][a-z0-9+.-]*:\/\//i.test(target)
    const transport: Transport = absolute ? 'forward' : 'fetch'
    // A request a transport takes meets the kill switch in its gate; everything else here.
    const toTransport = (absolute && this.snap.config.forward_proxy.enabled) || path === '/fetch' || (path === '/ws' && this.wsProxy !== null)
    const denied = !toTransport && this.gate(
      req,
      originForm,
      path,
      (headers) => {
        req.resume()
        const hint = hintHeader(this.snap.config.explain_blocks, {layer: 'kill_switch', detail: 'kill switch active'})
        if (absolute) sendTextError(res, 403, 'blocked: kill_switch_active', {...headers, ...hint})
        else sendJson(res, 503, killSwitchBody(this.killSwitch.message), {...headers, ...hint})
      },
      transport,
    )
    if (denied) return
    if (absolute) {
      if (!this.snap.config.forward_proxy.enabled) {
        req.resume()
        sendTextError(res, 405, `forward proxy not enabled; to use pipelock as HTTP_PROXY/HTTPS_PROXY set ${FORWARD_PROXY_HINT}`)
        return
      }
      let host = ''
      try {
        host = parseGoUrl(target).host
      } catch {
        host = ''
      }
      if (host === '') {
        req.resume()
        sendTextError(res, 400, 'invalid URL')
        return
      }
      this.run(res, handleForward(this, {req, res, b: this.base(req, 'forward'), target}))
      return
    }
    if (!originForm) {
      req.resume()
      sendTextError(res, 400, 'invalid request target')
      return
    }
    switch (path) {
      case '/fetch':
        this.run(res, handleFetch(this, req, res, this.base(req, 'fetch', queryParam(rawQuery, 'agent')), rawQuery))
        return
      case '/health':
        req.resume()
        this.health(res)
        return
      case '/ws':
        if (this.wsProxy !== null) {
          this.run(res, this.wsProxy.handleRequest(req, res, this.base(req, 'websocket'), rawQuery))
          return
        }
        req.resume()
        sendTextError(res, 404, 'WebSocket proxy not enabled', blockHeaders('not_enabled'))
        return
      case DIRECTORY_PATH:
        req.resume()
        this.signatureDirectory(req, res)
        return
      case '/metrics':
      case '/stats':
        req.resume()
        if (this.snap.config.metrics_listen !== '') sendTextError(res, 404, '404 page not found')
        else this.routeMetrics(req, res)
        return
    }
    if (path.startsWith('/api/v1/') && this.snap.config.kill_switch.api_listen === '' && this.apiThrottled(req, res, path)) return
    if (this.sessionApi !== null && path.startsWith('/api/v1/') && this.snap.config.kill_switch.api_listen === '') {
      if (this.sessionApi.handle(req, res, path, clientIpOf(req.socket.remoteAddress))) return
      if (this.policyApi?.handle(req, res, path, clientIpOf(req.socket.remoteAddress))) return
      if (this.approvalsApi?.handle(req, res, path, queryOf(req.url), clientIpOf(req.socket.remoteAddress))) return
    }
    if (path.startsWith('/api/v1/killswitch') && this.snap.config.kill_switch.api_listen === '') {
      if (this.ksApi.handle(req, res, path, clientIpOf(req.socket.remoteAddress))) return
    }
    req.resume()
    sendTextError(res, 404, '404 page not found')
  }

  /**
   * `/.well-known/http-message-signatures-directory` (receipts.md §12, envelope spec §8): the
   * mediation-envelope key in force (rotated on reload); 404 while no signer is installed.
   */
  private signatureDirectory(req: IncomingMessage, res: ServerResponse): void {
    const signer = this.snap.mediation?.signer ?? null
    if (signer === null) {
      sendTextError(res, 404, '404 page not found')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendTextError(res, 405, 'method not allowed')
      return
    }
    this.audit.event('info', 'mediation_envelope_directory', 'mediation envelope key directory served', {client_ip: clientIpOf(req.socket.remoteAddress)})
    const body = directoryBody(signer.keyId, signer.publicKeyHex)
    res.writeHead(200, {'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300', 'Content-Length': String(Buffer.byteLength(body))})
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  private run(res: ServerResponse, p: Promise<void>): void {
    p.catch(() => {
      // A bug in a handler: fail closed with a generic error, never a crash or a stack trace.
      if (!res.headersSent) sendTextError(res, 500, 'internal error')
      else res.destroy()
    })
  }

  private routeApi(req: IncomingMessage, res: ServerResponse): void {
    // The separate API listener is never gated (§2).
    const url = req.url ?? ''
    const path = url.split('?')[0]!
    const ip = clientIpOf(req.socket.remoteAddress)
    if (this.apiThrottled(req, res, path)) return
    if (this.sessionApi?.handle(req, res, path, ip)) return
    if (this.policyApi?.handle(req, res, path, ip)) return
    if (this.approvalsApi?.handle(req, res, path, queryOf(url), ip)) return
    if (!this.ksApi.handle(req, res, path, ip)) {
      req.resume()
      sendTextError(res, 404, '404 page not found')
    }
  }

  /** Failed-token throttling in front of the admin APIs (issue 10 item 12); true when answered 429. */
  private apiThrottled(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    return guardApiRequest(this.authThrottle, req, res, clientIpOf(req.socket.remoteAddress), path, {
      onFailure: (client, p) => {
        this.metrics.apiAuthFailures.inc()
        this.audit.event('warn', 'api_auth_failure', 'admin API request with a missing or wrong bearer token', {client_ip: client, path: p})
      },
      onThrottled: (client, p, wait) => {
        this.metrics.apiAuthThrottled.inc()
        this.audit.event('warn', 'api_auth_throttled', 'admin API client throttled after repeated authentication failures', {client_ip: client, path: p, retry_after_seconds: wait})
      },
    }, (r) => {
      const token = this.apiToken()
      const auth = r.headers.authorization
      return token.length >= STRONG_TOKEN_MIN && bearerMatches(Array.isArray(auth) ? auth[0] : auth, token)
    })
  }

  private routeMetrics(req: IncomingMessage, res: ServerResponse): void {
    req.resume()
    const path = (req.url ?? '').split('?')[0]
    if (path === '/metrics') {
      const body = this.metrics.prometheus()
      res.writeHead(200, {'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body))})
      res.end(body)
    } else if (path === '/stats') sendJson(res, 200, this.metrics.stats())
    else sendTextError(res, 404, '404 page not found')
  }

  /** Every DLP pattern name the running scanners (all profiles) can report. */
  private dlpFindingNames(): string[] {
    const names = new Set<string>()
    for (const view of [this.snap, this.snap.fallback, ...this.snap.profiles.values()]) for (const p of view.scanner.dlp.all) names.add(p.name)
    return [...names]
  }

  healthBody(): {status: number; body: Record<string, unknown>} {
    const c = this.snap.config
    const subs = this.watchdog?.subsystems()
    const lock = this.contracts?.status()
    const drift = this.configDrift()
    // A contract store that stops loading is a health failure, never a silent scanner-only fallback.
    const healthy = (subs === undefined || Object.values(subs).every(Boolean)) && lock?.healthy !== false
    return {
      status: healthy ? 200 : 503,
      body: {
        status: healthy ? 'healthy' : 'unhealthy',
        version: this.version,
        mode: c.mode,
        uptime_seconds: (this.nowMs() - this.startedAt) / 1000,
        dlp_patterns: c.dlp.patterns.length,
        response_scan_enabled: c.response_scanning.enabled,
        git_protection_enabled: c.git_protection.enabled,
        rate_limit_enabled: true,
        forward_proxy_enabled: c.forward_proxy.enabled,
        websocket_proxy_enabled: c.websocket_proxy.enabled,
        request_body_scan_enabled: c.request_body_scanning.enabled,
        tls_interception_enabled: c.tls_interception.enabled,
        kill_switch_active: this.killSwitch.isActive(),
        // Issue 34: a reload refused the file on disk, so the running policy is not the file's.
        // Health stays 200 (a restart would apply the refused file: an orchestrator must not do that).
        ...(drift !== undefined ? {config_in_sync: false, config_drift: drift} : {}),
        ...(lock !== undefined
          ? {
              learn_lock: {
                mode: lock.mode,
                active_manifest_hash: lock.manifestHash,
                generation: Number(lock.generation),
                store_healthy: lock.healthy,
                last_reload: lock.lastOutcome,
                ...(lock.lastError !== '' ? {last_error: lock.lastError} : {}),
                // Contract selection follows the agent's name; unless bound, the agent declares it itself.
                agent_identity: c.bind_default_agent_identity || c.learn_lock.ignore_self_declared_agents ? 'bound' : 'self_declared',
              },
            }
          : {}),
        ...(c.health_watchdog.expose_subsystems && subs ? {subsystems: subs} : {}),
      },
    }
  }

  private health(res: ServerResponse): void {
    const h = this.healthBody()
    sendJson(res, h.status, h.body)
  }

  private onConnect(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined)
    if (!this.snap.config.forward_proxy.enabled) {
      // Not a transport here: the listener's kill-switch gate answers first.
      if (this.gate(req, false, '', (headers) => killSwitchConnectDeny(socket, this.killSwitch.message, headers), 'connect')) return
      writeRawResponse(socket, 405, 'Method Not Allowed', {'Content-Type': 'text/plain; charset=utf-8'}, `CONNECT not supported: forward proxy not enabled; to use pipelock as HTTPS_PROXY set ${FORWARD_PROXY_HINT}\n`)
      return
    }
    handleConnect(this, req, socket, head, this.base(req, 'connect')).catch(() => socket.destroy())
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined)
    // Upgrades go through the same gate (§25.11).
    const target = req.url ?? ''
    const path = target.startsWith('/') ? target.split('?')[0]! : ''
    // The WebSocket proxy meets the kill switch in its gate; any other upgrade here.
    if (path === '/ws' && this.wsProxy !== null) {
      const q = target.indexOf('?')
      this.wsProxy.handleUpgrade(req, socket, head, this.base(req, 'websocket'), q < 0 ? '' : target.slice(q + 1)).catch(() => socket.destroy())
      return
    }
    if (this.gate(req, target.startsWith('/'), path, (headers) => killSwitchConnectDeny(socket, this.killSwitch.message, headers), 'websocket')) return
    writeRawResponse(socket, 404, 'Not Found', {'Content-Type': 'text/plain; charset=utf-8', ...blockHeaders('not_enabled')}, 'WebSocket proxy not enabled\n')
  }

  /** Graceful shutdown: stop accepting, drain for up to `drainMs`, then cut what is left. */
  async close(drainMs = 5000): Promise<void> {
    this.watchdog?.stop()
    this.loopLag.stop()
    this.approvals?.close()
    if (this.pollTimer) clearInterval(this.pollTimer)
    this.snap.sessions?.stop()
    this.snap.cee?.stop()
    for (const destroy of [...this.tunnels]) destroy()
    const closing = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))
    for (const s of this.servers) s.closeIdleConnections()
    const timer = setTimeout(() => {
      for (const s of this.sockets) s.destroy()
    }, drainMs)
    await Promise.all(closing)
    clearTimeout(timer)
    await this.upstream.close().catch(() => undefined)
    await this.interceptor?.close()
    await this.reverseAgent?.close().catch(() => undefined)
  }
}

/** LISTEN_FAILED naming the address and which listener wanted it (issue 34: "cannot listen: EADDRINUSE" named neither). */
export function listenError(addr: string, role: string, err: NodeJS.ErrnoException): PipelockError {
  const why = err.code === 'EADDRINUSE' ? 'EADDRINUSE (address already in use)' : err.code === 'EACCES' ? 'EACCES (permission denied)' : err.code === 'EADDRNOTAVAIL' ? 'EADDRNOTAVAIL (not an address of this host)' : (err.code ?? err.message)
  return new PipelockError('LISTEN_FAILED', `cannot listen on ${addr} for the ${role}: ${why}`, {hint: 'choose a free address, or stop what holds it'})
}

/** The query of a request target ('' when none). */
function queryOf(url: string | undefined): string {
  const q = (url ?? '').indexOf('?')
  return q < 0 ? '' : (url ?? '').slice(q + 1)
}
