/**
 * A response the scanner wants a human to see (`response_scanning.action: ask`, docs/ask.md):
 * the exchange is held in the approval queue until an operator allows it (the original is
 * forwarded), strips it (the redacted content is forwarded) or denies it — or the timeout
 * denies it. The answer rides on the request's Decision (receipt fields #17–20). `/fetch` holds
 * through `holdResponse`; the forward proxy, intercepted exchanges and the reverse proxy decide
 * their buffered response through `decideHeldResponse` (called by the response gate's
 * `response_scan` stages, gate/response/stages/), which holds an `ask` the same way (the
 * reference blocks those, docs/compatibility.md).
 */
import type {ServerResponse} from 'node:http'
import {redactBodyNamed, strippedNames, type ResponseDecision, type ResponseDecisionOptions} from '../../scanner/index.js'
import type {DecisionBase} from '../core.js'
import type {ApprovalsPort, AuditTrail, SnapshotSource} from '../ports.js'
import type {RequestRecord} from '../request-gate.js'
import {upgradeAction} from '../../sessions/index.js'
import {sessionSettingsFromConfig} from '../session-gate.js'
import {ASK_WITHDRAWN, askConfigured} from '../features.js'
import type {ProxySnapshot} from '../state.js'

/** A response decision with `ask` resolved; `held` when it came from an `ask` (answered, timed out, or upgraded to block): its detail says which. */
/** What holding a response uses: the approval queue, the audit trail, the snapshot's scanner (strip). */
export type HoldPorts = ApprovalsPort & AuditTrail & SnapshotSource

/** The exchange whose response is judged: its snapshot, record step and base, the URL as shown, the client's response. */
export interface HeldExchange {
  readonly snap: ProxySnapshot
  readonly rec: RequestRecord
  readonly b: DecisionBase
  readonly shown: string
  readonly res: ServerResponse
}

export type SettledResponseDecision = Exclude<ResponseDecision, {action: 'ask'}> & {readonly held?: boolean}

/**
 * The response scan of a buffered body on the forward, intercepted and reverse paths: decided as
 * `/fetch` decides it, and an `ask` held for an operator until it is answered, times out or the
 * client goes away (then denied). Allow forwards the original, strip the redacted text, anything
 * else is a `response_scan` block whose detail says why. Synchronous unless the body went to the
 * scan pool or the scan asks for an operator.
 */
export function decideHeldResponse(
  ports: HoldPorts, x: HeldExchange, body: Uint8Array, opts: Omit<ResponseDecisionOptions, 'approverAvailable'>,
): SettledResponseDecision | Promise<SettledResponseDecision> {
  x.rec.scanned.response = body // what the response scan read, for a capture escrow sidecar
  // Read by its bytes whatever its Content-Type says, then in the charset it declares (scanner
  // decideResponseBody; over 64 KiB on the snapshot's scan pool); the text is decoded only for a hold.
  const decision = x.snap.bodyScans.decideResponseBody(x.snap.scanner, body, {
    host: opts.host, suppress: opts.suppress, approverAvailable: ports.approvals !== undefined,
    ...(opts.contentType === undefined ? {} : {contentType: opts.contentType}), ...(opts.textAt === undefined ? {} : {textAt: opts.textAt}),
  })
  if (decision instanceof Promise) return decision.then((d) => (d.action === 'ask' ? holdAsked(ports, x, body, d) : d))
  if (decision.action !== 'ask') return decision
  return holdAsked(ports, x, body, decision)
}

