/**
 * HTTP forward proxy for absolute-URI requests (§4.2). Decision order: (kill switch, already
 * passed) → URL scan → session (anomaly, block_all, warn upgrade, taint authority for mutating
 * methods) → header DLP → request-body scan → upstream (redirects re-scanned) → response checks. SSE streams are scanned event by event and flushed as each event completes;
 * every other body is buffered (≤ `max_response_mb`), passed to the media policy (which sniffs
 * real media) and injection-scanned whatever its declared type. Compressed bodies fail closed.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Agent} from 'undici'
import {isCompressedEncoding, type ReasonCode, type Suppressor, type UrlScanResult} from '../scanner/index.js'
import {MUTATING_METHODS} from '../sessions/index.js'
import {blockHeaders, redactUrl, sendTextError} from './block.js'
import {ceeGate} from './cee-gate.js'
import {admitBudget, budgetBytes, overBudgetMessage, readWithinBudget} from './agent-budget.js'
import {allowDecision, blockDecision, enforcing, safeTarget, snapshotFor, upstreamFailure, urlHost, type DecisionBase, type ProxyCore} from './core.js'
import type {Decision, DecisionStage} from './decision.js'
import {recordBytes} from './fetch-handler.js'
import {bufferedResponseHeaders, inboundResponseHeaders, outboundHeaders} from './header-hygiene.js'
import {applyMediaPolicy, mediaSettingsFromConfig, parseMediaType} from './media-policy.js'
import {NO_REQUEST_BODY, readRequestBody, requestHasBody} from './request-body.js'
import {contractGate, firstHeader, headerDlpGate, hopVerdict, RequestRecord, sessionPreflight, urlVerdict, waivesBody} from './request-gate.js'
import {hostOfUrl, type RequestSession} from './session-gate.js'
import {RequestSuppression} from './suppression.js'
import {hintHeader} from './hints.js'
import {requestWithRedirects, type UpstreamResponse} from './upstream.js'
import {UpstreamAbort} from './upstream-abort.js'

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
}

export async function handleForward(core: ProxyCore, req: IncomingMessage, res: ServerResponse, b: DecisionBase, rawTarget: string, opts: ForwardOptions = {}): Promise<void> {
  const snap = snapshotFor(core, b)
  const cfg = snap.config
  const warnings: string[] = []
  // Session profiling (§14): one lookup after the URL verdict; every Decision is read back by `settle`.
  const ps = snap.sessions
  const rec = new RequestRecord(core, ps, b, rawTarget, res)
  const record = (d: Decision): string | undefined => rec.record(d)
  // operations.md §4.3: forward-proxy findings are suppressed against the full target URL.
  const suppression = new RequestSuppression(core, snap, b)
  const block = (stage: DecisionStage, layer: string, detail: string, status: number, reason?: ReasonCode, scan?: UrlScanResult, body?: string): void => {
    const d = blockDecision(core, b, safeTarget(snap, rawTarget, layer), {stage, layer, ...(reason ? {reason} : {}), detail, status, enforced: true, warnings, ...(scan ? {scan} : {})})
    // Record first, answer second: the block names the receipt that recorded it.
    const receipt = record(d)
    req.resume()
    sendTextError(res, status, body ?? `blocked: ${detail}`, {...blockHeaders(d.reason!, layer, {receipt, contract: stage === 'contract'}), ...hintHeader(cfg.explain_blocks, d)})
  }

  const scan = await urlVerdict(core, snap, b, rawTarget, (layer) => safeTarget(snap, rawTarget, layer), rec, block, warnings)
  if (scan === null) return
  const t = rec.session
  // How this request's URL may appear in logs from here on (an unenforced DLP hit stays redacted).
  const shown = safeTarget(snap, rawTarget, scan.allowed ? null : scan.layer)
  // The target's host as Go parses it, once (body scan, budget, and the response scan when no redirect moved it).
  const host = urlHost(rawTarget)
  const targetHost = t !== null ? hostOfUrl(rawTarget) : ''
  const method = req.method ?? 'GET'
  // Session checks (§4.1 steps 9–10), then the taint authority check (§4.2 step 3).
  if (sessionPreflight(snap, rec, targetHost, firstHeader(req.headers['user-agent']), block, {scan, shown}, {transport: 'forward', method})) return
  if (t !== null) {
    if (MUTATING_METHODS.has(method.toUpperCase())) {
      const v = ps!.authority(t, method, rawTarget, shown)
      if (v.decision === 'ask') {
        // `ask` with no approver wired is a block (§16); in audit mode it is logged and proceeds.
        const detail = `authority mismatch: ${v.reason}`
        if (enforcing(snap)) return block('taint', 'taint_policy', detail, 403, 'authority_mismatch')
        record(blockDecision(core, b, shown, {stage: 'taint', layer: 'taint_policy', reason: 'authority_mismatch', detail, status: 0, enforced: false}))
      }
    }
  }

  if (headerDlpGate(snap, rec, req, targetHost, shown, block, warnings)) return

  // Request body: buffered (bounded) so it can be scanned and re-sent on a 307/308.
  // No body (every GET): no read and no await.
  const reqBody = !requestHasBody(req, opts.hasBody)
    ? NO_REQUEST_BODY
    : await readRequestBody(snap, req, host, {
      ...(opts.hasBody === undefined ? {} : {hasBody: opts.hasBody}),
      suppress: suppression.for('body_dlp', rawTarget),
    })
  // Oversized bodies fail closed (§6.2 step 2) whether or not scanning is on: we never stream unscanned.
  if (reqBody.kind === 'over_limit') return block('body_scan', 'body_dlp', reqBody.detail, 403, 'dlp_match')
  const body = reqBody.kind === 'read' ? reqBody.body : null
  if (reqBody.kind === 'read') {
    const r = reqBody.scan
    warnings.push(...r.dlpWarnings.map((w) => w.pattern))
    if (r.action === 'block' && !waivesBody(rec, r)) return block('body_scan', r.layer ?? 'body_dlp', r.detail, 403, r.reason ?? 'dlp_match')
    if (t !== null && r.action !== 'block') {
      const upgraded = r.action === 'warn' && r.layer !== null && ps!.warn(t, r.detail, targetHost, r.layer === 'body_dlp', shown) !== null
      const up = ps!.warnFindings(t, r.dlpWarnings, targetHost, shown)
      if (upgraded || up !== null) {
        const layer = upgraded ? r.layer! : 'body_dlp'
        return block('body_scan', layer, `${upgraded ? r.detail : `request body DLP warn: ${up!.names}`} (warn upgraded to block at escalation level ${ps!.levelOf(t)})`, 403, upgraded ? (r.reason ?? 'dlp_match') : 'dlp_match')
      }
    }
    if (r.action === 'warn' && r.layer !== null) {
      core.audit.event('warn', r.layer === 'body_dlp' ? 'body_dlp' : 'body_prompt_injection', 'request body finding (not blocked)', {url: safeTarget(snap, rawTarget, r.layer), detail: r.detail, request_id: b.requestId, agent: b.agent})
    }
  }

  // Cross-request detection (operations §5.6: after body and header DLP).
  if (ceeGate(core, snap, rec, b, rawTarget, body, block)) return
  // The contract gate (learn-lifecycle §7.6): every scanner stage passed; a live contract may still deny.
  if (contractGate(rec, rawTarget, method, warnings, block)) return
  // Agent budget (operations.md §2.9): after every gate, before the outbound request.
  const denied = admitBudget(snap, b.sessionKey, host, (l) => core.metrics.agentBudgetDenials.inc(l))
  if (denied !== null) return block('budget', 'budget', denied.message, 429, 'data_budget')

  // Client gone before the upstream answered: abort it (only then — aborting is not free).
  const abort = new UpstreamAbort()
  let settled = false
  // 'close' comes once per response: `on` saves node's `once` wrapper.
  res.on('close', () => {
    if (!settled) abort.abort()
  })
  const outcome = await requestWithRedirects(
    opts.upstream ?? core.upstream,
    {rawUrl: rawTarget, method: req.method ?? 'GET', headers: outboundHeaders(req.headers), body, signal: abort, sensitiveHeaders: snap.scanner.settings.requestBodyScanning.sensitiveHeaders},
    (next) => hopVerdict(snap, rec, next, method),
    cfg.fetch_proxy.timeout_seconds * 1000,
    opts.followRedirects === false ? 0 : undefined,
  )
  settled = true
  if (outcome.kind === 'contract_blocked') {
    return block('contract', 'contract', `redirect to ${safeTarget(snap, outcome.url, null)}: ${outcome.denied.detail}`, 403, outcome.denied.code)
  }
  if (outcome.kind === 'redirect_blocked') {
    return block('redirect', outcome.scan.layer, `redirect blocked: ${outcome.scan.detail}`, 403, 'redirect_scan_denied')
  }
  if (outcome.kind === 'error') {
    record(upstreamFailure(core, b, shown, `forward proxy fetch failed: ${outcome.message}`, outcome.dialBlocked))
    sendTextError(res, 502, opts.upstreamErrorText ?? 'forward proxy fetch failed')
    return
  }
  const up = outcome.response
  if (isCompressedEncoding(String(up.headers['content-encoding'] ?? ''))) {
    up.body.destroy()
    return block('response', 'response_scan', 'compressed response cannot be scanned', 403, 'compressed_response')
  }
  const contentType = String(up.headers['content-type'] ?? '')
  const mediaType = parseMediaType(contentType)
  const media = mediaSettingsFromConfig(cfg.media_policy)
  // No body to inspect: relay status and headers (Content-Length included) as sent.
  const upHost = t !== null ? hostOfUrl(up.finalUrl) : ''
  if (req.method === 'HEAD' || up.statusCode === 204 || up.statusCode === 304) return await relayStream(core, res, b, up, shown, warnings, record)
  if (mediaType === 'text/event-stream') {
    if (t !== null) ps!.exposure(t, shown, upHost, 'response')
    return await relaySse(core, res, b, up, shown, warnings, record, t, suppression.for('sse', rawTarget))
  }
  // Every other body is buffered and scanned whatever its declared type (issue 10 item 1): the
  // Content-Type is chosen by the server, so it decides nothing about scanning.

  const cap = opts.responseCap?.bytes ?? cfg.fetch_proxy.max_response_mb * 1024 * 1024
  // §2.9: capped at the bytes left too; a body over the budget is a 429 (on the forward proxy
  // too: the reference's silent truncation of the buffered body is fixed).
  const {body: read, overBudget} = await readWithinBudget(snap, b.sessionKey, up.body, cap)
  if (overBudget !== undefined) return block('budget', 'budget', overBudgetMessage(overBudget), 429, 'data_budget')
  if (read === null) {
    const c = opts.responseCap
    return c !== undefined ? block('response', c.layer, c.detail, c.status, 'data_budget') : block('response', 'response_size', `response exceeds ${cfg.fetch_proxy.max_response_mb} MB`, 502, 'data_budget')
  }
  recordBytes(snap, up.finalUrl, read.length)
  if (t !== null) ps!.volume(t, read.length, shown)
  const m = applyMediaPolicy(media, contentType, read)
  if (m.kind === 'block') return block('response', 'media_policy', m.detail, 403, 'media_policy')
  let exposure: 'response' | 'media' | 'prompt_injection' = m.exposure ? 'media' : 'response'
  if (m.exposure && cfg.media_policy.log_media_exposure) {
    core.audit.event('info', 'media_exposure', 'media passed to agent', {url: shown, media_type: m.mediaType, size_bytes: m.body.length, request_id: b.requestId, agent: b.agent})
  }
  let out = m.body
  {
    const suppress = suppression.for('response', rawTarget)
    const decision = snap.scanner.decideResponse(out.toString('utf8'), {host: up.finalUrl === rawTarget ? host : urlHost(up.finalUrl), ...(suppress ? {suppress} : {})})
    if (decision.action === 'block') return block('response', 'response_scan', decision.detail, 403, 'prompt_injection', undefined, 'blocked: response contains injection')
    if (decision.action === 'strip') {
      out = Buffer.from(decision.content, 'utf8')
      if (t !== null) ps!.strip(t, shown)
    }
    if (decision.action === 'warn') {
      const names = [...new Set(decision.matches.map((x) => x.pattern))]
      if (t !== null && ps!.warn(t, `response injection: ${names.join(', ')}`, upHost, false, shown) !== null) {
        return block('response', 'response_scan', `response contains injection: ${names.join(', ')} (warn upgraded to block at escalation level ${ps!.levelOf(t)})`, 403, 'prompt_injection', undefined, 'blocked: response contains injection')
      }
      core.audit.event('warn', 'response_scan', 'response injection patterns seen (warn)', {url: shown, patterns: names, request_id: b.requestId, agent: b.agent})
    }
    if (decision.action !== 'allow') exposure = 'prompt_injection'
  }
  if (t !== null) ps!.exposure(t, shown, upHost, exposure)
  record(allowDecision(core, b, shown, up.statusCode, out.length, warnings))
  res.writeHead(up.statusCode, bufferedResponseHeaders(up.headers, out.length))
  res.end(out)
}

/** Streams a body the policy does not need to read, chunk by chunk, bounded by max_response_mb. */
async function relayStream(core: ProxyCore, res: ServerResponse, b: DecisionBase, up: UpstreamResponse, shown: string, warnings: string[], record: (d: Decision) => unknown): Promise<void> {
  const snap = snapshotFor(core, b)
  const cap = snap.config.fetch_proxy.max_response_mb * 1024 * 1024
  // Recorded when the decision is made, before the first byte is answered (bytes = the declared length).
  const declared = Number(up.headers['content-length'] ?? 0)
  record(allowDecision(core, b, shown, up.statusCode, Number.isFinite(declared) ? declared : 0, warnings))
  res.writeHead(up.statusCode, inboundResponseHeaders(up.headers))
  let bytes = 0
  let over = false
  try {
    for await (const c of up.body) {
      const chunk = c as Buffer
      bytes += chunk.length
      if (bytes > cap) {
        over = true
        break
      }
      if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve))
      if (res.destroyed) break
    }
  } catch {
    over = true
  }
  if (over) {
    up.body.destroy()
    res.destroy()
  } else res.end()
  recordBytes(snap, up.finalUrl, bytes)
  budgetBytes(snap, b.sessionKey, bytes)
}

