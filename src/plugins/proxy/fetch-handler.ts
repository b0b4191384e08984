/**
 * `GET /fetch?url=<url>[&agent=<name>]` (§4.1): scan, fetch upstream through the SSRF-safe
 * client (redirects re-scanned), refuse compressed or oversized bodies, extract text, and answer
 * with the FetchResponse JSON.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import {parseGoUrl} from '../canonical/index.js'
import {isCompressedEncoding, TRANSFER_CODED_DETAIL, transferCoded} from '../scanner/index.js'
import {displayUrl, sendBlockBody, sendJson} from './block.js'
import {budgetKey, overBudgetMessage, readWithinBudget} from './agent-budget.js'
import {allowDecision, blockDecision, safeTarget, snapshotFor, upstreamFailure, type DecisionBase, type UpstreamFailure} from './core.js'
import {causedFailure, namedCause, type UpstreamCause} from './upstream-cause.js'
import type {UpstreamPool} from './ports.js'
import type {Decision} from './decision.js'
import {hopVerdict, RequestRecord, type BlockAnswer} from './request-gate.js'
import type {GatePorts, RequestGateContext} from './gate/context.js'
import {runGate} from './gate/run-gate.js'
import {killSwitchCut, killSwitchStage} from './gate/stages/kill-switch.js'
import type {ResponseGateContext} from './gate/response/context.js'
import {runResponseGate} from './gate/response/run-response-gate.js'
import {RequestSuppression} from './suppression.js'
import {blockAnswerHeaders, blockHint, hintHeader} from './hints.js'
import {originAndPath, requestWithRedirects} from './upstream.js'
import {UpstreamAbort} from './upstream-abort.js'
import {recordBytes} from './relay/data-budget.js'
import {extractFetchTarget, unsendableTargetReason} from './relay/query-target.js'
import {attachMediation} from './relay/mediation.js'
import {answerUpstreamDenial} from './relay/upstream-denial.js'
import {ExchangeCut} from './relay/exchange-cut.js'

const ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,text/plain,*/*;q=0.8'

/** What `/fetch` uses: the gate's ports and the SSRF-safe upstream pool. */
export type FetchPorts = GatePorts & UpstreamPool

/** One `/fetch` request: the request and response, its base, the query as received. */
export interface FetchExchange {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly b: DecisionBase
  readonly rawQuery: string
}

export async function handleFetch(ports: FetchPorts, x: FetchExchange): Promise<void> {
  const {req, res, b, rawQuery} = x
  const snap = snapshotFor(ports, b)
  const cfg = snap.config
  if (req.method !== 'GET') {
    sendJson(res, 405, {error: 'only GET allowed', blocked: false}, {Allow: 'GET'})
    return
  }
  const target = extractFetchTarget(rawQuery)
  if (target === null || target === '') {
    sendJson(res, 400, {error: "missing 'url' query parameter", blocked: false})
    return
  }
  let scheme = ''
  try {
    scheme = parseGoUrl(target).scheme.toLowerCase()
  } catch (err) {
    // A target that does not parse is told why (`invalid character in host name` for
    // `http://%65xt.example/`), not given the scheme error (runtime §4.1 step 3 words that one).
    // It is echoed as received: its decoded display form (`http://ext.example/`) would parse.
    const shown = safeTarget(snap, target, 'unscanned')
    const why = err instanceof Error ? err.message : String(err)
    sendJson(res, 400, {url: shown === displayUrl(target) ? target : shown, error: `invalid URL: ${why}`, blocked: false})
    return
  }
  if (scheme !== 'http' && scheme !== 'https') {
    sendJson(res, 400, {url: safeTarget(snap, target, 'unscanned'), error: 'invalid URL: must be http or https', blocked: false})
    return
  }
  const agentField = b.agent === 'anonymous' ? {} : {agent: b.agent}
  const warnings: string[] = []
  // Session profiling (§14): one lookup after the URL verdict; every Decision is read back by `settle`.
  const ps = snap.sessions
  const rec = new RequestRecord(ports, {sessions: ps, b, url: target, lifetime: res})
  const record = (d: Decision): string | undefined => rec.record(d)
  const block: BlockAnswer = ({stage, layer, detail, status, reason, scan, body, hint: findingHint, retryAfter}) => {
    const code = reason ?? scan?.reason ?? undefined
    const d = blockDecision(ports, b, safeTarget(snap, target, layer), {stage, layer, ...(code ? {reason: code} : {}), detail, status, enforced: true, warnings, ...(scan ? {scan} : {}), hint: findingHint})
    // Record first, answer second: the block names the receipt that recorded it.
    const receipt = record(d)
    const hint = cfg.explain_blocks ? blockHint(d) : undefined
    const headers = blockAnswerHeaders(cfg.explain_blocks, d.reason!, layer, d, {receipt, contract: stage === 'contract', retryAfter})
    // A stage's own JSON body (the kill switch's); /fetch answers JSON, so a text body is not used.
    if (typeof body === 'object') return sendBlockBody(res, status, body, headers)
    sendJson(res, status, {url: d.target, ...agentField, blocked: true, block_reason: detail, ...(hint !== undefined ? {hint} : {})}, headers)
  }

  // The gate (gate/transport-stages.ts, row fetch): URL scan → session → header DLP →
  // cross-request → contract → budget (the kill switch was checked at dispatch).
  const gate: RequestGateContext = {
    ports, snap, b, rec, req, block, warnings, method: 'GET', target, contractUrl: target,
    shownAs: (layer) => safeTarget(snap, target, layer), airlock: 'fetch',
    scan: null, shown: '', sessionHost: '', body: null,
  }
  if (await runGate('fetch', gate)) return
  const shown = gate.shown
  // After the gate, so a URL a scanner blocks is blocked whatever else is wrong with it; before
  // the upstream, whose client would refuse it (or mangle it) with no word on why.
  const unsendable = unsendableTargetReason(originAndPath(target).path)
  if (unsendable !== null) {
    const error = `invalid URL: ${unsendable}`
    return unreached(ports, x, record, shown, {detail: error, status: 400})
  }

  // fetch_proxy.timeout_seconds bounds the whole exchange — every redirect hop and the body —
  // as the reference's HTTP client timeout does; undici's own timeouts only bound each wait.
  const timeoutMs = cfg.fetch_proxy.timeout_seconds * 1000
  const deadline = new UpstreamAbort()
  const timer = setTimeout(() => deadline.abort(), timeoutMs)
  // From here until its answer is out the exchange is in-flight work a reset or terminate of the
  // session, or the kill switch, cuts: the upstream request is aborted, the cut recorded and
  // answered (relay/exchange-cut.ts).
  const {cut, live} = ExchangeCut.forResponse({
    sessions: ps, session: rec.session, res, upstream: deadline, block, seal: () => rec.seal(),
    killSwitch: killSwitchCut(gate),
  })
  res.once('close', () => cut.end())
  const guarded = cut.guard(block)
  try {
    await fetchUpstream(ports, x, {snap, rec, gate, block: guarded, record, shown, agentField, warnings, target, deadline, timeoutMs, cut, live})
  } finally {
    clearTimeout(timer)
    cut.end()
  }
}

