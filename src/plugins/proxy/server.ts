/**
 * The running proxy's listeners (§2) and lifecycle: the kill-switch gate in front of the
 * listener's own paths (§11.2), routing to the transports with their ports, `/health`, `/stats`,
 * `/metrics`, the admin APIs' mount points, reload and graceful shutdown (§1.3, 5 s drain). The
 * runtime they route to is built by the composition root (compose.ts).
 */
import http, {type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import type {Duplex} from 'node:stream'
import type {Agent} from 'undici'
import {parseGoUrl, type GoUrl} from '../canonical/index.js'
import type {LoadedConfig} from '../config/index.js'
import type {ContractRuntime} from '../gate/index.js'
import {isExempt, type KillSwitchController} from '../killswitch/index.js'
import type {AuditLog} from './audit-log.js'
import {killSwitchBody, sendJson, sendTextError} from './block.js'
import {ProxyRuntime, type ComposeOptions} from './compose.js'
import {handleConnect, killSwitchConnectDeny} from './connect-handler.js'
import {KILL_SWITCH_ANSWERS, KILL_SWITCH_BLOCK, killSwitchRefuses} from './gate/stages/kill-switch.js'
import {writeRawResponse} from './relay/raw-response.js'
import {blockDecision, safeTarget} from './core.js'
import type {Transport} from './decision.js'
import type {DecisionFanout} from '../decision/index.js'
import {handleFetch} from './fetch-handler.js'
import {directoryBody, DIRECTORY_PATH} from '../envelope/index.js'
import {queryParam} from './relay/query-target.js'
import {handleForward} from './relay/forward-exchange.js'
import {agentListeners, type AgentListenAddress} from './agent-listeners.js'
import {PipelockError} from '../errors/index.js'
import {clientIpOf} from './identity.js'
import type {ProxyMetrics} from './metrics.js'
import type {ConfigDrift} from './config-state-file.js'
import {AuthThrottle, guardApiRequest, holdsStrongToken} from './auth-throttle.js'
import {allowHalfOpenResponses, answerClientError, CONNECTIONS_CHECK_INTERVAL_MS, expectationRefusalLine, MAX_REQUEST_HEADER_BYTES, parserRefusalLine, refuseExpectation, type RefusalLine} from './socket-hygiene.js'
import type {ProxySnapshot} from './state.js'
import {FORWARD_PROXY_HINT} from './banner.js'
import {blockAnswerHeaders} from './hints.js'
import {handleReverse, type ReverseContext} from './reverse/handler.js'
import {reverseTarget} from './reverse/url.js'

export interface ProxyServerOptions extends ComposeOptions {
  /** The config file on disk differs from the running policy (a refused reload, issue 34); undefined when in step. */
  readonly configDrift?: () => ConfigDrift | undefined
  /** Fields of the config file a reload kept at their running value until a restart (restart-only); empty when none. */
  readonly configRestartPending?: () => readonly string[]
  /** The flight recorder's write health (recorder-health.ts); absent when it is off. */
  readonly recorderHealth?: {readonly failing: boolean; readonly writeFailures: number}
  /**
   * The main listener serves egress only (forward proxy, CONNECT, `/fetch`, `/ws`): the proxy
   * `pipelock sandbox` embeds, whose listener the contained process reaches through the bridge.
   * Health, stats, metrics, the key directory and the admin API are the operator's, not the agent's.
   */
  readonly egressOnly?: boolean
}

/** The origin-form paths a listener with `egressOnly` serves; every other one answers 404. */
const EGRESS_PATHS: ReadonlySet<string> = new Set(['/fetch', '/ws'])
/** The layer of a WebSocket upgrade no transport proxies (recorded; not named on the answer). */
const UNPROXIED_UPGRADE = 'upgrade'

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

/** `host:port` → listen args; `:8890` means all interfaces. */
export function splitListen(addr: string): {host: string | undefined; port: number} {
  const i = addr.lastIndexOf(':')
  const host = i <= 0 ? undefined : addr.slice(0, i).replace(/^\[|\]$/g, '')
  return {host: host === '' ? undefined : host, port: Number(addr.slice(i + 1))}
}

function formatAddress(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
}

/**
 * The listeners and the lifecycle of the proxy: the runtime is composed from the config
 * (compose.ts); each transport is called with its own ports, never with this object.
 */
export class ProxyServer {
  /** The parts, built once from the config; read here by the listeners' own paths. */
  private readonly rt: ProxyRuntime
  private readonly configDrift: () => ConfigDrift | undefined
  private readonly configRestartPending: () => readonly string[]
  private readonly recorderHealth: ProxyServerOptions['recorderHealth']
  private readonly servers: http.Server[] = []
  private readonly sockets = new Set<Socket>()
  private releasePolling: (() => void) | undefined
  private reverseAgent: Agent | undefined
  private readonly authThrottle: AuthThrottle
  private readonly egressOnly: boolean

  constructor(opts: ProxyServerOptions) {
    this.rt = new ProxyRuntime(opts)
    this.egressOnly = opts.egressOnly === true
    this.configDrift = opts.configDrift ?? (() => undefined)
    this.configRestartPending = opts.configRestartPending ?? (() => [])
    this.recorderHealth = opts.recorderHealth
    this.authThrottle = new AuthThrottle(() => this.rt.clock.nowMs())
  }

  get killSwitch(): KillSwitchController {
    return this.rt.killSwitch
  }
  get metrics(): ProxyMetrics {
    return this.rt.metrics
  }
  get audit(): AuditLog {
    return this.rt.audit
  }
  get contracts(): ContractRuntime | null {
    return this.rt.contracts
  }
  /** The run's one evidence fan-out: `run --mcp-listen` records its tool calls through it too. */
  get sink(): DecisionFanout {
    return this.rt.sink
  }
  snapshot(): ProxySnapshot {
    return this.rt.snapshot()
  }
  /**
   * Whether CONNECT tunnels are intercepted now: an interceptor is in force. Not the config's flag:
   * a reload that turns interception on with a CA that cannot be loaded leaves none (transports
   * §2.1), and the tunnels it would intercept are then closed, not intercepted.
   */
  interceptingTls(): boolean {
    return this.rt.interceptor !== null
  }
  nowMs(): number {
    return this.rt.clock.nowMs()
  }

  /** Env `PIPELOCK_KILLSWITCH_API_TOKEN` wins over the config (§11.3). */
  apiToken(): string {
    return this.rt.apiToken()
  }

  /**
   * Hot reload (§20.6): new scanner and windows; kill-switch config/sentinel inputs replaced,
   * api/signal kept. See `ProxyRuntime.reload`: the tunnels and relays left open under their
   * earlier admission, and what the operator must be told (each a `WARNING: config reload:` line).
   */
  applyConfig(loaded: LoadedConfig, restartPending: readonly string[] = []): {openTunnels: number, warnings: string[]} {
    return this.rt.reload(loaded, restartPending)
  }

  // ---- listeners
  async start(): Promise<ListenAddresses> {
    const c = this.rt.snapshot().config
    const main = this.proxyServer(undefined)
    const out: {main: string; api?: string; metrics?: string; agents?: AgentListenAddress[]; reverse?: string} = {main: await this.listen(main, c.fetch_proxy.listen, 'proxy (--listen / fetch_proxy.listen)')}
    // operations.md §2.7: each agent listener runs the same proxy handler with the profile bound.
    const agents: AgentListenAddress[] = []
    // The sandbox's proxy opens none: its agent's one way out is the bridge to the main listener.
    // The profiles stay bound (agent-name.ts), so naming one from the sandbox is a refused claim.
    for (const {name, addr} of this.egressOnly ? [] : agentListeners(c)) {
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
    this.rt.watchdog?.start()
    // The sentinel file must tear down idle tunnels too, not only on the next read.
    this.releasePolling = this.rt.killSwitch.holdPolling()
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
    if (bound !== undefined) server.on('connection', (sock: Socket) => this.rt.bases.bindSocket(sock, bound))
    return server
  }

  /** The reverse-proxy listener (transports §4.1): its own server, not behind the main kill-switch gate. */
  private async startReverse(): Promise<string> {
    const c = this.rt.snapshot().config
    const ctx = this.rt.reverseContext()
    this.reverseAgent = ctx.agent
    const server = this.createServer((req, res) => this.run(res, handleReverse(ctx, req, res, this.rt.bases.of(req, 'reverse'))))
    server.headersTimeout = 5_000
    server.requestTimeout = 10_000
    server.keepAliveTimeout = 120_000
    // Upgrade requests are refused (§6 #36): the response path cannot scan a 101 stream. A CONNECT
    // names no path of the upstream: refused too (with no listener Node closed the socket unanswered).
    // Both are recorded, as every other refusal of the reverse listener.
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => this.refuseReverse(ctx, req, socket, {stage: 'upgrade', layer: 'upgrade', status: 403, statusText: 'Forbidden', detail: 'upgrade requests are not supported by the reverse proxy'}))
    server.on('connect', (req: IncomingMessage, socket: Duplex) => this.refuseReverse(ctx, req, socket, {stage: 'url_scan', layer: 'parser', status: 405, statusText: 'Method Not Allowed', detail: 'CONNECT is not supported by the reverse proxy'}))
    return await this.listen(server, c.reverse_proxy.listen, 'reverse proxy (reverse_proxy.listen)')
  }

  /**
   * A request the reverse listener never forwards (an upgrade, a CONNECT): recorded, then answered
   * with the reverse JSON and the block headers (receipt named; no layer, as every refusal of a
   * request nothing proxies). The kill switch comes first here
   * too (§4.3 step 2): while it is on, the refusal is the switch's 503, as for every other request.
   */
  private refuseReverse(ctx: ReverseContext, req: IncomingMessage, socket: Duplex, why: {stage: 'upgrade' | 'url_scan'; layer: string; status: number; statusText: string; detail: string}): void {
    socket.on('error', () => undefined)
    const snap = this.rt.snapshot()
    const target = req.method === 'CONNECT' ? null : reverseTarget(ctx.upstream, req.url ?? '/')
    const b = this.rt.bases.of(req, 'reverse')
    const killed = killSwitchRefuses(this.rt, b.clientIp, KILL_SWITCH_ANSWERS.reverse.allowlist)
    const {stage, layer, reason, detail, status, statusText} = killed
      ? {...KILL_SWITCH_BLOCK, status: KILL_SWITCH_ANSWERS.reverse.status, statusText: 'Service Unavailable'}
      : {...why, reason: 'bad_request' as const}
    const receipt = this.rt.sink.record(blockDecision(this.rt.clock, b, safeTarget(snap, target ?? ctx.upstream.display, null), {stage, layer, reason, detail, status, enforced: true}))
    const headers = {...blockAnswerHeaders(snap.config.explain_blocks, reason, killed ? layer : undefined, {layer, detail}, {receipt}), 'Content-Type': 'application/json'}
    writeRawResponse(socket, status, statusText, headers, JSON.stringify({error: 'blocked by pipelock', blocked: true, block_reason: detail, direction: 'request'}) + '\n')
  }

  private createServer(handler: (req: IncomingMessage, res: ServerResponse) => void): http.Server {
    const server = http.createServer({maxHeaderSize: MAX_REQUEST_HEADER_BYTES, connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS}, (req, res) => {
      try {
        handler(req, res)
      } catch {
        if (!res.headersSent) sendTextError(res, 500, 'internal error')
        else res.destroy()
      }
    })
    // Malformed request line, oversized headers, bad framing: 400/431 and close; never a crash
    // (§25.11). Each refusal has its audit line, as one inside an intercepted tunnel has.
    const logRefusal = (line: RefusalLine, socket: {remoteAddress?: string | undefined}): void =>
      this.rt.audit.event('warn', 'blocked', line.message, {scanner: line.scanner, reason: line.reason, status_code: line.status, client_ip: clientIpOf(socket.remoteAddress)})
    server.on('clientError', (err: Error & {code?: string}, socket: Duplex) => answerClientError(err, socket, (r) => logRefusal(parserRefusalLine(r, 'HTTP/1.1'), socket as Socket)))
    // An `Expect` other than 100-continue: the 417 Node gives by itself, with the audit line.
    server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
      logRefusal(expectationRefusalLine('HTTP/1.1'), req.socket)
      refuseExpectation(res)
    })
    allowHalfOpenResponses(server)
    server.on('connection', (s: Socket) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    this.servers.push(server)
    return server
  }

  /** Whether the running config relays forward-proxy requests (`run -- CMD` then gives the agent HTTPS_PROXY). */
  forwardProxyEnabled(): boolean {
    return this.rt.snapshot().config.forward_proxy.enabled
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

  /**
   * §11.2 for the listener's own paths (health, metrics, the admin API, unknown paths); true when
   * the request was denied (response already written). The transports (forward, /fetch, CONNECT,
   * /ws) meet the kill switch as the first stage of their gate (gate/stages/kill-switch.ts).
   */
  private gate(req: IncomingMessage, at: {readonly originForm: boolean; readonly path: string; readonly transport: Transport}, deny: (headers: Record<string, string>) => void): boolean {
    const {originForm, path, transport} = at
    if (!this.rt.killSwitch.poll().active) return false
    const c = this.rt.snapshot().config.kill_switch
    const exempt = isExempt(
      {method: req.method ?? '', originForm, path, clientIp: clientIpOf(req.socket.remoteAddress)},
      {healthExempt: c.health_exempt, metricsExempt: c.metrics_exempt, apiExempt: c.api_exempt, apiOnMainListener: c.api_listen === '', allowlistIps: c.allowlist_ips},
    )
    if (exempt) return false
    const b = this.rt.bases.of(req, transport)
    // The target was never scanned: redacted if it carries anything DLP recognises (§10.4).
    const target = originForm ? path : transport === 'connect' ? safeTarget(this.rt.snapshot(), `https://${req.url ?? ''}/`, 'kill_switch') : safeTarget(this.rt.snapshot(), req.url ?? '', 'kill_switch')
    const receipt = this.rt.sink.record(blockDecision(this.rt.clock, b, target, {...KILL_SWITCH_BLOCK, status: transport === 'forward' ? 403 : 503, enforced: true}))
    // Every transport names the block the same way (the gate parity test): reason, layer, receipt (and hint).
    deny(blockAnswerHeaders(this.rt.snapshot().config.explain_blocks, 'kill_switch_active', 'kill_switch', {layer: 'kill_switch', detail: 'kill switch active'}, {receipt}))
    return true
  }

  /**
   * A request the main listener has no transport for (forward proxy off, an upgrade elsewhere
   * than /ws): recorded as a block first, like every refusal a transport gives, with the target
   * as sent (redacted if DLP recognises anything in it: it was never scanned). Returns the answer's
   * block headers, the receipt named.
   */
  private refuseUnserved(req: IncomingMessage, transport: Transport, why: {readonly layer: string; readonly reason: 'not_enabled' | 'bad_request'; readonly status: number; readonly detail: string}): Record<string, string> {
    const snap = this.rt.snapshot()
    const {layer, reason, status, detail} = why
    const target = safeTarget(snap, transport === 'connect' ? `https://${req.url ?? ''}/` : (req.url ?? ''), layer)
    const receipt = this.rt.sink.record(blockDecision(this.rt.clock, this.rt.bases.of(req, transport), target, {stage: 'upgrade', layer, reason, detail, status, enforced: true}))
    // A WebSocket upgrade nothing proxies names no layer on the answer, as the reference's does
    // (docs/run.md): the reason code says which. The Decision keeps it.
    return blockAnswerHeaders(snap.config.explain_blocks, reason, layer === UNPROXIED_UPGRADE ? undefined : layer, {layer, detail}, {receipt})
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
    if (this.egressOnly && originForm && !EGRESS_PATHS.has(path)) {
      // The sandbox's bridge reaches this listener: the operator's routes are not mounted on it.
      req.resume()
      sendTextError(res, 404, '404 page not found')
      return
    }
    const rawQuery = originForm && q >= 0 ? target.slice(q + 1) : ''
    const absolute = !originForm && /^[a-z][a-z0-9+.-]*:\/\//i.test(target)
    const transport: Transport = absolute ? 'forward' : 'fetch'
    // A request a transport takes meets the kill switch in its gate; everything else here.
    const toTransport = (absolute && this.rt.snapshot().config.forward_proxy.enabled) || path === '/fetch' || (path === '/ws' && this.rt.wsProxy !== null)
    const denied = !toTransport && this.gate(
      req,
      {originForm, path, transport},
      (headers) => {
        req.resume()
        if (absolute) sendTextError(res, 403, 'blocked: kill_switch_active', headers)
        else sendJson(res, 503, killSwitchBody(this.rt.killSwitch.message), headers)
      },
    )
    if (denied) return
    if (absolute) {
      if (!this.rt.snapshot().config.forward_proxy.enabled) {
        req.resume()
        const headers = this.refuseUnserved(req, 'forward', {layer: 'forward_proxy', reason: 'not_enabled', status: 405, detail: 'forward proxy not enabled'})
        sendTextError(res, 405, `forward proxy not enabled; to use pipelock as HTTP_PROXY/HTTPS_PROXY set ${FORWARD_PROXY_HINT}`, headers)
        return
      }
      let parsed: GoUrl | undefined
      try {
        parsed = parseGoUrl(target)
      } catch {
        parsed = undefined
      }
      if (parsed === undefined || parsed.host === '') {
        req.resume()
        sendTextError(res, 400, 'invalid URL')
        return
      }
      // The parse goes with the exchange: the upstream request is addressed from it, not parsed again.
      this.run(res, handleForward(this.rt.ports.forward, {req, res, b: this.rt.bases.of(req, 'forward'), target, parsed}))
      return
    }
    if (!originForm) {
      req.resume()
      sendTextError(res, 400, 'invalid request target')
      return
    }
    switch (path) {
      case '/fetch':
        this.run(res, handleFetch(this.rt.ports.fetch, {req, res, b: this.rt.bases.of(req, 'fetch', queryParam(rawQuery, 'agent')), rawQuery}))
        return
      case '/health':
        req.resume()
        this.health(res)
        return
      case '/ws':
        if (this.rt.wsProxy !== null) {
          this.run(res, this.rt.wsProxy.handleRequest(req, res, this.rt.bases.of(req, 'websocket'), rawQuery))
          return
        }
        req.resume()
        // Refused as the upgrade to /ws is when the WebSocket proxy is off: recorded, receipt named.
        sendTextError(res, 404, 'WebSocket proxy not enabled', this.refuseUnserved(req, 'websocket', {layer: UNPROXIED_UPGRADE, reason: 'not_enabled', status: 404, detail: 'WebSocket proxy not enabled'}))
        return
      case DIRECTORY_PATH:
        req.resume()
        this.signatureDirectory(req, res)
        return
      case '/metrics':
      case '/stats':
        req.resume()
        if (this.rt.snapshot().config.metrics_listen !== '') sendTextError(res, 404, '404 page not found')
        else this.routeMetrics(req, res)
        return
    }
    if (path.startsWith('/api/v1/') && this.rt.snapshot().config.kill_switch.api_listen === '' && this.apiThrottled(req, res, path)) return
    if (this.rt.admin.sessions !== null && path.startsWith('/api/v1/') && this.rt.snapshot().config.kill_switch.api_listen === '') {
      if (this.rt.admin.sessions.handle(req, res, path, clientIpOf(req.socket.remoteAddress))) return
      if (this.rt.admin.policy?.handle(req, res, path, clientIpOf(req.socket.remoteAddress))) return
      if (this.rt.admin.approvals?.handle(req, res, path, queryOf(req.url), clientIpOf(req.socket.remoteAddress))) return
    }
    if (path.startsWith('/api/v1/killswitch') && this.rt.snapshot().config.kill_switch.api_listen === '') {
      if (this.rt.admin.killSwitch.handle(req, res, path, clientIpOf(req.socket.remoteAddress))) return
    }
    req.resume()
    sendTextError(res, 404, '404 page not found')
  }

  /**
   * `/.well-known/http-message-signatures-directory` (receipts.md §12, envelope spec §8): the
   * mediation-envelope key in force (rotated on reload); 404 while no signer is installed.
   */
  private signatureDirectory(req: IncomingMessage, res: ServerResponse): void {
    const signer = this.rt.snapshot().mediation?.signer ?? null
    if (signer === null) {
      sendTextError(res, 404, '404 page not found')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendTextError(res, 405, 'method not allowed')
      return
    }
    this.rt.audit.event('info', 'mediation_envelope_directory', 'mediation envelope key directory served', {client_ip: clientIpOf(req.socket.remoteAddress)})
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
    if (this.rt.admin.sessions?.handle(req, res, path, ip)) return
    if (this.rt.admin.policy?.handle(req, res, path, ip)) return
    if (this.rt.admin.approvals?.handle(req, res, path, queryOf(url), ip)) return
    if (!this.rt.admin.killSwitch.handle(req, res, path, ip)) {
      req.resume()
      sendTextError(res, 404, '404 page not found')
    }
  }

  /** Failed-token throttling in front of the admin APIs (issue 10 item 12); true when answered 429. */
  private apiThrottled(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    return guardApiRequest(this.authThrottle, req, res, clientIpOf(req.socket.remoteAddress), path, {
      onFailure: (client, p) => {
        this.rt.metrics.apiAuthFailures.inc()
        this.rt.audit.event('warn', 'api_auth_failure', 'admin API request with a missing or wrong bearer token', {client_ip: client, path: p})
      },
      onThrottled: (client, p, wait) => {
        this.rt.metrics.apiAuthThrottled.inc()
        this.rt.audit.event('warn', 'api_auth_throttled', 'admin API client throttled after repeated authentication failures', {client_ip: client, path: p, retry_after_seconds: wait})
      },
    }, (r) => holdsStrongToken(r, this.apiToken()))
  }

  private routeMetrics(req: IncomingMessage, res: ServerResponse): void {
    req.resume()
    const path = (req.url ?? '').split('?')[0]
    if (path === '/metrics') {
      const body = this.rt.metrics.prometheus()
      res.writeHead(200, {'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body))})
      res.end(body)
    } else if (path === '/stats') sendJson(res, 200, this.rt.metrics.stats())
    else sendTextError(res, 404, '404 page not found')
  }

  healthBody(): {status: number; body: Record<string, unknown>} {
    const c = this.rt.snapshot().config
    const subs = this.rt.watchdog?.subsystems()
    const lock = this.rt.contracts?.status()
    const drift = this.configDrift()
    const pending = this.configRestartPending()
    // A contract store that stops loading is a health failure, never a silent scanner-only fallback.
    const healthy = (subs === undefined || Object.values(subs).every(Boolean)) && lock?.healthy !== false
    return {
      status: healthy ? 200 : 503,
      body: {
        status: healthy ? 'healthy' : 'unhealthy',
        version: this.rt.version,
        mode: c.mode,
        uptime_seconds: (this.nowMs() - this.rt.startedAt) / 1000,
        dlp_patterns: c.dlp.patterns.length,
        response_scan_enabled: c.response_scanning.enabled,
        git_protection_enabled: c.git_protection.enabled,
        rate_limit_enabled: true,
        forward_proxy_enabled: c.forward_proxy.enabled,
        websocket_proxy_enabled: c.websocket_proxy.enabled,
        request_body_scan_enabled: c.request_body_scanning.enabled,
        tls_interception_enabled: c.tls_interception.enabled,
        // Enabled, but a reload's CA failed to load: tunnels it would intercept are closed (transports §2.7 step 15).
        ...(c.tls_interception.enabled && !this.interceptingTls() ? {tls_interception_unavailable: true} : {}),
        kill_switch_active: this.rt.killSwitch.isActive(),
        // Issue 34: a reload refused the file on disk, so the running policy is not the file's.
        // Health stays 200 (a restart would apply the refused file: an orchestrator must not do that).
        ...(drift !== undefined || pending.length > 0 ? {config_in_sync: false} : {}),
        ...(drift !== undefined ? {config_drift: drift} : {}),
        // Fields of the file in force that a reload kept at their running value (restart-only).
        ...(pending.length > 0 ? {config_restart_pending: [...pending]} : {}),
        // The flight recorder cannot write: decisions are answered without their record. Health
        // stays 200 (a restart frees no disk); the fields are there only while it fails.
        ...(this.recorderHealth?.failing === true ? {flight_recorder_writing: false, flight_recorder_write_failures: this.recorderHealth.writeFailures} : {}),
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
    if (!this.rt.snapshot().config.forward_proxy.enabled) {
      // Not a transport here: the listener's kill-switch gate answers first.
      if (this.gate(req, {originForm: false, path: '', transport: 'connect'}, (headers) => killSwitchConnectDeny(socket, this.rt.killSwitch.message, headers))) return
      const headers = this.refuseUnserved(req, 'connect', {layer: 'forward_proxy', reason: 'not_enabled', status: 405, detail: 'CONNECT not supported: forward proxy not enabled'})
      writeRawResponse(socket, 405, 'Method Not Allowed', {'Content-Type': 'text/plain; charset=utf-8', ...headers}, `CONNECT not supported: forward proxy not enabled; to use pipelock as HTTPS_PROXY set ${FORWARD_PROXY_HINT}\n`)
      return
    }
    handleConnect(this.rt.ports.connect, {req, client: socket, head, b: this.rt.bases.of(req, 'connect')}).catch(() => socket.destroy())
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined)
    // Upgrades go through the same gate (§25.11).
    const target = req.url ?? ''
    const path = target.startsWith('/') ? target.split('?')[0]! : ''
    // The WebSocket proxy meets the kill switch in its gate; any other upgrade here.
    if (path === '/ws' && this.rt.wsProxy !== null) {
      const q = target.indexOf('?')
      this.rt.wsProxy.handleUpgrade({req, socket, head, b: this.rt.bases.of(req, 'websocket'), rawQuery: q < 0 ? '' : target.slice(q + 1)}).catch(() => socket.destroy())
      return
    }
    if (this.gate(req, {originForm: target.startsWith('/'), path, transport: 'websocket'}, (headers) => killSwitchConnectDeny(socket, this.rt.killSwitch.message, headers))) return
    // With the WebSocket proxy on, the upgrade was sent elsewhere than /ws: say where it goes.
    // The reason says which: the feature is off (not_enabled), or on and asked the wrong way (bad_request).
    const on = this.rt.wsProxy !== null
    const text = on ? 'WebSocket upgrades go to /ws?url=<ws or wss URL>; no other path or absolute-URI upgrade is proxied\n' : 'WebSocket proxy not enabled\n'
    const headers = this.refuseUnserved(req, 'websocket', {layer: UNPROXIED_UPGRADE, reason: on ? 'bad_request' : 'not_enabled', status: 404, detail: text.trimEnd()})
    writeRawResponse(socket, 404, 'Not Found', {'Content-Type': 'text/plain; charset=utf-8', ...headers}, text)
  }

  /** Graceful shutdown: stop accepting, drain for up to `drainMs`, then cut what is left. */
  async close(drainMs = 5000): Promise<void> {
    this.releasePolling?.()
    this.rt.stop()
    const closing = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))
    for (const s of this.servers) s.closeIdleConnections()
    const timer = setTimeout(() => {
      for (const s of this.sockets) s.destroy()
    }, drainMs)
    await Promise.all(closing)
    clearTimeout(timer)
    await this.rt.closePools()
    await this.reverseAgent?.close().catch(() => undefined)
  }
}

/** What a bind failure's errno means, beside the code itself. */
const LISTEN_ERRNO: Readonly<Record<string, string>> = {
  EADDRINUSE: 'EADDRINUSE (address already in use)',
  EACCES: 'EACCES (permission denied)',
  EADDRNOTAVAIL: 'EADDRNOTAVAIL (not an address of this host)',
  ENOTFOUND: 'ENOTFOUND (not an IP address, and no host of that name)',
  EAI_AGAIN: 'EAI_AGAIN (the host name could not be resolved now)',
}

/** LISTEN_FAILED naming the address and which listener wanted it (issue 34: "cannot listen: EADDRINUSE" named neither). */
export function listenError(addr: string, role: string, err: NodeJS.ErrnoException): PipelockError {
  const why = LISTEN_ERRNO[err.code ?? ''] ?? err.code ?? err.message
  const hint = err.code === 'EADDRINUSE' ? 'choose a free address, or stop what holds it'
    : err.code === 'EACCES' ? 'ports below 1024 need privileges: choose a port above 1023'
    : 'use host:port with an IP address of this host or a name that resolves to one, e.g. 127.0.0.1:8888'
  return new PipelockError('LISTEN_FAILED', `cannot listen on ${addr} for the ${role}: ${why}`, {hint})
}

/** The query of a request target ('' when none). */
function queryOf(url: string | undefined): string {
  const q = (url ?? '').indexOf('?')
  return q < 0 ? '' : (url ?? '').slice(q + 1)
}
