/**
 * `GET /ws?url=ws[s]://…` (transports §3.2–§3.3): handshake admission through the shared gate
 * (URL scan → session → capacity → forwarded-header DLP → contract gate), then the upstream is
 * dialled **before** the client is upgraded (§6 #16/#17 fixes): a dead upstream is a 502, and the
 * subprotocol the upstream selected is the one the client is told. Then the shared relay.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Duplex} from 'node:stream'
import tls from 'node:tls'
import {isIP, type Socket} from 'node:net'
import WebSocket, {WebSocketServer} from 'ws'
import {goHostname, goPort, parseGoUrl} from '../../canonical/index.js'
import {timedOutError} from '../../errors/index.js'
import {blockHeaders, CAPACITY_RETRY_AFTER_SECONDS, sendBlockBody, sendTextError} from '../block.js'
import {writeRawResponse} from '../relay/raw-response.js'
import {blockAnswerHeaders, hintHeader, WS_CAPACITY_HINT, WS_SCHEME_HINT} from '../hints.js'
import {allowDecision, blockDecision, safeTarget, snapshotFor, upstreamFailure, type DecisionBase} from '../core.js'
import type {Dialer, VersionPort} from '../ports.js'
import {extractFetchTarget} from '../relay/query-target.js'
import {firstHeader, RequestRecord, type BlockAnswer} from '../request-gate.js'
import type {GatePorts, RequestGateContext} from '../gate/context.js'
import {runGate} from '../gate/run-gate.js'
import {attachMediation, ENVELOPE_FAILED} from '../relay/mediation.js'
import {causedFailure, upstreamCause, UpgradeRefusedError} from '../upstream-cause.js'
import {forwardedHeaderList, forwardedHeaders} from './headers.js'
import {WsMetrics} from './metrics.js'
import {relayWebSocket, type WsRelayHooks, type WsRelayPorts} from './relay.js'
import {RequestSuppression} from '../suppression.js'
import type {ReasonCode, Suppressor} from '../../scanner/index.js'
import type {DecisionStage} from '../decision.js'

const STATUS_TEXT: Record<number, string> = {400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 502: 'Bad Gateway', 503: 'Service Unavailable'}
const HANDSHAKE_TIMEOUT_MS = 30_000

/** How a handshake answer reaches the client: a raw socket (upgrade path) or a response (request path). */
/** Answers the handshake: text, or JSON when `json` (a stage's own body, the kill switch's). */
type Answer = (status: number, text: string, headers?: Record<string, string>, json?: boolean) => void

interface Target {
  readonly wsUrl: string
  readonly scheme: 'ws' | 'wss'
  /** host[:port] as given. */
  readonly authority: string
  readonly hostname: string
  readonly port: number
  /** The URL the scanners and the contract gate evaluate (and capture records): `ws`→`http`, `wss`→`https`. */
  readonly httpUrl: string
  /** The URL the upstream is dialled with (no userinfo, no fragment). */
  readonly dialUrl: string
}

/** §3.2 step 5 and 6: ws/wss only; the http(s) form drops userinfo and fragment. */
export function mapWebSocketUrl(raw: string): Target | null {
  let u
  try {
    u = parseGoUrl(raw)
  } catch {
    return null
  }
  const scheme = u.scheme.toLowerCase()
  if ((scheme !== 'ws' && scheme !== 'wss') || u.host === '') return null
  const hostname = goHostname(u.host)
  if (hostname === '') return null
  const portText = goPort(u.host)
  const port = portText !== '' ? Number(portText) : scheme === 'wss' ? 443 : 80
  const path = u.rawPath === '' ? '/' : u.rawPath
  const query = u.rawQuery !== '' || u.forceQuery ? `?${u.rawQuery}` : ''
  return {
    wsUrl: raw,
    scheme,
    authority: u.host,
    hostname,
    port,
    httpUrl: `${scheme === 'wss' ? 'https' : 'http'}://${u.host}${path}${query}`,
    // The upstream client parses this as a WHATWG URL, which reads a `\` in a ws(s) path as `/`:
    // `/v1/users/x\admin` would reach `/v1/users/x/admin`, not the path the contract judged. Sent
    // as `%5C` (as Go's EscapedPath sends it), the upstream gets the path the gate evaluated.
    dialUrl: `${scheme}://${u.host}${path.replaceAll('\\', '%5C')}${query}`,
  }
}

