/**
 * An agent without a contract while contracts are live (issue 37 item 1, beyond the reference):
 * the reference lets a request whose agent no selector names through unrestricted, so a client
 * that calls itself anything else than its locked name escapes its contract. Here, once a live
 * contract set is in force, such an agent is denied (`contract_default_deny`) unless the operator
 * lists it in `learn_lock.unlocked_agents` (names, or `agent_glob`-style patterns). Shadow and
 * capture modes never deny. The same rule serves the HTTP gate and every MCP transport.
 */
import {goPathMatch} from '../enforcement/index.js'
import type {ContractRuntime} from './contract-runtime.js'

/** The denial's detail, or null when the agent may go on without a contract. */
export function unlistedAgentDenial(rt: Pick<ContractRuntime, 'mode' | 'current'>, agent: string, unlocked: readonly string[]): string | null {
  if (rt.mode !== 'live' || rt.current() === undefined) return null
  if (unlocked.some((p) => p === agent || goPathMatch(p, agent) === true)) return null
  return `contract_default_deny: agent "${agent}" has no active contract and is not listed in learn_lock.unlocked_agents`
}
