/**
 * CONNECT tunnels (§4.3): the synthetic `https://<host>/` is URL-scanned, the CONNECT request's
 * own headers get header DLP, a 1024-tunnel cap applies, the upstream is dialled through the
 * SSRF-safe dialer, the client's first TLS record is checked for a matching SNI, then bytes are
 * relayed with idle and lifetime timers. Kill-switch activation destroys every live tunnel
 * (an intercepted one once the answers it gave inside are out: intercept/tunnel.ts).
 */
import type {IncomingMessage} from 'node:http'
import {Socket} from 'node:net'
import type {Duplex} from 'node:stream'
import {blockHeaders, CAPACITY_RETRY_AFTER_SECONDS, killSwitchBody} from './block.js'
import {budgetBytes, budgetKey} from './agent-budget.js'
import {blockAnswerHeaders, hintHeader} from './hints.js'
import {causedFailure, upstreamCause} from './upstream-cause.js'
import {allowDecision, blockDecision, safeTarget, snapshotFor, upstreamFailure, type DecisionBase} from './core.js'
import type {Dialer, InterceptorSource, RelayBuffersPort, TunnelRegistry} from './ports.js'
import type {Decision} from './decision.js'
import {RequestRecord, type BlockAnswer} from './request-gate.js'
import {writeRawResponse} from './relay/raw-response.js'
import type {GatePorts, RequestGateContext} from './gate/context.js'
import {runGate} from './gate/run-gate.js'
import {killSwitchStage} from './gate/stages/kill-switch.js'
import {TunnelLookup} from './tunnel-dns.js'
import {wsRedirectHint} from './ws-redirect-hint.js'
import {DownloadRelay} from './tunnel-relay.js'
import {firstRecordVerdict, peekFirstRecord, PLAINTEXT_TUNNEL_DETAIL, PLAINTEXT_TUNNEL_LAYER, rawTunnelAllowed} from './tunnel-first-bytes.js'

export const MAX_TUNNELS = 1024

const STATUS_TEXT: Record<number, string> = {400: 'Bad Request', 403: 'Forbidden', 429: 'Too Many Requests', 502: 'Bad Gateway', 503: 'Service Unavailable'}

function textHeaders(): Record<string, string> {
  return {'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff'}
}

/** `host:port` of an authority-form target; port defaults to 443. */
export function parseAuthority(target: string): {host: string; port: number} | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/?#@[\]\s]+)(?::(\d{1,5}))?$/.exec(target)
  if (m === null) return null
  const port = m[2] === undefined ? 443 : Number(m[2])
  if (port < 1 || port > 65535) return null
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!
  return {host, port}
}

export function killSwitchConnectDeny(socket: Duplex, message: string, headers: Record<string, string> = blockHeaders('kill_switch_active', 'kill_switch')): void {
  writeRawResponse(socket, 503, blockedPhrase(503, headers), {'Content-Type': 'application/json', ...headers}, JSON.stringify(killSwitchBody(message)) + '\n')
}

/**
 * The reason phrase of a refused CONNECT or upgrade. Most clients report a refused tunnel by its
 * status line alone (Python's http.client, httpx, Go: "Tunnel connection failed: 403 …"; the body
 * and headers go unseen), so it names the block: the closed code and the layer header, never
 * request text.
 */
function blockedPhrase(status: number, headers: Record<string, string>): string {
  const code = headers['X-Pipelock-Block-Reason']
  const layer = headers['X-Pipelock-Block-Reason-Layer']
  const text = STATUS_TEXT[status] ?? 'Forbidden'
  return code === undefined ? text : `${text} (blocked by pipelock: ${code}${layer === undefined ? '' : `, layer ${layer}`})`
}

/**
 * What the CONNECT transport uses: the gate's ports, the SSRF-safe dialer, the live-tunnel
 * registry (its cap and the kill switch's teardown), the interceptor in force (pacing and the
 * hand-off of an intercepted tunnel) and the download relay's buffer pool.
 */
export type ConnectPorts = GatePorts & Dialer & TunnelRegistry & InterceptorSource & RelayBuffersPort

/** One CONNECT request: the request, the client socket hijacked from the listener, the bytes read after the head, its base. */
export interface ConnectExchange {
  readonly req: IncomingMessage
  readonly client: Duplex
  readonly head: Buffer
  readonly b: DecisionBase
}

