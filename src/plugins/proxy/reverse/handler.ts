/**
 * The reverse proxy (transports §4): every request to the reverse listener goes to the one
 * configured upstream, scanned both ways. Request order (§4.3): kill switch → URL DLP (critical
 * findings hard-block, §6 #31 fix) → header DLP → body scan (every content type, §6 #31 fix) →
 * contract gate (absolute upstream URL) → forward. Response order (§4.4): compressed → SSE per
 * event → media policy → injection scan of every non-media body, whatever its Content-Type
 * (§6 #29 fix). Response-side replacements carry the block-reason headers (§6 #33 fix).
 * Never forwarded: `X-Pipelock-Agent`, a client `Accept-Encoding` (§6 #30 fix), hop-by-hop headers.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Agent} from 'undici'
import {isCompressedEncoding, TRANSFER_CODED_DETAIL, transferCoded, type ReasonCode} from '../../scanner/index.js'
import {blockAnswerHeaders, hintHeader} from '../hints.js'
import {causedFailure, upstreamCause} from '../upstream-cause.js'
import {allowDecision, blockDecision, errorDecision, safeTarget, snapshotFor, type DecisionBase} from '../core.js'
import type {Decision} from '../decision.js'
import {LiveCut} from '../relay/live-cut.js'
import {ExchangeCut} from '../relay/exchange-cut.js'
import {relaySse} from '../relay/sse.js'
import {inboundResponseHeaders, outboundHeaders} from '../header-hygiene.js'
import {applyMediaPolicy, mediaSettingsFromConfig, parseMediaType} from '../media-policy.js'
import {REWRITE_STALE_HEADERS} from '../relay/response-transforms.js'
import type {ResponseExposure, ResponseGateContext} from '../gate/response/context.js'
import {runResponseGate} from '../gate/response/run-response-gate.js'
import {readCapped} from '../read-capped.js'
import {RequestRecord, type BlockAnswer} from '../request-gate.js'
import {RequestSuppression} from '../suppression.js'
import type {GatePorts, RequestGateContext} from '../gate/context.js'
import {runGate} from '../gate/run-gate.js'
import {killSwitchCut, killSwitchStage} from '../gate/stages/kill-switch.js'
import {attachMediation, ENVELOPE_FAILED} from '../relay/mediation.js'
import {quietBound, type ResponseRelay} from '../relay/response-relay.js'
import type {ResponseHeadContext} from '../gate/response/head-context.js'
import {runResponseHeadGate} from '../gate/response/head-gate.js'
import type {UpstreamResponse} from '../upstream.js'
import {reverseTarget, type ReverseUpstream} from './url.js'

/** §4.4 step 6: the response scanning buffer (a fixed constant in the reference, not configurable). */
export const REVERSE_RESPONSE_SCAN_BYTES = 1024 * 1024
const BUFFERED_RESPONSE_MS = 30_000

/** §4.5 request-side body (JSON encoder: trailing newline). */
function requestBlockBody(text: string): string {
  return JSON.stringify({error: 'blocked by pipelock', blocked: true, block_reason: text, direction: 'request'}) + '\n'
}

function sendReverseJson(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  res.writeHead(status, {...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body))})
  res.end(body)
}

/** What the reverse proxy uses: the gate's ports (its upstream pool is its own, in `ReverseContext`). */
export type ReversePorts = GatePorts

export interface ReverseContext {
  readonly ports: ReversePorts
  readonly upstream: ReverseUpstream
  /** Plain undici Agent (no SSRF connector: the upstream is the operator's choice, loopback is normal). */
  readonly agent: Agent
}

