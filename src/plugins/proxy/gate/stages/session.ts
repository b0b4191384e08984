/**
 * Session preflight (§4.1 steps 9–10, OP §6): the anomaly block, `block_all`, the airlock tier
 * for this transport and the method the request asks for (judged-action.ts) — for an unbound identity, also the tier and `block_all` its client
 * address earned in other sessions (issue 37 item 1) — then the URL scan's warn findings upgraded
 * by escalation level.
 */
import {firstHeader} from '../../request-gate.js'
import type {Stage} from '../context.js'
import {judgedAction} from '../judged-action.js'
import {answers} from './mode.js'

export const sessionStage: Stage = {
  id: 'session',
  // Without session profiling no request opens a session (RequestRecord.open).
  applies: (snap) => snap.sessions !== null,
  run(ctx) {
    const {rec} = ctx
    const t = rec.session
    if (t === null) return false
    const host = ctx.sessionHost
    // Issue 37 item 1: a claimed (unbound) name is also held by what its client address earned.
    // The anomaly action blocks only where the mode answers a downgradable block (not in audit
    // mode, which records nothing for it); the airlock and `block_all` stand in every mode.
    // The airlock judges what the request asks the upstream to do: an override's method, a read with a body as a write.
    const judged = judgedAction(ctx)
    const [method, carriesBody] = judged === null ? [ctx.method, false] : [judged.method, judged.carriesBody]
    const deny = rec.sessions!.preflight(t, host, firstHeader(ctx.req.headers['user-agent']), answers(ctx.snap, 'pass'), ctx.airlock, method, carriesBody)
      ?? (ctx.b.bound !== true ? rec.sessions!.addressDeny(t, ctx.airlock, method, carriesBody) : null)
    if (deny !== null) {
      ctx.block({stage: 'session', layer: deny.layer, detail: deny.detail, status: 403, reason: deny.reason, body: deny.body})
      return true
    }
    if (ctx.scan === null) return false
    const up = rec.sessions!.warnFindings(t, ctx.scan.warnings, host, ctx.shown)
    if (up === null) return false
    ctx.block({stage: 'url_scan', layer: 'dlp', detail: `DLP match: ${up.names} (warn upgraded to block at escalation level ${up.label})`, status: 403, reason: 'dlp_match'})
    return true
  },
}
