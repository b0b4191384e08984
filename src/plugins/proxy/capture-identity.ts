/**
 * Capture and agent identity. A capture directory is an agent's evidence for `learn compile`, so
 * whoever can choose the agent name of a captured request can write that agent's contract. Names
 * bound by the deployment (an agent listener, a source CIDR, a bound default identity) are the
 * agent's; a header or query name is a claim. The sink never files a claim under a bound agent
 * (capture-sink.ts); these are the start-up warning about agents left claimable and the line that
 * reports a refused claim.
 */
import type {PipelockConfig} from '../config/index.js'
import {boundProfileNames} from './agent-name.js'
import {FALLBACK_PROFILE} from './identity.js'

const HOW = 'bind each agent with agents.<name>.listeners or agents.<name>.source_cidrs (docs/agents.md)'

/** The start-up warning of a capturing run whose agents a client can claim; undefined when every agent is bound. */
export function unboundCaptureWarning(config: Pick<PipelockConfig, 'agents' | 'default_agent_identity' | 'bind_default_agent_identity'>): string | undefined {
  // A bound default identity names every request not on a listener or CIDR: nothing is claimed.
  if (config.bind_default_agent_identity && config.default_agent_identity !== '') return undefined
  const names = Object.keys(config.agents).filter((n) => n !== FALLBACK_PROFILE).sort()
  const bound = boundProfileNames(config.agents)
  const unbound = names.filter((n) => !bound.has(n))
  if (unbound.length === names.length) {
    return `WARNING: capture: no agent is bound to a listener or source CIDR: any client can name any agent (X-Pipelock-Agent header, ?agent= on /fetch) and its requests are captured as that agent's; ${HOW}`
  }
  if (unbound.length === 0) return undefined
  return `WARNING: capture: agents not bound to a listener or source CIDR: ${unbound.join(', ')}: any client can claim these names (X-Pipelock-Agent header, ?agent= on /fetch) and add to their captures; ${HOW}`
}

/** The report of a request that claimed a bound agent from elsewhere (once per agent and client). */
export function refusedClaimLine(agent: string, clientIp: string): string {
  return `WARNING: capture: a request from ${clientIp === '' ? 'an unknown address' : clientIp} claimed agent "${agent}", which is bound to its own listener or source CIDR: not captured (counted in pipelock_learn_capture_claims_refused_total)`
}
