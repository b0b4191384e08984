/**
 * The one order of the MCP response gate (spec mcp.md §5.1): kill switch → session (due time
 * recovery, exposure, `block_all`) → batch → a message written over several lines (stdio) → unparseable → confused deputy (a response to an id
 * never sent) → the scans completed (fail closed) → media policy → tool-definition scan → general
 * injection scan and its action. A new response stage is one file in stages/ and one entry here.
 */
import type {McpResponseStageId} from './context.js'

export const MCP_RESPONSE_STAGE_ORDER: readonly McpResponseStageId[] = [
  'kill_switch', 'session', 'batch', 'framing', 'parse', 'confused_deputy', 'scan_result', 'media_policy', 'tool_scan', 'response_scan',
]