/** An `ask` decision: upgraded to a block by the session's level, or held until an operator answers. */
async function holdAsked(ports: HoldPorts, x: HeldExchange, body: Uint8Array, decision: ResponseDecision & {action: 'ask'}): Promise<SettledResponseDecision> {
  const {snap, rec, res} = x
  // Adaptive enforcement (policy-extra §2.1): a level with `upgrade_ask: block` blocks before anyone is asked.
  const t = rec.session
  if (t !== null && snap.sessions !== null && snap.config.adaptive_enforcement.enabled) {
    if (upgradeAction('ask', t.session.level, sessionSettingsFromConfig(snap.config).adaptive.levels) === 'block') {
      const names = [...new Set(decision.matches.map((m) => m.pattern))]
      return {action: 'block', matches: decision.matches, reason: 'prompt_injection', layer: 'response_scan', detail: `response contains injection: ${names.join(', ')} (ask upgraded to block at escalation level ${snap.sessions.levelOf(t)})`, held: true}
    }
  }
  // A scan that finished on the pool after a reload away from `ask`: nobody will be asked (the reload answered what was held).
  if (!askConfigured(ports.snapshot().config)) {
    const names = [...new Set(decision.matches.map((m) => m.pattern))]
    return {action: 'block', matches: decision.matches, reason: 'prompt_injection', layer: 'response_scan', detail: `response contains prompt injection: ${names.join(', ')} (${ASK_WITHDRAWN})`, held: true}
  }
  const gone = new AbortController()
  const onClose = (): void => gone.abort()
  res.once('close', onClose)
  try {
    const r = await holdResponse(ports, x, decision, {content: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'), body, gone: gone.signal})
    if (r.action === 'allow') return {action: 'allow', matches: decision.matches, held: true}
    if (r.action === 'strip') return {action: 'strip', matches: decision.matches, content: r.content, names: r.names, held: true, ...(r.bytes === undefined ? {} : {bytes: r.bytes})}
    return {action: 'block', matches: decision.matches, reason: 'prompt_injection', layer: 'response_scan', detail: r.detail, held: true}
  } finally {
    res.off('close', onClose)
  }
}

export type ResolvedResponse =
  | {readonly action: 'allow'; readonly content: string}
  /** `bytes`: the stripped body when it was not UTF-8 (scanner `redactBodyNamed`): relayed instead of `content`. */
  | {readonly action: 'strip'; readonly content: string; readonly names: readonly string[]; readonly bytes?: Uint8Array}
  | {readonly action: 'block'; readonly detail: string}

export async function holdResponse(
  ports: HoldPorts, x: Pick<HeldExchange, 'rec' | 'b' | 'shown'>, decision: ResponseDecision & {action: 'ask'}, hold: {readonly content: string; readonly body: Uint8Array; readonly gone: AbortSignal},
): Promise<ResolvedResponse> {
  const {rec, b, shown} = x
  const {content, gone} = hold
  const names = [...new Set(decision.matches.map((m) => m.pattern))]
  const answer = await ports.approvals!.hold({
    kind: 'response', transport: b.transport, agent: b.agent, sessionKey: b.sessionKey, target: shown,
    reason: `prompt injection detected: ${names.join(', ')}`, patterns: names, preview: content, allowStrip: true,
  }, gone)
  rec.hitl = {id: answer.id, outcome: answer.outcome, decidedBy: answer.decidedBy}
  const scanner = ports.snapshot().scanner
  switch (answer.outcome) {
    case 'allow':
      ports.audit.event('warn', 'response_scan', 'held response allowed by operator', {url: shown, patterns: names, action: 'ask:allow', approval: answer.id, decided_by: answer.decidedBy, request_id: b.requestId, agent: b.agent})
      return {action: 'allow', content}
    case 'strip': {
      // A body that is not UTF-8 is cut in its bytes; its other bytes are relayed as sent.
      const red = redactBodyNamed(scanner.response, hold.body)
      // Nothing could be removed: the operator asked for the content without the injection, so block.
      if (red === null) return {action: 'block', detail: `response blocked: strip removed nothing: ${names.join(', ')}`}
      const stripped = strippedNames(decision.matches, red.names)
      ports.audit.event('warn', 'response_scan', 'held response stripped by operator', {url: shown, patterns: stripped, action: 'ask:strip', approval: answer.id, decided_by: answer.decidedBy, request_id: b.requestId, agent: b.agent})
      return {action: 'strip', content: red.content, names: stripped, ...(red.bytes === undefined ? {} : {bytes: red.bytes})}
    }
    case 'timeout':
      return {action: 'block', detail: `response contains prompt injection: ${names.join(', ')} (no operator answer: timed out)`}
    default:
      // Nobody answered it (a full queue, shutdown, a reload away from `ask`): the reason says why, not "operator".
      if (answer.decidedBy === '') return {action: 'block', detail: `response contains prompt injection: ${names.join(', ')} (${answer.reason})`}
      return {action: 'block', detail: `response blocked by operator: ${names.join(', ')}`}
  }
}
