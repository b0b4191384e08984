/**
 * Which stages each MCP transport runs (docs/run.md prints this table beside the HTTP one as the
 * stage matrix). Every stage of the MCP order appears in every row: a stage object, or the reason
 * the transport skips it. `runMcpGate` follows the order; a row only chooses, it never reorders.
 */
import {rowStages, runStagesSync, type Skip} from '../../../stages/index.js'
import type {McpTransport} from '../decision.js'
import type {McpGateContext, McpGateStage, McpStageId} from './context.js'
import {MCP_STAGE_ORDER} from './order.js'
import {a2aStage} from './stages/a2a.js'
import {addressStage} from './stages/address.js'
import {batchStage} from './stages/batch.js'
import {chainStage} from './stages/chain.js'
import {contentStage} from './stages/content.js'
import {contractStage} from './stages/contract.js'
import {framingStage} from './stages/framing.js'
import {crossRequestStage} from './stages/cross-request.js'
import {budgetStage} from './stages/budget.js'
import {headerDlpStage} from './stages/header-dlp.js'
import {killSwitchStage} from './stages/kill-switch.js'
import {modeStage} from './stages/mode.js'
import {parseStage} from './stages/parse.js'
import {redactionStage} from './stages/redaction.js'
import {sessionStage} from './stages/session.js'
import {sessionBindingStage} from './stages/session-binding.js'
import {sessionIdStage} from './stages/session-id.js'
import {taintStage} from './stages/taint.js'
import {toolDriftStage} from './stages/tool-drift.js'
import {toolPolicyStage} from './stages/tool-policy.js'

export type McpStageRow = Readonly<Record<McpStageId, McpGateStage | Skip>>

/** A client that speaks to pipelock over stdio or through a bridge: no HTTP request of its own to read. */
const CLIENT_ROW: McpStageRow = {
  kill_switch: killSwitchStage,
  header_dlp: {skip: 'the client speaks over stdio: its messages carry no HTTP request headers (the MCP HTTP listener checks them)'},
  session_id: {skip: 'the client speaks over stdio: it presents no Mcp-Session-Id (the bridge holds the one its server issued; the MCP HTTP listener binds each id to the client it was issued to)'},
  a2a: {skip: 'A2A is an HTTP binding: the MCP HTTP listener scans A2A headers and method bodies, a stdio client has neither'},
  batch: batchStage, framing: framingStage, redaction: redactionStage, content: contentStage, tool_policy: toolPolicyStage, budget: budgetStage,
  session_binding: sessionBindingStage, tool_drift: toolDriftStage, chain: chainStage, parse: parseStage, address: addressStage,
  mode: modeStage, session: sessionStage, cross_request: crossRequestStage, contract: contractStage, taint: taintStage,
}

/** Keyed by the Decision's transport: `mcp proxy` over stdio, `--upstream` (HTTP or WebSocket server), `--listen` / `run --mcp-listen`. */
export const MCP_TRANSPORT_STAGES: Readonly<Record<McpTransport, McpStageRow>> = {
  mcp_stdio: CLIENT_ROW,
  mcp_http_upstream: CLIENT_ROW,
  mcp_ws: CLIENT_ROW,
  mcp_http_listener: {
    ...CLIENT_ROW, header_dlp: headerDlpStage, session_id: sessionIdStage, a2a: a2aStage,
    framing: {skip: 'a message arrives whole as an HTTP body: line breaks in it are white space between tokens'},
  },
}

const COMPILED = new Map<McpTransport, readonly McpGateStage[]>(Object.entries(MCP_TRANSPORT_STAGES).map(([t, row]) => [t as McpTransport, rowStages(MCP_STAGE_ORDER, row)]))

/**
 * `runMcpGate`: the transport's row in the one MCP order; the first stage that answers ends it
 * (its Decision is `ctx.decision`). False when the message may be forwarded.
 */
export function runMcpGate(transport: McpTransport, ctx: McpGateContext): boolean {
  return runStagesSync(COMPILED.get(transport)!, ctx)
}
