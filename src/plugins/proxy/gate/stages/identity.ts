/**
 * Identity (issue 37 item 1): the identity was resolved once at dispatch (server.ts, identity.ts);
 * a request that names a profile bound to a listener or source CIDR from anywhere else is refused
 * here, before any scanner, with its own reason and a receipt. A claim never selects a bound
 * profile's looser policy (`exclusive_agent_binding`, default true).
 */
import type {Stage} from '../context.js'

export const identityStage: Stage = {
  id: 'identity',
  run(ctx) {
    const why = ctx.b.identityRefused
    if (why === undefined) return false
    ctx.block({stage: 'identity', layer: 'identity', detail: why, status: 403, reason: 'identity_not_bound'})
    return true
  },
}
