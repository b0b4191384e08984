/**
 * Response stage `response_scan` on the reverse proxy: the operator's own service is answered by
 * its own rules (transports §4.4 step 8): block and a held `ask` replace the response even in
 * audit mode, an emptied strip is a block, a warn is logged. Real media (sniffed by the media
 * stage) and empty bodies are relayed unscanned. Findings a `suppress` entry names for the upstream
 * request URL are removed first (operations.md §4.3), as on the other transports.
 */
import {decideHeldResponse, type SettledResponseDecision} from '../../../relay/response-ask.js'
import {strippedBody} from '../../../../scanner/index.js'
import type {ResponseGateContext, ResponseStage} from '../context.js'

export const reverseResponseScanStage: ResponseStage = {
  id: 'response_scan',
  run(ctx) {
    const {ports, snap, rec, b, shown, res} = ctx
    if (!snap.config.response_scanning.enabled || ctx.body.length === 0 || /^(image|audio|video)\//.test(ctx.mediaType)) return false
    const d = decideHeldResponse(ports, {snap, rec, b, shown, res}, ctx.body, {host: ctx.host, suppress: ctx.suppress, contentType: ctx.contentType})
    return d instanceof Promise ? d.then((decision) => answer(ctx, decision)) : answer(ctx, d)
  },
}

/** The reverse proxy's answer to the scan's decision (true: the response was answered). */
function answer(ctx: ResponseGateContext, d: SettledResponseDecision): boolean {
  const {ports, snap, rec, b, shown} = ctx
  // What reaches the agent after a finding (a strip, a warn, a held answer approved) makes its
  // session hostile (the handler records `ctx.exposure`), as on the forward proxy.
  if (d.action === 'allow') {
    if (d.held === true) ctx.exposure = 'prompt_injection'
    return false
  }
  const names = [...new Set(d.matches.map((m) => m.pattern))].join(', ')
  const refuse = (detail: string): true => {
    ctx.block({stage: 'response', layer: 'response_scan', detail, status: 403, reason: 'prompt_injection'})
    return true
  }
  if (d.action === 'block') return refuse(d.held === true ? `injection: ${d.detail}` : `injection: ${names}`)
  if (d.action === 'strip') {
    if (d.content === '') return refuse(`injection: ${names}`)
    const t = rec.session
    if (t !== null) snap.sessions!.strip(t, shown)
    if (d.held !== true) ports.audit.event('warn', 'response_scan', 'reverse proxy response injection patterns stripped', {url: shown, patterns: [...d.names], action: 'strip', request_id: b.requestId, agent: b.agent})
    ctx.body = strippedBody(d)
    ctx.rewritten = true
    ctx.exposure = 'prompt_injection'
    return false
  }
  ctx.exposure = 'prompt_injection'
  ports.audit.event('warn', 'response_scan', 'reverse proxy response matched injection patterns (warn)', {url: shown, patterns: names.split(', '), request_id: b.requestId, agent: b.agent})
  return false
}
