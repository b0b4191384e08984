/**
 * The MCP firewall over a scanner and kill switch the run owns (`run --mcp-listen`, mcp.md
 * §2.9): built once per config snapshot, with the snapshot's scanner, session manager and
 * cross-request detector and the run's kill switch with all four sources (§15.1), where `mcp
 * proxy` builds its own (`buildMcpRuntime`). A listener client's MCP messages and its HTTP
 * traffic share one identity session. Denial-of-wallet budgets (§10.1, not wired in the
 * reference's run): one tracker per profile for the snapshot — the profile a client's address
 * binds (`source_cidrs`), else `_default` — so a reload starts them afresh, as the HTTP budgets.
 */
import type {CrossRequestDetector} from '../cee/index.js'
import type {PipelockConfig} from '../config/index.js'
import type {KillSwitchController, KillSwitchSource} from '../killswitch/index.js'
import {DowTracker, dowSettings, mcpSettingsFromConfig, ToolScanner, type DowSource} from '../mcp/index.js'
import {isBound, sessionKey, type AgentIdentity, type ProxySessions} from '../proxy/index.js'
import type {Scanner} from '../scanner/index.js'
import {killSwitchView, mediaCheck, scanOffload, type McpRuntime} from './runtime.js'
import {classifyMcp} from '../recorder/index.js'
import {McpSessions} from './sessions.js'

/** What the run's config snapshot lends the MCP pipeline. */
export interface RunShared {
  readonly scanner: Scanner
  readonly sessions: ProxySessions | null
  readonly cee: CrossRequestDetector | null
  /** The run's identity resolution: a listener client whose address a `source_cidrs` binds is a bound identity. */
  readonly agentNames: {resolve(r: {readonly clientIp: string}): {readonly identity: AgentIdentity}}
}

export function mcpRuntimeWith(
  c: PipelockConfig, snap: RunShared, killSwitch: KillSwitchController, sources: readonly KillSwitchSource[], now: () => number, log: (line: string) => void,
): McpRuntime {
  const {scanner, sessions, cee, agentNames} = snap
  const settings = mcpSettingsFromConfig(c, scanner)
  return {
    settings,
    killSwitch,
    sessions,
    // Its own pool per snapshot (workers compile this snapshot's scanner); the listener retires the
    // old one on reload. The run's event loop serves every agent: a call is placed by its pairs too.
    offload: scanOffload(c, scanner, settings, {placeByPairs: true}),
    // The run owns the session manager and the detector (their timers stop with the run).
    close: () => undefined,
    deps: {
      scanner, toolScanner: new ToolScanner(scanner), killSwitch: killSwitchView(killSwitch, sources), media: mediaCheck(c), now,
      // The airlock reads the receipts' action class (the run's MCP listener records receipts anyway).
      // A listener client is an unbound identity (held by what its address earned in the run's
      // other sessions, issue 37 item 1) unless a source CIDR binds its address, as on HTTP; a
      // bound client's session is the one its HTTP traffic uses, named as the HTTP side names it.
      sessions: sessions === null ? null : new McpSessions(
        sessions.manager, '_default', log, (method, tool) => classifyMcp(method, tool).actionType, (ip) => boundSession(agentNames, ip),
      ),
      budget: new ProfileBudgets(c, agentNames, now),
      cee,
    },
  }
}

/** The run's trackers: the profile a client's address binds decides, a claim never does; made on a profile's first call. */
class ProfileBudgets implements DowSource {
  private readonly trackers = new Map<string, DowTracker | null>()

  constructor(private readonly c: PipelockConfig, private readonly agentNames: RunShared['agentNames'], private readonly now: () => number) {}

  trackerFor(clientIp: string | undefined): DowTracker | null {
    const id = clientIp === undefined ? null : this.agentNames.resolve({clientIp}).identity
    const agent = id !== null && isBound(id) ? id.name : '_default'
    let t = this.trackers.get(agent)
    if (t === undefined) {
      const dow = dowSettings(this.c.agents[agent]?.budget)
      this.trackers.set(agent, (t = dow === null ? null : new DowTracker(dow, this.now)))
    }
    return t
  }
}

/** The HTTP session of a client whose address binds it to an agent (a `source_cidrs` match), else null. */
function boundSession(agentNames: RunShared['agentNames'], clientIp: string): {agent: string; key: string} | null {
  const id = agentNames.resolve({clientIp}).identity
  return isBound(id) ? {agent: id.name, key: sessionKey(id.name, clientIp)} : null
}
