/**
 * A2A event streams on the forward and intercepted exchanges (scanners-extra §2.9): when the
 * request is A2A (the same detection as the request stage and the buffered response transform)
 * and the answer is `text/event-stream`, every event the SSE relay assembles also goes through
 * the A2A stream scan (a2a/stream.ts) before it is written. A finding ends the stream in both
 * actions (the reference's choice: a half-read poisoned stream is worth nothing to the agent);
 * `block` with enforcement records a block on layer `a2a_stream`, `warn` logs the anomaly.
 * With `enforce: false` the finding is logged and the stream goes on.
 */
import {a2aSettingsFromConfig, A2aStreamScanner, isA2aRequest} from '../../a2a/index.js'
import {a2aScanners} from '../a2a-scanners.js'
import {enforcing, type DecisionBase} from '../core.js'
import type {AuditTrail} from '../ports.js'
import type {ProxySnapshot} from '../state.js'

export type SseEventVerdict =
  /** Write `out` (the event as scanned) in place of the raw event. */
  | {readonly kind: 'pass'; readonly out: string}
  /** End the stream; `block` says whether it is recorded as a block (else it was logged). */
  | {readonly kind: 'cut'; readonly layer: string; readonly detail: string; readonly block: boolean}

/** A per-event check the SSE relay applies to each event its generic scan let through. */
export type SseEventCheck = (raw: string) => Promise<SseEventVerdict>

export interface A2aStreamInput {
  readonly ports: AuditTrail
  readonly snap: ProxySnapshot
  readonly b: DecisionBase
  /** The request URL and Content-Type (the A2A detection). */
  readonly url: string
  readonly requestContentType: string
  readonly shown: string
}

/** The check for this exchange, or undefined when it is not an A2A stream to scan. */
export function a2aStreamCheck(i: A2aStreamInput): SseEventCheck | undefined {
  const cfg = i.snap.config.a2a_scanning
  if (!cfg.enabled || !isA2aRequest(i.requestContentType, i.url)) return undefined
  const s = a2aSettingsFromConfig(cfg)
  const scanner = new A2aStreamScanner(s, a2aScanners(i.snap))
  const enforce = enforcing(i.snap)
  return async (raw) => {
    const r = await scanner.scanEvent(raw)
    if (r.clean) return {kind: 'pass', out: r.out}
    const block = s.action === 'block' && enforce
    i.ports.audit.event('warn', 'a2a_stream', block ? 'A2A stream blocked' : enforce ? 'A2A stream finding: stream ended (warn)' : 'A2A stream finding (not blocked)', {
      url: i.shown, detail: r.reason, action: s.action, request_id: i.b.requestId, agent: i.b.agent,
    })
    if (!enforce) return {kind: 'pass', out: raw}
    return {kind: 'cut', layer: 'a2a_stream', detail: r.reason, block}
  }
}