export async function handleReverse(ctx: ReverseContext, req: IncomingMessage, res: ServerResponse, b: DecisionBase): Promise<void> {
  const {ports} = ctx
  const snap = snapshotFor(ports, b)
  const cfg = snap.config
  const parsed = reverseTarget(ctx.upstream, req.url ?? '/')
  // A path that names nothing below the upstream is recorded and answered against the upstream
  // itself, after the kill switch: the switch is first for every request (§4.3 step 2).
  const target = parsed ?? ctx.upstream.display
  const warnings: string[] = []
  // In flight (§12 `in_flight`) from the session lookup until the answer is out, as /fetch and forward.
  const rec = new RequestRecord(ports, {sessions: snap.sessions, b, url: target, lifetime: res})
  // operations.md §4.3: reverse-proxy findings (request body, response, SSE) are suppressed against the upstream request URL.
  const suppression = new RequestSuppression(ports, snap, b)
  const record = (d: Decision): string | undefined => rec.record(d)
  // Reverse answers name the DLP layers `dlp` (transports §4.3 steps 3–5).
  const block: BlockAnswer = ({stage, layer, detail, status, reason, hint, retryAfter}) => {
    const shownLayer = layer === 'header_dlp' || layer === 'body_dlp' ? 'dlp' : layer
    const d = blockDecision(ports, b, safeTarget(snap, target, layer), {stage, layer: shownLayer, ...(reason ? {reason} : {}), detail, status, enforced: true, warnings, hint})
    const receipt = record(d)
    req.resume()
    // The hint names the check that decided (a body DLP hit is not a URL DLP hit), whatever layer the header shows.
    sendReverseJson(res, status, requestBlockBody(detail), blockAnswerHeaders(cfg.explain_blocks, d.reason!, shownLayer, {layer, detail, hint: d.hint}, {receipt, contract: stage === 'contract', retryAfter}))
  }

  // The gate (gate/transport-stages.ts, row reverse): the kill switch (§4.3 step 2: the reverse
  // listener is not behind the main listener's gate; always 503, §6 #32 fix) → URL DLP on the request-target and the upstream URL → session →
  // taint → header DLP → body (every content type, §6 #31 fix) → cross-request → contract (the
  // absolute upstream URL) → budget.
  const method = req.method ?? 'GET'
  const gate: RequestGateContext = {
    ports, snap, b, rec, req, block, warnings, method, target, contractUrl: target,
    shownAs: (layer) => safeTarget(snap, target, layer), airlock: 'reverse', budgetHost: ctx.upstream.host, suppression,
    scan: null, shown: '', sessionHost: '', body: null,
  }
  if (parsed === null) {
    if (!killSwitchStage.run(gate)) block({stage: 'url_scan', layer: 'parser', reason: 'bad_request', detail: 'invalid request path', status: 400})
    return
  }
  if (await runGate('reverse', gate)) return
  const body = gate.body

  // 7. Forward: hygiene, Host = upstream, X-Forwarded-For appended.
  const headers = outboundHeaders(req.headers)
  const prior = req.headers['x-forwarded-for']
  const priorText = Array.isArray(prior) ? prior.join(', ') : prior
  headers['x-forwarded-for'] = priorText !== undefined && priorText !== '' ? `${priorText}, ${b.clientIp}` : b.clientIp
  headers.host = ctx.upstream.host
  // The envelope signs the post-rewrite upstream URL (`target`), not the inbound path (E10 fixed:
  // a signing failure is `outbound_envelope_failed`, not a verification failure).
  if (!attachMediation(gate.mediation, {method, url: target, headers, body, authority: ctx.upstream.host})) {
    return block({stage: 'envelope', layer: 'mediation_envelope', detail: ENVELOPE_FAILED, status: 403, reason: 'outbound_envelope_failed'})
  }
  // From here until its answer is out the exchange is in-flight work a reset or terminate of the
  // session, or the kill switch, cuts, as /fetch and forward (relay/exchange-cut.ts): the upstream
  // request is aborted, the cut recorded and answered. A stream relayed as it comes is cut by its
  // own registration.
  const abort = new AbortController()
  const {cut, live} = ExchangeCut.forResponse({
    sessions: snap.sessions, session: rec.session, res, upstream: abort, block, seal: () => rec.seal(),
    killSwitch: killSwitchCut(gate),
  })
  res.once('close', () => cut.end())
  try {
    await forwardUpstream(ctx, {req, res, b, gate, target, method, headers, body, warnings, record, rec, suppression, cut, abort: abort.signal, live})
  } finally {
    cut.end()
  }
}

/** The request as the gate let it through, on its way upstream. */
interface ReverseForward {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly b: DecisionBase
  readonly gate: RequestGateContext
  readonly target: string
  readonly method: string
  readonly headers: Record<string, string | string[]>
  readonly body: Buffer | null
  readonly warnings: string[]
  readonly record: (d: Decision) => string | undefined
  readonly rec: RequestRecord
  readonly suppression: RequestSuppression
  /** The exchange's registration with its session; once `cut.cut`, the exchange was answered. */
  readonly cut: ExchangeCut
  readonly abort: AbortSignal
  /** The upstream body being read, for the cut to destroy. */
  readonly live: {body?: {destroy(): void}}
}

