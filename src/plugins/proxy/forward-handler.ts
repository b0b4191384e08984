/**
 * HTTP forward proxy for absolute-URI requests (§4.2): URL scan, header DLP, request-body DLP,
 * hygiene, upstream through the SSRF-safe client with redirects followed and re-scanned, then
 * the response: SSE and plain streams flush as they arrive; bodies the policy must inspect are
 * buffered up to `max_response_mb`; compressed bodies fail closed.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {ReasonCode} from '../scanner/index.js'
import {blockHeaders, sendTextError} from './block.js'
import {scanRequestBody} from './body-dlp.js'
import {allowDecision, blockDecision, enforcing, safeTarget, scanBlockStatus, urlScan, type DecisionBase, type ProxyCore} from './core.js'
import type {DecisionStage} from './decision.js'
import {budgetKey} from './fetch-handler.js'
import {inboundResponseHeaders, outboundHeaders} from './header-hygiene.js'
import {scanHeaders} from './header-dlp.js'
import {readCapped} from './read-capped.js'
import {originAndPath, requestWithRedirects} from './upstream.js'

export async function handleForward(core: ProxyCore, req: IncomingMessage, res: ServerResponse, b: DecisionBase, rawTarget: string): Promise<void> {
  const snap = core.snapshot()
  const cfg = snap.config
  const explain = cfg.explain_blocks
  const block = (stage: DecisionStage, layer: string, detail: string, status: number, reason?: ReasonCode, scan?: Parameters<typeof blockDecision>[3]['scan'], body?: string): void => {
    const d = blockDecision(core, b, safeTarget(snap, rawTarget, layer), {stage, layer, ...(reason ? {reason} : {}), detail, status, enforced: true, ...(scan ? {scan} : {})})
    core.sink.record(d)
    req.resume()
    sendTextError(res, status, body ?? `blocked: ${detail}`, {...blockHeaders(d.reason!, layer), ...(explain && d.hint ? {'X-Pipelock-Hint': d.hint} : {})})
  }

  const scan = await urlScan(snap, rawTarget)
  if (!scan.allowed) {
    if (enforcing(snap)) return block('url_scan', scan.layer, scan.detail, scanBlockStatus(scan), undefined, scan)
    core.sink.record(blockDecision(core, b, safeTarget(snap, rawTarget, scan.layer), {stage: 'url_scan', layer: scan.layer, detail: scan.detail, status: 0, enforced: false, scan}))
  }
  const warnings = scan.warnings.map((w) => w.pattern)

  const hdr = scanHeaders(snap.scanner, req.headers)
  if (hdr.block) return block('header_dlp', 'header_dlp', `header contains secret: ${[...new Set(hdr.matches.map((m) => m.pattern))].join(', ')}`, 403, 'dlp_match')

  // Request body: buffered (bounded) so it can be scanned and re-sent on 307/308.
  const rb = snap.scanner.settings.requestBodyScanning
  const hasBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0' || req.headers['transfer-encoding'] !== undefined
  let body: Buffer | null = null
  if (hasBody) {
    body = await readCapped(req, rb.maxBodyBytes)
    if (body === null) return block('body_scan', 'body_dlp', `request body exceeds max_body_bytes (${rb.maxBodyBytes})`, rb.enabled ? 403 : 413, 'dlp_match')
    if (rb.enabled) {
      let host = ''
      try {
        host = originAndPath(rawTarget).host.replace(/:\d+$/, '')
      } catch {
        host = ''
      }
      const r = scanRequestBody(snap.scanner, String(req.headers['content-type'] ?? ''), String(req.headers['content-encoding'] ?? ''), body, host, core.responseScanner)
      warnings.push(...r.warnings.map((w) => w.pattern))
      if (r.block !== null) {
        return block('body_scan', r.block.layer, r.block.detail, 403, r.block.layer === 'body_dlp' ? 'dlp_match' : 'prompt_injection')
      }
    }
  }

  const ac = new AbortController()
  res.on('close', () => ac.abort())
  const outcome = await requestWithRedirects(
    core.upstream,
    {rawUrl: rawTarget, method: req.method ?? 'GET', headers: outboundHeaders(req.headers), body, signal: ac.signal},
    (next) => urlScan(snap, next),
    cfg.fetch_proxy.timeout_seconds * 1000,
  )
  if (outcome.kind === 'redirect_blocked') {
    return block('redirect', outcome.scan.layer, `redirect blocked: ${outcome.scan.detail}`, 403, 'redirect_scan_denied')
  }
  if (outcome.kind === 'error') {
    core.sink.record(blockDecision(core, b, safeTarget(snap, rawTarget, null), {stage: 'upstream', layer: 'upstream', reason: 'parse_error', detail: `forward proxy fetch failed: ${outcome.message}`, status: 502, enforced: true}))
    sendTextError(res, 502, 'forward proxy fetch failed')
    return
  }
  const up = outcome.response
  const enc = String(up.headers['content-encoding'] ?? '').trim().toLowerCase()
  if (enc !== '' && enc !== 'identity') {
    up.body.destroy()
    return block('response', 'response_scan', 'compressed response cannot be scanned', 403, 'compressed_response')
  }
  const contentType = String(up.headers['content-type'] ?? '').toLowerCase()
  const headers = inboundResponseHeaders(up.headers)
  const cap = cfg.fetch_proxy.max_response_mb * 1024 * 1024
  const rs = core.responseScanner
  const needsBody = rs !== null && !contentType.startsWith('text/event-stream')

  if (!needsBody) {
    // Stream: every chunk is written as it arrives (SSE included), bounded by max_response_mb.
    res.writeHead(up.statusCode, headers)
    res.flushHeaders()
    let bytes = 0
    let over = false
    up.body.on('data', (c: Buffer) => {
      bytes += c.length
      if (bytes > cap) {
        over = true
        up.body.destroy()
        res.destroy()
        return
      }
      res.write(c)
    })
    await new Promise<void>((resolve) => {
      up.body.once('end', resolve)
      up.body.once('error', resolve)
      up.body.once('close', resolve)
    })
    if (!over && !res.destroyed) res.end()
    snap.dataBudget.record(budgetKey(up.finalUrl), bytes)
    core.sink.record(allowDecision(core, b, safeTarget(snap, rawTarget, null), up.statusCode, bytes, warnings))
    return
  }

  const read = await readCapped(up.body, cap)
  if (read === null) return block('response', 'response_size', `response exceeds ${cfg.fetch_proxy.max_response_mb} MB`, 502, 'data_budget')
  snap.dataBudget.record(budgetKey(up.finalUrl), read.length)
  let out = read
  if (rs !== null) {
    let host = ''
    try {
      host = originAndPath(up.finalUrl).host.replace(/:\d+$/, '')
    } catch {
      host = ''
    }
    if (!rs.isExempt(host)) {
      const hit = rs.scan(read.toString('utf8'))
      if (hit.matches.length > 0) {
        const action = rs.action === 'ask' ? 'block' : rs.action
        if (action === 'block') return block('response', 'response_scan', 'response contains injection', 403, 'prompt_injection', undefined, 'blocked: response contains injection')
        if (action === 'strip') {
          if (hit.redacted === null) return block('response', 'redaction', 'redaction failed', 403, 'redaction_failure')
          out = Buffer.from(hit.redacted, 'utf8')
        }
      }
    }
  }
  delete headers['content-length']
  res.writeHead(up.statusCode, {...headers, 'content-length': String(out.length)})
  res.end(out)
  core.sink.record(allowDecision(core, b, safeTarget(snap, rawTarget, null), up.statusCode, out.length, warnings))
}
