/**
 * One decision per MCP message and direction: the tool-call variant of the one `Decision`
 * (plugin `decision`). The pipeline functions (`decideRequest`, `decideResponse`) return it; the
 * transport only carries out `forward` / `answer` and hands the same object to the one evidence
 * fan-out (`DecisionFanout`: stderr lines, metrics, audit log and emitters, receipts, capture)
 * before it releases the answer. No sink re-derives a verdict.
 */
import type {DecisionSink, ToolCallDecision} from '../../decision/index.js'

export type {McpDirection, McpFact, McpRedirectRequest, McpStage, McpTransport, McpVerdict} from '../../decision/index.js'

/** A tool call's Decision (the MCP variant of the one `Decision`). */
export type McpDecision = ToolCallDecision

/** The record step every MCP decision goes through: the one `DecisionSink` interface. */
export type McpRecorder = DecisionSink