/** §3.2 step 13: the header that makes this not a valid WebSocket upgrade, or null. */
function badUpgradeHeader(req: IncomingMessage): string | null {
  if (req.method !== 'GET') return 'method'
  if ((firstHeader(req.headers.upgrade) ?? '').toLowerCase() !== 'websocket') return 'Upgrade'
  if (!(firstHeader(req.headers.connection) ?? '').toLowerCase().split(',').some((t) => t.trim() === 'upgrade')) return 'Connection'
  const key = firstHeader(req.headers['sec-websocket-key']) ?? ''
  if (!/^[+/0-9A-Za-z]{22}==$/.test(key)) return 'Sec-WebSocket-Key'
  if (firstHeader(req.headers['sec-websocket-version']) !== '13') return 'Sec-WebSocket-Version'
  const protocols = firstHeader(req.headers['sec-websocket-protocol'])
  if (protocols !== undefined && !validProtocolList(protocols)) return 'Sec-WebSocket-Protocol'
  return null
}

/** RFC 6455 §4.1: `1#token`, each named once. */
const PROTOCOL_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*,[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/

/**
 * Whether the client's subprotocol offer is one the upgrading `ws` server accepts. It refuses any
 * other itself (a 400) without handing the connection back, after the upstream has been dialled:
 * checked here first, so such an offer is refused — and recorded — before anything is dialled.
 */
function validProtocolList(v: string): boolean {
  if (!PROTOCOL_LIST.test(v)) return false
  const names = v.split(',').map((p) => p.trim())
  return new Set(names).size === names.length
}

/** What the WebSocket proxy uses: the gate's ports, the SSRF-safe dialer, the version (forwarded `User-Agent`), the frame relay's. */
export type WebSocketPorts = GatePorts & Dialer & VersionPort & WsRelayPorts

/** A `/ws` upgrade (or an intercepted tunnel's): the request, the hijacked socket and the bytes after its head, its base, the query. */
export interface WsUpgrade {
  readonly req: IncomingMessage
  readonly socket: Duplex
  readonly head: Buffer
  readonly b: DecisionBase
  readonly rawQuery: string
}

/** The WebSocket proxy of one running proxy: its capacity count and its `ws` server. */
export class WebSocketProxy {
  private active = 0
  /** transports §3.9 metric families; kept across reloads (one proxy, one set of counts). */
  readonly metrics = new WsMetrics()
  private readonly selected = new WeakMap<IncomingMessage, string>()
  /** The `ws` server that upgrades clients, for the `max_message_bytes` of the latest handshake (rebuilt when a reload changes it). */
  private server: {readonly max: number; readonly wss: WebSocketServer} | undefined
  /** The upstream trust list as one secure context, built once per list (parsing it per dial stalls the loop). */
  private trust: {readonly ca: string[]; readonly context: tls.SecureContext} | undefined

  /**
   * `upstreamCa`: the trust list of every upstream TLS leg (system store plus `SSL_CERT_FILE` /
   * `SSL_CERT_DIR`, transports §2.2), read once on first use; undefined means Node's defaults.
   */
  constructor(
    private readonly ports: WebSocketPorts,
    private readonly hooks: WsRelayHooks = {},
    private readonly upstreamCa?: () => string[],
  ) {}

  /**
   * The server upgrading a client with the message limit `max` (the library refuses a bigger
   * message on the header, 1009). `max_message_bytes` reloads without a restart: a new handshake
   * gets the limit in force; open connections keep the one they were opened with (their sockets
   * hold it), as they keep their timers.
   */
  private upgrader(max: number): WebSocketServer {
    if (this.server?.max !== max) {
      this.server = {
        max,
        wss: new WebSocketServer({
          noServer: true,
          perMessageDeflate: false,
          maxPayload: max,
          autoPong: false,
          skipUTF8Validation: false,
          clientTracking: false,
          // The client is told exactly the protocol the upstream selected (none if none).
          handleProtocols: (_offered, req) => this.selected.get(req) ?? false,
        }),
      }
    }
    return this.server.wss
  }

  private trustContext(ca: string[]): tls.SecureContext {
    if (this.trust?.ca !== ca) this.trust = {ca, context: tls.createSecureContext({ca})}
    return this.trust.context
  }

  /** Live relays (the capacity semaphore of §3.2 step 10). */
  activeConnections(): number {
    return this.active
  }

  /** A non-upgrade `GET /ws` on the request path: the same admission, then the handshake error. */
  async handleRequest(req: IncomingMessage, res: ServerResponse, b: DecisionBase, rawQuery: string): Promise<void> {
    req.resume()
    const answer: Answer = (status, text, headers = {}, json = false) => (json ? sendBlockBody(res, status, {json: text}, headers) : sendTextError(res, status, text, headers))
    const admitted = await this.admit(req, b, rawQuery, answer)
    if (admitted === null) return
    this.active--
    this.refuseHandshake(admitted, b, answer, badUpgradeHeader(req) ?? 'Upgrade')
  }

  /**
   * A request the gate admitted that is not a valid WebSocket upgrade (§3.2 step 13): a 400, recorded
   * as a `bad_request` block first like every other refusal of `/ws`, its receipt named.
   */
  private refuseHandshake(a: Admitted, b: DecisionBase, answer: Answer, header: string): void {
    const why = {stage: 'upgrade', layer: 'upgrade', reason: 'bad_request', status: 400, detail: `handshake error: bad "${header}" header`, warnings: a.warnings} as const
    refuseRecorded(this.ports, a.rec, b, a.shown, answer, why, {explain: a.explain})
  }

  async handleUpgrade(u: WsUpgrade): Promise<void> {
    const {req, socket, head, b, rawQuery} = u
    const answer: Answer = (status, text, headers = {}, json = false) =>
      writeRawResponse(socket, status, STATUS_TEXT[status] ?? 'Forbidden', json ? {'Content-Type': 'application/json', ...headers} : {...headers, 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff'}, text + '\n')
    const a = await this.admit(req, b, rawQuery, answer)
    if (a === null) return
    let released = false
    const release = (): void => {
      if (!released) this.active--
      released = true
    }
    try {
      const bad = badUpgradeHeader(req)
      if (bad !== null) {
        release()
        this.refuseHandshake(a, b, answer, bad)
        return
      }
      const upstream = await this.dial(a.target, a.headers, a.protocols, a.maxMessageBytes).catch((e: unknown) => e as Error)
      if (upstream instanceof Error) {
        release()
        const d = upstreamFailure(this.ports, b, a.shown, causedFailure('upstream dial', upstreamCause(upstream)))
        a.rec.record(d)
        answer(502, 'WebSocket upstream dial failed', hintHeader(a.explain, d))
        return
      }
      if (socket.destroyed) {
        release()
        upstream.terminate()
        return
      }
      // Record before answer: the handshake's allow decision precedes the 101.
      a.rec.record(allowDecision(this.ports, b, a.shown, {status: 101, bytes: 0, warnings: a.warnings}))
      this.ports.audit.event('info', 'ws_open', 'WebSocket connection opened', {target: a.shown, client_ip: b.clientIp, request_id: b.requestId, agent: b.agent})
      if (upstream.protocol !== '') this.selected.set(req, upstream.protocol)
      let upgraded = false
      this.upgrader(a.maxMessageBytes).handleUpgrade(req, socket, head, (client) => {
        upgraded = true
        const opened = this.ports.nowMs()
        this.metrics.relayOpened()
        const done = relayWebSocket(client, upstream, {
          ports: this.ports, base: b, target: a.shown, host: a.target.hostname, record: (d) => a.rec.record(d), session: a.rec.session, sessions: a.rec.sessions, hooks: this.hooks, metrics: this.metrics,
          maxMessageBytes: a.maxMessageBytes,
          ...(a.suppress ? {suppress: a.suppress} : {}),
        })
        done.then(
          (r) => this.metrics.relayClosed(r.proxyClosed, (this.ports.nowMs() - opened) / 1000),
          () => this.metrics.relayClosed(true, (this.ports.nowMs() - opened) / 1000),
        )
        // Frames the upstream sent right behind its 101 wait for the relay's listeners.
        upstream.resume()
        done.finally(release).catch(() => undefined)
      })
      // The server calls back at once or never: never when it gave up on the client (a client that
      // already sent its FIN is dropped). No relay owns the upstream or the slot then: both go now,
      // or each such client would hold an upstream connection and a place of the cap for good.
      if (!upgraded) {
        release()
        upstream.terminate()
      }
    } catch (e) {
      release()
      throw e
    }
  }

  /**
   * §3.2 steps 3–12. On success the connection holds a capacity slot (the caller releases it);
   * on a block the answer has been written and null is returned.
   */
  private async admit(req: IncomingMessage, b: DecisionBase, rawQuery: string, answer: Answer): Promise<Admitted | null> {
    const ports = this.ports
    // The agent's profile view (its own scanner, mode and allowlist), as on fetch and forward.
    const snap = snapshotFor(ports, b)
    const cfg = snap.config
    // A refusal before the gate ran (no target to gate): recorded against what was asked, then answered.
    const refuse = (shown: string, why: Refusal, headerLayer?: string): null => {
      refuseRecorded(ports, new RequestRecord(ports, {sessions: snap.sessions, b, url: shown}), b, shown, answer, why, {explain: cfg.explain_blocks, ...(headerLayer === undefined ? {} : {layer: headerLayer})})
      return null
    }
    // What the request asked for, as safe to log (it was never scanned).
    const asked = (layer: string): string => safeTarget(snap, req.url ?? '/ws', layer)
    if (!cfg.websocket_proxy.enabled) {
      return refuse(asked('upgrade'), {stage: 'upgrade', layer: 'upgrade', reason: 'not_enabled', status: 404, detail: 'WebSocket proxy not enabled'})
    }
    const raw = extractFetchTarget(rawQuery)
    if (raw === null || raw === '') {
      return refuse(asked('upgrade'), {stage: 'upgrade', layer: 'upgrade', reason: 'bad_request', status: 400, detail: "missing 'url' query parameter"})
    }
    const target = mapWebSocketUrl(raw)
    if (target === null) {
      return refuse(safeTarget(snap, raw, 'scheme'), {stage: 'url_scan', layer: 'scheme', reason: 'scheme_blocked', status: 400, detail: 'invalid URL: must be ws or wss', hint: WS_SCHEME_HINT}, 'scheme')
    }
    const warnings: string[] = []
    // The record step keeps the http(s) form: what the gate evaluates and what capture learns.
    const rec = new RequestRecord(ports, {sessions: snap.sessions, b, url: target.httpUrl})
    const block: BlockAnswer = ({stage, layer, detail, status, reason, scan, body, hint, retryAfter}) => {
      const code = reason ?? scan?.reason ?? undefined
      const d = blockDecision(ports, b, safeTarget(snap, raw, layer), {stage, layer, ...(code ? {reason: code} : {}), detail, status, enforced: true, warnings, ...(scan ? {scan} : {}), hint})
      const receipt = rec.record(d)
      this.metrics.handshakeBlocked()
      const text = typeof body === 'object' ? body.json : reason === 'session_anomaly' ? detail : `WebSocket blocked: ${detail}`
      answer(status, text, blockAnswerHeaders(cfg.explain_blocks, d.reason!, layer === 'session_deny' ? undefined : layer, d, {receipt, contract: stage === 'contract', retryAfter}), typeof body === 'object')
    }
    const fwd = forwardedHeaders(req.headers, cfg, {scheme: target.scheme, host: target.authority}, ports.version)
    // The gate (gate/transport-stages.ts, row websocket): URL scan → session → header DLP of the
    // forwarded headers → contract → budget (an exhausted budget refuses new WebSockets too).
    const gate: RequestGateContext = {
      ports, snap, b, rec, req, block, warnings, method: 'GET', target: target.httpUrl, contractUrl: target.httpUrl,
      shownAs: (layer) => safeTarget(snap, raw, layer), airlock: 'websocket', headers: () => forwardedHeaderList(fwd.headers), budgetHost: target.hostname,
      scan: null, shown: '', sessionHost: '', body: null,
    }
    if (await runGate('websocket', gate)) return null
    // The envelope signs the handshake in its http(s) form (E6 fixed: verifiers rebuild http(s)://).
    if (gate.mediation !== undefined) {
      const env: Record<string, string | string[]> = {}
      if (!attachMediation(gate.mediation, {method: 'GET', url: target.httpUrl, headers: env, body: null})) {
        block({stage: 'envelope', layer: 'mediation_envelope', detail: ENVELOPE_FAILED, status: 403, reason: 'outbound_envelope_failed'})
        return null
      }
      for (const [k, v] of Object.entries(env)) fwd.headers[k] = Array.isArray(v) ? v.join(', ') : v
    }
    const shown = gate.shown
    // The capacity semaphore (§3.2 step 10), checked and taken in one turn after the gate.
    // Recorded (the gate's session sees it) before the answer, as a tunnel's capacity refusal is.
    if (this.active >= cfg.websocket_proxy.max_concurrent_connections) {
      const why = {stage: 'capacity', layer: 'ratelimit', reason: 'rate_limit', status: 503, detail: 'too many active WebSocket connections', hint: WS_CAPACITY_HINT, warnings} as const
      refuseRecorded(ports, rec, b, shown, answer, why, {explain: cfg.explain_blocks, layer: 'ratelimit', retryAfter: CAPACITY_RETRY_AFTER_SECONDS})
      return null
    }
    this.active++
    // operations.md §4.3: client messages' DLP findings are suppressed against the ws(s) URL as given.
    const suppress = new RequestSuppression(ports, snap, b).for('body_dlp', raw)
    // The connection's message limit, both sides, fixed for its life (taken with the handshake's snapshot).
    const maxMessageBytes = cfg.websocket_proxy.max_message_bytes
    return {target, explain: cfg.explain_blocks, rec, shown, warnings, headers: fwd.headers, protocols: fwd.protocols, maxMessageBytes, ...(suppress ? {suppress} : {})}
  }

  /** §3.3: SSRF-safe dial, then the WebSocket handshake offering the client's protocols (messages up to `max` bytes); resolves once open. */
  private async dial(t: Target, headers: Record<string, string>, protocols: string[], max: number): Promise<WebSocket> {
    const socket: Socket = await this.ports.dial(t.hostname, t.port)
    const {'Sec-WebSocket-Protocol': _offer, ...rest} = headers
    return await new Promise<WebSocket>((resolve, reject) => {
      let up: WebSocket
      try {
        up = new WebSocket(t.dialUrl, protocols, {
          perMessageDeflate: false, // the client default is on; compressed frames cannot be scanned
          maxPayload: max,
          autoPong: false,
          headers: rest,
          followRedirects: false,
          createConnection: () =>
            t.scheme === 'wss'
              ? tls.connect({socket, ALPNProtocols: ['http/1.1'], ...(isIP(t.hostname) === 0 ? {servername: t.hostname} : {}), ...(this.upstreamCa ? {secureContext: this.trustContext(this.upstreamCa())} : {})})
              : socket,
        })
      } catch (e) {
        socket.destroy()
        reject(e as Error)
        return
      }
      // Our own timer rather than the client's handshakeTimeout: its error carries no code, and
      // the 502 hint and the audit line name a timeout by its code.
      const timer = setTimeout(() => fail(timedOutError('WebSocket opening handshake')), HANDSHAKE_TIMEOUT_MS)
      const fail = (err: Error): void => {
        clearTimeout(timer)
        up.removeAllListeners()
        up.on('error', () => undefined)
        up.terminate()
        reject(err)
      }
      up.once('error', fail)
      up.once('unexpected-response', (_req, res) => {
        res.resume()
        fail(new UpgradeRefusedError(res.statusCode ?? 0))
      })
      up.once('open', () => {
        clearTimeout(timer)
        up.off('error', fail)
        up.on('error', () => undefined) // until the relay's own listener is attached
        // Held until the relay listens, so nothing sent right behind the 101 is lost.
        up.pause()
        resolve(up)
      })
    })
  }
}

/** A refusal of `/ws` that is not one of its gate's stages. */
interface Refusal {
  readonly stage: DecisionStage
  readonly layer: string
  readonly reason: ReasonCode
  readonly status: number
  readonly detail: string
  readonly hint?: string
  readonly warnings?: string[]
}

/**
 * Records `why` as a block Decision in `rec` before it answers it (the detail as the text), the
 * receipt named: like every refusal of `/ws`. `show.layer` is the layer the answer names (none
 * for not_enabled and bad_request: the reason says which); `show.retryAfter` its Retry-After.
 */
function refuseRecorded(ports: WebSocketPorts, rec: RequestRecord, b: DecisionBase, shown: string, answer: Answer, why: Refusal, show: {readonly explain: boolean; readonly layer?: string; readonly retryAfter?: number}): void {
  const {stage, layer, reason, status, detail, hint, warnings} = why
  const d = blockDecision(ports, b, shown, {stage, layer, reason, detail, status, enforced: true, hint, ...(warnings === undefined ? {} : {warnings})})
  const receipt = rec.record(d)
  answer(status, detail, show.layer === undefined ? blockHeaders(reason, undefined, {receipt}) : blockAnswerHeaders(show.explain, reason, show.layer, d, {receipt, ...(show.retryAfter === undefined ? {} : {retryAfter: show.retryAfter})}))
}

interface Admitted {
  readonly target: Target
  /** `explain_blocks` at the handshake: a failed dial's 502 carries its cause as the hint. */
  readonly explain: boolean
  readonly rec: RequestRecord
  readonly shown: string
  readonly warnings: string[]
  readonly headers: Record<string, string>
  readonly protocols: string[]
  /** `websocket_proxy.max_message_bytes` at the handshake: the connection's limit. */
  readonly maxMessageBytes: number
  /** The request-body DLP suppressor of the client's messages (undefined without `suppress` entries). */
  readonly suppress?: Suppressor
}