export async function handleConnect(ports: ConnectPorts, x: ConnectExchange): Promise<void> {
  const {req, client, head, b} = x
  const snap = snapshotFor(ports, b)
  const cfg = snap.config
  client.on('error', () => undefined)
  const target = req.url ?? ''
  const auth = parseAuthority(target)
  if (auth === null) {
    writeRawResponse(client, 400, 'Bad Request', textHeaders(), 'invalid CONNECT target\n')
    return
  }
  // An intercepted host's tunnels are paced by the interceptor's set-up queue (its port in ConnectPorts).
  const pacer = ports.interceptor?.intercepts(auth.host) === true ? ports.interceptor : null
  if (pacer !== null) await pacer.admit()
  // The host as the session, header and CEE gates and the exposure read it: lower-cased once.
  const host = auth.host.toLowerCase()
  const bracketed = auth.host.includes(':') ? `[${auth.host}]` : auth.host
  const display = `${bracketed}:${auth.port}`
  const synthetic = `https://${bracketed}/`
  // Session profiling (§14): one lookup after the URL verdict; every Decision is read back by `settle`.
  const ps = snap.sessions
  // The contract sees the tunnel as `CONNECT https://host[:port]/` (a non-default port is its own
  // rule, §7.6), the same URL capture records, so what was observed compiles to what is enforced.
  const contractUrl = auth.port === 443 ? synthetic : `https://${display}/`
  const rec = new RequestRecord(ports, {sessions: ps, b, url: contractUrl, lifetime: client})
  const record = (d: Decision): string | undefined => rec.record(d)
  // How the tunnel's target is written (audit, receipts, emitters, block bodies): `host:port`, or
  // `https://[redacted]/[redacted]` once a content scanner found a secret in the host — the same
  // for a warn (not enforced) as for a block, so the secret is never logged in clear (§10.4).
  const shownFor = (layer: string | null): string => {
    const safe = layer === 'all' ? synthetic : safeTarget(snap, synthetic, layer)
    return safe === synthetic ? display : safe
  }
  const deny: BlockAnswer = ({stage, layer, detail, status, reason, scan, body, hint: findingHint, retryAfter}) => {
    const tgt = shownFor(layer)
    const d = blockDecision(ports, b, tgt, {stage, layer, ...(reason ? {reason} : {}), detail, status, enforced: true, ...(scan ? {scan} : {}), hint: findingHint})
    // Record first, answer second: the block names the receipt that recorded it.
    const receipt = record(d)
    const headers = blockAnswerHeaders(cfg.explain_blocks, d.reason!, layer, d, {receipt, contract: stage === 'contract', retryAfter})
    const phrase = blockedPhrase(status, headers)
    if (typeof body === 'object') writeRawResponse(client, status, phrase, {'Content-Type': 'application/json', ...headers}, body.json + '\n')
    else writeRawResponse(client, status, phrase, {...textHeaders(), ...headers}, body ?? `CONNECT blocked: ${detail}\n`)
  }

  // The scan's DNS answer is the one the dial validates again and connects to (tunnel-dns.ts).
  const dns = TunnelLookup.forTunnel()
  const warnings: string[] = []
  // The gate (gate/transport-stages.ts, row connect): URL scan of the synthetic URL → session
  // (§14.3, airlock hard/drain before dialling, OP §6 item 3) → header DLP → cross-request (host
  // alone, §5.4) → contract (on the tunnel's destination, §7.6) → budget (a spent byte budget
  // refuses new tunnels too).
  const gate: RequestGateContext = {
    ports, snap, b, rec, req, block: deny, warnings, method: 'CONNECT', target: synthetic, contractUrl,
    shownAs: shownFor, airlock: 'connect', resolver: dns.resolver, budgetHost: auth.host, tunnel: {host, display},
    scan: null, shown: display, sessionHost: '', body: null,
  }
  if (await runGate('connect', gate)) return
  // The target as the URL scan left it shown: `display` unless a finding it did not enforce
  // (warn, `enforce: false`) came from a content scanner.
  const shown = gate.shown
  // policy-extra §6: after the gate, before the capacity check; a hint only, never a verdict.
  wsRedirectHint(ports, cfg, {host, shown, b})
  const t = rec.session
  if (ports.activeTunnels() >= MAX_TUNNELS) return deny({stage: 'capacity', layer: 'tunnel_capacity', detail: 'too many active tunnels', status: 503, reason: 'rate_limit', body: 'too many active tunnels\n', retryAfter: CAPACITY_RETRY_AFTER_SECONDS})
  // A tunnel counts from its admission, not from after the dial (issue 10 item 11): the check
  // above and this registration run in one turn, so concurrent CONNECTs cannot overshoot the cap.
  let teardown: () => void = () => client.destroy()
  // The teardown of a cut (the kill switch, the session): the same, but for an intercepted tunnel,
  // which lets the answers the cut gave its inner requests go out first.
  let cutTeardown: (() => void) | null = null
  const untrack = ports.trackTunnel(() => teardown(), b.clientIp, () => (cutTeardown ?? teardown)())

  // A relayed (not intercepted) tunnel reads the upstream into one reused buffer (tunnel-relay.ts).
  const interceptsHost = ports.interceptor?.intercepts(auth.host) ?? false
  const download = interceptsHost ? null : new DownloadRelay(undefined, undefined, ports.relayBuffers)
  let upstream
  try {
    // An intercepted host's pre-dial takes one set-up slot of the interceptor (its Dialer); any other, the proxy's.
    const dialer: Dialer = interceptsHost ? ports.interceptor! : ports
    upstream = await dialer.dial(auth.host, auth.port, download?.onread, dns.lookupAll)
  } catch (err) {
    untrack()
    const d = upstreamFailure(ports, b, shown, causedFailure('tunnel dial failed', upstreamCause(err)))
    record(d)
    writeRawResponse(client, 502, 'Bad Gateway', {...textHeaders(), ...hintHeader(cfg.explain_blocks, d)}, 'tunnel dial failed\n')
    return
  }
  upstream.on('error', () => undefined)
  // The request's one Decision when the kill switch flipped while the tunnel was being dialled:
  // the gate's own kill-switch stage, run again (the same answer and receipt as at admission).
  if (client.destroyed || killSwitchStage.run(gate)) {
    untrack()
    upstream.destroy()
    if (client.destroyed) rec.flush()
    return
  }
  // Record first, answer second: the tunnel's allow decision is in the chain before the 200.
  record(allowDecision(ports, b, shown, {status: 200, bytes: 0, warnings}))
  client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
  const openedAt = ports.nowMs()
  // Relayed bytes so far; replaced by the socket counters once the relay or interception starts.
  let counted = (): number => 0
  // Whether the tunnel's bytes are charged to the session's byte budget at close (not for an
  // intercepted tunnel: the forward pipeline charges each of its requests).
  let budgeted = true
  let closed = false
  let lifetime: NodeJS.Timeout | undefined
  const close = (): void => {
    if (closed) return
    closed = true
    clearTimeout(lifetime)
    untrack()
    const bytes = counted()
    client.destroy()
    upstream.destroy()
    ports.metrics.tunnelClosed(bytes, (ports.nowMs() - openedAt) / 1000)
    if (budgeted) budgetBytes(snap, budgetKey(b), bytes)
    ports.audit.event('info', 'tunnel_close', 'tunnel closed', {target: shown, request_id: b.requestId, agent: b.agent, bytes, duration_ms: ports.nowMs() - openedAt})
  }
  teardown = close
  // Session reset/terminate and airlock hard/drain cut the session's live tunnels. The tunnel is the
  // one connection the cut counts: a request waiting inside an intercepted one is answered by its
  // own registration (relay/exchange-cut.ts) and not counted again.
  if (t !== null) {
    ps!.exposure(t, shown === display ? `https://${display}/` : shown, host, 'tunnel')
    client.once('close', ps!.registerLive(t, () => (cutTeardown ?? close)()))
  }

  // First bytes (§4.3 step 6, issue 10 item 2): peek the first record (replayed upstream), 5 s,
  // ≤ 16 KiB. Plain text is refused unless the host may carry raw tunnels.
  let first: Buffer = head.length > 0 ? Buffer.from(head) : Buffer.alloc(0)
  if (!rawTunnelAllowed(cfg.forward_proxy.raw_tunnel_hosts, auth.host)) {
    const peek = await peekFirstRecord(client, head, auth.host)
    first = peek.first
    const category = peek.category
    ports.metrics.sniOutcome(category, b.profile ?? '_default')
    const verdict = firstRecordVerdict(category, cfg.forward_proxy.sni_verification)
    if (verdict === 'refuse' && !closed) {
      const receipt = record(blockDecision(ports, b, shown, {stage: 'sni', layer: PLAINTEXT_TUNNEL_LAYER, reason: 'scheme_blocked', detail: PLAINTEXT_TUNNEL_DETAIL, status: 403, enforced: true}))
      ports.audit.event('warn', 'tunnel_plaintext', 'CONNECT tunnel carried non-TLS bytes; refused', {target: shown, request_id: b.requestId, agent: b.agent})
      untrack()
      closed = true
      clearTimeout(lifetime)
      upstream.destroy()
      writeRawResponse(client, 403, 'Forbidden', {...textHeaders(), ...blockAnswerHeaders(cfg.explain_blocks, 'scheme_blocked', PLAINTEXT_TUNNEL_LAYER, {layer: PLAINTEXT_TUNNEL_LAYER, detail: PLAINTEXT_TUNNEL_DETAIL}, {receipt})}, `blocked: ${PLAINTEXT_TUNNEL_DETAIL}\n`)
      return
    }
    if (verdict !== 'relay') {
      ports.audit.event('warn', 'sni_mismatch', 'CONNECT SNI verification failed; tunnel closed', {target: shown, category, request_id: b.requestId, agent: b.agent})
      close()
      return
    }
  }
  if (closed) return

  // TLS interception (transports §2.7 step 15): the pre-dialled upstream only proved the target
  // reachable; the tunnel is now served by the interceptor, one pipeline run per inner request.
  const icpt = ports.interceptor ?? null
  if (icpt === null && ports.interceptionUnavailable(auth.host)) {
    // Interception is on but no CA is loaded: a tunnel it would intercept is closed, never
    // relayed unscanned (§2.7 step 15).
    ports.audit.event('error', 'error', 'TLS interception enabled but cert cache unavailable', {target: shown, request_id: b.requestId, agent: b.agent})
    close()
    return
  }
  if (icpt !== null && icpt.intercepts(auth.host)) {
    upstream.destroy()
    // Its bytes are the agent side's, both ways, from the first record on (the CONNECT request
    // and the 200 excluded): `first` is what was read after the request. Logged as tunnel_close's
    // `bytes` and counted in the bytes metric; they were always 0 before.
    if (client instanceof Socket) {
      const read0 = client.bytesRead - first.length
      const written0 = client.bytesWritten
      counted = (): number => client.bytesRead - read0 + (client.bytesWritten - written0)
    }
    budgeted = false
    lifetime = setTimeout(close, cfg.forward_proxy.max_tunnel_seconds * 1000)
    client.once('close', close)
    cutTeardown = icpt.serve({host: auth.host, port: auth.port, connect: b}, {client, first, idleMs: cfg.forward_proxy.idle_timeout_seconds * 1000, close})
    return
  }

  // Relay socket to socket: the download through one reused read buffer (tunnel-relay.ts), the
  // upload with `pipe()`; both keep backpressure (bench: connect). The timers act on events: the
  // lifetime is one timer, cleared on close; idle is the client socket's own timeout, which node
  // restarts on every read and every write (the relay writes to the client whatever upstream
  // sends, so it fires only when both directions were silent). The kill switch needs no per-read check: its cached flag only
  // changes inside `poll()`, which on the off→on edge first runs the activation listeners, and
  // those destroy every tracked tunnel (this one included) before any later read.
  lifetime = setTimeout(close, cfg.forward_proxy.max_tunnel_seconds * 1000)
  if (client instanceof Socket) {
    client.setTimeout(cfg.forward_proxy.idle_timeout_seconds * 1000)
    client.once('timeout', close)
  }
  // Bytes relayed, counted once at close from the upstream socket's own counters: what it read
  // went to the client, what was written to it came from the client (the first record included).
  counted = (): number => upstream.bytesRead + upstream.bytesWritten
  for (const s of [client, upstream]) {
    s.once('close', close)
    s.once('error', close)
  }
  if (first.length > 0) upstream.write(first)
  client.pipe(upstream)
  // No relay buffer when the dial was made for interception and a reload turned it off meanwhile.
  if (download !== null) download.start(upstream, client)
  else upstream.pipe(client)
}
