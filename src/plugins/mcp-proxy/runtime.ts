/**
 * Builds the MCP firewall's settings and dependencies from a resolved config: the shared
 * scanner, the kill switch (config + sentinel sources only, spec mcp.md §15.1) and the proxy's
 * media policy.
 */
import type {PipelockConfig} from '../config/index.js'
import {KillSwitchController} from '../killswitch/index.js'
import type {Readable, Writable} from 'node:stream'
import {mcpSettingsFromConfig, ToolScanner, type McpDeps, type McpRecorder, type McpSettings, type MediaCheck} from '../mcp/index.js'
import {applyMediaPolicy, scannerSettingsFromConfig, type MediaPolicySettings} from '../proxy/index.js'
import {createScanner} from '../scanner/index.js'

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

export function mediaCheck(c: PipelockConfig): MediaCheck | null {
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
  return {
    settings: mcpSettingsFromConfig(c, scanner),
    killSwitch,
    deps: {
      scanner,
      toolScanner: new ToolScanner(scanner),
      killSwitch: {
        status: () => {
          // config + sentinel only: `mcp proxy` has no API or signal source (§15.1).
          const st = killSwitch.status()
          const source = st.sources.config ? 'config' : st.sources.sentinel ? 'sentinel' : null
          return {active: source !== null, source, message: st.message}
        },
      },
      media: mediaCheck(c),
      now,
    },
  }
}

/** `response=R, input=I, tools=T, policy=P` of the mode banners (§2.3 step 5). */
export function bannerModes(s: McpSettings): string {
  return `response=${s.responseAction}, input=${s.input.action}, tools=${s.toolScan.enabled ? s.toolScan.action : 'disabled'}, policy=${s.policy === null ? 'disabled' : s.policyAction}`
}
