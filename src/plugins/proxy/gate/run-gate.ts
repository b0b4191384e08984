/**
 * `runGate`: the request's stages in the one order; the first stage that answers ends it. After
 * each stage that left a finding, the transport's settle stages (`SETTLE_ORDER`: exception, mode)
 * end it before the next stage runs. True when the request was answered (blocked), false when the
 * transport may relay it.
 */
import {runStages as runStagesOf, type Settle} from '../../stages/index.js'
import type {Transport} from '../decision.js'
import type {RequestGateContext, SettleStage, Stage} from './context.js'
import {settleStagesFor, SETTLE_STAGES, stagesFor, TRANSPORT_STAGES} from './transport-stages.js'

/**
 * The settle step over `stages`: nothing to do without a finding (no call, no promise); else the
 * settle stages in order — the first that answers ends the request — then, when the request goes
 * on, the rest of the stage that found it (`rest`), whose next finding is settled the same way.
 */
export function settleWith(stages: readonly SettleStage[]): Settle<RequestGateContext> {
  const settle = (ctx: RequestGateContext): boolean | Promise<boolean> => {
    const f = ctx.finding
    if (f === undefined) return false
    for (const s of stages) if (s.run(ctx)) return true
    ctx.finding = undefined
    if (f.rest === undefined) return false
    const r = f.rest(ctx)
    if (r === true) return true
    if (r === false) return settle(ctx)
    return r.then((answered) => answered || settle(ctx))
  }
  return settle
}

interface CompiledRow {
  readonly stages: readonly Stage[]
  readonly settle: Settle<RequestGateContext>
}

const COMPILED = new Map<Transport, CompiledRow>(Object.entries(TRANSPORT_STAGES).map(([t, row]) => [
  t as Transport, {stages: stagesFor(row), settle: settleWith(settleStagesFor(SETTLE_STAGES[t as Transport]))},
]))

/** True when the request was answered; a promise only once a stage awaited (`runStages` of the stage engine). */
export function runGate(transport: Transport, ctx: RequestGateContext): boolean | Promise<boolean> {
  const row = COMPILED.get(transport)!
  return runStagesOf(row.stages, ctx, row.settle)
}

/** Runs `stages` in their order; a synchronous stage costs no promise turn (the engine the MCP gate shares). */
export const runStages: (stages: readonly Stage[], ctx: RequestGateContext, settle?: Settle<RequestGateContext>) => boolean | Promise<boolean> = runStagesOf