async function forwardUpstream(ctx: ReverseContext, f: ReverseForward): Promise<void> {
  const {ports} = ctx
  const {req, res, b, gate, target, method, headers, body, warnings, record, rec, suppression, cut} = f
  const cfg = gate.snap.config
  const shown = gate.shown
  // No `finalHost`: the response gate's host is the configured upstream's, so the target is not parsed again.
  let up: UpstreamAnswer
  try {
    const r = await ctx.agent.request({
      origin: ctx.upstream.origin,
      path: target.slice(ctx.upstream.origin.length),
      method: method as 'GET',
      headers,
      body,
      headersTimeout: cfg.fetch_proxy.timeout_seconds * 1000,
      // No bound between chunks here: what the body may be is known from the answer (respond). An
      // event stream may stay quiet for minutes between events (transports §4.1: no timeout while
      // streaming SSE, asked for or not); a buffered or streamed body keeps the fetch timeout.
      bodyTimeout: 0,
      signal: f.abort,
    })
    up = {statusCode: r.statusCode, headers: r.headers, body: r.body, finalUrl: target}
  } catch (e) {
    // Cut by a reset or terminate while the upstream was asked: answered already.
    if (cut.cut) return
    const d = errorDecision(ports, b, shown, causedFailure('reverse proxy upstream failed', upstreamCause(e)))
    record(d)
    sendReverseJson(res, 502, JSON.stringify({error: 'upstream unavailable', blocked: false, block_reason: '', direction: ''}), hintHeader(cfg.explain_blocks, d))
    return
  }
  // The kill switch thrown while the upstream answered, or while a buffered body was read and
  // scanned: nothing of the answer reaches the client (the gate's own stage, run again).
  const killed = (): boolean => killSwitchStage.run(gate)
  if (cut.cut || killed()) return discardBody(up.body)
  f.live.body = up.body
  await respond(ctx, {req, res, b, up, shown, warnings, record, rec, suppression, killed, cut})
}

/**
 * Drops an upstream body the proxy will not read. undici's body stream errors with an
 * `AbortError` when destroyed unread; with no listener that error reached the process's
 * last-resort handler and was logged as an internal error with its stack, once per request.
 */
function discardBody(body: UpstreamResponse['body']): void {
  body.on('error', () => undefined)
  body.destroy()
}

/** The upstream's answer as the reverse proxy keeps it. */
type UpstreamAnswer = Omit<UpstreamResponse, 'finalHost'>

/** An exchange whose upstream answered: the agent's request and response, what came back, how the target is shown. */
interface ReverseResponse {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly b: DecisionBase
  readonly up: UpstreamAnswer
  readonly shown: string
  readonly warnings: string[]
  readonly record: (d: Decision) => string | undefined
  readonly rec: RequestRecord
  /** The request's suppression; the response and SSE scans read it against the upstream URL. */
  readonly suppression: RequestSuppression
  /** Whether the kill switch now refuses the request (answered and recorded when it does). */
  readonly killed: () => boolean
  /** The exchange's registration with its session: once cut, nothing more of it is answered. */
  readonly cut: ExchangeCut
}

