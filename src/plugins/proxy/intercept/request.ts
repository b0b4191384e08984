/**
 * One decrypted inner request of an intercepted tunnel (transports.md §2.9): the target URL is
 * rebuilt from the CONNECT authority, the `Host`/`:authority` must name that same authority, the
 * and then the forward proxy's own pipeline runs — kill switch, URL scan, session
 * and taint, header and body DLP, the contract gate with the full URL, upstream with a
 * per-request timeout, response checks, record before answer — with the interceptor's
 * upstream pool, no redirect following and its own response cap.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Http2ServerRequest, Http2ServerResponse} from 'node:http2'
import type {Duplex} from 'node:stream'
import {sendTextError} from '../block.js'
import {blockAnswerHeaders} from '../hints.js'
import {writeRawResponse} from '../relay/raw-response.js'
import {blockDecision, clientClosedDecision, safeTarget, type DecisionBase} from '../core.js'
import {handleForward, type ForwardPorts} from '../relay/forward-exchange.js'
import {h2AnswerHeaders} from './h2-answer-headers.js'
import type {RequestIds} from '../ports.js'
import {RequestRecord} from '../request-gate.js'
import type {Interceptor} from './runtime.js'

/** What an intercepted tunnel's inner requests use: the forward exchange's ports and a request id each. */
export type InterceptPorts = ForwardPorts & RequestIds

/** What every inner request of one tunnel shares (the snapshot of the CONNECT, §2.12). */
export interface TunnelContext {
  readonly host: string
  readonly port: number
  /** The CONNECT's decision base: agent (from the CONNECT, never an inner header), client, session. */
  readonly connect: DecisionBase
  readonly interceptor: Interceptor
}

