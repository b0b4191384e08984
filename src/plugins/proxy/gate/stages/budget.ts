/**
 * Agent budget (operations.md §2.9): after every other stage, before anything goes upstream; a
 * spent request, domain or byte budget is a 429.
 */
import {admitBudget, budgetKey} from '../../agent-budget.js'
import {urlHost} from '../../core.js'
import type {Stage} from '../context.js'

export const budgetStage: Stage = {
  id: 'budget',
  applies: (snap) => snap.budgets !== null,
  run(ctx) {
    // No budget for this profile (the common case): nothing to count, no host to parse.
    if (ctx.snap.budgets === null) return false
    const {ports} = ctx
    const denied = admitBudget(ctx.snap, budgetKey(ctx.b), ctx.budgetHost ?? urlHost(ctx.target), (l) => ports.metrics.agentBudgetDenials.inc(l))
    if (denied === null) return false
    ctx.block({stage: 'budget', layer: 'budget', detail: denied.message, status: 429, reason: 'data_budget', retryAfter: denied.retryAfter})
    return true
  },
}
