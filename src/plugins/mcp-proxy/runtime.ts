/**
 * Builds the MCP firewall's settings and dependencies from a resolved config: the shared
 * scanner, the kill switch (config + sentinel sources only, spec mcp.md §15.1) and the proxy's
 * media policy.
 */
import type {PipelockConfig} from '../config/index.js'
import {KillSwitchController, type KillSwitchSource} from '../killswitch/index.js'
import type {Readable, Writable} from 'node:stream'
import {CrossRequestDetector} from '../cee/index.js'
import {systemClock} from '../canonical/index.js'
import {DowTracker, dowSettings, mcpSettingsFromConfig, ToolScanner, type KillSwitchView, type McpDeps, type McpRecorder, type McpSettings, type MediaCheck} from '../mcp/index.js'
import {applyMediaPolicy, AuditLog, ceeSettingsFromConfig, hostAddressCidrs, ProxySessions, scannerSettingsFromConfig, sessionSettingsFromConfig, type AirlockChange, type MediaPolicySettings} from '../proxy/index.js'
import {createScanner, type Scanner} from '../scanner/index.js'
import {mcpMediation} from './mediation.js'
import {McpScanOffload} from './scan-offload.js'
import {McpSessions, type McpActionClassifier} from './sessions.js'

/** The airlock's wiring of `mcp proxy` (loaded only when `airlock.enabled`, service.ts). */
export interface McpAirlockWiring {
  /** Each tier change of a session (the receipt chain signs it). */
  readonly evidence?: (c: AirlockChange) => void
  /** The receipts' action classifier: what a tier lets through. */
  readonly classify?: McpActionClassifier
}

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
  /** Where each message's content scan runs: inline, or the scan pool for large messages. */
  readonly offload: McpScanOffload
  /** The process's sessions (session_profiling), for the admin API and tests; null when off. */
  readonly sessions: ProxySessions | null
  /** Stops the housekeeping timers (sessions, cross-request sweeps). */
  close(): void
}

/** The media policy's settings (plain data, also sent to the scan pool's workers); null when off. */
export function mediaSettings(c: PipelockConfig): MediaPolicySettings | null {
  const m = c.media_policy
  if (!m.enabled) return null
  return {
    enabled: true, stripImages: m.strip_images, stripAudio: m.strip_audio, stripVideo: m.strip_video,
    allowedImageTypes: m.allowed_image_types, stripImageMetadata: m.strip_image_metadata, maxImageBytes: m.max_image_bytes,
  }
}

export function mediaCheck(c: PipelockConfig): MediaCheck | null {
  const s = mediaSettings(c)
  return s === null ? null : (contentType, body) => applyMediaPolicy(s, contentType, body)
}

/**
 * The runtime's scan placement: the pool's workers compile the same scanner, media policy and
 * input options. `placeByPairs`: on an event loop other clients share (`ScanOffloadOptions`).
 */
export function scanOffload(c: PipelockConfig, scanner: Scanner, settings: McpSettings, o: {readonly agent?: string; readonly placeByPairs?: boolean} = {}): McpScanOffload {
  return new McpScanOffload({
    init: {scanner: scanner.settings, media: mediaSettings(c), input: settings.input, toolScan: settings.toolScan.enabled, redaction: settings.redactor?.source ?? null},
    redirect: {quarantineDir: c.mcp_tool_policy.quarantine_dir},
    mediation: mcpMediation(c, o.agent ?? '_default'),
    placeByPairs: o.placeByPairs === true,
  })
}

/**
 * `agent` names the invocation sessions; `log` receives the session manager's stderr lines
 * (escalations). Session profiling, DoW budgets (`agents.<agent>.budget`, mcp.md §10.1) and
 * cross-request detection are built here, once per process.
 */
export function buildMcpRuntime(
  c: PipelockConfig, env: Readonly<Record<string, string | undefined>>, now: () => number = Date.now, log: (line: string) => void = () => undefined, agent = '_default',
  air: McpAirlockWiring = {},
): McpRuntime {
  // This machine's own addresses count as internal, as in pipelock run (docs/run.md): the A2A
  // listener's URL scans resolve names, and a service bound to every address answers on them.
  const scanner = createScanner(scannerSettingsFromConfig(c, {env, hostAddresses: hostAddressCidrs()}))
  const killSwitch = new KillSwitchController({enabled: c.kill_switch.enabled, sentinelFile: c.kill_switch.sentinel_file, message: c.kill_switch.message})
  const clock = now === Date.now ? systemClock : {nowNanos: () => BigInt(Math.floor(now())) * 1_000_000n}
  // `mcp proxy` has no audit log (mcp.md §15.7, Q25): the sessions' audit events go nowhere; escalations are stderr lines.
  const quiet = new AuditLog([], {includeAllowed: false, includeBlocked: false, now: () => new Date(now())})
  const sessions = c.session_profiling.enabled ? new ProxySessions(sessionSettingsFromConfig(c), clock, () => quiet, undefined, air.evidence) : null
  sessions?.manager.start()
  // The agent's own profile decides (a profile without a budget has none, as in pipelock run);
  // an agent without a profile gets `_default`'s.
  const dow = dowSettings(c.agents[agent] !== undefined ? c.agents[agent].budget : c.agents._default?.budget)
  const cee = c.cross_request_detection.enabled ? new CrossRequestDetector(ceeSettingsFromConfig(c)) : null
  cee?.start(now)
  const settings = mcpSettingsFromConfig(c, scanner)
  const offload = scanOffload(c, scanner, settings, {agent})
  return {
    settings,
    killSwitch,
    sessions,
    offload,
    close: () => {
      sessions?.manager.stop()
      cee?.stop()
      void offload.close()
    },
    deps: {
      sessions: sessions === null ? null : new McpSessions(sessions.manager, agent, log, air.classify),
      budget: dow === null ? null : new DowTracker(dow, now),
      cee,
      scanner,
      toolScanner: new ToolScanner(scanner),
      // config + sentinel only: `mcp proxy` has no API or signal source (§15.1).
      killSwitch: killSwitchView(killSwitch, ['config', 'sentinel']),
      media: mediaCheck(c),
      now,
    },
  }
}

/** `response=R, input=I, tools=T, policy=P` of the mode banners (§2.3 step 5). */
export function bannerModes(s: McpSettings): string {
  return `response=${s.responseAction}, input=${s.input.action}, tools=${s.toolScan.enabled ? s.toolScan.action : 'disabled'}, policy=${s.policy === null ? 'disabled' : s.policyAction}`
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
