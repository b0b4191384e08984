/**
 * The live contract step of every MCP transport (mcp.md §15.3): the `McpContractGate` seam of
 * the MCP core, implemented with the contract runtime (the store's active set) and the gate's
 * one-evaluator functions. The contract is resolved per call for the contract agent (§1.2:
 * `--agent` or `_default`), so a promote that the store watch picks up applies to the next call.
 */
import {gateMcpToolCall, gateMcpUpstream, MCP_CONTRACT_CODE, unlistedAgentDenial, type ContractRuntime, type McpGateResult} from '../gate/index.js'
import type {McpContractError, McpContractGate, McpContractOutcome} from '../mcp/index.js'

export interface McpContractGateOptions {
  /** The contract runtime (or anything that resolves contracts the same way, for tests). */
  readonly runtime: Pick<ContractRuntime, 'mode' | 'resolve' | 'current'>
  /** Contract agent (§1.2). */
  readonly agent: string
  /** Server identity (§1.2): the command's basename on stdio, the upstream hostname otherwise. */
  readonly server: string
  /** The HTTP/WS upstream URL, gated before every forwarded message; undefined on stdio. */
  readonly upstream?: string
  /** `learn_lock.unlocked_agents` as now configured (issue 37: no contract while live = denied unless listed). */
  readonly unlocked?: () => readonly string[]
}

const outcome = (r: McpGateResult): McpContractOutcome => ({block: r.block, context: r.context})

export function mcpContractGate(o: McpContractGateOptions): McpContractGate {
  // The upstream verdict depends only on the manifest in force: evaluated once per manifest (fix Q33).
  let upstreamFor: string | undefined
  let upstreamResult: McpContractOutcome | null = null
  /** The refusal of the agent, which has no contract: null unless contracts are live and it is not unlocked. */
  const refusal = (): McpContractError | null => {
    const denied = unlistedAgentDenial(o.runtime, o.agent, o.unlocked?.() ?? [])
    if (denied === null) return null
    const data = new Map<string, string>([['block_reason', 'contract_default_deny'], ['contract_agent', o.agent]])
    return {code: MCP_CONTRACT_CODE, message: `pipelock: ${denied}`, data, reason: 'contract_default_deny'}
  }
  return {
    toolCall(call) {
      const contract = o.runtime.resolve(o.agent)
      if (contract === undefined) return {block: refusal(), context: null}
      return outcome(gateMcpToolCall(o.runtime.mode, contract, {server: o.server, ...call}))
    },
    uncontracted: () => (o.runtime.resolve(o.agent) === undefined ? refusal() : null),
    upstream() {
      if (o.upstream === undefined) return null
      const hash = o.runtime.current()?.manifestHash ?? ''
      if (hash !== upstreamFor) {
        upstreamFor = hash
        const contract = o.runtime.resolve(o.agent)
        upstreamResult = contract === undefined ? null : outcome(gateMcpUpstream(o.runtime.mode, contract, o.upstream))
      }
      return upstreamResult
    },
  }
}

/** §1.2 server identity: the basename of the command (stdio) or the upstream URL's hostname. */
export function serverIdentity(command: readonly string[], upstream: string | undefined): string {
  // Go's URL.Hostname(): an IPv6 literal without its brackets.
  if (upstream !== undefined) return new URL(upstream).hostname.replace(/^\[(.*)\]$/, '$1')
  const cmd = command[0] ?? ''
  return cmd.slice(cmd.lastIndexOf('/') + 1) // filepath.Base on Linux
}
