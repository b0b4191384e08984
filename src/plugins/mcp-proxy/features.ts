/**
 * What `pipelock mcp proxy` implements (R§23 "never silently ignore a security feature"): every
 * enabled section must be implemented here, or be one the reference's MCP proxy does not read
 * at all (those are accepted with a startup note), else the proxy refuses to start by name.
 */
import {enabledFeatures, formatWarning, type ConfigWarning, type PipelockConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'

export const MCP_IMPLEMENTED_FEATURES: ReadonlySet<string> = new Set([
  'response_scanning',
  'dlp.scan_env',
  'dlp.secrets_file',
  'canary_tokens',
  // containment.md §2.2: `sandbox.enabled` sandboxes the stdio child (src/plugins/sandbox).
  'sandbox',
  'seed_phrase_detection',
  'kill_switch',
  'media_policy',
  'mcp_input_scanning',
  'mcp_tool_scanning',
  'mcp_tool_policy',
  'mcp_session_binding',
  'tool_chain_detection',
  // mcp.md §15.2: invocation sessions (mcp-stdio-/mcp-http-/mcp-ws-<n>) or the listener's
  // identity session, with signals, UpgradeAction and block_all in the one request/response gate.
  'session_profiling',
  'adaptive_enforcement',
  // operations §6 on every transport: the session's tier against the message's receipt action
  // class (hard: reads only, drain: nothing) in the MCP gate's session stage; tier changes are
  // receipts (mcp-proxy/runtime.ts), the admin API moves a tier as on pipelock run.
  'airlock',
  // mcp.md §10.2: entropy budget and fragment reassembly over whole JSON-RPC messages.
  'cross_request_detection',
  // The --agent profile (or _default) is merged over the base before this check (service.ts
  // `agentConfig`), so whatever it enables is checked here like the base; its budget is the DoW budget.
  'agents',
  // [ext] the session admin API (runtime §12) on this address when a token exists; no kill-switch endpoints.
  'kill_switch.api_listen',
  // policy-extra §1.4/§1.10: every server message raises the session's taint (untrusted from an
  // HTTP/WS server, internal from a stdio one); a tools/call is judged by the taint matrix as the
  // last request gate (mcp/pipeline/request.ts, mcp-proxy/sessions.ts).
  'taint',
  // mcp.md §15.3–§15.4: live contracts on every transport, signed receipts per tools/call.
  'learn_lock',
  'flight_recorder',
  // mcp.md §12.3: checked before the stdio child is spawned (not applied to --upstream/--listen).
  'mcp_binary_integrity',
  // scanners-extra §5: verified rule bundles' DLP, injection and tool-poison patterns, through the
  // same scanner settings (proxy/settings-from-config.ts; tool-poison in mcp/tools/scan.ts).
  'rules',
  // scanners-extra §2.5: the HTTP listener scans A2A headers and A2A method bodies (a2a-listener.ts);
  // stdio and --upstream carry no A2A binding.
  'a2a_scanning',
  // envelope-redaction Part II: tools/call params.arguments rewritten before the content scan (mcp/pipeline/request.ts).
  'redaction',
  // scanners-extra §4.4, mcp.md §4.2: wallet addresses in a request's params (the MCP gate's
  // `address` stage, mcp/pipeline/gate/stages/address.ts), merged into the strictest action.
  'address_protection',
  // envelope-redaction §1/§2.2: forwarded tools/call carry _meta["com.pipelock/mediation"], unsigned
  // (mcp-proxy/mediation.ts, applied in scan-offload.ts for every transport).
  'mediation_envelope',
  // containment.md §3: the stdio child's file writes, sandboxed or not (wrap-sentry.ts).
  'file_sentry',
  // operations.md §3: the run's emitters, tapping the same audit sink, fed the tool-call
  // Decisions (mcp-proxy/emission.ts); the local log stays off (Q25).
  'emit.webhook',
  'emit.syslog',
  'emit.otlp',
  // operations.md §2.10: licence inputs are accepted and ignored, as `pipelock run` does (its
  // licenseLines note is printed at start): an --agent profile needs no licence in this build.
  'license',
])

/** Sections the reference's `mcp proxy` never reads (HTTP-proxy features); accepted, named in a note. */
export const NOT_USED_BY_MCP_PROXY: ReadonlySet<string> = new Set([
  'forward_proxy',
  'websocket_proxy',
  'reverse_proxy',
  'tls_interception',
  'response_scanning.sse_streaming',
  'request_body_scanning',
  'request_body_scanning.scan_headers',
  'metrics_listen',
  'health_watchdog',
  'browser_shield',
  // mcp.md §17 D8: suppress rules never apply to MCP.
  'suppress',
  'logging.file',
  'logging.format.text',
  'scan_api',
  'learn',
  // envelope-redaction §1: MCP messages carry no RFC 9421 signature, so nothing inbound is verified.
  'mediation_envelope.verify_inbound',
  // containment.md §4: the pre-push hook (`pipelock git …`) and the HTTP proxy's git_push stage.
  'git_protection',
])

/**
 * Of those, the sections the sandbox bridge of `mcp proxy --sandbox` applies to the server's own
 * HTTP(S) egress: the bridge's forward proxy is `pipelock run` embedded (forward proxy forced on,
 * its listeners closed), so they are used there, not unused.
 */
export const USED_BY_SANDBOX_BRIDGE: ReadonlySet<string> = new Set([
  'forward_proxy',
  'websocket_proxy',
  'tls_interception',
  'response_scanning.sse_streaming',
  'request_body_scanning',
  'request_body_scanning.scan_headers',
  'browser_shield',
  'suppress',
  'git_protection',
])

/**
 * Of those, the sections the HTTP listener (`mcp proxy --listen`) reads: its clients' request
 * headers go through header DLP by `request_body_scanning.enabled`, `scan_headers` and
 * `header_mode`, as a proxied request's do (http-listener.ts).
 */
export const USED_BY_LISTENER: ReadonlySet<string> = new Set(['request_body_scanning', 'request_body_scanning.scan_headers'])

/** What this `mcp proxy` runs besides the MCP pipeline: the sandbox bridge, the HTTP listener. */
export interface McpProxyShape {
  readonly sandboxed?: boolean
  readonly listener?: boolean
}

/** Whether a section `NOT_USED_BY_MCP_PROXY` names is read all the same by this shape of `mcp proxy`. */
function usedBy(shape: McpProxyShape, f: string): boolean {
  return (shape.sandboxed === true && USED_BY_SANDBOX_BRIDGE.has(f)) || (shape.listener === true && USED_BY_LISTENER.has(f))
}

/**
 * Refuses enabled-but-unimplemented sections (fail closed). Returns the sections accepted as not
 * used, for the startup note; those the sandbox bridge or the HTTP listener reads are left out.
 */
export function assertMcpImplemented(c: PipelockConfig, shape: McpProxyShape = {}): string[] {
  const on = enabledFeatures(c)
  const missing = on.filter((f) => !MCP_IMPLEMENTED_FEATURES.has(f) && !NOT_USED_BY_MCP_PROXY.has(f))
  if (missing.length > 0) {
    throw new PipelockError(
      'NOT_IMPLEMENTED',
      `config enables ${missing.length === 1 ? 'a feature' : 'features'} that pipelock mcp proxy does not implement yet: ${missing.join(', ')}; refusing to start`,
      {hint: `disable ${missing.length === 1 ? 'it' : 'them'} for MCP (see docs/mcp.md, "What is implemented")`},
    )
  }
  return on.filter((f) => NOT_USED_BY_MCP_PROXY.has(f) && !usedBy(shape, f))
}

/**
 * `run --mcp-listen`: sections the run enforces on HTTP traffic (so it accepts them) that are not
 * applied to MCP messages in this version — named in a start-up note, never silent.
 */
export function notAppliedToMcp(c: PipelockConfig): string[] {
  return enabledFeatures(c).filter((f) => !MCP_IMPLEMENTED_FEATURES.has(f) && !NOT_USED_BY_MCP_PROXY.has(f))
}

/** Top-level keys that configure only `pipelock run`'s listeners and HTTP paths. */
const HTTP_ONLY_KEYS: ReadonlySet<string> = new Set(['fetch_proxy', 'forward_proxy', 'websocket_proxy', 'reverse_proxy', 'tls_interception', 'metrics_listen', 'health_watchdog', 'browser_shield', 'scan_api', 'learn', 'request_body_scanning', 'git_protection', 'suppress', 'logging'])
/**
 * Of those, the keys the sandbox bridge's embedded forward proxy reads: the top-level keys of the
 * sections it applies (USED_BY_SANDBOX_BRIDGE), and `fetch_proxy`, whose settings (timeouts,
 * limits) the embedded proxy runs with though it is no feature of its own.
 */
const SANDBOX_BRIDGE_KEYS: ReadonlySet<string> = new Set(['fetch_proxy', ...[...USED_BY_SANDBOX_BRIDGE].map((f) => f.split('.')[0]!)])
/** The top-level keys of the sections the HTTP listener reads (USED_BY_LISTENER). */
const LISTENER_KEYS: ReadonlySet<string> = new Set([...USED_BY_LISTENER].map((f) => f.split('.')[0]!))

/**
 * The config's load warnings (a value read as another, a field not applied) as `mcp proxy`
 * prints them at start: all but those about sections only `pipelock run` reads, so what the wrap
 * runs with is never changed without a word.
 */
export function mcpConfigWarnings(warnings: readonly ConfigWarning[], shape: McpProxyShape): string[] {
  return warnings
    .filter((w) => {
      const key = w.field.split('.')[0]!
      return !HTTP_ONLY_KEYS.has(key) || (shape.sandboxed === true && SANDBOX_BRIDGE_KEYS.has(key)) || (shape.listener === true && LISTENER_KEYS.has(key))
    })
    .map(formatWarning)
}
