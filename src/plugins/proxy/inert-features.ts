/**
 * Config sections `pipelock run` accepts but does not act on (operations §5.7, §12 Q4): the MCP
 * sections configure MCP transports only, and no HTTP proxy path reads them (the reference is
 * the same), so the `strict` and `hostile-model` presets carry them without being refused. The
 * run says so at start-up instead of pretending they filter HTTP traffic.
 */
import {enabledFeatures, type DowngradeScope, type PipelockConfig} from '../config/index.js'
import {IMPLEMENTED_FEATURES} from './features.js'

export const MCP_ONLY_SECTIONS: readonly string[] = ['mcp_input_scanning', 'mcp_tool_scanning', 'mcp_tool_policy', 'mcp_session_binding', 'tool_chain_detection']

/** The MCP sections the scan API's `tool_call` kind reads (as on file: nothing is auto-enabled there). */
const SCAN_API_MCP_SECTIONS: readonly string[] = ['mcp_input_scanning', 'mcp_tool_policy']

/**
 * Sections that configure a process pipelock starts (containment.md §2.4: `sandbox.enabled`
 * affects `mcp proxy -- COMMAND`; `pipelock sandbox` ignores it; §3: `file_sentry` watches the
 * writes of `mcp proxy -- COMMAND`'s server and `pipelock sandbox`'s agent). `pipelock run` starts none.
 */
export const CHILD_PROCESS_SECTIONS: readonly string[] = ['sandbox', 'file_sentry']

/** What `pipelock run` starts with: the implemented features plus the MCP-only and child-process sections (inert). */
export const RUN_ACCEPTED_FEATURES: ReadonlySet<string> = new Set([...IMPLEMENTED_FEATURES, ...MCP_ONLY_SECTIONS, ...CHILD_PROCESS_SECTIONS])

/**
 * The start-up note for enabled MCP-only and child-process sections, or null when there are none.
 * `embedded`: the proxy `pipelock sandbox` / `mcp proxy --sandbox` embeds, whose embedder is the
 * process that applies the child-process sections, so they are not named as inert. `scanApi`: the
 * run serves the scan API, whose `tool_call` kind reads two of the MCP sections, so those are named
 * apart (the note must not call a section inert that a transport of the run reads).
 */
export function inertSectionsNote(c: PipelockConfig, o: {embedded?: boolean; scanApi?: boolean} = {}): string | null {
  const on = enabledFeatures(c)
  const mcpOn = on.filter((f) => MCP_ONLY_SECTIONS.includes(f))
  const read = o.scanApi === true ? mcpOn.filter((f) => SCAN_API_MCP_SECTIONS.includes(f)) : []
  const mcp = mcpOn.filter((f) => !read.includes(f))
  const child = o.embedded === true ? [] : on.filter((f) => CHILD_PROCESS_SECTIONS.includes(f))
  const lines = [
    ...(mcp.length > 0 ? [`pipelock: note: ${mcp.join(', ')} ${mcp.length === 1 ? 'applies to MCP transports only; it has' : 'apply to MCP transports only; they have'} no effect on this HTTP proxy`] : []),
    ...(read.length > 0 ? [`pipelock: note: ${read.join(', ')} ${read.length === 1 ? 'applies' : 'apply'} on this run to the scan API's tool_call scans only, not to the HTTP proxy's traffic`] : []),
    ...(child.length > 0 ? [`pipelock: note: ${child.join(', ')} ${child.length === 1 ? 'applies' : 'apply'} to the processes pipelock sandbox and mcp proxy -- COMMAND start; pipelock run starts none`] : []),
  ]
  return lines.length === 0 ? null : lines.join('\n')
}

/**
 * What of the MCP policy a `pipelock run` reads, for the reload comparison: all of it, as an MCP
 * transport runs it, with an MCP listener (undefined); without one, only the scan API's `tool_call`
 * reads the config (`mcp_input_scanning`, `mcp_tool_policy`, as on file: nothing is auto-enabled
 * there), and a run with neither reads none of it.
 */
export function mcpReloadScope(run: {readonly mcpListener: boolean; readonly scanApi: boolean}): (DowngradeScope & {readonly why: string}) | undefined {
  if (run.mcpListener) return undefined
  const parts = [...MCP_ONLY_SECTIONS, 'response_scanning.mcp_action']
  if (!run.scanApi) return {unused: parts, mcpAutoEnabled: false, why: 'it has no MCP listener (--mcp-listen) and no scan API'}
  const read = new Set(SCAN_API_MCP_SECTIONS)
  return {
    unused: parts.filter((p) => !read.has(p)), mcpAutoEnabled: false,
    why: 'it has no MCP listener (--mcp-listen), and its scan API reads only mcp_input_scanning and mcp_tool_policy',
  }
}

/** Features a config turns on that `pipelock run` would refuse (for `generate config`'s warning). */
export function unrunnableFeatures(c: PipelockConfig): string[] {
  return enabledFeatures(c).filter((f) => !RUN_ACCEPTED_FEATURES.has(f))
}
