/**
 * The MCP firewall over a scanner and kill switch the run owns (`run --mcp-listen`, mcp.md
 * §2.9): built once per config snapshot, with the snapshot's scanner and the run's kill switch
 * with all four sources (§15.1), where `mcp proxy` builds its own (`buildMcpRuntime`).
 */
import type {PipelockConfig} from '../config/index.js'
import type {KillSwitchController, KillSwitchSource} from '../killswitch/index.js'
import {mcpSettingsFromConfig, ToolScanner, type KillSwitchView} from '../mcp/index.js'
import type {Scanner} from '../scanner/index.js'
import {mediaCheck, type McpRuntime} from './runtime.js'

export function mcpRuntimeWith(c: PipelockConfig, scanner: Scanner, killSwitch: KillSwitchController, sources: readonly KillSwitchSource[], now: () => number): McpRuntime {
  return {
    settings: mcpSettingsFromConfig(c, scanner),
    killSwitch,
    deps: {scanner, toolScanner: new ToolScanner(scanner), killSwitch: killSwitchView(killSwitch, sources), media: mediaCheck(c), now},
  }
}

/** The MCP view of a kill switch: active when one of `sources` is (the first one named). */
export function killSwitchView(k: KillSwitchController, sources: readonly KillSwitchSource[]): KillSwitchView {
  return {
    status: () => {
      const st = k.status()
      const source = sources.find((s) => st.sources[s]) ?? null
      return {active: source !== null, source, message: st.message}
    },
  }
}
