/**
 * `GET /fetch?url=<url>[&agent=<name>]` (§4.1): scan, fetch upstream through the SSRF-safe
 * client (redirects re-scanned), refuse compressed or oversized bodies, extract text, and answer
 * with the FetchResponse JSON.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import {parseGoUrl} from '../canonical/index.js'
import {isCompressedEncoding} from '../scanner/index.js'
import {blockHeaders, sendBlockBody, sendJson} from './block.js'
import {budgetKey, overBudgetMessage, readWithinBudget} from './agent-budget.js'
import {allowDecision, blockDecision, safeTarget, snapshotFor, upstreamFailure, urlHost, type DecisionBase} from './core.js'
import type {UpstreamPool} from './ports.js'
import type {Decision} from './decision.js'
import {applyMediaPolicy, mediaSettingsFromConfig} from './media-policy.js'
import {transformResponse} from './relay/response-transforms.js'
import {hopVerdict, RequestRecord, type BlockAnswer} from './request-gate.js'
import {decideHeldResponse} from './relay/response-ask.js'
import type {GatePorts, RequestGateContext} from './gate/context.js'
import {runGate} from './gate/run-gate.js'
import {hostOfUrl} from './session-gate.js'
import {RequestSuppression} from './suppression.js'
import {blockHint, hintHeader} from './hints.js'
import {createHiddenExtractor, extractHtmlText} from './text-extract.js'
import {requestWithRedirects} from './upstream.js'
import {recordBytes} from './relay/data-budget.js'
import {extractFetchTarget} from './relay/query-target.js'
import {attachMediation} from './relay/mediation.js'
import {answerUpstreamDenial} from './relay/upstream-denial.js'
import {settleResponseScan} from './relay/response-scan.js'

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
    sendJson(res, 405, {error: 'only GET allowed', blocked: false})
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
  } catch {
    scheme = ''
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
  const block: BlockAnswer = ({stage, layer, detail, status, reason, scan, body}) => {
    const code = reason ?? scan?.reason ?? undefined
    const d = blockDecision(ports, b, safeTarget(snap, target, layer), {stage, layer, ...(code ? {reason: code} : {}), detail, status, enforced: true, warnings, ...(scan ? {scan} : {})})
    // Record first, answer second: the block names the receipt that recorded it.
    const receipt = record(d)
    const hint = cfg.explain_blocks ? blockHint(d) : undefined
    const headers = {...blockHeaders(d.reason!, layer, {receipt, contract: stage === 'contract'}), ...hintHeader(cfg.explain_blocks, d)}
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
  const t = rec.session
  const shown = gate.shown

  const outcome = await requestWithRedirects(
    ports.upstream,
    {
      rawUrl: target, method: 'GET', headers: {'user-agent': cfg.fetch_proxy.user_agent, accept: ACCEPT}, body: null,
      ...(gate.mediation === undefined ? {} : {mediate: (hop, url, m, headers, bytes) => attachMediation(gate.mediation, {method: m, url, headers, body: bytes, hop})}),
    },
    {scanHop: (next) => hopVerdict(snap, rec, next, 'GET'), timeoutMs: cfg.fetch_proxy.timeout_seconds * 1000},
  )
  // A contract-denied or refused redirect hop, or an envelope that could not be signed (shared with the forward exchange).
  if (answerUpstreamDenial(snap, outcome, block)) return
  if (outcome.kind === 'error') {
    const detail = `fetch failed: ${outcome.message}`
    record(upstreamFailure(ports, b, shown, {detail, dialBlocked: outcome.dialBlocked}))
    sendJson(res, 502, {url: shown, ...agentField, error: detail, blocked: false})
    return
  }
  const up = outcome.response
  if (isCompressedEncoding(String(up.headers['content-encoding'] ?? ''))) {
    up.body.destroy()
    return block({stage: 'response', layer: 'response_scan', detail: 'compressed response cannot be scanned', status: 403, reason: 'compressed_response'})
  }
  const cap = cfg.fetch_proxy.max_response_mb * 1024 * 1024
  // §2.9: capped at the bytes left too; a body over the budget is a 429 (on the forward proxy
  // too: the reference's silent truncation of the buffered body is fixed).
  const {body: read, overBudget} = await readWithinBudget(snap, budgetKey(b), up.body, cap)
  if (overBudget !== undefined) return block({stage: 'budget', layer: 'budget', detail: overBudgetMessage(overBudget), status: 429, reason: 'data_budget'})
  if (read === null) {
    const receipt = record(blockDecision(ports, b, shown, {stage: 'response', layer: 'response_size', reason: 'data_budget', detail: `response exceeds ${cfg.fetch_proxy.max_response_mb} MB`, status: 502, enforced: true}))
    sendJson(res, 502, {url: shown, ...agentField, error: `response too large (max ${cfg.fetch_proxy.max_response_mb} MB)`, blocked: false}, blockHeaders('data_budget', 'response_size', {receipt}))
    return
  }
  recordBytes(snap, up.finalUrl, read.length)
  if (t !== null) ps!.volume(t, read.length, shown)
  const contentType = String(up.headers['content-type'] ?? '')
  // Browser Shield (relay/response-transforms.ts): hidden traps leave the page before its text is extracted.
  const tr = await transformResponse({ports, snap, b, transport: 'fetch', url: up.finalUrl, host: urlHost(up.finalUrl), shown, responseHeaders: up.headers, body: read})
  if (tr.kind === 'block') return block({stage: 'response', layer: tr.layer, detail: tr.detail, status: tr.status, reason: tr.reason})
  const media = applyMediaPolicy(mediaSettingsFromConfig(cfg.media_policy), contentType, tr.body)
  if (media.kind === 'block') return block({stage: 'response', layer: 'media_policy', detail: media.detail, status: 403, reason: 'media_policy'})
  if (media.exposure && t !== null) ps!.exposure(t, shown, hostOfUrl(up.finalUrl), 'media')
  if (media.exposure && cfg.media_policy.log_media_exposure) {
    ports.audit.event('info', 'media_exposure', 'media passed to agent', {url: shown, media_type: media.mediaType, size_bytes: media.body.length, request_id: b.requestId, agent: b.agent})
  }
  const text = media.body.toString('utf8')
  const isHtml = /html/i.test(media.mediaType)
  const page = isHtml ? extractHtmlText(text) : {title: '', content: text}
  let content = page.content

  const host = urlHost(up.finalUrl)
  // operations.md §4.3: fetch response findings are suppressed against the display URL.
  const suppress = new RequestSuppression(ports, snap, b).for('response', shown)
  // Decided and, for `ask`, held as on the forward, intercepted and reverse paths (relay/response-ask.ts):
  // a session at a level with `upgrade_ask: block` is refused before anyone is asked.
  const decision = await decideHeldResponse(ports, {snap, rec, b, shown, res}, Buffer.from(content, 'utf8'), {host, ...(suppress ? {suppress} : {})})
  if (decision.held === true && decision.action === 'block') return block({stage: 'response', layer: 'response_scan', detail: decision.detail, status: 403, reason: 'prompt_injection'})
  const hitlAllowed = decision.held === true && decision.action === 'allow'
  // The verdict settled as the forward exchange settles it (relay/response-scan.ts).
  const settled = settleResponseScan({ports, b, sessions: ps, session: t, host, shown, block}, decision)
  if (settled === null) return
  if (settled.stripped !== undefined) content = settled.stripped
  // Hidden content (comments, scripts, styles, hidden elements) is scanned on its own (§4.1 step 19).
  const hidden = isHtml ? createHiddenExtractor().hidden(text) : ''
  let hiddenHit = false
  if (hidden !== '') {
    const h = snap.scanner.decideResponse(hidden, {host, ...(suppress ? {suppress} : {})})
    if (h.action === 'block') return block({stage: 'response', layer: 'response_scan', detail: `hidden content: ${h.detail}`, status: 403, reason: 'prompt_injection'})
    hiddenHit = h.action !== 'allow'
    if (hiddenHit && t !== null && ps!.warn(t, 'hidden content injection', host, false, shown) !== null) {
      return block({stage: 'response', layer: 'response_scan', detail: `hidden content contains injection (warn upgraded to block at escalation level ${ps!.levelOf(t)})`, status: 403, reason: 'prompt_injection'})
    }
  }
  if (t !== null) ps!.exposure(t, shown, host, decision.action !== 'allow' || hiddenHit || hitlAllowed ? 'prompt_injection' : 'response')
  record(allowDecision(ports, b, shown, {status: 200, bytes: read.length, warnings}))
  sendJson(res, 200, {
    url: shown, ...agentField, ...(up.statusCode !== 0 ? {status_code: up.statusCode} : {}), content_type: contentType, title: page.title, content, blocked: false,
  })
}


