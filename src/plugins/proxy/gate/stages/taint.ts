/**
 * Taint (policy-extra §1.6–1.10): a side-effecting request from a session that took in untrusted
 * content is judged by the taint matrix under `taint.policy`. `block` is a 403 `authority_mismatch`
 * (layer `taint_policy`); `ask` is held for an operator when an approval channel exists (docs/ask.md)
 * and is a 403 otherwise, or when denied or timed out. In audit mode (`enforce: false`) either is
 * recorded as `would_block` and the request goes on. The evaluation rides on every later Decision
 * of the request (receipts' taint fields).
 */
import {blockDecision, enforcing} from '../../core.js'
import type {Stage} from '../context.js'

const READS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

export const taintStage: Stage = {
  id: 'taint',
  async run(ctx) {
    const t = ctx.rec.session
    if (t === null || READS.has(ctx.method.toUpperCase())) return false
    const ps = ctx.snap.sessions!
    let {ev, evidence} = ps.evaluateHttp(t, ctx.method, ctx.target, ctx.shown)
    ctx.rec.taint = evidence
    if (ev.decision === 'allow') return false
    if (ev.decision === 'ask' && enforcing(ctx.snap) && ctx.ports.approvals !== undefined) {
      const answer = await ctx.ports.approvals.hold({
        kind: 'taint', transport: ctx.b.transport, agent: ctx.b.agent, sessionKey: ctx.b.sessionKey, target: ctx.shown,
        reason: ev.reason, patterns: [], preview: `${ctx.method.toUpperCase()} ${ctx.shown}`, allowStrip: false,
      })
      ctx.rec.hitl = {id: answer.id, outcome: answer.outcome, decidedBy: answer.decidedBy}
      if (answer.outcome === 'allow') {
        // Approved: the action now carries the operator's authority (policy-extra §1.10).
        ;({evidence} = ps.evaluateHttp(t, ctx.method, ctx.target, ctx.shown, 'operator_override'))
        ctx.rec.taint = {...evidence, decision: 'ask', reason: ev.reason}
        return false
      }
    }
    const detail = `authority mismatch: ${ev.reason}`
    if (enforcing(ctx.snap)) {
      ctx.block({stage: 'taint', layer: 'taint_policy', detail, status: 403, reason: 'authority_mismatch'})
      return true
    }
    ctx.rec.record(blockDecision(ctx.ports, ctx.b, ctx.shown, {stage: 'taint', layer: 'taint_policy', reason: 'authority_mismatch', detail, status: 0, enforced: false}))
    return false
  },
}
