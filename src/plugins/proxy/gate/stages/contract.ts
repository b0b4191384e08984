/**
 * The contract (learn-lifecycle §7.6): every scanner stage passed; a live contract may still
 * deny (403, §7.9); shadow and capture modes only annotate the Decision. While live contracts are
 * in force, an agent with none is denied unless listed as unlocked (gate/unlisted-agent.ts). A
 * request is judged on every method it names: the request line's and any method override's.
 */
import {methodOverrides} from '../../../enforcement/index.js'
import type {ReasonCode} from '../../../scanner/index.js'
import type {Stage} from '../context.js'
import {contractHint} from '../../request-gate.js'

export const contractStage: Stage = {
  id: 'contract',
  run(ctx) {
    // Every method the request asks the upstream to perform (enforcement/method-override.ts), read
    // when a contract judges them or capture records them for `learn shadow`; otherwise nothing
    // reads them. /fetch sends headers of its own (fetch-handler.ts): the agent's never reach
    // the upstream there.
    if (ctx.rec.contract !== undefined || ctx.ports.sink.readsMethodOverrides === true) {
      const headers = ctx.b.transport === 'fetch' ? undefined : ctx.req.headers
      const overrides = methodOverrides(ctx.method, {headers, url: ctx.contractUrl, body: ctx.body})
      if (overrides.length > 0) ctx.rec.methodOverrides = overrides
    }
    const r = ctx.rec.gate(ctx.contractUrl, ctx.method, ctx.warnings.length > 0 ? 'warn' : 'allow')
    if (r === null) {
      const denied = ctx.rec.unlisted(ctx.snap.config.learn_lock.unlocked_agents)
      if (denied === null) return false
      ctx.block({stage: 'contract', layer: 'contract', detail: denied, status: 403, reason: 'contract_default_deny'})
      return true
    }
    if (r.verdict !== 'block') return false
    ctx.block({stage: 'contract', layer: 'contract', detail: r.detail, status: 403, reason: r.code as ReasonCode, hint: contractHint(r)})
    return true
  },
}
