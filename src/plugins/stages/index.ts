/**
 * The stage engine both gates share (docs/architecture.md, "The gate"): a stage is an id and a
 * `run` over its gate's context; a row names, for every stage of its gate's one order, the stage
 * it runs or why it skips it; the runner runs a row's stages in that order and stops at the first
 * that answers; a gate may settle what each stage found before the next runs (`Settle`). It knows nothing of HTTP or MCP: the request gate (`proxy/gate`) and the MCP
 * tool-call gate (`mcp/pipeline/gate`) each bring their context, their stages and their order.
 * It sits in the ground layer so the MCP wrap, which never loads the proxy, runs the same engine.
 */

/** One stage of a gate: `run` answers (true) or lets the gate go on (false). */
export interface GateStage<Id extends string, Ctx> {
  readonly id: Id
  run(ctx: Ctx): boolean | Promise<boolean>
}

/** A stage whose `run` never awaits (the MCP gate decides a message synchronously). */
export interface SyncGateStage<Id extends string, Ctx> extends GateStage<Id, Ctx> {
  run(ctx: Ctx): boolean
}

/** Why a transport does not run a stage. */
export interface Skip {
  readonly skip: string
}

export function isSkip(s: object): s is Skip {
  return 'skip' in s
}

/** A row's stages in `order`, skips left out (built once per transport). */
export function rowStages<Id extends string, S extends {readonly id: Id}>(order: readonly Id[], row: Readonly<Record<Id, S | Skip>>): readonly S[] {
  return order.map((id) => row[id]).filter((s): s is S => !isSkip(s))
}

/**
 * What a gate does after a stage that did not answer: ends what that stage found (true: the
 * request was answered) or lets the gate go on. The request gate settles a stage's finding here
 * (its exception waiver and mode, proxy/gate/run-gate.ts); it returns false at once when the
 * stage found nothing, and a synchronous answer costs no promise turn.
 */
export type Settle<Ctx> = (ctx: Ctx) => boolean | Promise<boolean>

/**
 * Runs `stages` in their order, each followed by `settle` when given. The answer is synchronous
 * while every stage and settle answered synchronously, and a promise from the first one that
 * awaited: a row whose stages all decide at once (the proxy's response gate on most bodies) costs
 * no promise and no microtask turn — its caller tests `r === true || (r !== false && await r)`.
 */
export function runStages<Ctx>(stages: readonly GateStage<string, Ctx>[], ctx: Ctx, settle?: Settle<Ctx>): boolean | Promise<boolean> {
  return runFrom(stages, ctx, settle, 0)
}

/** Stage `i` onwards. */
function runFrom<Ctx>(stages: readonly GateStage<string, Ctx>[], ctx: Ctx, settle: Settle<Ctx> | undefined, i: number): boolean | Promise<boolean> {
  for (; i < stages.length; i++) {
    const r = stages[i]!.run(ctx)
    if (r === true) return true
    if (r !== false) {
      const at = i
      return r.then((answered) => answered || settleThenRun(stages, ctx, settle, at))
    }
    if (settle === undefined) continue
    const a = settle(ctx)
    if (a === true) return true
    if (a !== false) {
      const next = i + 1
      return a.then((answered) => answered || runFrom(stages, ctx, settle, next))
    }
  }
  return false
}

/** Stage `i` went on (after awaiting): its settle step, then stage `i + 1` onwards. */
function settleThenRun<Ctx>(stages: readonly GateStage<string, Ctx>[], ctx: Ctx, settle: Settle<Ctx> | undefined, i: number): boolean | Promise<boolean> {
  if (settle === undefined) return runFrom(stages, ctx, settle, i + 1)
  const a = settle(ctx)
  if (a === true) return true
  if (a !== false) return a.then((answered) => answered || runFrom(stages, ctx, settle, i + 1))
  return runFrom(stages, ctx, settle, i + 1)
}

/** `runStages` for stages that never await: no promise at all. */
export function runStagesSync<Ctx>(stages: readonly SyncGateStage<string, Ctx>[], ctx: Ctx): boolean {
  for (const s of stages) if (s.run(ctx)) return true
  return false
}
