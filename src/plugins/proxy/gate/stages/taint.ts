/**
 * Taint (policy-extra §1.6–1.10): a side-effecting request from a session that took in untrusted
 * content is judged by the taint matrix under `taint.policy` — for an unbound identity, by the
 * most tainted session of its client address (a claimed name sheds nothing, issue 37 item 1). `block` is a 403 `authority_mismatch`
 * (layer `taint_policy`); `ask` is held for an operator when an approval channel exists and
 * `response_scanning.action: ask` is in force (docs/ask.md), and is a 403 otherwise, or when denied or timed out. Either is a finding no exception waives: in
 * audit mode (`enforce: false`) the mode stage records it as `would_block` and the request goes
 * on — so no operator is asked then. A reset or terminate of the session while the request waits
 * for its operator cuts it: 403 `airlock_active`, as a cut exchange (relay/exchange-cut.ts). The
 * evaluation rides on every later Decision of the request (receipts' taint fields).
 *
 * A request is judged on what it asks the upstream to do (judged-action.ts), not on its request
 * line alone (the reference's reading, docs/compatibility.md).
 */
import type {RequestSession} from '../../session-gate.js'
import type {RequestGateContext, Stage} from '../context.js'
import {judgedAction, type JudgedAction} from '../judged-action.js'
import {answers} from './mode.js'
import {askConfigured} from '../../features.js'
import {ExchangeCut} from '../../relay/exchange-cut.js'

export const taintStage: Stage = {
  id: 'taint',
  // Without session profiling no request opens a session (RequestRecord.open).
  applies: (snap) => snap.sessions !== null,
  run(ctx) {
    const t = ctx.rec.session
    if (t === null) return false
    const judged = judgedAction(ctx)
    // A read: nothing to judge, no promise.
    if (judged === null) return false
    return judgeTaint(ctx, t, judged)
  },
}

/** A side-effecting request of a session: the taint matrix, an `ask` held for an operator. */
async function judgeTaint(ctx: RequestGateContext, t: RequestSession, judged: JudgedAction): Promise<boolean> {
  const ps = ctx.snap.sessions!
  let {ev, evidence} = ps.evaluateHttp(t, judged.method, ctx.target, ctx.shown, 'user_broad', judged.carriesBody)
  ctx.rec.taint = evidence
  if (ev.decision === 'allow') return false
  // An operator is asked only when the block would be answered (not in audit mode).
  // The channel exists for the whole run; a taint ask holds only while the config in force asks
  // (docs/ask.md) — the latest one: a reload away from `ask` has already answered what was held.
  if (ev.decision === 'ask' && answers(ctx.snap, 'record') && ctx.ports.approvals !== undefined && askConfigured(ctx.ports.snapshot().config)) {
    // A request waiting for its operator is in-flight work of its session: a reset or terminate
    // withdraws the question (the pending approval is cancelled, its slot freed) and answers the
    // request with the cut's block, so an approval arriving later lets nothing through.
    const withdrawn = new AbortController()
    let held = true
    let cutDetail = ''
    const cut = new ExchangeCut(ps, t, () => !held, (detail) => {
      cutDetail = detail
      withdrawn.abort(detail)
    })
    const answer = await ctx.ports.approvals.hold({
      kind: 'taint', transport: ctx.b.transport, agent: ctx.b.agent, sessionKey: ctx.b.sessionKey, target: ctx.shown,
      reason: ev.reason, patterns: [], preview: `${judged.method} ${ctx.shown}`, allowStrip: false,
    }, withdrawn.signal)
    held = false
    cut.end()
    ctx.rec.hitl = {id: answer.id, outcome: answer.outcome, decidedBy: answer.decidedBy}
    if (cut.cut) {
      ctx.block({stage: 'session', layer: 'airlock', reason: 'airlock_active', detail: cutDetail, status: 403, body: `airlock: ${cutDetail}`})
      ctx.rec.seal()
      return true
    }
    if (answer.outcome === 'allow') {
      // Approved: the action now carries the operator's authority (policy-extra §1.10).
      ;({evidence} = ps.evaluateHttp(t, judged.method, ctx.target, ctx.shown, 'operator_override', judged.carriesBody))
      ctx.rec.taint = {...evidence, decision: 'ask', reason: ev.reason}
      return false
    }
  }
  ctx.finding = {block: {stage: 'taint', layer: 'taint_policy', detail: `authority mismatch: ${ev.reason}`, status: 403, reason: 'authority_mismatch'}, mode: 'record'}
  return false
}
