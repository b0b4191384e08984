/**
 * Response transforms beyond injection scanning, applied where the buffered response scan runs
 * (fetch, forward and intercepted exchanges, reverse proxy) through this one function:
 * Browser Shield (scanners-extra §3) rewrites HTML/JS/SVG, then A2A response scanning (§2.5,
 * §2.6) reads Agent Cards and A2A responses. Each transport calls `transformResponse` on the
 * buffered body before its media policy and injection scan, and answers a `block` its own way.
 */
import type RE2 from 're2'
import {A2aState, a2aSettingsFromConfig, isA2aRequest, isAgentCardPath, mediaTypeOf, scanA2aBody, scanAgentCard, type A2aVerdict} from '../../a2a/index.js'
import {matchesAnyDomain, type ReasonCode} from '../../scanner/index.js'
import {compileTrackingDomains, shieldBody, shieldSettingsFromConfig} from '../../shield/index.js'
import {a2aScanners} from '../a2a-scanners.js'
import {enforcing, type DecisionBase} from '../core.js'
import type {AuditTrail, MetricsPort, TransformStatePort} from '../ports.js'
import type {ProxySnapshot} from '../state.js'

/** Process-lifetime state of the transforms: the A2A card baseline / context tracker, the compiled tracking domains. */
export class ResponseTransformState {
  readonly a2a = new A2aState()
  private tracking: {key: string; re: RE2 | null} | null = null

  /** Rebuilt when the list changes (the reference compiles it once at start, §3.2 fix). */
  trackingDomains(domains: readonly string[]): RE2 | null {
    const key = domains.join('\n')
    if (this.tracking?.key !== key) this.tracking = {key, re: compileTrackingDomains(domains)}
    return this.tracking.re
  }
}

/** The transport label of the shield's metrics and events (§3.3). */
export type ShieldTransport = 'fetch' | 'forward' | 'connect' | 'reverse'

/** Whose response it is: the URL, how it may be shown, the upstream's headers, the request's type and auth. */
export interface ResponseOrigin {
  /** The final URL (after redirects) and its host. */
  readonly url: string
  readonly host: string
  /** How the URL may appear in logs and Decisions. */
  readonly shown: string
  readonly responseHeaders: Readonly<Record<string, string | string[] | undefined>>
  /** The request's Content-Type and Authorization (A2A detection and the card's auth fingerprint); absent on /fetch. */
  readonly request?: {readonly contentType: string; readonly authorization?: string}
}

export interface ResponseTransformInput extends ResponseOrigin {
  readonly ports: AuditTrail & MetricsPort & TransformStatePort
  readonly snap: ProxySnapshot
  readonly b: DecisionBase
  readonly transport: ShieldTransport
  readonly body: Buffer
}

export type ResponseTransformOutcome =
  | {readonly kind: 'pass'; readonly body: Buffer; readonly changed: boolean}
  | {readonly kind: 'block'; readonly layer: string; readonly reason: ReasonCode; readonly detail: string; readonly status: number}

const header = (h: ResponseTransformInput['responseHeaders'], name: string): string => {
  const v = h[name]
  return Array.isArray(v) ? v.join(', ') : String(v ?? '')
}

/** Validators that no longer describe a rewritten body. */
export const REWRITE_STALE_HEADERS = ['etag', 'digest', 'content-md5'] as const

/** Whether any transform is on in this config (else `transformResponse` would pass the body as it is). */
export function responseTransformsOn(config: ProxySnapshot['config']): boolean {
  return config.browser_shield.enabled || config.a2a_scanning.enabled
}

/**
 * The transforms of one buffered body. Synchronous unless an A2A check runs (it awaits its
 * scanners): the common response costs no promise.
 */
export function transformResponse(i: ResponseTransformInput): ResponseTransformOutcome | Promise<ResponseTransformOutcome> {
  const state = i.ports.transforms ?? new ResponseTransformState()
  let body = i.body
  let changed = false
  const shield = i.snap.config.browser_shield
  if (shield.enabled && body.length > 0) {
    const r = applyShield(i, state, body)
    if (r.kind === 'block') return r
    body = r.body
    changed = r.changed
  }
  const a2a = i.snap.config.a2a_scanning
  if (a2a.enabled && i.request !== undefined && (i.transport === 'forward' || i.transport === 'connect')) {
    const isCard = isAgentCardPath(i.url)
    if (isCard || isA2aRequest(i.request.contentType, i.url) || mediaTypeOf(header(i.responseHeaders, 'content-type')) === 'application/a2a+json') {
      return a2aTransform(i, state, isCard, body, changed)
    }
  }
  return {kind: 'pass', body, changed}
}

