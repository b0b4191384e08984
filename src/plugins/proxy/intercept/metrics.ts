/**
 * TLS interception metric families (transports §2.13), owned by the proxy for its whole life (a
 * reload rebuilds the interceptor but keeps the counts). Block counters read the same Decision
 * every other sink reads (a DecisionSink over `transport: "intercept"` blocks), so every block of
 * an inner request is counted exactly where it is recorded, whichever stage made it.
 *
 * Labels are fixed sets (bounded cardinality): the spec's reasons, plus the stages this port has
 * that the reference's inner pipeline lacks (`taint`, `budget`, `ssrf`, `upgrade`), and `other`
 * for anything unforeseen. The kill-switch denial is not counted here (spec), and frame-level
 * closes of an intercepted `wss://` relay (method `WS`) count under `pipelock_ws_*`.
 */
import {isToolCall, type Decision, type DecisionSink} from '../../decision/index.js'
import {Histogram, renderFamily} from '../metrics.js'

export type InterceptOutcome = 'intercepted' | 'failed' | 'handshake_error'

export const TLS_REQUEST_BLOCK_REASONS = [
  'mediation_envelope', 'authority_mismatch', 'airlock', 'url_scan', 'a2a_scan', 'body_dlp', 'body_prompt_injection',
  'address_protection', 'redaction', 'header_dlp', 'cross_request', 'session_deny', 'contract',
  'taint', 'budget', 'ssrf', 'upgrade', 'other',
] as const
export const TLS_RESPONSE_BLOCK_REASONS = ['compressed', 'sse_stream', 'a2a_scan', 'read_error', 'oversized', 'shield_oversize', 'media_policy', 'injection', 'other'] as const

type RequestReason = (typeof TLS_REQUEST_BLOCK_REASONS)[number]
type ResponseReason = (typeof TLS_RESPONSE_BLOCK_REASONS)[number]

const BODY_LAYERS: ReadonlySet<string> = new Set(['body_dlp', 'body_prompt_injection', 'address_protection', 'redaction'])

/** The `tls_request_blocked_total` / `tls_response_blocked_total` label of one intercept block, or null when it is not counted. */
export function interceptBlockLabel(d: Decision): {side: 'request'; reason: RequestReason} | {side: 'response'; reason: ResponseReason} | null {
  if (d.transport !== 'intercept' || d.verdict !== 'block' || d.method === 'WS') return null
  const req = (reason: RequestReason) => ({side: 'request' as const, reason})
  switch (d.stage) {
    case 'kill_switch':
      return null
    case 'envelope':
      // The outbound envelope could not be signed (inbound envelopes are verified on the CONNECT, not per inner request).
      return req('mediation_envelope')
    case 'authority':
      return req('authority_mismatch')
    case 'url_scan':
      return req('url_scan')
    case 'session':
      return req(d.layer === 'airlock' ? 'airlock' : 'session_deny')
    case 'header_dlp':
      return req(d.layer === 'a2a_header' ? 'a2a_scan' : 'header_dlp')
    case 'body_scan':
      if (d.layer === 'a2a_scan') return req('a2a_scan')
      return req(BODY_LAYERS.has(d.layer) ? (d.layer as RequestReason) : 'body_dlp')
    case 'cross_request':
      return req('cross_request')
    case 'contract':
      return req('contract')
    case 'taint':
      return req('taint')
    case 'budget':
      return req('budget')
    case 'upstream':
      return req('ssrf')
    case 'upgrade':
      return req('upgrade')
    case 'response': {
      const res = (reason: ResponseReason) => ({side: 'response' as const, reason})
      if (d.layer === 'a2a_response' || d.layer === 'a2a_stream') return res('a2a_scan')
      if (d.layer === 'shield_oversize') return res('shield_oversize')
      if (d.reason === 'compressed_response') return res(d.layer === 'sse_stream' ? 'sse_stream' : 'compressed')
      if (d.reason === 'media_policy') return res('media_policy')
      if (d.reason === 'data_budget') return res('oversized')
      if (d.reason === 'parse_error') return res('read_error')
      // A blocking finding that ended an event stream is recorded after the status was sent.
      if (d.reason === 'prompt_injection') return res(d.detail.startsWith('SSE stream') ? 'sse_stream' : 'injection')
      return res('other')
    }
    default:
      return req('other')
  }
}

export class InterceptMetrics implements DecisionSink {
  private readonly outcomes = new Map<InterceptOutcome, number>()
  private readonly requestBlocks = new Map<string, number>()
  private readonly responseBlocks = new Map<string, number>()
  /** §2.8: the client-side handshake (ClientHello handed to the TLS server → secure). */
  private readonly clientHandshake = new Histogram('pipelock_tls_handshake_duration_seconds', 'TLS handshake duration with the client inside intercepted tunnels (side="client").', [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5])

  handshake(seconds: number): void {
    this.clientHandshake.observe(seconds)
  }

  count(outcome: InterceptOutcome): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1)
  }

  record(d: Decision): void {
    if (isToolCall(d)) return // interception is an HTTP transport's
    const l = interceptBlockLabel(d)
    if (l === null) return
    const m = l.side === 'request' ? this.requestBlocks : this.responseBlocks
    m.set(l.reason, (m.get(l.reason) ?? 0) + 1)
  }

  /** §2.13 families (the reference's names); `cacheSize` is the live interceptor's leaf count. */
  render(out: string[], cacheSize: number): void {
    renderFamily(out, 'pipelock_tls_intercept_total', 'CONNECT tunnels by interception outcome.', 'counter', (['intercepted', 'failed', 'handshake_error'] as const).map((k) => [{outcome: k}, this.outcomes.get(k) ?? 0] as const))
    renderFamily(out, 'pipelock_tls_cert_cache_size', 'Leaf certificates in the interception cache.', 'gauge', [[{}, cacheSize]])
    renderFamily(out, 'pipelock_tls_request_blocked_total', 'Inner requests of intercepted tunnels blocked before the upstream answered, by reason.', 'counter', TLS_REQUEST_BLOCK_REASONS.map((k) => [{reason: k}, this.requestBlocks.get(k) ?? 0] as const))
    this.clientHandshake.render(out, {side: 'client'})
    renderFamily(out, 'pipelock_tls_response_blocked_total', 'Inner responses of intercepted tunnels blocked, by reason.', 'counter', TLS_RESPONSE_BLOCK_REASONS.map((k) => [{reason: k}, this.responseBlocks.get(k) ?? 0] as const))
  }
}
