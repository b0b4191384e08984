/**
 * The contract (learn-lifecycle §7.6): every scanner stage passed; a live contract may still
 * deny (403, §7.9); shadow and capture modes only annotate the Decision. While live contracts are
 * in force, an agent with none is denied unless listed as unlocked (gate/unlisted-agent.ts).
 */
import type {ReasonCode} from '../../../scanner/index.js'
import type {Stage} from '../context.js'

export const contractStage: Stage = {
  id: 'contract',
  run(ctx) {
    const r = ctx.rec.gate(ctx.contractUrl, ctx.method, ctx.warnings.length > 0 ? 'warn' : 'allow')
    if (r === null) {
      const denied = ctx.rec.unlisted(ctx.snap.config.learn_lock.unlocked_agents)
      if (denied === null) return false
      ctx.block({stage: 'contract', layer: 'contract', detail: denied, status: 403, reason: 'contract_default_deny'})
      return true
    }
    if (r.verdict !== 'block') return false
    ctx.block({stage: 'contract', layer: 'contract', detail: r.detail, status: 403, reason: r.code as ReasonCode})
    return true
  },
}
