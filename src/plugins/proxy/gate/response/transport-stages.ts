/**
 * Which response stages each HTTP transport runs (docs/run.md prints this table under the request
 * gate's matrix). Every stage of the order appears in every row: a stage object, or the reason the
 * transport skips it. `runResponseGate` follows the order; a row only chooses, it never reorders.
 * The rows are keyed like the request gate's (TRANSPORT_STAGES), so both tables have the same columns.
 */
import {rowStages, type Skip} from '../../../stages/index.js'
import type {Transport} from '../../decision.js'
import type {ResponseStage, ResponseStageId} from './context.js'
import {RESPONSE_STAGE_ORDER} from './order.js'
import {hiddenContentStage} from './stages/hidden-content.js'
import {mediaPolicyStage, reverseMediaPolicyStage} from './stages/media-policy.js'
import {pageTextStage} from './stages/page-text.js'
import {responseScanStage} from './stages/response-scan.js'
import {reverseResponseScanStage} from './stages/reverse-response-scan.js'
import {transformStage} from './stages/transform.js'

export type ResponseStageRow = Readonly<Record<ResponseStageId, ResponseStage | Skip>>

const RELAYED_AS_BYTES = 'the body is relayed as bytes: /fetch alone hands the agent the page\'s text'
const HIDDEN_IN_BODY = 'the whole body, hidden markup included, is what the injection scan reads'

const FORWARD_ROW: ResponseStageRow = {
  transform: transformStage, media_policy: mediaPolicyStage, page_text: {skip: RELAYED_AS_BYTES}, response_scan: responseScanStage, hidden_content: {skip: HIDDEN_IN_BODY},
}

const TUNNEL = 'a tunnel carries opaque bytes: with TLS interception each inner response runs the intercept row'
const FRAMES = 'the upgraded connection carries frames: each inbound message is scanned by the frame relay (websocket/relay.ts)'

export const RESPONSE_TRANSPORT_STAGES: Readonly<Record<Transport, ResponseStageRow>> = {
  fetch: {transform: transformStage, media_policy: mediaPolicyStage, page_text: pageTextStage, response_scan: responseScanStage, hidden_content: hiddenContentStage},
  forward: FORWARD_ROW,
  intercept: FORWARD_ROW,
  connect: {transform: {skip: TUNNEL}, media_policy: {skip: TUNNEL}, page_text: {skip: TUNNEL}, response_scan: {skip: TUNNEL}, hidden_content: {skip: TUNNEL}},
  reverse: {
    transform: transformStage, media_policy: reverseMediaPolicyStage, page_text: {skip: RELAYED_AS_BYTES}, response_scan: reverseResponseScanStage, hidden_content: {skip: HIDDEN_IN_BODY},
  },
  websocket: {transform: {skip: FRAMES}, media_policy: {skip: FRAMES}, page_text: {skip: FRAMES}, response_scan: {skip: FRAMES}, hidden_content: {skip: FRAMES}},
}

/** A row's response stages in the one order, built once per transport. */
export function responseStagesFor(row: ResponseStageRow): readonly ResponseStage[] {
  return rowStages(RESPONSE_STAGE_ORDER, row)
}
