/**
 * The JSON-RPC block vocabulary (spec mcp.md §7.2) as data, and the one encoder of error lines
 * (§7.1): member order `jsonrpc, id, error` / `code, message, data`, the offending id echoed as
 * raw JSON, strings escaped like Go `encoding/json` (`<` → `\u003c` …).
 *
 * [ext §7.3, fixes Q21–Q23] every block carries `data.block_reason` from the closed reason-code
 * vocabulary, on every transport; codes and messages stay the reference's. Transport failures
 * (-32003) are not blocks and carry no `data`.
 */
import {goJson, goQuote, RawJson, type JsonObject} from '../../canonical/index.js'
import type {ReasonCode} from '../../scanner/index.js'

export interface McpErrorSpec {
  readonly code: number
  /** Message; `{}` is replaced by the detail argument. */
  readonly message: string
  /** `data.block_reason`; null = no `data` (transport errors). */
  readonly reason: ReasonCode | null
}

export const MCP_ERRORS = Object.freeze({
  listener_invalid_json: {code: -32700, message: 'pipelock: parse error: invalid JSON', reason: 'parse_error'},
  listener_invalid_request: {code: -32600, message: 'pipelock: invalid request: {}', reason: 'bad_request'},
  batch_request: {code: -32600, message: 'pipelock: batch requests are not supported by MCP', reason: 'bad_request'},
  denial_of_wallet: {code: -32600, message: 'pipelock: {}', reason: 'data_budget'},
  frozen_tool: {code: -32600, message: 'pipelock: tool not in frozen inventory', reason: 'airlock_active'},
  response_injection: {code: -32000, message: 'pipelock: prompt injection detected in MCP response', reason: 'prompt_injection'},
  response_unparseable: {code: -32000, message: 'pipelock: upstream response is not parseable JSON-RPC', reason: 'parse_error'},
  confused_deputy: {code: -32000, message: 'pipelock: unsolicited response ID (confused deputy)', reason: 'parse_error'},
  // [ext] a response whose scan could not complete (scan pool failure, docs/mcp.md): fail closed.
  response_unscanned: {code: -32000, message: 'pipelock: MCP response could not be scanned', reason: 'pattern_unavailable'},
  tool_poisoning: {code: -32000, message: 'pipelock: tool poisoning detected in tools/list', reason: 'tool_poisoning'},
  // [ext] a call to a tool held for a blocked rug-pull (docs/mcp.md): `{}` = the tool's name.
  tool_drift: {code: -32000, message: 'pipelock: tool "{}" changed its definition since it was first listed; restart the session', reason: 'tool_poisoning'},
  session_binding: {code: -32000, message: 'pipelock: session_binding:{}', reason: 'session_binding'},
  input_scanning: {code: -32001, message: 'pipelock: request blocked by MCP input scanning', reason: 'parse_error'},
  redaction: {code: -32001, message: 'pipelock: request blocked by MCP redaction', reason: 'redaction_failure'},
  // scanners-extra §2.5 (MCP HTTP listener): A2A header and body scanning.
  a2a_header: {code: -32001, message: 'pipelock: request blocked by A2A header scanning', reason: 'dlp_match'},
  a2a_input: {code: -32001, message: 'pipelock: request blocked by A2A input scanning', reason: 'dlp_match'},
  escalation: {code: -32001, message: 'pipelock: session escalation level {}', reason: 'escalation_level'},
  // [ext] the airlock on MCP (operations §6 item 3; docs/mcp.md "Airlock"): `{}` = `<tier>: <action class> message refused`.
  airlock: {code: -32001, message: 'pipelock: session in airlock {}', reason: 'airlock_active'},
  // [ext] a live stream cut by the operator's reset or terminate of its session, or its eviction: `{}` = `terminated|reset|evicted`.
  session_cut: {code: -32001, message: 'pipelock: session {}: live stream cut', reason: 'airlock_active'},
  // [ext] the MCP HTTP listener: an `Mcp-Session-Id` the upstream issued to another client address.
  session_id: {code: -32001, message: 'pipelock: Mcp-Session-Id was issued to another client', reason: 'identity_not_bound'},
  redirect_output_response: {code: -32001, message: 'pipelock: redirect handler output blocked by response scanning', reason: 'prompt_injection'},
  redirect_output_dlp: {code: -32001, message: 'pipelock: redirect handler output blocked by DLP scanning', reason: 'dlp_match'},
  tool_policy: {code: -32002, message: 'pipelock: request blocked by tool call policy', reason: 'tool_policy_deny'},
  taint: {code: -32002, message: 'pipelock: {}', reason: 'authority_mismatch'},
  media_policy: {code: -32002, message: 'pipelock: media policy blocked MCP response: {}', reason: 'media_policy'},
  envelope: {code: -32002, message: 'pipelock: mediation envelope injection failed', reason: 'outbound_envelope_failed'},
  upstream: {code: -32003, message: 'pipelock: upstream error: {}', reason: null},
  kill_switch: {code: -32004, message: '{}', reason: 'kill_switch_active'},
  chain: {code: -32004, message: 'tool call blocked: chain pattern "{}" detected', reason: 'tool_chain_blocked'},
  // [ext] a later call refused while a blocking chain is still in the window (§9.2: matches are not
  // consumed); the call that completes the chain keeps the message above. `{}` = `"<name>" detected
  // earlier is still in the window (for up to <s> s or <n> more classified calls)`.
  chain_window: {code: -32004, message: 'tool call blocked: chain pattern {}', reason: 'tool_chain_blocked'},
  cross_request: {code: -32005, message: 'pipelock: {}', reason: 'cross_request_deny'},
} as const satisfies Record<string, McpErrorSpec>)

export type McpErrorKey = keyof typeof MCP_ERRORS

export interface McpError {
  readonly code: number
  readonly message: string
  readonly reason: ReasonCode | null
  /** A whole `data` object that replaces `{"block_reason": reason}` (contract blocks, learn-lifecycle §7.9). */
  readonly data?: JsonObject | null
}

/** Resolves a vocabulary entry; `reason` overrides the entry's default block reason (§7.3). */
export function mcpError(key: McpErrorKey, detail = '', reason?: ReasonCode): McpError {
  const spec: McpErrorSpec = MCP_ERRORS[key]
  return {code: spec.code, message: spec.message.replace('{}', detail), reason: reason ?? spec.reason}
}

/** One error line (no trailing newline). `id` is raw JSON text, null → `null`. */
export function errorLine(id: string | null, err: McpError): string {
  const error: JsonObject = new Map()
  error.set('code', new RawJson(String(err.code)))
  error.set('message', err.message)
  if (err.data !== undefined) {
    if (err.data !== null) error.set('data', err.data)
  } else if (err.reason !== null) error.set('data', new Map([['block_reason', err.reason]]))
  return `{"jsonrpc":"2.0","id":${id ?? 'null'},"error":${goJson(error)}}`
}

/** Synthetic success line (redirect result, §7.2): one text content block. */
export function textResultLine(id: string | null, text: string): string {
  return `{"jsonrpc":"2.0","id":${id ?? 'null'},"result":{"content":[{"type":"text","text":${goQuote(text)}}]}}`
}
