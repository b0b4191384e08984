/**
 * A policy-denied upstream outcome as a block, for every transport that follows redirects
 * through `requestWithRedirects` (the forward exchange and /fetch): a redirect hop the contract
 * denies, a hop the URL scan refuses, and a mediation envelope that could not be signed (spec
 * §4.6: never forwarded unsigned; a redirect hop's failure is a redirect block). The transport's
 * own `BlockAnswer` records the one Decision and answers in its form.
 */
import type {BlockAnswer} from '../request-gate.js'
import {safeTarget} from '../core.js'
import type {ProxySnapshot} from '../state.js'
import type {UpstreamOutcome} from '../upstream.js'
import {ENVELOPE_FAILED} from './mediation.js'

/** The outcomes policy denied (everything but a response and an upstream error). */
export type UpstreamDenial = Extract<UpstreamOutcome, {readonly kind: 'contract_blocked' | 'redirect_blocked' | 'envelope_failed'}>

/** Answers `outcome` through `block` when policy denied it; true when answered, false for a response or an upstream error. */
export function answerUpstreamDenial(snap: ProxySnapshot, outcome: UpstreamOutcome, block: BlockAnswer): outcome is UpstreamDenial {
  switch (outcome.kind) {
    case 'contract_blocked':
      block({stage: 'contract', layer: 'contract', detail: `redirect to ${safeTarget(snap, outcome.url, null)}: ${outcome.denied.detail}`, status: 403, reason: outcome.denied.code, ...(outcome.denied.hint === undefined ? {} : {hint: outcome.denied.hint})})
      return true
    case 'redirect_blocked':
      block({stage: 'redirect', layer: outcome.scan.layer, detail: `redirect blocked: ${outcome.scan.detail}`, status: 403, reason: 'redirect_scan_denied'})
      return true
    case 'envelope_failed':
      if (outcome.hop === 0) block({stage: 'envelope', layer: 'mediation_envelope', detail: ENVELOPE_FAILED, status: 403, reason: 'outbound_envelope_failed'})
      else block({stage: 'redirect', layer: 'mediation_envelope', detail: `redirect blocked: ${ENVELOPE_FAILED}`, status: 403, reason: 'redirect_scan_denied'})
      return true
    default:
      return false
  }
}
