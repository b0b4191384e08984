/**
 * The response head gate: its one order, which head stages each HTTP transport runs (docs/run.md
 * prints this table under the response gate's; every stage appears in every row, as a stage or
 * the reason the transport skips it), and `runResponseHeadGate`, which the transports that relay
 * an upstream's headers call as soon as it answers. True when the response was answered (blocked,
 * recorded as the request's one Decision); false when the transport relays `ctx.headers`.
 */
import {rowStages, runStages, type Skip} from '../../../stages/index.js'
import type {Transport} from '../../decision.js'
import type {ResponseHeadContext, ResponseHeadStage, ResponseHeadStageId} from './head-context.js'
import {responseHeadersStage} from './stages/response-headers.js'

export const RESPONSE_HEAD_ORDER: readonly ResponseHeadStageId[] = ['response_headers']

export type ResponseHeadRow = Readonly<Record<ResponseHeadStageId, ResponseHeadStage | Skip>>

const TUNNEL = 'a tunnel carries opaque bytes: with TLS interception each inner response runs the intercept row'

export const RESPONSE_HEAD_TRANSPORT_STAGES: Readonly<Record<Transport, ResponseHeadRow>> = {
  fetch: {response_headers: {skip: 'the agent gets the page\'s Content-Type alone, which its response_scan stage reads'}},
  forward: {response_headers: responseHeadersStage},
  intercept: {response_headers: responseHeadersStage},
  connect: {response_headers: {skip: TUNNEL}},
  reverse: {response_headers: responseHeadersStage},
  websocket: {response_headers: {skip: 'the 101 is the proxy\'s own: of the upstream\'s handshake only its chosen subprotocol is relayed'}},
}

const COMPILED = new Map<Transport, readonly ResponseHeadStage[]>(Object.entries(RESPONSE_HEAD_TRANSPORT_STAGES).map(([t, row]) => [t as Transport, rowStages(RESPONSE_HEAD_ORDER, row)]))

export function runResponseHeadGate(transport: Transport, ctx: ResponseHeadContext): boolean {
  return runStages(COMPILED.get(transport)!, ctx) as boolean
}
