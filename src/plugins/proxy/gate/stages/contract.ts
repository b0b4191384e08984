/**
 * The contract (learn-lifecycle §7.6): every scanner stage passed; a live contract may still
 * deny (403, §7.9); shadow and capture modes only annotate the Decision.
 */
import type {ReasonCode} from '../../../scanner/index.js'
import type {Stage} from '../context.js'

export const contractStage: Stage = {
  id: 'contract',
  run(ctx) {
    const r = ctx.rec.gate(ctx.contractUrl, ctx.method, ctx.warnings.length > 0 ? 'warn' : 'allow')
    if (r === null || r.verdict !== 'block') return false
    ctx.block('contract', 'contract', r.detail, 403, r.code as ReasonCode)
    return true
  },
}
