/**
 * `runGate`: the request's stages in the one order; the first stage that answers ends it. After
 * each stage that left a finding, the transport's settle stages (`SETTLE_ORDER`: exception, mode)
 * end it before the next stage runs. True when the request was answered (blocked), false when the
 * transport may relay it.
 */
import {runStages as runStagesOf, type Settle} from '../../stages/index.js'
import type {Transport} from '../decision.js'
import type {ProxySnapshot} from '../state.js'
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
  /** Every stage of the row (`TRANSPORT_STAGES`), in the order. */
  readonly stages: readonly Stage[]
  readonly settle: Settle<RequestGateContext>
}

const COMPILED = new Map<Transport, CompiledRow>(Object.entries(TRANSPORT_STAGES).map(([t, row]) => [
  t as Transport, {stages: stagesFor(row), settle: settleWith(settleStagesFor(SETTLE_STAGES[t as Transport]))},
]))

/**
 * Each snapshot's rows: a row's stages less those that do not apply under the snapshot's config
 * (`Stage.applies`), built on the snapshot's first request of the transport. A reload brings a
 * new snapshot, and so new rows; the old ones go with the old snapshot.
 */
const FOR_SNAPSHOT = new WeakMap<ProxySnapshot, Map<Transport, readonly Stage[]>>()

/** The stages `transport` runs under `snap`'s config, in the order. */
function stagesUnder(transport: Transport, snap: ProxySnapshot): readonly Stage[] {
  let rows = FOR_SNAPSHOT.get(snap)
  if (rows === undefined) FOR_SNAPSHOT.set(snap, (rows = new Map()))
  let stages = rows.get(transport)
  if (stages === undefined) {
    stages = COMPILED.get(transport)!.stages.filter((s) => s.applies === undefined || s.applies(snap))
    rows.set(transport, stages)
  }
  return stages
}

/** True when the request was answered; a promise only once a stage awaited (`runStages` of the stage engine). */
export function runGate(transport: Transport, ctx: RequestGateContext): boolean | Promise<boolean> {
  return runStagesOf(stagesUnder(transport, ctx.snap), ctx, COMPILED.get(transport)!.settle)
}

/** Runs `stages` in their order; a synchronous stage costs no promise turn (the engine the MCP gate shares). */
export const runStages: (stages: readonly Stage[], ctx: RequestGateContext, settle?: Settle<RequestGateContext>) => boolean | Promise<boolean> = runStagesOf
