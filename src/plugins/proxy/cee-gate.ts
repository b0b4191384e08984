/**
 * The proxy's side of cross-request exfiltration detection (operations §5.6): `admit` after
 * header DLP (fetch) or body/header DLP (forward), the CONNECT check (§5.4), the per-frame entry
 * point for the WebSocket transport, session signals (`entropy_budget`, `fragment_dlp`) with the
 * `block_all` re-check, and the metrics. Blocks answer `cross_request_deny` with layer
 * `cross_request`, and the URL is redacted in every echo and log (Q-C1 fixed: the layer is a
 * content scanner label).
 */
import type {IncomingHttpHeaders} from 'node:http'
import {extractPayload, textDlpOf, type CeeCounters, type CeeResult, type CrossRequestDetector} from '../cee/index.js'
import {clientHostOf, levelLabel} from '../sessions/index.js'
import type {JsonParts} from '../scanner/index.js'
import {enforcing, safeTarget, type DecisionBase} from './core.js'
import type {AuditTrail, Clock} from './ports.js'
import {renderFamily} from './metrics.js'
import type {BlockAnswer, RequestRecord} from './request-gate.js'
import {hostOfUrl} from './session-gate.js'
import type {ProxySnapshot} from './state.js'

export const CEE_LAYER = 'cross_request'

/** What cross-request detection uses: the clock of its windows and the audit trail of warn findings. */
export type CeePorts = Clock & AuditTrail

/** The request being judged (the gate context is one): its snapshot, record step, base and block answer. */
export interface CeeRequest {
  readonly snap: ProxySnapshot
  /** The request (its Content-Type); absent where no HTTP request carries the payload. */
  readonly req?: {readonly headers: IncomingHttpHeaders}
  readonly rec: RequestRecord
  readonly b: DecisionBase
  readonly block: BlockAnswer
}

/**
 * The key a request's cross-request state is kept under: its session for an identity a listener
 * or source CIDR bound; the client address for a claimed one (as taint, levels and budgets), so
 * an agent that renames itself or drops the header keeps filling the same window; every loopback
 * address is one host (`clientHostOf`), so a local agent that binds 127.0.0.2 keeps it too. The
 * MCP listener keys its windows by the same host, so the two transports share them.
 */
export function ceeKey(b: Pick<DecisionBase, 'sessionKey' | 'clientIp' | 'bound'>): string {
  return b.bound === true || b.clientIp === '' ? b.sessionKey : clientHostOf(b.clientIp)
}

/** The request's Content-Type (a form or JSON body feeds its fields, `extractPayload`). */
function contentTypeOf(req: {readonly headers: IncomingHttpHeaders} | undefined): string | undefined {
  const v = req?.headers['content-type']
  return typeof v === 'string' ? v : undefined
}

function dlpOf(snap: ProxySnapshot) {
  // Carries the engine, so the fragment buffer can prove clean windows without the full pass.
  return textDlpOf(snap.scanner)
}

/**
 * Fetch / forward / intercepted requests: the request's payload (query values and keys, plus
 * the body's first 64 KiB) is admitted. Warn findings are audited as `anomaly`; a block is
 * answered through `block`. True when the request was answered.
 */
export function ceeGate(ports: CeePorts, q: CeeRequest, target: string, body: Buffer | null): boolean {
  const {snap, b} = q
  const det = snap.cee
  if (det === null) return false
  const host = hostOfUrl(target)
  const r = det.admit(ceeKey(b), host, extractPayload(target, body, contentTypeOf(q.req)), dlpOf(snap), ports.nowMs(), enforcing(snap))
  if (r.findings.length === 0) return false
  return settle(ports, q, safeTarget(snap, target, CEE_LAYER), r)
}

/** One `anomaly` audit event per warn finding (`url` only where the payload came with one). */
function auditWarnFindings(ports: AuditTrail, b: DecisionBase, r: CeeResult, shown?: string): void {
  for (const f of r.findings) {
    if (f.action !== 'warn') continue
    ports.audit.event('warn', 'anomaly', 'cross-request finding (not blocked)', {
      scanner: f.kind === 'entropy' ? 'cross_request_entropy' : 'cross_request_fragment', detail: f.detail, ...(shown === undefined ? {} : {url: shown}), request_id: b.requestId, agent: b.agent, score: 0,
    })
  }
}

