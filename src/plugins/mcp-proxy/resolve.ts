/**
 * Runtime resolution for MCP commands (spec mcp.md §2.3 step 2, §13): on a clone of the loaded
 * config, re-enable response scanning with defaults when it is off, then auto-enable the three
 * "unconfigured" MCP sections (§14.2) — tool scanning in block mode — and settle the action on
 * injection in server messages (`response_scanning.mcp_action`, block unless chosen).
 *
 * [fix] `mcp scan` resolves as `mcp proxy` does, silently: it enforces nothing, and the actions it
 * prints are the ones the proxy would take for the same config (the reference prints the configured
 * response action, which is not what the proxy here applies; docs/compatibility.md).
 */
import {BUILTIN_TOOL_POLICY_RULES, defaultConfig, DEFAULT_RESPONSE_PATTERNS, type PipelockConfig} from '../config/index.js'

export interface ResolvedMcpConfig {
  readonly config: PipelockConfig
  /** Lines for stderr, in order (full text, no prefix added). */
  readonly lines: readonly string[]
}

/**
 * `listener` is `run --mcp-listen` (mcp.md §2.9, mode "forward + MCP listener"): the same
 * auto-enable, labelled `listener`, and no response-scanning fallback.
 */
export function resolveMcpRuntime(loaded: PipelockConfig, mode: 'proxy' | 'scan' | 'listener'): ResolvedMcpConfig {
  const c = structuredClone(loaded)
  const lines: string[] = []
  if (mode !== 'listener' && !c.response_scanning.enabled) {
    c.response_scanning = {
      ...defaultConfig().response_scanning,
      enabled: true,
      patterns: DEFAULT_RESPONSE_PATTERNS.map((p) => ({name: p.name, regex: p.regex})),
    }
    lines.push('warning: response scanning was disabled in config, enabling with defaults')
  }
  // Only the commands that enforce announce what they turned on.
  const announce = (line: string): void => {
    if (mode !== 'scan') lines.push(line)
  }
  const inp = c.mcp_input_scanning
  if (!inp.enabled && inp.action === '') {
    c.mcp_input_scanning = {...inp, enabled: true, action: 'block'}
    announce(`pipelock: auto-enabling MCP input scanning for ${mode} mode`)
  }
  const ts = c.mcp_tool_scanning
  if (!ts.enabled && ts.action === '') {
    // [ext] block, not the reference's warn: a poisoned definition or a rug-pull is not relayed
    // unless the config chooses warn (docs/mcp.md "Safe defaults").
    c.mcp_tool_scanning = {...ts, enabled: true, action: 'block', detect_drift: true}
    announce(`pipelock: auto-enabling MCP tool scanning for ${mode} mode`)
  }
  const tp = c.mcp_tool_policy
  if (!tp.enabled && tp.action === '' && tp.rules.length === 0) {
    c.mcp_tool_policy = {...tp, enabled: true, action: 'warn', rules: BUILTIN_TOOL_POLICY_RULES.map((r) => ({...r}))}
    announce(`pipelock: auto-enabling MCP tool call policy for ${mode} mode`)
  }
  // [ext] Injection in what an MCP server sends (results, structuredContent, sampling and other
  // server requests) is blocked unless `response_scanning.mcp_action` chooses otherwise; the
  // general `response_scanning.action` carries over when it is stricter than warn (block, strip, ask).
  const rs = c.response_scanning
  if (rs.mcp_action === undefined || rs.mcp_action === '') {
    c.response_scanning = {...rs, mcp_action: rs.action === 'warn' || rs.action === '' ? 'block' : rs.action}
  }
  return {config: c, lines}
}