/** The response pipeline (§4.4). Replacements: 403, all upstream headers dropped, block headers added. */
async function respond(ctx: ReverseContext, x: ReverseResponse): Promise<void> {
  const {req, res, b, shown, warnings, record, rec, suppression, cut} = x
  const {ports} = ctx
  const snap = snapshotFor(ports, b)
  const cfg = snap.config
  const replace = (layer: string, reason: ReasonCode, text: string): void => {
    discardBody(x.up.body)
    // Cut while it was read or scanned (a held `ask` answered late): answered already.
    if (cut.cut) return
    const receipt = record(blockDecision(ports, b, shown, {stage: 'response', layer, reason, detail: text, status: 403, enforced: true, warnings}))
    const body = JSON.stringify({error: 'response blocked by pipelock', blocked: true, block_reason: text, direction: 'response'})
    if (res.headersSent) {
      res.destroy()
      return
    }
    res.writeHead(403, {...blockAnswerHeaders(cfg.explain_blocks, reason, layer, {layer, detail: text}, {receipt}), 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body))})
    res.end(body)
  }
  const pass = (status: number, body: Buffer, headers: Record<string, string | string[]>): void => {
    cut.end()
    record(allowDecision(ports, b, shown, {status, bytes: body.length, warnings}))
    res.writeHead(status, {...headers, 'content-length': String(body.length)})
    res.end(body)
  }
  const t = rec.session
  const host = ctx.upstream.host.replace(/:\d+$/, '')
  // What reaches the agent raises its session's taint, as on the forward proxy (docs/taint.md):
  // the upstream's host decides the level, an injection finding makes it hostile.
  const exposed = (kind: ResponseExposure): void => {
    if (t !== null) snap.sessions?.exposure(t, shown, host, kind)
  }
  const suppress = suppression.for('response', x.up.finalUrl)
  const refuse: BlockAnswer = ({layer, reason, detail}) => replace(layer, reason ?? 'prompt_injection', detail)
  // The upstream's headers reach the client whatever becomes of the body: the response head gate
  // reads them first (gate/response/head-gate.ts), and a block replaces the response; a strip drops headers.
  const head: ResponseHeadContext = {ports, b, sessions: snap.sessions, session: t, host, shown, block: refuse, snap, upstreamHost: host, suppress, headers: x.up.headers}
  if (runResponseHeadGate('reverse', head)) return
  const up = head.headers === x.up.headers ? x.up : {...x.up, headers: head.headers as typeof x.up.headers}
  const hopHeaders = inboundResponseHeaders(up.headers)
  // No body to inspect.
  if (req.method === 'HEAD' || up.statusCode === 204 || up.statusCode === 304 || (up.statusCode >= 100 && up.statusCode < 200)) {
    discardBody(up.body)
    cut.end()
    record(allowDecision(ports, b, shown, {status: up.statusCode, bytes: 0, warnings}))
    // A 204 never has a body (RFC 9110 §8.6): an upstream's `Content-Length` on one, relayed, told
    // the client to wait for bytes that never come, or to take the next answer's for them.
    const noBody = up.statusCode === 204 ? {...hopHeaders} : hopHeaders
    if (up.statusCode === 204) delete noBody['content-length']
    res.writeHead(up.statusCode, noBody)
    res.end()
    return
  }
  const contentType = String(up.headers['content-type'] ?? '')
  const mediaType = parseMediaType(contentType)
  // A body relayed unchanged keeps the fetch timeout between chunks, an event stream none.
  const unchangedIdle = mediaType === 'text/event-stream' ? {} : {idleMs: cfg.fetch_proxy.timeout_seconds * 1000, idleField: 'fetch_proxy.timeout_seconds'}
  const media = mediaSettingsFromConfig(cfg.media_policy)
  const av = mediaType.startsWith('audio/') || mediaType.startsWith('video/')
  // A body relayed as it comes (unchanged, or an event stream) answers now: a reset or terminate
  // cuts it through its own registration (relay/live-cut.ts), not this one.
  const streamed = (av && media.enabled) || (!cfg.response_scanning.enabled && !media.enabled && !cfg.browser_shield.enabled) || (mediaType === 'text/event-stream' && cfg.response_scanning.enabled)
  if (streamed) cut.end()
  // Declared audio/video: the policy decides on the type alone; allowed → streamed unchanged.
  if (av && media.enabled) {
    const m = applyMediaPolicy(media, contentType, Buffer.alloc(0))
    if (m.kind === 'block') return replace('media_policy', 'media_policy', m.detail)
    exposed('media')
    return streamUnchanged({ports, res, b, session: t, up, shown, warnings, record, ...unchangedIdle}, hopHeaders)
  }
  if (!cfg.response_scanning.enabled && !media.enabled && !cfg.browser_shield.enabled) {
    exposed('response')
    return streamUnchanged({ports, res, b, session: t, up, shown, warnings, record, ...unchangedIdle}, hopHeaders)
  }
  if (isCompressedEncoding(String(up.headers['content-encoding'] ?? ''))) return replace('reverse_response_blocked', 'compressed_response', 'injection: compressed response cannot be scanned')
  // `Transfer-Encoding: gzip, chunked`: still gzip once the chunks are removed (scanner `transferCoded`).
  if (transferCoded(up.headers)) return replace('reverse_response_blocked', 'compressed_response', `injection: ${TRANSFER_CODED_DETAIL}`)
  if (mediaType === 'text/event-stream' && cfg.response_scanning.enabled) {
    const sseHeaders = {...up.headers}
    delete sseHeaders['content-length']
    exposed('response')
    return await relaySse({ports, res, b, session: t, up: {...up, headers: sseHeaders}, shown, warnings, record}, suppression.for('sse', up.finalUrl))
  }
  const isImage = mediaType.startsWith('image/')
  const cap = isImage && media.enabled ? media.maxImageBytes : REVERSE_RESPONSE_SCAN_BYTES
  const timer = setTimeout(() => up.body.destroy(new Error('response deadline')), BUFFERED_RESPONSE_MS)
  // A body that fails or stalls past the deadline is a read error, not one over the limit.
  const why = {exceeded: false}
  const read = await readCapped(up.body, cap, {why, idleMs: cfg.fetch_proxy.timeout_seconds * 1000})
  clearTimeout(timer)
  if (cut.cut) return
  if (read === null) {
    if (!why.exceeded) return isImage ? replace('media_policy', 'parse_error', 'media response read error') : replace('reverse_response_blocked', 'parse_error', 'injection: response read error')
    if (isImage) return replace('media_policy', 'media_policy', `media_policy: image size exceeds limit ${cap}`)
    return replace('reverse_response_blocked', 'data_budget', 'injection: response exceeds scanning limit')
  }
  const headers = {...hopHeaders}
  delete headers['content-length']
  // The response gate (gate/response/transport-stages.ts, row reverse): Browser Shield → media
  // policy → injection scan (an `ask` held, relay/response-ask.ts); every block replaces the response.
  const rg: ResponseGateContext = {
    ports, snap, rec, b, res, shown, block: refuse, shieldTransport: 'reverse', url: up.finalUrl, host, sessionHost: host,
    responseHeaders: up.headers, contentType, body: read, transformed: false, rewritten: false, mediaType: '', exposure: 'response',
    ...(suppress ? {suppress} : {}),
  }
  if ((await runResponseGate('reverse', rg)) || cut.cut) return
  // Browser Shield, the media policy or a strip rewrote the body: its validators no longer describe it.
  if (rg.transformed || rg.rewritten) for (const h of REWRITE_STALE_HEADERS) delete headers[h]
  if (x.killed()) return
  exposed(rg.exposure)
  return pass(up.statusCode, rg.body, headers)
}