/** The A2A response or Agent Card check (§2.5, §2.6) of a body the shield passed. */
async function a2aTransform(i: ResponseTransformInput, state: ResponseTransformState, isCard: boolean, body: Buffer, changed: boolean): Promise<ResponseTransformOutcome> {
  const s = a2aSettingsFromConfig(i.snap.config.a2a_scanning)
  const scanners = a2aScanners(i.snap)
  const text = body.toString('utf8')
  const v = isCard ? await scanAgentCard(text, i.url, i.request!.authorization, s, scanners, state.a2a) : await scanA2aBody(text, s, scanners, state.a2a, i.b.sessionKey)
  return a2aResponseAnswer(i, v) ?? {kind: 'pass', body, changed}
}

/** §2.5: an A2A finding blocks when the action is block and the proxy enforces; otherwise it is logged. */
function a2aResponseAnswer(i: ResponseTransformInput, v: A2aVerdict): ResponseTransformOutcome | null {
  if (v.clean) return null
  const block = v.action === 'block' && enforcing(i.snap)
  i.ports.audit.event('warn', 'a2a_response', block ? 'A2A response blocked' : 'A2A response finding (not blocked)', {
    url: i.shown, detail: v.reason, action: v.action, request_id: i.b.requestId, agent: i.b.agent,
  })
  return block ? {kind: 'block', layer: 'a2a_response', reason: 'prompt_injection', detail: v.reason, status: 403} : null
}

function applyShield(i: ResponseTransformInput, state: ResponseTransformState, body: Buffer): ResponseTransformOutcome {
  const cfg = i.snap.config.browser_shield
  const m = i.ports.metrics
  if (matchesAnyDomain(i.host.toLowerCase(), cfg.exempt_domains) !== null) {
    m.shieldSkipped.inc({reason: 'exempt_domain'})
    return {kind: 'pass', body, changed: false}
  }
  const s = shieldSettingsFromConfig(cfg)
  const out = shieldBody(body, header(i.responseHeaders, 'content-type'), header(i.responseHeaders, 'content-security-policy'), s, state.trackingDomains(s.trackingDomains))
  if (out.kind === 'untouched') {
    m.shieldSkipped.inc({reason: out.reason})
    return {kind: 'pass', body, changed: false}
  }
  if (out.kind === 'oversize') {
    m.shieldSkipped.inc({reason: 'oversize'})
    if (out.action === 'warn') {
      i.ports.audit.event('warn', 'shield_oversize', `response body ${out.bytes} bytes exceeds max_shield_bytes ${s.maxShieldBytes}`, {url: i.shown, transport: i.transport, request_id: i.b.requestId, agent: i.b.agent})
      return {kind: 'pass', body, changed: false}
    }
    return {kind: 'block', layer: 'shield_oversize', reason: 'browser_shield_oversize', detail: 'response body exceeds browser shield size limit', status: 403}
  }
  if (out.partial) {
    m.shieldSkipped.inc({reason: 'oversize'})
    m.shieldOversizeScanHead.inc({transport: i.transport})
  }
  if (!out.changed) return {kind: 'pass', body, changed: false}
  for (const category of ['extension', 'tracking', 'trap'] as const) {
    const hits = out.counts[category]
    if (hits === 0) continue
    m.shieldRewrites.inc({category, transport: i.transport})
    i.ports.audit.event('info', 'shield_rewrite', 'browser shield rewrote content', {category, hits, transport: i.transport, url: i.shown, client_ip: i.b.clientIp, request_id: i.b.requestId})
  }
  if (out.counts.svg > 0) {
    i.ports.audit.event('info', 'shield_rewrite', 'browser shield rewrote content', {category: 'svg', hits: out.counts.svg, transport: i.transport, url: i.shown, client_ip: i.b.clientIp, request_id: i.b.requestId})
  }
  if (out.counts.shims > 0) m.shieldShims.inc({transport: i.transport})
  return {kind: 'pass', body: out.body, changed: true}
}
