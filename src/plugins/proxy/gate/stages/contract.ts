/**
 * The contract (learn-lifecycle §7.6): every scanner stage passed; a live contract may still
 * deny (403, §7.9); shadow and capture modes only annotate the Decision.
 */
import {contractGate} from '../../request-gate.js'
import type {Stage} from '../context.js'

export const contractStage: Stage = {
  id: 'contract',
  run(ctx) {
    return contractGate(ctx.rec, ctx.contractUrl, ctx.method, ctx.warnings, ctx.block)
  },
}