async function streamUnchanged(r: ResponseRelay, headers: Record<string, string | string[]>): Promise<void> {
  const {ports, res, b, up, shown, warnings, record} = r
  const declared = Number(up.headers['content-length'] ?? 0)
  record(allowDecision(ports, b, shown, {status: up.statusCode, bytes: Number.isFinite(declared) ? declared : 0, warnings}))
  res.writeHead(up.statusCode, headers)
  // The kill switch, the session's airlock, a reset or a terminate cut the body while it streams.
  const live = new LiveCut(ports, b, snapshotFor(ports, b).sessions, r.session, () => up.body.destroy())
  // An upstream quiet for longer than the bound between chunks fails the body (aborted below).
  const idle = quietBound(r)
  let complete = false
  try {
    for await (const c of up.body) {
      idle?.refresh()
      if (!res.write(c as Buffer)) {
        await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve))
        // Waiting for a slow client is not the upstream's quiet.
        idle?.refresh()
      }
      if (res.destroyed || live.cutBy !== null) break
    }
    complete = live.cutBy === null
  } catch {
    // The upstream failed, or the cut destroyed its body.
  }
  live.end()
  if (idle !== null) clearTimeout(idle)
  const cut = live.cutBy
  // Recorded before the agent sees the cut; a body of any type is aborted, never ended as if whole.
  if (cut !== null) record(blockDecision(ports, b, shown, {stage: cut.stage, layer: cut.layer, reason: cut.reason, detail: cut.detail, status: up.statusCode, enforced: true, warnings}))
  if (complete) res.end()
  else {
    up.body.destroy()
    res.destroy()
  }
}
