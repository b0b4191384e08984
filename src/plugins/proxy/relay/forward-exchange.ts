/**
 * HTTP forward proxy for absolute-URI requests (§4.2). Decision order: (kill switch, already
 * passed) → URL scan → session (anomaly, block_all, warn upgrade, taint authority for mutating
 * methods) → header DLP → request-body scan → upstream (redirects re-scanned) → response checks. SSE streams are scanned event by event and flushed as each event completes;
 * every other body is buffered (≤ `max_response_mb`), passed to the media policy (which sniffs
 * real media) and injection-scanned whatever its declared type. Compressed bodies fail closed.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {GoUrl} from '../../canonical/index.js'
import type {Agent} from 'undici'
import {isCompressedEncoding, TRANSFER_CODED_DETAIL, transferCoded} from '../../scanner/index.js'
import {sendBlockBody, sendTextError} from '../block.js'
import {budgetKey, overBudgetMessage, readWithinBudget} from '../agent-budget.js'
import {allowDecision, blockDecision, clientClosedDecision, safeTarget, snapshotFor, upstreamFailure, type DecisionBase} from '../core.js'
import type {UpstreamPool} from '../ports.js'
import type {Decision} from '../decision.js'
import {recordBytes} from './data-budget.js'
import {relaySse} from './sse.js'
import {killSwitchCut, killSwitchStage} from '../gate/stages/kill-switch.js'
import {a2aStreamCheck} from './a2a-stream.js'
import {REWRITE_STALE_HEADERS} from './response-transforms.js'
import {bufferedResponseHeaders, inboundResponseHeaders, outboundHeaders} from '../header-hygiene.js'
import {parseMediaType} from '../media-policy.js'
import {hopVerdict, RequestRecord, type BlockAnswer} from '../request-gate.js'
import type {GatePorts, RequestGateContext} from '../gate/context.js'
import {runGate} from '../gate/run-gate.js'
import type {ResponseGateContext} from '../gate/response/context.js'
import {runResponseGate} from '../gate/response/run-response-gate.js'
import {hostOfUrl} from '../session-gate.js'
import {RequestSuppression} from '../suppression.js'
import {blockAnswerHeaders, hintHeader} from '../hints.js'
import {requestWithRedirects} from '../upstream.js'
import {UpstreamAbort} from '../upstream-abort.js'
import {causedFailure, namedCause, type UpstreamCause} from '../upstream-cause.js'
import {attachMediation} from './mediation.js'
import {answerUpstreamDenial} from './upstream-denial.js'
import {ExchangeCut} from './exchange-cut.js'
import type {ResponseHeadContext} from '../gate/response/head-context.js'
import {runResponseHeadGate} from '../gate/response/head-gate.js'
import type {ResponseRelay} from './response-relay.js'

/**
 * What differs when another transport runs this pipeline (TLS interception, transports.md
 * §2.9–§2.11): its upstream pool, whether 3xx are followed here or relayed, its response cap
 * and answers, and how a body is detected. Defaults are the absolute-URI forward proxy's.
 */
export interface ForwardOptions {
  readonly upstream?: Agent
  /** false: a 3xx goes to the client, whose follow-up request is scanned and gated afresh. */
  readonly followRedirects?: boolean
  /** Buffered-response cap and its answer (default: `fetch_proxy.max_response_mb`, 502 `data_budget`). */
  readonly responseCap?: {readonly bytes: number; readonly status: number; readonly layer: string; readonly detail: string}
  /** Text of the 502 when the upstream fails. */
  readonly upstreamErrorText?: string
  /** Whether the request carries a body (HTTP/2 frames it without Content-Length). */
  readonly hasBody?: boolean
  /**
   * The upstream's response headers as the agent's protocol can carry them (an HTTP/2 answer:
   * intercept/h2-answer-headers.ts), applied once they passed the response head gate: the
   * response checks read what the agent is answered with.
   */
  readonly answerHeaders?: <H extends Record<string, string | string[] | undefined>>(h: H) => H
}

/** The audit detail of a request whose client went away before the upstream answered it. */
export const CLIENT_GONE_DETAIL = 'client closed the connection before the upstream answered (its request aborted)'
/** The audit detail of a request whose client went away while its buffered answer was read or scanned. */
export const CLIENT_GONE_READING_DETAIL = 'client closed the connection before the response was relayed (the response body was not read on)'

/** One absolute-URI exchange: the agent's request and response, its Decision base, the target as sent. */
export interface ForwardExchange {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly b: DecisionBase
  readonly target: string
  /** `parseGoUrl(target)` when the router parsed it already: the upstream request reuses it. */
  readonly parsed?: GoUrl
}

/** What the forward exchange uses (forward proxy and intercepted requests): the gate's ports and the SSRF-safe upstream pool. */
export type ForwardPorts = GatePorts & UpstreamPool

