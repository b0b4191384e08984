/**
 * Cross-request exfiltration detection (operations §5.6): after header and body DLP, the
 * request's payload (query and body) is admitted to the agent's window; a CONNECT tunnel is
 * checked by its host alone (§5.4).
 */
import {ceeConnectGate, ceeGate} from '../../cee-gate.js'
import type {Stage} from '../context.js'

export const crossRequestStage: Stage = {
  id: 'cross_request',
  applies: (snap) => snap.cee !== null,
  run(ctx) {
    if (ctx.tunnel !== undefined) return ceeConnectGate(ctx.ports, ctx, ctx.tunnel)
    return ceeGate(ctx.ports, ctx, ctx.target, ctx.body)
  },
}
