/**
 * Which response stages each MCP transport runs (docs/run.md prints this table under the HTTP
 * response gate's). Every stage of the order appears in every row: a stage object, or the reason
 * the transport skips it. The gate follows the order; a row only chooses, it never reorders. Every
 * MCP transport relays whole JSON-RPC messages from its server; only stdio frames them by line, so
 * only its row refuses a message written over several lines (`framing`). Otherwise the transports
 * differ only in log wording (the `line N: ` prefix of stdio) and in how a server's content counts
 * for taint (remote or local).
 */
import {rowStages, runStagesSync, type Skip} from '../../../../stages/index.js'
import type {McpTransport} from '../../decision.js'
import type {McpResponseGateContext, McpResponseStage, McpResponseStageId} from './context.js'
import {MCP_RESPONSE_STAGE_ORDER} from './order.js'
import {batchResponseStage} from './stages/batch.js'
import {confusedDeputyStage} from './stages/confused-deputy.js'
import {framingResponseStage} from './stages/framing.js'
import {killSwitchResponseStage} from './stages/kill-switch.js'
import {mediaPolicyResponseStage} from './stages/media-policy.js'
import {parseResponseStage} from './stages/parse.js'
import {responseScanStage} from './stages/response-scan.js'
import {scanResultStage} from './stages/scan-result.js'
import {sessionResponseStage} from './stages/session.js'
import {toolScanStage} from './stages/tool-scan.js'

export type McpResponseStageRow = Readonly<Record<McpResponseStageId, McpResponseStage | Skip>>

const STDIO_ROW: McpResponseStageRow = {
  kill_switch: killSwitchResponseStage, session: sessionResponseStage, batch: batchResponseStage, framing: framingResponseStage, parse: parseResponseStage,
  confused_deputy: confusedDeputyStage, scan_result: scanResultStage, media_policy: mediaPolicyResponseStage, tool_scan: toolScanStage,
  response_scan: responseScanStage,
}

/** An HTTP body, an SSE event or a WebSocket frame holds one whole message: a line break in it is white space between tokens. */
const WHOLE_MESSAGE_ROW: McpResponseStageRow = {
  ...STDIO_ROW,
  framing: {skip: 'a message arrives whole (an HTTP body, an SSE event, a WebSocket frame): line breaks in it are white space, relayed as spaces'},
}

/** Keyed like MCP_TRANSPORT_STAGES, so the request and response tables have the same columns. */
export const MCP_RESPONSE_TRANSPORT_STAGES: Readonly<Record<McpTransport, McpResponseStageRow>> = {
  mcp_stdio: STDIO_ROW,
  mcp_http_upstream: WHOLE_MESSAGE_ROW,
  mcp_ws: WHOLE_MESSAGE_ROW,
  mcp_http_listener: WHOLE_MESSAGE_ROW,
}

/** A row's response stages in the one order, built once per transport. */
export function mcpResponseStagesFor(row: McpResponseStageRow): readonly McpResponseStage[] {
  return rowStages(MCP_RESPONSE_STAGE_ORDER, row)
}

const COMPILED = new Map<McpTransport, readonly McpResponseStage[]>(Object.entries(MCP_RESPONSE_TRANSPORT_STAGES).map(([t, row]) => [t as McpTransport, mcpResponseStagesFor(row)]))

/** The transport's row in the one order; the first stage that answers ends it (`ctx.decision`). False when the message is forwarded. */
export function runMcpResponseGate(transport: McpTransport, ctx: McpResponseGateContext): boolean {
  return runStagesSync(COMPILED.get(transport)!, ctx)
}
