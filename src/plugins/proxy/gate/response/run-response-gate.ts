/**
 * `runResponseGate`: a buffered response's stages in the response order, run by the engine the
 * request gate runs (`runStages`); the first stage that answers ends it. True when the response
 * was answered (blocked, recorded as the request's one Decision); false when the transport
 * relays `ctx.body` and records its allow. Synchronous unless a stage awaited (an `ask` held, an
 * A2A check): callers test `r === true || (r !== false && await r)`.
 */
import {runStages} from '../../../stages/index.js'
import type {Transport} from '../../decision.js'
import type {ResponseGateContext, ResponseStage} from './context.js'
import {responseStagesFor, RESPONSE_TRANSPORT_STAGES} from './transport-stages.js'

const COMPILED = new Map<Transport, readonly ResponseStage[]>(Object.entries(RESPONSE_TRANSPORT_STAGES).map(([t, row]) => [t as Transport, responseStagesFor(row)]))

export function runResponseGate(transport: Transport, ctx: ResponseGateContext): boolean | Promise<boolean> {
  return runStages(COMPILED.get(transport)!, ctx)
}
