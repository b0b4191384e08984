/**
 * Inbound envelope verification (spec §6): with `mediation_envelope.verify_inbound.enabled`, a
 * request must carry a valid `Pipelock-Mediation` envelope signed by a trusted peer before anything
 * else reads it. A missing header fails before the body is read; otherwise the body (≤
 * `max_body_bytes`) is buffered for the digest and handed to the body stage. Details go to the
 * audit log only (they would reveal the trust list); the answer names the failure code.
 * The inbound headers are stripped on forward whatever the outcome (header-hygiene.ts).
 */
import {headerLines, MEDIATION_HEADER, type EnvelopeVerifier, type VerifyCode} from '../../../envelope/index.js'
import {readCapped} from '../../read-capped.js'
import {requestHasBody} from '../../request-body.js'
import {endClientClosed} from '../client-closed.js'
import type {RequestGateContext, Stage} from '../context.js'

/**
 * The authority the client named: `Host`, or on HTTP/2 (a request inside an intercepted tunnel)
 * `:authority`, which stands in for it.
 */
function authorityOf(ctx: RequestGateContext): string {
  const h = ctx.req.headers
  return headerLines(h, 'host')[0] ?? headerLines(h, ':authority')[0] ?? ''
}

/** The request target as the signer saw it (spec §6.2). */
function targetUri(ctx: RequestGateContext): string {
  const raw = ctx.req.url ?? ''
  if (ctx.b.transport === 'connect') return `http://${raw}/`
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    const i = raw.indexOf('://')
    return raw.slice(0, i).toLowerCase() + raw.slice(i).replace(/#.*$/s, '')
  }
  // Pipelock terminated TLS for a request inside an intercepted tunnel (or on a TLS listener).
  const tls = ctx.b.transport === 'intercept' || (ctx.req.socket as {encrypted?: boolean} | undefined)?.encrypted === true
  return `${tls ? 'https' : 'http'}://${authorityOf(ctx)}${raw === '' ? '/' : raw}`
}

/** The series keys, rendered once: `disabled` is counted on every request while verification is off. */
const SERIES = {
  disabled: '{result="disabled"}', verified: '{result="verified"}', missing: '{result="missing"}', failed: '{result="failed"}',
} as const

export const envelopeVerifyStage: Stage = {
  id: 'envelope_verify',
  run(ctx) {
    const verifier = ctx.snap.mediation?.verifier ?? null
    if (verifier === null) {
      // Verification off (every request of most configs): counted, no promise.
      ctx.ports.metrics.envelopeVerify.incKey(SERIES.disabled)
      return false
    }
    return verifyInbound(ctx, verifier)
  },
}

/** The inbound envelope of a request, with verification on. */
async function verifyInbound(ctx: RequestGateContext, verifier: EnvelopeVerifier): Promise<boolean> {
  const metric = ctx.ports.metrics.envelopeVerify
  const fail = (code: VerifyCode, message: string): true => {
    metric.incKey(code === 'missing' ? SERIES.missing : SERIES.failed)
    ctx.ports.audit.event('warn', 'mediation_envelope_verify', `inbound mediation envelope verification failed: ${message}`, {
      url: ctx.shownAs('mediation_envelope'), result: code, request_id: ctx.b.requestId, agent: ctx.b.agent,
    })
    ctx.block({stage: 'envelope', layer: 'mediation_envelope', detail: `inbound mediation envelope verification failed (inbound_verify_${code})`, status: 403, reason: 'envelope_verify_failed'})
    return true
  }
  const h = ctx.req.headers
  if (headerLines(h, MEDIATION_HEADER).length === 0) return fail('missing', 'missing Pipelock-Mediation header')
  let body: Buffer | null = null
  if (requestHasBody(ctx.req, ctx.hasBody)) {
    const max = ctx.snap.mediation!.settings.maxBodyBytes
    const declared = Number(headerLines(h, 'content-length')[0] ?? '0')
    if (declared > max) return fail('digest', 'inbound envelope body exceeds mediation_envelope.max_body_bytes')
    const why = {exceeded: false}
    body = await readCapped(ctx.req, max, {overflow: 'discard', why})
    if (body === null && !why.exceeded) return endClientClosed(ctx)
    if (body === null) return fail('digest', 'inbound envelope body exceeds mediation_envelope.max_body_bytes')
    ctx.verifiedBody = body
  }
  const r = verifier.verify({method: ctx.req.method ?? 'GET', targetUri: targetUri(ctx), authority: authorityOf(ctx), headers: h, body})
  if (!r.ok) return fail(r.code, r.message)
  if (r.evicted > 0) ctx.ports.audit.event('warn', 'mediation_envelope_replay_eviction', `replay cache full: ${r.evicted} live nonce(s) evicted`, {evicted: r.evicted, max_entries: verifier.o.replay.maxEntries})
  metric.incKey(SERIES.verified)
  return false
}