/** What the upstream half of `/fetch` takes over from the gate half. */
interface FetchUpstreamState {
  readonly snap: ReturnType<typeof snapshotFor>
  readonly rec: RequestRecord
  readonly gate: RequestGateContext
  readonly block: BlockAnswer
  readonly record: (d: Decision) => string | undefined
  readonly shown: string
  readonly agentField: {agent?: string}
  readonly warnings: string[]
  readonly target: string
  readonly deadline: UpstreamAbort
  readonly timeoutMs: number
  /** The exchange's registration with its session; once `cut.cut`, the exchange was answered. */
  readonly cut: ExchangeCut
  /** The upstream body being read, for the cut to destroy. */
  readonly live: {body?: {destroy(): void}}
}

/**
 * A fetch that got no usable answer from its target (a URL no request can carry: 400; the
 * upstream unreachable, timed out or cut short: 502): recorded, then answered in the `/fetch`
 * JSON with `blocked: false`.
 */
function unreached(ports: FetchPorts, x: FetchExchange, record: (d: Decision) => string | undefined, shown: string, f: UpstreamFailure): void {
  const {b, res} = x
  const d = upstreamFailure(ports, b, shown, f)
  record(d)
  // explain_blocks: the cause as the hint, in the JSON and the header, as a block's hint is.
  const explain = snapshotFor(ports, b).config.explain_blocks
  const hint = explain ? blockHint(d) : undefined
  sendJson(res, f.status ?? 502, {url: shown, ...(b.agent === 'anonymous' ? {} : {agent: b.agent}), error: f.detail, blocked: false, ...(hint !== undefined ? {hint} : {})}, hintHeader(explain, d))
}

/** The cause of a fetch that ran out of `fetch_proxy.timeout_seconds`. */
function timedOut(seconds: number): UpstreamCause {
  return namedCause('timeout', `no complete response within ${seconds}s (fetch_proxy.timeout_seconds)`)
}

const UNDICI_TIMEOUTS: ReadonlySet<string> = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_ABORTED'])

