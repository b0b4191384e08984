/**
 * `runGate`: the request's stages in the one order; the first stage that answers ends it. True
 * when the request was answered (blocked), false when the transport may relay it.
 */
import {runStages as runStagesOf} from '../../stages/index.js'
import type {Transport} from '../decision.js'
import type {RequestGateContext, Stage} from './context.js'
import {stagesFor, TRANSPORT_STAGES} from './transport-stages.js'

const COMPILED = new Map<Transport, readonly Stage[]>(Object.entries(TRANSPORT_STAGES).map(([t, row]) => [t as Transport, stagesFor(row)]))

export async function runGate(transport: Transport, ctx: RequestGateContext): Promise<boolean> {
  return runStages(COMPILED.get(transport)!, ctx)
}

/** Runs `stages` in their order; a synchronous stage costs no promise turn (the engine the MCP gate shares). */
export const runStages: (stages: readonly Stage[], ctx: RequestGateContext) => Promise<boolean> = runStagesOf
