/**
 * The MCP firewall's settings and per-session state, built from a resolved config (after the MCP
 * auto-enable of §14.2). Stateless settings are shared; `McpSessionState` is one per wrapped
 * server (stdio, bridge, ws) — never keyed on a client-chosen id (fix Q17).
 */
import type {PipelockConfig} from '../../config/index.js'
import {collectEnvSecrets, type Scanner} from '../../scanner/index.js'
import {Redactor} from '../../redaction/index.js'
import {ChainDetector} from '../chains/matcher.js'
import {ToolPolicy} from '../policy/compile.js'
import type {MediaCheck} from '../scan/media.js'
import type {InputAction} from '../scan/request.js'
import {ToolBaseline} from '../tools/baseline.js'
import {ToolScanner} from '../tools/scan.js'
import type {CrossRequestDetector} from '../../cee/index.js'
import type {DowSource} from './budget.js'
import type {McpContractGate} from './contract-step.js'
import type {McpSessionHandle} from './session-step.js'
import type {McpTransport} from './decision.js'
import {RequestTracker} from './tracker.js'

export type ResponseAction = 'block' | 'warn' | 'strip' | 'ask'

export interface KillSwitchView {
  /** Active state and source (`config` / `sentinel` …), re-evaluated per call. */
  status(): {readonly active: boolean; readonly source: string | null; readonly message: string}
}

export interface McpSettings {
  readonly input: {readonly enabled: boolean; readonly action: InputAction; readonly onParseError: 'block' | 'forward'}
  readonly toolScan: {readonly enabled: boolean; readonly action: 'warn' | 'block'; readonly detectDrift: boolean}
  readonly policy: ToolPolicy | null
  /** The section's default action (banner). */
  readonly policyAction: string
  readonly binding: {readonly unknownToolAction: 'warn' | 'block'; readonly noBaselineAction: 'warn' | 'block'} | null
  readonly chain: PipelockConfig['tool_chain_detection'] | null
  /** Effective response action (`block` when the config leaves it empty, §2.3 step 5). */
  readonly responseAction: ResponseAction
  /**
   * Class-preserving redaction of `tools/call` arguments (envelope-redaction Part II, config
   * reference "Redaction": the same matcher as HTTP bodies); null or absent while disabled.
   */
  readonly redactor?: Redactor | null
  /**
   * `enforce` (audit mode when false, docs/mcp.md "Audit mode"): downgradable findings are
   * recorded as `would_block` and the message forwarded. Absent = true.
   */
  readonly enforce?: boolean
}

export interface McpDeps {
  readonly scanner: Scanner
  readonly toolScanner: ToolScanner
  readonly killSwitch: KillSwitchView
  /** Media policy (null = disabled). */
  readonly media: MediaCheck | null
  /** Milliseconds clock (chain windows). */
  readonly now: () => number
  /** The live contract step (learn_lock); absent or null = no contract gate. */
  readonly contract?: McpContractGate | null
  /** Session profiling / adaptive enforcement (§15.2); absent or null = no sessions. */
  readonly sessions?: McpSessionSource | null
  /** Denial-of-wallet trackers (§10.1): the wrap's one, or one per profile (`run`); absent or null = no budgets. */
  readonly budget?: DowSource | null
  /** Cross-request detection (§10.2); absent or null = off. */
  readonly cee?: CrossRequestDetector | null
}

/**
 * Opens the session a transport's messages belong to (§1.2): an invocation session
 * (`mcp-stdio-<n>`, `mcp-http-<n>`, `mcp-ws-<n>`) for the stdio-client transports, the client's
 * identity session for a listener (`clientIp` set). Called lazily by the pipeline on the first
 * message of a state, so every transport — the one `pipelock run` hosts included — gets sessions
 * without code of its own.
 */
export interface McpSessionSource {
  open(transport: McpTransport, clientIp?: string): McpSessionHandle
}

