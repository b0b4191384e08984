/**
 * The response-injection verdict of a buffered body (response_scanning, runtime §4.1 steps 18–19),
 * settled the same way for /fetch and the forward exchange (forward and intercepted requests) by
 * the response gate's `response_scan` stage (gate/response/stages/response-scan.ts):
 * a block is answered; a strip is counted against the session; a warn is upgraded to a block at
 * the session's escalation level, or logged. The reverse proxy answers the operator's own service
 * by its own rules (transports §4.4 step 8: block and ask replace the response even in audit mode).
 */
import type {ResponseDecision, ResponseHeaderDecision} from '../../scanner/index.js'
import type {DecisionBase} from '../core.js'
import type {AuditTrail} from '../ports.js'
import type {BlockAnswer} from '../request-gate.js'
import type {ProxySessions, RequestSession} from '../session-gate.js'

/** The forward proxy's text for a response-injection block (/fetch answers its JSON instead). */
export const RESPONSE_INJECTION_TEXT = 'blocked: response contains injection'

export interface ResponseScanSubject {
  readonly ports: AuditTrail
  readonly b: Pick<DecisionBase, 'requestId' | 'agent'>
  readonly sessions: ProxySessions | null
  readonly session: RequestSession | null
  /** The host the session scores a warn against. */
  readonly host: string
  /** The target as it appears in logs. */
  readonly shown: string
  readonly block: BlockAnswer
}

/**
 * Settles `decision` (not `ask`: a transport with an operator channel holds it first), the body's
 * or the headers' (gate/response/stages/response-headers.ts). Null when the response was blocked (answered
 * through `block`); otherwise the stripped content, if any, with its bytes when the strip was made
 * in them (a binary body: scanner `strippedBody`; a header strip has none: it names the
 * headers to drop), and whether anything was found (the session's exposure reads it).
 */
export function settleResponseScan(
  s: ResponseScanSubject, decision: Exclude<ResponseDecision, {action: 'ask'}> | ResponseHeaderDecision,
): {readonly stripped?: {readonly content: string; readonly bytes?: Uint8Array}; readonly finding: boolean} | null {
  const {sessions: ps, session: t} = s
  if (decision.action === 'block') {
    s.block({stage: 'response', layer: 'response_scan', detail: decision.detail, status: 403, reason: 'prompt_injection', body: RESPONSE_INJECTION_TEXT})
    return null
  }
  if (decision.action === 'strip') {
    if (t !== null) ps!.strip(t, s.shown)
    if (!('content' in decision)) return {finding: true}
    // The operator's strip of a held response has its own line (response-ask.ts).
    if (!('held' in decision && decision.held === true)) s.ports.audit.event('warn', 'response_scan', 'response injection patterns stripped', {url: s.shown, patterns: [...decision.names], action: 'strip', request_id: s.b.requestId, agent: s.b.agent})
    return {stripped: decision, finding: true}
  }
  if (decision.action === 'warn') {
    const names = [...new Set(decision.matches.map((m) => m.pattern))]
    if (t !== null && ps!.warn(t, `response injection: ${names.join(', ')}`, s.host, false, s.shown) !== null) {
      s.block({stage: 'response', layer: 'response_scan', detail: `response contains injection: ${names.join(', ')} (warn upgraded to block at escalation level ${ps!.levelOf(t)})`, status: 403, reason: 'prompt_injection', body: RESPONSE_INJECTION_TEXT})
      return null
    }
    s.ports.audit.event('warn', 'response_scan', 'response injection patterns seen (warn)', {url: s.shown, patterns: names, request_id: s.b.requestId, agent: s.b.agent})
    return {finding: true}
  }
  return {finding: false}
}