async function fetchUpstream(ports: FetchPorts, x: FetchExchange, st: FetchUpstreamState): Promise<void> {
  const {res, b} = x
  const {snap, rec, gate, block, record, shown, agentField, warnings, target, deadline, timeoutMs, cut, live} = st
  const cfg = snap.config
  const ps = snap.sessions
  const t = rec.session
  const outcome = await requestWithRedirects(
    ports.upstream,
    {
      rawUrl: target, method: 'GET', headers: {'user-agent': cfg.fetch_proxy.user_agent, accept: ACCEPT}, body: null, signal: deadline,
      ...(gate.mediation === undefined ? {} : {mediate: (hop, url, m, headers, bytes) => attachMediation(gate.mediation, {method: m, url, headers, body: bytes, hop})}),
    },
    {scanHop: (next) => hopVerdict(snap, rec, next, 'GET'), timeoutMs},
  )
  // Cut by a reset or terminate while the upstream was asked: answered already.
  if (cut.cut) {
    if (outcome.kind === 'response') outcome.response.body.destroy()
    return
  }
  // A contract-denied or refused redirect hop, or an envelope that could not be signed (shared with the forward exchange).
  if (answerUpstreamDenial(snap, outcome, block)) return
  if (outcome.kind === 'error') {
    const late = deadline.aborted || UNDICI_TIMEOUTS.has(outcome.cause.code ?? '')
    return unreached(ports, x, record, shown, causedFailure('fetch failed', late ? timedOut(cfg.fetch_proxy.timeout_seconds) : outcome.cause))
  }
  const up = outcome.response
  if (isCompressedEncoding(String(up.headers['content-encoding'] ?? ''))) {
    up.body.destroy()
    return block({stage: 'response', layer: 'response_scan', detail: 'compressed response cannot be scanned', status: 403, reason: 'compressed_response'})
  }
  // A body still compressed under the chunked framing the upstream client removed (scanner `transferCoded`).
  if (transferCoded(up.headers)) {
    up.body.destroy()
    return block({stage: 'response', layer: 'response_scan', detail: TRANSFER_CODED_DETAIL, status: 403, reason: 'compressed_response'})
  }
  const cap = cfg.fetch_proxy.max_response_mb * 1024 * 1024
  // §2.9: capped at the bytes left too; a body over the budget is a 429 (on the forward proxy
  // too: the reference's silent truncation of the buffered body is fixed).
  const why = {exceeded: false}
  live.body = up.body
  // A 204 or 304 has no body whatever its Content-Length says (RFC 9110 §8.6: a 304 may carry the
  // stored representation's length), and the upstream client reports that length as missing.
  const bodyless = up.statusCode === 204 || up.statusCode === 304
  if (bodyless) up.body.destroy()
  const {body: read, overBudget, retryAfter} = bodyless ? {body: Buffer.alloc(0), overBudget: undefined, retryAfter: undefined} : await readWithinBudget(snap, budgetKey(b), up.body, cap, {why})
  if (cut.cut) return
  if (overBudget !== undefined) return block({stage: 'budget', layer: 'budget', detail: overBudgetMessage(overBudget), status: 429, reason: 'data_budget', retryAfter})
  if (read === null && !why.exceeded) {
    // The body ended early: the deadline (or undici's per-read wait) ran out, or the upstream failed mid-body.
    const cause = deadline.aborted ? timedOut(cfg.fetch_proxy.timeout_seconds) : namedCause('closed', 'the response body ended before it was complete')
    return unreached(ports, x, record, shown, causedFailure('fetch failed', cause))
  }
  // Over max_response_mb: a block like any other (`blocked: true`, `block_reason`, the block
  // headers and hint), not a fetch failure with `blocked: false` under `data_budget` headers.
  if (read === null) return block({stage: 'response', layer: 'response_size', detail: `response exceeds ${cfg.fetch_proxy.max_response_mb} MB`, status: 502, reason: 'data_budget'})
  recordBytes(snap, up.finalUrl, read.length)
  if (t !== null) ps!.volume(t, read.length, shown)
  const contentType = String(up.headers['content-type'] ?? '')
  const host = up.finalHost
  // The response gate (gate/response/transport-stages.ts, row fetch): Browser Shield → media
  // policy → page text → injection scan (an `ask` held, relay/response-ask.ts) → hidden content.
  // operations.md §4.3: fetch response findings are suppressed against the display URL.
  const suppress = new RequestSuppression(ports, snap, b).for('response', shown)
  const rg: ResponseGateContext = {
    ports, snap, rec, b, res, shown, block, shieldTransport: 'fetch', url: up.finalUrl, host, sessionHost: host, responseHeaders: up.headers, contentType,
    ...(suppress ? {suppress} : {}), mediaExposureAtOnce: true,
    body: read, transformed: false, rewritten: false, mediaType: '', exposure: 'response',
  }
  if (await runResponseGate('fetch', rg)) return
  if (cut.cut) return
  // The kill switch thrown while the page was fetched, read or scanned: nothing of it reaches the
  // agent (the gate's own stage, run again).
  if (killSwitchStage.run(gate)) return
  const page = rg.page!
  if (t !== null) ps!.exposure(t, shown, host, rg.exposure === 'prompt_injection' ? 'prompt_injection' : 'response')
  cut.end()
  record(allowDecision(ports, b, shown, {status: 200, bytes: read.length, warnings}))
  sendJson(res, 200, {
    url: shown, ...agentField, ...(up.statusCode !== 0 ? {status_code: up.statusCode} : {}), content_type: contentType, title: page.title, content: page.content, blocked: false,
  })
}

