/**
 * Where the two gates' stage tables meet in the stage matrix (docs/run.md): a stage only one gate
 * has is a cell the other gate's transports skip, for the one reason given here. The MCP rows
 * themselves (mcp/pipeline/gate/transport-stages.ts) live below the proxy, so that the MCP wrap
 * runs them without loading the proxy; this file only names why the cells across are empty.
 */
import type {McpStageId} from '../../mcp/index.js'
import type {SettleId, StageId} from './context.js'

/** Why an MCP transport has no stage of the request gate that the MCP gate does not run. */
export const MCP_SKIPS: Partial<Readonly<Record<StageId | SettleId, string>>> = {
  identity: 'the MCP transports take their agent from `--agent` (stdio, bridges) or the listener\'s identity, fixed for the session: no name is claimed per message',
  envelope_verify: 'inbound mediation envelopes are HTTP headers; a client-supplied `_meta` envelope is stripped from every MCP message before the gate (mcp/pipeline/request.ts)',
  url_scan: 'a tool call has no URL of its own: the server is the one the operator configured (command, --upstream); the content stage runs DLP over the arguments, URLs in them included',
  url_dlp: 'a tool call has no URL of its own: DLP runs over the arguments in the content stage',
  suppression: '`suppress` entries never apply to MCP findings (mcp.md §17 D8)',
  body: 'the message is scanned by the MCP content stage (DLP and injection over the arguments and params)',
  git_push: 'git pushes are smart-HTTP POSTs; a tool call is not one',
  exception: 'scoped exceptions are out of scope for MCP tool calls (operations.md §8.3): they are granted per host and path of an HTTP request, which a tool call does not have',
  envelope: 'an MCP message carries its mediation envelope in `params._meta`, added to a forwarded `tools/call` after the gate allows it (mcp-proxy/mediation.ts, in scan-offload.ts for every MCP transport), not as a stage',
}

/** Why the HTTP transports do not run a stage of the MCP gate. */
export const HTTP_SKIPS: Readonly<Record<Exclude<McpStageId, StageId | SettleId>, string>> = {
  batch: 'a JSON-RPC batch is an MCP framing rule; an HTTP body is judged whole',
  framing: 'one message per line is the MCP stdio transport\'s framing; an HTTP body is judged whole',
  content: 'HTTP payloads are scanned by the header DLP and body stages',
  tool_policy: 'tool policy judges tool calls; an HTTP request is judged by the URL checks and the contract',
  session_binding: 'session binding pins the tools an MCP server listed; HTTP has no tool list',
  tool_drift: 'a rug-pull hold follows the tool definitions an MCP server listed; HTTP has no tool list',
  chain: 'chain detection follows sequences of tool calls; HTTP sequences are judged by cross-request detection',
  parse: 'an HTTP request that cannot be parsed is refused by the listener before the gate',
  session_id: 'an MCP `Mcp-Session-Id` is bound to the client the upstream issued it to; the HTTP transports have no such id (their session is the client\'s identity)',
}
