/**
 * Session preflight (§4.1 steps 9–10, OP §6): the anomaly block, `block_all`, the airlock tier
 * for this transport and method, then the URL scan's warn findings upgraded by escalation level.
 */
import {firstHeader, sessionPreflight} from '../../request-gate.js'
import type {Stage} from '../context.js'

export const sessionStage: Stage = {
  id: 'session',
  run(ctx) {
    const urlWarnings = ctx.scan !== null ? {scan: ctx.scan, shown: ctx.shown} : undefined
    return sessionPreflight(ctx.snap, ctx.rec, ctx.sessionHost, firstHeader(ctx.req.headers['user-agent']), ctx.block, urlWarnings, {transport: ctx.airlock, method: ctx.method})
  },
}