export async function handleForward(ports: ForwardPorts, x: ForwardExchange, opts: ForwardOptions = {}): Promise<void> {
  const {req, res, b, target: rawTarget} = x
  const snap = snapshotFor(ports, b)
  const cfg = snap.config
  const warnings: string[] = []
  // Session profiling (§14): one lookup after the URL verdict; every Decision is read back by `settle`.
  const ps = snap.sessions
  const rec = new RequestRecord(ports, {sessions: ps, b, url: rawTarget, lifetime: res})
  const record = (d: Decision): string | undefined => rec.record(d)
  // operations.md §4.3: forward-proxy findings are suppressed against the full target URL.
  const suppression = new RequestSuppression(ports, snap, b)
  const block: BlockAnswer = ({stage, layer, detail, status, reason, scan, body, hint, retryAfter}) => {
    const d = blockDecision(ports, b, safeTarget(snap, rawTarget, layer), {stage, layer, ...(reason ? {reason} : {}), detail, status, enforced: true, warnings, ...(scan ? {scan} : {}), hint})
    // Record first, answer second: the block names the receipt that recorded it.
    const receipt = record(d)
    req.resume()
    const headers = blockAnswerHeaders(cfg.explain_blocks, d.reason!, layer, d, {receipt, contract: stage === 'contract', retryAfter})
    if (typeof body === 'object') sendBlockBody(res, status, body, headers)
    else sendTextError(res, status, body ?? `blocked: ${detail}`, headers)
  }

  const method = req.method ?? 'GET'
  // The gate (gate/transport-stages.ts, rows forward and intercept): URL scan → session → taint →
  // header DLP → suppression (the body's suppressor, from `suppression`) → body → cross-request →
  // contract → budget.
  const gate: RequestGateContext = {
    ports, snap, b, rec, req, block, warnings, method, target: rawTarget, contractUrl: rawTarget, parsed: x.parsed,
    shownAs: (layer) => safeTarget(snap, rawTarget, layer), airlock: b.transport === 'intercept' ? 'intercepted' : 'forward',
    // One literal (no spread of a conditional object): undefined is "not known", as absent.
    hasBody: opts.hasBody,
    suppression,
    scan: null, shown: '', sessionHost: '', body: null,
  }
  const answered = runGate(b.transport === 'intercept' ? 'intercept' : 'forward', gate)
  if (answered === true || (answered !== false && (await answered))) return
  const t = rec.session
  const shown = gate.shown
  const body = gate.body

  // Whether the body may stay quiet is known only from the answer: an event stream (EventSource
  // feeds, MCP notification streams) may rightly go minutes between events, asked for or not. So
  // the upstream client sets no bound between chunks (`bodyTimeoutMs: 0`) and each reader sets
  // its own: a buffered body the fetch timeout (readCapped's idleMs), an event stream the
  // proxy's idle bound for long-lived connections, forward_proxy.idle_timeout_seconds.
  const timeoutMs = cfg.fetch_proxy.timeout_seconds * 1000
  // Client gone before the upstream answered: abort it (only then — aborting is not free).
  const abort = new UpstreamAbort()
  let settled = false
  // From here until its answer starts the exchange is in-flight work a reset or terminate of the
  // session, or the kill switch, cuts (relay/exchange-cut.ts). A request inside an intercepted
  // tunnel is too (the cut tears its tunnel down after this answer went out, and counts the tunnel
  // only).
  const intercepted = b.transport === 'intercept'
  const {cut, live} = ExchangeCut.forResponse({
    sessions: ps, session: t, res, upstream: abort, block, seal: () => rec.seal(), body: (detail) => `airlock: ${detail}`, inTunnel: intercepted,
    killSwitch: killSwitchCut(gate),
  })
  const guarded = cut.guard(block)
  // 'close' comes once per response: `on` saves node's `once` wrapper. After the upstream
  // answered, an agent gone before its answer was written leaves a buffered body unread: it is
  // nobody's to scan, and the exchange is its hang-up, not an allowed answer.
  let clientGone = false
  res.on('close', () => {
    if (!settled) abort.abort()
    else if (!res.writableEnded) {
      clientGone = true
      live.body?.destroy()
    }
    cut.end()
  })
  const recordGone = (): void => void record(clientClosedDecision(ports, b, shown, CLIENT_GONE_READING_DETAIL, 'response'))
  const outcome = await requestWithRedirects(
    opts.upstream ?? ports.upstream,
    {
      rawUrl: rawTarget, method: req.method ?? 'GET', headers: outboundHeaders(req.headers), body, signal: abort, sensitiveHeaders: snap.scanner.settings.requestBodyScanning.sensitiveHeaders,
      parsed: x.parsed,
      mediate: gate.mediation === undefined ? undefined : (hop, url, m, headers, bytes) => attachMediation(gate.mediation, {method: m, url, headers, body: bytes, hop}),
    },
    {scanHop: (next) => hopVerdict(snap, rec, next, method), timeoutMs, maxRedirects: opts.followRedirects === false ? 0 : undefined, bodyTimeoutMs: 0},
  )
  settled = true
  // Cut by a reset or terminate while the upstream was asked: answered already.
  if (cut.cut) {
    if (outcome.kind === 'response') outcome.response.body.destroy()
    return
  }
  // A contract-denied or refused redirect hop, or an envelope that could not be signed (shared with /fetch).
  if (answerUpstreamDenial(snap, outcome, block)) return
  // The agent went away while the upstream was asked, and its request was aborted for it: its
  // hang-up, not the upstream's failure (an HTTP/2 agent resets one stream as cheaply as it sends it).
  if (outcome.kind === 'error' && abort.aborted) return void record(clientClosedDecision(ports, b, shown, CLIENT_GONE_DETAIL, 'upstream'))
  if (outcome.kind === 'error') return unreached({ports, res, b, shown, record, explain: cfg.explain_blocks, text: opts.upstreamErrorText}, outcome.cause)
  // The kill switch thrown while the upstream answered: nothing of the answer reaches the agent
  // (the gate's own stage run again, as a CONNECT whose tunnel was being dialled runs it).
  if (killSwitchStage.run(gate)) {
    outcome.response.body.destroy()
    return
  }
  // The upstream's headers reach the agent whatever becomes of the body (HEAD, SSE, streamed or
  // buffered): the response head gate reads them first (gate/response/head-gate.ts); a strip drops headers.
  const upHost = t !== null ? hostOfUrl(outcome.response.finalUrl) : ''
  const suppress = suppression.for('response', rawTarget)
  const head: ResponseHeadContext = {ports, b, sessions: ps, session: t, host: upHost, shown, block: guarded, snap, upstreamHost: outcome.response.finalHost, suppress, headers: outcome.response.headers}
  if (runResponseHeadGate(b.transport === 'intercept' ? 'intercept' : 'forward', head)) {
    outcome.response.body.destroy()
    return
  }
  const relayed = opts.answerHeaders === undefined ? head.headers : opts.answerHeaders(head.headers)
  const up = relayed === outcome.response.headers ? outcome.response : {...outcome.response, headers: relayed as typeof outcome.response.headers}
  // No Content-Encoding (the usual response): nothing to parse.
  const encoding = up.headers['content-encoding']
  if (encoding !== undefined && isCompressedEncoding(String(encoding))) {
    up.body.destroy()
    return block({stage: 'response', layer: 'response_scan', detail: 'compressed response cannot be scanned', status: 403, reason: 'compressed_response'})
  }
  // Still compressed under its chunked framing (scanner `transferCoded`).
  if (transferCoded(up.headers)) {
    up.body.destroy()
    return block({stage: 'response', layer: 'response_scan', detail: TRANSFER_CODED_DETAIL, status: 403, reason: 'compressed_response'})
  }
  const contentType = String(up.headers['content-type'] ?? '')
  const mediaType = parseMediaType(contentType)
  // No body to inspect: relay status and headers (Content-Length included) as sent.
  // A body relayed as it comes (HEAD and friends, an event stream) answers now; a stream is cut by its own registration (relay/live-cut.ts).
  if (req.method === 'HEAD' || up.statusCode === 204 || up.statusCode === 304 || mediaType === 'text/event-stream') cut.end()
  const relay: ResponseRelay = {ports, res, b, session: t, up, shown, warnings, record, idleMs: cfg.forward_proxy.idle_timeout_seconds * 1000, idleField: 'forward_proxy.idle_timeout_seconds'}
  if (req.method === 'HEAD' || up.statusCode === 204 || up.statusCode === 304) return relayHead(relay)
  if (mediaType === 'text/event-stream') {
    if (t !== null) ps!.exposure(t, shown, upHost, 'response')
    // An A2A stream's events also pass the A2A walk (relay/a2a-stream.ts).
    const a2a = a2aStreamCheck({ports, snap, b, url: rawTarget, requestContentType: String(req.headers['content-type'] ?? ''), shown})
    return await relaySse(relay, suppression.for('sse', rawTarget), a2a)
  }
  // Every other body is buffered and scanned whatever its declared type (issue 10 item 1): the
  // Content-Type is chosen by the server, so it decides nothing about scanning.

  const cap = opts.responseCap?.bytes ?? cfg.fetch_proxy.max_response_mb * 1024 * 1024
  // §2.9: capped at the bytes left too; a body over the budget is a 429 (on the forward proxy
  // too: the reference's silent truncation of the buffered body is fixed).
  // Read into one buffer of the announced length when there is one (read-capped.ts).
  const announced = up.headers['content-length']
  const why = {exceeded: false, idle: false}
  live.body = up.body
  const {body: read, overBudget, retryAfter} = await readWithinBudget(snap, budgetKey(b), up.body, cap, {expected: typeof announced === 'string' ? Number(announced) : undefined, idleMs: timeoutMs, why})
  if (cut.cut) return
  if (clientGone) return recordGone()
  if (overBudget !== undefined) return block({stage: 'budget', layer: 'budget', detail: overBudgetMessage(overBudget), status: 429, reason: 'data_budget', retryAfter})
  if (read === null && !why.exceeded) {
    // The body stalled or broke off: the upstream failed, nothing was over a limit.
    return unreached({ports, res, b, shown, record, explain: cfg.explain_blocks, text: opts.upstreamErrorText}, why.idle ? namedCause('timeout', `no data for ${cfg.fetch_proxy.timeout_seconds} s (fetch_proxy.timeout_seconds)`) : namedCause('closed', 'the response body ended before it was complete'))
  }
  if (read === null) {
    const c = opts.responseCap
    return c !== undefined ? block({stage: 'response', layer: c.layer, detail: c.detail, status: c.status, reason: 'data_budget'}) : block({stage: 'response', layer: 'response_size', detail: `response exceeds ${cfg.fetch_proxy.max_response_mb} MB`, status: 502, reason: 'data_budget'})
  }
  recordBytes(snap, up.finalUrl, read.length)
  if (t !== null) ps!.volume(t, read.length, shown)
  // The response gate (gate/response/transport-stages.ts, rows forward and intercept): Browser
  // Shield and the A2A checks → media policy → injection scan (an `ask` held, relay/response-ask.ts).
  const rg: ResponseGateContext = {
    ports, snap, rec, b, res, shown, block: guarded, shieldTransport: b.transport === 'intercept' ? 'connect' : 'forward', url: up.finalUrl, host: up.finalHost, sessionHost: upHost,
    responseHeaders: up.headers, contentType, ...(suppress ? {suppress} : {}),
    request: {contentType: String(req.headers['content-type'] ?? ''), ...(req.headers.authorization === undefined ? {} : {authorization: req.headers.authorization})},
    body: read, transformed: false, rewritten: false, mediaType: '', exposure: 'response',
  }
  // Synchronous unless a stage awaited (an `ask` held, an A2A check): no promise turn for the common body.
  const refused = runResponseGate(b.transport === 'intercept' ? 'intercept' : 'forward', rg)
  if (refused === true || (refused !== false && (await refused))) return
  if (cut.cut) return
  if (clientGone) return recordGone()
  // ... or while its body was read and scanned.
  if (killSwitchStage.run(gate)) return
  const out = rg.body
  if (t !== null) ps!.exposure(t, shown, upHost, rg.exposure)
  cut.end()
  record(allowDecision(ports, b, shown, {status: up.statusCode, bytes: out.length, warnings}))
  const outHeaders = bufferedResponseHeaders(up.headers, out.length)
  if (rg.transformed) for (const h of REWRITE_STALE_HEADERS) delete outHeaders[h]
  res.writeHead(up.statusCode, outHeaders)
  res.end(out)
}