/** The shared tail: audit warn findings, score the session, re-check block_all, answer a block. */
function settle(ports: AuditTrail, q: CeeRequest, shown: string, r: CeeResult): boolean {
  const {rec, block} = q
  auditWarnFindings(ports, q.b, r, shown)
  const t = rec.session
  if (t !== null) {
    t.finding = true
    const m = rec.sessions!.manager
    if (r.entropyExceeded) m.signal(t.session, 'entropy_budget', shown, 'cross-request entropy budget exceeded')
    if (r.fragmentMatched) m.signal(t.session, 'fragment_dlp', shown, 'cross-request fragment DLP match')
    // The escalation may have made the session block everything: that answer wins (§5.6).
    if (t.session.blockAll) {
      block({stage: 'session', layer: 'session_deny', detail: `session escalation level ${levelLabel(t.session.level)}`, status: 403, reason: 'escalation_level'})
      return true
    }
  }
  if (r.block === null) return false
  block({stage: 'cross_request', layer: CEE_LAYER, detail: r.block.reason, status: 403, reason: 'cross_request_deny'})
  return true
}

/**
 * CONNECT (§5.4): nothing is recorded (the hostname is not data), but a key whose budget is
 * already exceeded is flagged: `entropy_budget` scored, the entropy action upgraded by the
 * session level, a block answered `CONNECT blocked: cross-request entropy budget exceeded`.
 */
export function ceeConnectGate(ports: CeePorts, q: CeeRequest, tunnel: {readonly host: string; readonly display: string}): boolean {
  const {snap, rec, b, block} = q
  const {host, display} = tunnel
  const det = snap.cee
  if (det === null || !det.connectExceeded(ceeKey(b), host, ports.nowMs())) return false
  const t = rec.session
  let action = det.settings.entropy.action
  if (t !== null) {
    t.finding = true
    const m = rec.sessions!.manager
    m.signal(t.session, 'entropy_budget', display, 'cross-request entropy budget exceeded')
    const up = m.upgrade(t.session, action)
    if (up !== action) {
      ports.audit.event('warn', 'adaptive_upgrade', 'warn finding upgraded to block by escalation level', {
        session: t.session.key, agent: b.agent, client_ip: b.clientIp, url: display, finding: 'cross-request entropy budget exceeded', from: action, to: up,
        escalation_level: levelLabel(t.session.level), severity: up === 'block' ? 'critical' : 'warn',
      })
      action = up === 'block' ? 'block' : action
    }
  }
  if (!enforcing(snap)) action = 'warn'
  if (action !== 'block') {
    ports.audit.event('warn', 'anomaly', 'cross-request finding (not blocked)', {scanner: 'cross_request_entropy', detail: 'entropy budget exceeded', url: display, request_id: b.requestId, agent: b.agent, score: 0})
    return false
  }
  block({stage: 'cross_request', layer: 'cross_request_entropy', detail: 'cross-request entropy budget exceeded', status: 403, reason: 'cross_request_deny'})
  return true
}

/**
 * The WebSocket transport's entry point (§5.3): one client→server message of the session
 * `sessionKey` to `host`. The caller answers a block (close 1008 `cross-request exfiltration
 * detected`) and records its decision with layer `cross_request`; warn findings are audited here.
 * `json`: a text message read as one JSON document (null: not JSON); fragment reassembly reads
 * its string values instead of the raw message, so a key split across JSON messages is whole,
 * and the per-field tails its values by member path.
 */
export function ceeWebSocketMessage(
  ports: CeePorts, q: Pick<CeeRequest, 'snap' | 'b'>,
  frame: {readonly host: string; readonly data: string | Buffer; readonly isText: boolean; readonly json?: () => JsonParts | null},
): CeeResult | null {
  const {snap, b} = q
  const det = snap.cee
  if (det === null) return null
  const json = frame.isText && det.fragments !== null && frame.json !== undefined ? frame.json() : null
  const values = json === null ? null : json.values.join('')
  // A JSON message's values by member path, for the per-field tails (`{"t":"AKIA…","id":"1"}` then `{"t":"…","id":"2"}`).
  const fields = json?.fields
  const r = det.admitFrame(ceeKey(b), frame.host, frame.data, frame.isText, dlpOf(snap), ports.nowMs(), enforcing(snap), values, fields)
  auditWarnFindings(ports, b, r)
  return r
}

/** `pipelock_cross_request_*` (§9; the buffer gauge is set at scrape time, Q-C2 fixed). */
export function renderCeeMetrics(out: string[], det: CrossRequestDetector | null, counters: CeeCounters | undefined): void {
  if (det === null && counters === undefined) return
  const c = det?.counters ?? counters!
  renderFamily(out, 'pipelock_cross_request_entropy_exceeded_total', 'Requests over the cross-request entropy budget.', 'counter', [[{}, c.entropyExceeded]])
  renderFamily(out, 'pipelock_cross_request_dlp_match_total', 'Secrets found only by reassembling fragments across requests.', 'counter', [[{}, c.dlpMatches]])
  renderFamily(out, 'pipelock_cross_request_fragment_buffer_bytes', 'Bytes held by the fragment buffer.', 'gauge', [[{}, det?.stats().fragment_buffer_bytes ?? 0]])
}