export interface McpSessionState {
  readonly transport: McpTransport
  /** Chain / cross-request key (§1.2). */
  readonly chainKey: string
  readonly baseline: ToolBaseline
  readonly tracker: RequestTracker
  readonly chains: ChainDetector | null
  inputLine: number
  outputLine: number
  /** The session handle, opened on first use from `McpDeps.sessions` (undefined = not yet opened). */
  session?: McpSessionHandle | null
  /** Listener: the client IP the identity session is keyed on. */
  readonly clientIp?: string
  /** Cross-request key when it differs from `chainKey` (stdio: `_default|stdio`, §1.2). */
  readonly ceeKey?: string
  /** The response side has logged its first `block_all` denial. */
  blockAllNoted?: boolean
  /** Set by a transport that sends calls upstream under ids of its own (mcp-proxy call-cuts.ts); absent: the server's ids are the client's. */
  upstreamIds?: UpstreamIds
}

/** The client's ids of the server's: read where a response the server sent is answered in its stead (a batch, waiting.ts). */
export interface UpstreamIds {
  /** The client's id of the call the server answers as `upstreamId` (raw JSON); null when no call of the client waits for that answer (a cut call's late one: read once, it is dropped and no longer awaited). */
  clientId(upstreamId: string): string | null
}

function action2(a: string): 'warn' | 'block' {
  return a === 'block' ? 'block' : 'warn'
}

export function mcpSettingsFromConfig(c: PipelockConfig, scanner: Scanner): McpSettings {
  const inp = c.mcp_input_scanning
  const ts = c.mcp_tool_scanning
  const tp = c.mcp_tool_policy
  const sb = c.mcp_session_binding
  // [ext] `mcp_action` (settled by the MCP runtime resolution, docs/mcp.md) wins over the general action.
  const rs = c.response_scanning.mcp_action !== undefined && c.response_scanning.mcp_action !== '' ? c.response_scanning.mcp_action : c.response_scanning.action
  return {
    // Input scanning off: stdio still scans in warn mode and blocks parse errors (§3.1.2, Q1).
    input: {enabled: inp.enabled, action: inp.enabled ? action2(inp.action) : 'warn', onParseError: inp.on_parse_error === 'forward' ? 'forward' : 'block'},
    toolScan: {enabled: ts.enabled, action: action2(ts.action), detectDrift: ts.detect_drift},
    policy: tp.enabled ? new ToolPolicy({action: tp.action === '' ? 'warn' : tp.action, rules: tp.rules, redirect_profiles: tp.redirect_profiles}, scanner.response.normalizer) : null,
    policyAction: tp.action === '' ? 'warn' : tp.action,
    binding: sb.enabled ? {unknownToolAction: action2(sb.unknown_tool_action), noBaselineAction: action2(sb.no_baseline_action)} : null,
    chain: c.tool_chain_detection.enabled ? c.tool_chain_detection : null,
    responseAction: rs === '' ? 'block' : (rs as ResponseAction),
    redactor: redactorFor(c, scanner),
    enforce: c.enforce,
  }
}

/** The redactor of `c.redaction` with the scanner's known secrets (§14.3); null while disabled. */
function redactorFor(c: PipelockConfig, scanner: Scanner): Redactor | null {
  if (!c.redaction.enabled) return null
  const dlp = scanner.settings.dlp
  return new Redactor(c.redaction, {env: dlp.scanEnv && dlp.env !== undefined ? collectEnvSecrets(dlp.env, dlp.minEnvSecretLength) : [], file: dlp.fileSecrets})
}

export function newSessionState(settings: McpSettings, transport: McpTransport, chainKey: string, ceeKey?: string): McpSessionState {
  return {
    transport,
    chainKey,
    ...(ceeKey !== undefined ? {ceeKey} : {}),
    baseline: new ToolBaseline(),
    tracker: new RequestTracker(),
    chains: settings.chain === null ? null : new ChainDetector(settings.chain),
    inputLine: 0,
    outputLine: 0,
  }
}