/**
 * The upstream failed: recorded with its cause (the audit line's detail), then the pinned 502
 * text, with the cause as `X-Pipelock-Hint` when `explain_blocks` is on.
 */
function unreached(
  u: {ports: ForwardPorts; res: ServerResponse; b: DecisionBase; shown: string; record: (d: Decision) => string | undefined; explain: boolean; text: string | undefined},
  cause: UpstreamCause,
): void {
  const d = upstreamFailure(u.ports, u.b, u.shown, causedFailure('forward proxy fetch failed', cause))
  u.record(d)
  sendTextError(u.res, 502, u.text ?? 'forward proxy fetch failed', hintHeader(u.explain, d))
}

/**
 * Relays the status and headers of an answer that has no body (a HEAD answer, a 204 or 304),
 * whatever its Content-Length says: RFC 9110 lets a 304 or a HEAD answer carry the length of the
 * representation it stands for, which the upstream client then reports as a body cut short. The
 * upstream body is not read.
 */
function relayHead(r: ResponseRelay): void {
  const {ports, res, b, up, shown, warnings, record} = r
  up.body.destroy()
  const declared = Number(up.headers['content-length'] ?? 0)
  record(allowDecision(ports, b, shown, {status: up.statusCode, bytes: Number.isFinite(declared) ? declared : 0, warnings}))
  res.writeHead(up.statusCode, inboundResponseHeaders(up.headers))
  res.end()
}
