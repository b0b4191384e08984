/**
 * Runtime resolution for MCP commands (spec mcp.md §2.3 step 2, §13): on a clone of the loaded
 * config, re-enable response scanning with defaults when it is off, then (proxy mode only)
 * auto-enable the three "unconfigured" MCP sections (§14.2).
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
  if (mode !== 'scan') {
    const inp = c.mcp_input_scanning
    if (!inp.enabled && inp.action === '') {
      c.mcp_input_scanning = {...inp, enabled: true, action: 'block'}
      lines.push(`pipelock: auto-enabling MCP input scanning for ${mode} mode`)
    }
    const ts = c.mcp_tool_scanning
    if (!ts.enabled && ts.action === '') {
      c.mcp_tool_scanning = {...ts, enabled: true, action: 'warn', detect_drift: true}
      lines.push(`pipelock: auto-enabling MCP tool scanning for ${mode} mode`)
    }
    const tp = c.mcp_tool_policy
    if (!tp.enabled && tp.action === '' && tp.rules.length === 0) {
      c.mcp_tool_policy = {...tp, enabled: true, action: 'warn', rules: BUILTIN_TOOL_POLICY_RULES.map((r) => ({...r}))}
      lines.push(`pipelock: auto-enabling MCP tool call policy for ${mode} mode`)
    }
  }
  return {config: c, lines}
}
