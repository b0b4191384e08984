/**
 * Builds the MCP firewall's settings and dependencies from a resolved config: the shared
 * scanner, the kill switch (config + sentinel sources only, spec mcp.md §15.1) and the proxy's
 * media policy.
 */
import type {PipelockConfig} from '../config/index.js'
import {KillSwitchController, type KillSwitchSource} from '../killswitch/index.js'
import type {Readable, Writable} from 'node:stream'
import {mcpSettingsFromConfig, ToolScanner, type KillSwitchView, type McpDeps, type McpRecorder, type McpSettings, type MediaCheck} from '../mcp/index.js'
import {applyMediaPolicy, scannerSettingsFromConfig, type MediaPolicySettings} from '../proxy/index.js'
import {createScanner, type Scanner} from '../scanner/index.js'

/** What every stdio-client transport (wrap, bridges) gets: the firewall, the record step and the client's pipes. */
export interface StdioClientSide {
  readonly runtime: McpRuntime
  readonly recorder: McpRecorder
  readonly clientIn: Readable
  readonly clientOut: Writable
  /** One whole stderr line (no newline). */
  readonly log: (line: string) => void
  /** Resolves when a stop signal arrives (SIGINT/SIGTERM/SIGHUP in the command). */
  readonly stop?: Promise<void>
}

export interface McpRuntime {
  readonly settings: McpSettings
  readonly deps: McpDeps
  readonly killSwitch: KillSwitchController
}

function mediaCheck(c: PipelockConfig): MediaCheck | null {
  const m = c.media_policy
  if (!m.enabled) return null
  const s: MediaPolicySettings = {
    enabled: true, stripImages: m.strip_images, stripAudio: m.strip_audio, stripVideo: m.strip_video,
    allowedImageTypes: m.allowed_image_types, stripImageMetadata: m.strip_image_metadata, maxImageBytes: m.max_image_bytes,
  }
  return (contentType, body) => applyMediaPolicy(s, contentType, body)
}

export function buildMcpRuntime(c: PipelockConfig, env: Readonly<Record<string, string | undefined>>, now: () => number = Date.now): McpRuntime {
  const scanner = createScanner(scannerSettingsFromConfig(c, {env}))
  const killSwitch = new KillSwitchController({enabled: c.kill_switch.enabled, sentinelFile: c.kill_switch.sentinel_file, message: c.kill_switch.message})
  // config + sentinel only: `mcp proxy` has no API or signal source (§15.1).
  return {...mcpRuntimeWith(c, scanner, killSwitchView(killSwitch, ['config', 'sentinel']), now), killSwitch}
}

/**
 * The firewall over a scanner and kill switch someone else owns: `run --mcp-listen` (mcp.md §2.9)
 * builds one per config snapshot, with the run's scanner and all four kill-switch sources.
 */
export function mcpRuntimeWith(c: PipelockConfig, scanner: Scanner, killSwitch: KillSwitchView, now: () => number = Date.now): Omit<McpRuntime, 'killSwitch'> {
  return {
    settings: mcpSettingsFromConfig(c, scanner),
    deps: {scanner, toolScanner: new ToolScanner(scanner), killSwitch, media: mediaCheck(c), now},
  }
}

/** The MCP view of a kill switch: active when one of `sources` is (first one named, §15.1). */
export function killSwitchView(k: KillSwitchController, sources: readonly KillSwitchSource[]): KillSwitchView {
  return {
    status: () => {
      const st = k.status()
      const source = sources.find((s) => st.sources[s]) ?? null
      return {active: source !== null, source, message: st.message}
    },
  }
}

/** `response=R, input=I, tools=T, policy=P` of the mode banners (§2.3 step 5). */
export function bannerModes(s: McpSettings): string {
  return `response=${s.responseAction}, input=${s.input.action}, tools=${s.toolScan.enabled ? s.toolScan.action : 'disabled'}, policy=${s.policy === null ? 'disabled' : s.policyAction}`
}
