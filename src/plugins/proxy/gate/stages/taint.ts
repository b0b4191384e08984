/**
 * Taint authority (§4.2 step 3): a mutating request from a session that took in untrusted
 * content must match the authority it was given. `ask` with no approver is a block; in audit
 * mode (`enforce: false`) it is recorded as `would_block` and the request goes on.
 */
import {MUTATING_METHODS} from '../../../sessions/index.js'
import {blockDecision, enforcing} from '../../core.js'
import type {Stage} from '../context.js'

export const taintStage: Stage = {
  id: 'taint',
  run(ctx) {
    const t = ctx.rec.session
    if (t === null || !MUTATING_METHODS.has(ctx.method.toUpperCase())) return false
    const v = ctx.snap.sessions!.authority(t, ctx.method, ctx.target, ctx.shown)
    if (v.decision !== 'ask') return false
    const detail = `authority mismatch: ${v.reason}`
    if (enforcing(ctx.snap)) {
      ctx.block('taint', 'taint_policy', detail, 403, 'authority_mismatch')
      return true
    }
    ctx.rec.record(blockDecision(ctx.core, ctx.b, ctx.shown, {stage: 'taint', layer: 'taint_policy', reason: 'authority_mismatch', detail, status: 0, enforced: false}))
    return false
  },
}
