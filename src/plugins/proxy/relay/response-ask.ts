/**
 * A response the scanner wants a human to see (`response_scanning.action: ask`, docs/ask.md):
 * the exchange is held in the approval queue until an operator allows it (the original is
 * forwarded), strips it (the redacted content is forwarded) or denies it — or the timeout
 * denies it. The answer rides on the request's Decision (receipt fields #17–20). Only `/fetch`
 * holds a response, as in the reference; the other paths block an `ask` (docs/ask.md).
 */
import {redactResponse, type ResponseDecision} from '../../scanner/index.js'
import type {ProxyCore, DecisionBase} from '../core.js'
import type {RequestRecord} from '../request-gate.js'

export type ResolvedResponse =
  | {readonly action: 'allow'; readonly content: string}
  | {readonly action: 'strip'; readonly content: string}
  | {readonly action: 'block'; readonly detail: string}

export async function holdResponse(
  core: ProxyCore, rec: RequestRecord, b: DecisionBase, shown: string, content: string, decision: ResponseDecision & {action: 'ask'}, gone: AbortSignal,
): Promise<ResolvedResponse> {
  const names = [...new Set(decision.matches.map((m) => m.pattern))]
  const answer = await core.approvals!.hold({
    kind: 'response', transport: b.transport, agent: b.agent, sessionKey: b.sessionKey, target: shown,
    reason: `prompt injection detected: ${names.join(', ')}`, patterns: names, preview: content, allowStrip: true,
  }, gone)
  rec.hitl = {id: answer.id, outcome: answer.outcome, decidedBy: answer.decidedBy}
  const scanner = core.snapshot().scanner
  switch (answer.outcome) {
    case 'allow':
      core.audit.event('warn', 'response_scan', 'held response allowed by operator', {url: shown, patterns: names, action: 'ask:allow', approval: answer.id, decided_by: answer.decidedBy, request_id: b.requestId, agent: b.agent})
      return {action: 'allow', content}
    case 'strip': {
      const stripped = redactResponse(scanner.response, content)
      // Nothing could be removed: the operator asked for the content without the injection, so block.
      if (stripped === null) return {action: 'block', detail: `response blocked: strip removed nothing: ${names.join(', ')}`}
      core.audit.event('warn', 'response_scan', 'held response stripped by operator', {url: shown, patterns: names, action: 'ask:strip', approval: answer.id, decided_by: answer.decidedBy, request_id: b.requestId, agent: b.agent})
      return {action: 'strip', content: stripped}
    }
    case 'timeout':
      return {action: 'block', detail: `response contains prompt injection: ${names.join(', ')} (no operator answer: timed out)`}
    default:
      return {action: 'block', detail: `response blocked by operator: ${names.join(', ')}`}
  }
}
