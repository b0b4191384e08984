/**
 * Agent listeners and the contract selector of an identity (operations.md §2.4, §2.7).
 */
import type {PipelockConfig} from '../config/index.js'
import type {AgentIdentity} from './identity.js'

export interface AgentListenAddress {
  readonly name: string
  readonly addr: string
}

/** Every `agents.<name>.listeners` address, agents in sorted order (the registry order). */
export function agentListeners(c: PipelockConfig): AgentListenAddress[] {
  const out: AgentListenAddress[] = []
  for (const name of Object.keys(c.agents).sort()) for (const addr of c.agents[name]!.listeners ?? []) out.push({name, addr})
  return out
}

/** Stderr lines and banner lines for the bound agent listeners (§2.7). */
export function agentListenerLines(agents: readonly AgentListenAddress[]): {stderr: string[]; banner: string[]} {
  return {
    stderr: agents.map((a) => `pipelock: agent "${a.name}" listening on ${a.addr}`),
    banner: agents.map((a) => `  Agent:  ${a.name} -> http://${a.addr}`),
  }
}

/**
 * The name live contracts are selected by, when it is not the display name:
 * * a config-default identity selects by the configured name as written, so
 *   `deployment/my-agent` keeps its slash for `agent_glob: deployment/*` (the display name is
 *   sanitised to `deployment_my-agent`, Q-A3);
 * * with `learn_lock.ignore_self_declared_agents`, a name the client declared (header or query)
 *   never selects a contract: the default identity (or `anonymous`) does.
 */
export function contractSelector(c: PipelockConfig, id: AgentIdentity): {contractAgent?: string} {
  const dflt = c.default_agent_identity.trim()
  if (id.auth === 'config-default') return dflt !== id.name ? {contractAgent: dflt} : {}
  if (id.declared && c.learn_lock.ignore_self_declared_agents) return {contractAgent: dflt !== '' ? dflt : 'anonymous'}
  return {}
}