/** SSE (§7.1): events assembled and response-scanned one by one, each flushed as soon as it is complete. */
export async function relaySse(
  core: ProxyCore, res: ServerResponse, b: DecisionBase, up: UpstreamResponse, shown: string, warnings: string[], record: (d: Decision) => unknown, t: RequestSession | null, suppress?: Suppressor,
): Promise<void> {
  const snap = snapshotFor(core, b)
  const sse = snap.scanner.sseStream(suppress)
  const decoder = new TextDecoder('utf-8')
  // The stream is allowed when it starts (recorded before the first event is answered); a later
  // termination by response scanning is a second decision of its own.
  record(allowDecision(core, b, shown, up.statusCode, 0, warnings))
  res.writeHead(up.statusCode, inboundResponseHeaders(up.headers))
  res.flushHeaders()
  let bytes = 0
  let terminated = false
  const emit = (outcomes: ReturnType<typeof sse.push>): void => {
    for (const o of outcomes) {
      if (o.kind === 'event') {
        res.write(o.raw)
        if (o.warn.length > 0 && t !== null) t.finding = true
        if (o.warn.length > 0) core.audit.event('warn', 'response_scan', 'SSE event matched injection patterns (warn)', {url: shown, patterns: [...new Set(o.warn.map((w) => w.pattern))], request_id: b.requestId, agent: b.agent})
      } else {
        terminated = true
        core.audit.event('warn', 'response_scan', 'SSE stream terminated', {url: shown, reason: o.reason, patterns: [...new Set(o.matches.map((w) => w.pattern))], request_id: b.requestId, agent: b.agent})
        return
      }
    }
  }
  try {
    for await (const c of up.body) {
      bytes += (c as Buffer).length
      emit(sse.push(decoder.decode(c as Buffer, {stream: true})))
      if (terminated || res.destroyed) break
    }
    if (!terminated) emit(sse.push(decoder.decode()))
    if (!terminated) emit(sse.end())
  } catch {
    terminated = true
  }
  up.body.destroy()
  res.end()
  recordBytes(snap, up.finalUrl, bytes)
  budgetBytes(snap, b.sessionKey, bytes)
  if (terminated) {
    record(blockDecision(core, b, redactUrl(shown, false), {stage: 'response', layer: 'response_scan', reason: 'prompt_injection', detail: 'SSE stream terminated by response scanning', status: up.statusCode, enforced: true, warnings}))
  }
}
