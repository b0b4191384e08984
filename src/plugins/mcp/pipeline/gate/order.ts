/**
 * The one order of the MCP tool-call gate (spec mcp.md §4): kill switch → the listener's header
 * DLP, session-id binding and A2A checks → batch → framing (stdio: one message per line) → redaction of the arguments → the findings stages, which never
 * short-circuit but a budget or chain block (content/DLP of the arguments, address protection,
 * tool policy, the agent's budget, session binding, a call to a tool held for a blocked rug-pull,
 * chain detection) → parse error →
 * `mode`: the findings merged to the strictest action, upgraded by the adaptive level, answered
 * when it blocks → the session preflight (its airlock tier, then `block_all` on an all-clean
 * message) → cross-request detection →
 * contract → taint, the last gate. It differs from the HTTP order (proxy/gate/order.ts) where the
 * MCP spec does: the session preflight and taint come after the scanners because only a message
 * with no blocking finding reaches them (§4.4).
 */
import type {McpStageId} from './context.js'

export const MCP_STAGE_ORDER: readonly McpStageId[] = [
  'kill_switch', 'header_dlp', 'session_id', 'a2a', 'batch', 'framing', 'redaction', 'content', 'address', 'tool_policy', 'budget', 'session_binding', 'tool_drift', 'chain', 'parse',
  'mode', 'session', 'cross_request', 'contract', 'taint',
]