/** `[v6]` or the host as is. */
export function urlHostForm(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

/** Origin-form path and query of an inner request target (an absolute-form target keeps only its path). */
export function innerPath(target: string): string {
  if (target.startsWith('/')) return target
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(target)
  if (m === null) return '/'
  const rest = m[1]!.replace(/#.*$/, '')
  return rest === '' ? '/' : rest.startsWith('?') ? '/' + rest : rest
}

/** `host[:port]` of a Host/`:authority` value, brackets removed (an IPv6 Host without port matches, §6 #9). */
export function splitAuthority(v: string): {host: string; port: string} {
  const m = /^\[([^\]]*)\](?::(.*))?$/.exec(v)
  if (m !== null) return {host: m[1]!, port: m[2] ?? '443'}
  const i = v.lastIndexOf(':')
  if (i < 0) return {host: v, port: '443'}
  return {host: v.slice(0, i), port: v.slice(i + 1)}
}

function first(v: string | string[] | undefined): string {
  return (Array.isArray(v) ? v[0] : v) ?? ''
}

/** One inner request as the authority check reads it. */
interface InnerRequest {
  readonly b: DecisionBase
  readonly req: IncomingMessage | Http2ServerRequest
  readonly path: string
  readonly target: string
}

interface InnerBlock {
  readonly status: number
  readonly text: string
  readonly headers: Record<string, string>
}

/**
 * §2.9 step 3 for any inner request (upgrades included): the authority must be the tunnel's own
 * (no domain fronting inside it). A block is recorded before it is returned for answering. Step
 * 5, the kill switch, is the first stage of the gate the request then runs (the intercept row,
 * or the WebSocket row for an upgrade); activation also tears the tunnel down at once.
 */
function innerChecks(ports: InterceptPorts, t: TunnelContext, inner: InnerRequest): InnerBlock | null {
  const {b, req, path, target} = inner
  const snap = ports.snapshot()
  const block = (x: {readonly stage: 'authority'; readonly shown: string; readonly reason: 'authority_mismatch'; readonly layer: string; readonly status: number; readonly text: string}): InnerBlock => {
    const {stage, shown, reason, layer, status, text} = x
    const rec = new RequestRecord(ports, {sessions: snap.sessions, b, url: target})
    const receipt = rec.record(blockDecision(ports, b, shown, {stage, layer, reason, detail: text, status, enforced: true}))
    return {status, text, headers: blockAnswerHeaders(snap.config.explain_blocks, reason, undefined, {layer, detail: text}, {receipt})}
  }
  const authority = first(req.headers[':authority']) || first(req.headers.host)
  const a = splitAuthority(authority)
  if (a.host.toLowerCase() !== t.host.toLowerCase() || a.port !== String(t.port)) {
    const shown = safeTarget(snap, `https://${authority}${path}`, 'authority')
    ports.audit.event('warn', 'blocked', 'inner request authority does not match the CONNECT target', {scanner: 'tls_authority_mismatch', reason: `authority mismatch: ${shown} vs ${urlHostForm(t.host)}:${t.port}`, request_id: b.requestId, agent: b.agent})
    return block({stage: 'authority', shown, reason: 'authority_mismatch', layer: 'tls_authority_mismatch', status: 403, text: 'authority mismatch: blocked'})
  }
  return null
}

function innerBase(ports: InterceptPorts, t: TunnelContext, method: string): DecisionBase {
  return {...t.connect, requestId: ports.nextRequestId(), transport: 'intercept', method, startMs: ports.nowMs()}
}

export function handleInterceptedRequest(ports: InterceptPorts, t: TunnelContext, req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void {
  const b = innerBase(ports, t, req.method ?? 'GET')
  const path = innerPath(req.url ?? '/')
  const target = `https://${urlHostForm(t.host)}:${t.port}${path}`
  const r = req as IncomingMessage
  const w = res as ServerResponse
  const denied = innerChecks(ports, t, {b, req, path, target})
  if (denied !== null) {
    r.resume()
    return sendTextError(w, denied.status, denied.text, denied.headers)
  }
  const h2 = 'stream' in req
  void handleForward(ports, {req: r, res: w, b, target}, {
    upstream: t.interceptor.upstream,
    followRedirects: false,
    responseCap: {bytes: t.interceptor.maxResponseBytes, status: 403, layer: 'tls_response_blocked', detail: 'response too large for scanning'},
    upstreamErrorText: 'upstream error',
    // HTTP/2 frames a body without Content-Length: END_STREAM on the HEADERS frame says there is none.
    ...(h2 ? {hasBody: !(req as Http2ServerRequest).stream.endAfterHeaders, answerHeaders: h2AnswerHeaders} : {}),
  }).catch(() => {
    // The fallback answer may throw in turn (an HTTP/2 response keeps headers it refused to
    // write): then the stream goes, never the tunnel left waiting to its lifetime.
    try {
      if (!w.headersSent) return sendTextError(w, 500, 'internal error')
    } catch {
      // Destroyed below.
    }
    w.destroy()
  })
}

/** RFC 9113 §7 error codes by number (an RST_STREAM's). */
const H2_ERROR_CODES = [
  'NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR',
  'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
]

/**
 * An HTTP/2 inner request whose stream was reset before its pipeline's turn: nothing of it is
 * judged or forwarded. Recorded as the client's hang-up (`client_closed`), with the reset's code
 * (PROTOCOL_ERROR when the HTTP/2 layer refused the stream itself, as for a body longer or shorter
 * than its content-length). The target is shown only if DLP finds nothing in it.
 */
export function recordStreamReset(ports: InterceptPorts, t: TunnelContext, req: Http2ServerRequest): void {
  const b = innerBase(ports, t, req.method ?? 'GET')
  const target = `https://${urlHostForm(t.host)}:${t.port}${innerPath(req.url ?? '/')}`
  const snap = ports.snapshot()
  const code = req.stream.rstCode ?? 0
  const detail = `HTTP/2 stream reset (${H2_ERROR_CODES[code] ?? `code ${code}`}) before the request was judged (nothing forwarded)`
  new RequestRecord(ports, {sessions: snap.sessions, b, url: target}).record(clientClosedDecision(ports, b, safeTarget(snap, target, 'client'), detail, 'none'))
}

export const INNER_CONNECT_LAYER = 'intercept_connect'
export const INNER_CONNECT_DETAIL = 'CONNECT inside an intercepted tunnel is not supported'

/**
 * A CONNECT inside the tunnel (HTTP/1.1's, or HTTP/2's plain one; the HTTP/2 layer refuses an
 * extended CONNECT itself, as it offers none): a tunnel in the tunnel would carry bytes no stage
 * reads. Refused `405` `bad_request` (layer `intercept_connect`), recorded first, with the inner
 * target in the audit line (shown only if DLP finds nothing in it). Node answered the HTTP/2 one
 * 405 and dropped the HTTP/1.1 connection by itself, and neither left a line.
 */
export function refuseInnerConnect(ports: InterceptPorts, t: TunnelContext, req: IncomingMessage | Http2ServerRequest, to: Duplex | Http2ServerResponse): void {
  const h2 = 'stream' in req
  const b = innerBase(ports, t, 'CONNECT')
  const snap = ports.snapshot()
  const url = `https://${h2 ? first(req.headers[':authority']) : (req.url ?? '')}/`
  const d = blockDecision(ports, b, safeTarget(snap, url, INNER_CONNECT_LAYER), {stage: 'upgrade', layer: INNER_CONNECT_LAYER, reason: 'bad_request', detail: INNER_CONNECT_DETAIL, status: 405, enforced: true})
  const receipt = new RequestRecord(ports, {sessions: snap.sessions, b, url}).record(d)
  const headers = blockAnswerHeaders(snap.config.explain_blocks, 'bad_request', INNER_CONNECT_LAYER, {layer: INNER_CONNECT_LAYER, detail: INNER_CONNECT_DETAIL}, {receipt})
  const text = `blocked: ${INNER_CONNECT_DETAIL}`
  if (h2) return sendTextError(to as unknown as ServerResponse, 405, text, headers)
  const socket = to as Duplex
  socket.on('error', () => undefined)
  writeRawResponse(socket, 405, 'Method Not Allowed', {'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...headers}, text + '\n')
}

/** An HTTP/1.1 `Upgrade` inside the tunnel: the same checks, then the WebSocket seam (upgrade.ts). */
export function handleInterceptedUpgrade(ports: InterceptPorts, t: TunnelContext, u: {readonly req: IncomingMessage; readonly socket: Duplex; readonly head: Buffer}): void {
  const {req, socket, head} = u
  socket.on('error', () => undefined)
  const b = innerBase(ports, t, req.method ?? 'GET')
  const path = innerPath(req.url ?? '/')
  const target = `https://${urlHostForm(t.host)}:${t.port}${path}`
  const denied = innerChecks(ports, t, {b, req, path, target})
  if (denied !== null) {
    return writeRawResponse(socket, denied.status, denied.status === 503 ? 'Service Unavailable' : 'Forbidden', {'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...denied.headers}, denied.text + '\n')
  }
  const rec = new RequestRecord(ports, {sessions: ports.snapshot().sessions, b, url: target})
  t.interceptor.upgrade({ports, base: b, explain: ports.snapshot().config.explain_blocks, url: target, req, socket, head, record: (d) => rec.record(d)})
}
