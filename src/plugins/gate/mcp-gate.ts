/**
 * The contract step of the MCP request order (mcp.md §15.3, learn-lifecycle §7.7, §7.9): the one
 * evaluator (`enforcement.evaluateMcp` / `evaluateMcpUpstream`, also used by `learn shadow`)
 * applied to one tool call or to the upstream URL, turned into what an MCP transport needs — the
 * verdict, the `-32006` error with its sorted-key `data`, and the contract context every receipt
 * of the call carries (§7.10).
 */
import type {JsonObject} from '../canonical/index.js'
import {blockReasonCode, evaluateMcp, evaluateMcpUpstream, type ContractDecision, type Mode, type ResolvedContract} from '../enforcement/index.js'
import {contractContext, type ContractContext} from './http-gate.js'

export const MCP_CONTRACT_CODE = -32006

export interface McpGateError {
  readonly code: number
  readonly message: string
  /** Sorted-key `data` object (Go map order); null for an evaluator error on a tool call. */
  readonly data: JsonObject | null
  readonly reason: string
}

export interface McpGateResult {
  /** Set only when the mode is live and the contract denies (or the evaluator failed). */
  readonly block: McpGateError | null
  readonly context: ContractContext
}

const FAILED: ContractDecision = {verdict: 'block', liveVerdict: 'block', winningSource: 'contract', reason: '', ruleId: '', policySources: ['contract'], suppressed: false, adaptiveBlockSignal: false}

/** §7.9 `data`: keys in byte order, as the reference's Go map marshals them. */
function contractData(code: string, d: ContractDecision, c: ResolvedContract | undefined): JsonObject {
  return new Map<string, string | string[]>([
    ['block_reason', code],
    ['contract_hash', c?.contractHash ?? ''],
    ['contract_reason', d.reason],
    ['contract_selector', c?.selectorId ?? ''],
    ['live_verdict', d.liveVerdict],
    ['policy_sources', [...d.policySources]],
    ['rule_id', d.ruleId],
    ['winning_source', d.winningSource],
  ]) as JsonObject
}

function settle(mode: Mode, contract: ResolvedContract, d: ContractDecision, message: string): McpGateResult {
  const context = contractContext(mode, contract, d)
  if (d.verdict !== 'block') return {block: null, context}
  const code = blockReasonCode(d)
  return {block: {code: MCP_CONTRACT_CODE, message, data: contractData(code, d, contract), reason: code}, context}
}

/**
 * Evaluates one `tools/call` the scanners let through. `server` is the §1.2 server identity,
 * `args` the decoded arguments (non-object → `{}`). An evaluator error blocks (never a pass).
 */
export function gateMcpToolCall(mode: Mode, contract: ResolvedContract, call: {server: string; tool: string; args: unknown; scannerVerdict: string; scannerMatched: boolean}): McpGateResult {
  const args = call.args instanceof Map ? call.args : new Map()
  let d: ContractDecision
  try {
    d = evaluateMcp(contract, {mode, scannerVerdict: call.scannerVerdict, scannerMatched: call.scannerMatched, policySources: ['scanner'], server: call.server, tool: call.tool, args})
  } catch {
    return {block: {code: MCP_CONTRACT_CODE, message: 'pipelock: contract tool-call evaluation failed', data: null, reason: 'parse_error'}, context: contractContext(mode, contract, FAILED)}
  }
  return settle(mode, contract, d, 'pipelock: request blocked by live-lock contract')
}

/**
 * The upstream gate with the contract only (fix Q33): scanner verdict `allow`, no URL pipeline,
 * so a loopback upstream is not SSRF-blocked and no message counts against a rate limit.
 */
export function gateMcpUpstream(mode: Mode, contract: ResolvedContract, upstreamUrl: string): McpGateResult {
  let d: ContractDecision
  try {
    d = evaluateMcpUpstream(contract, {mode, scannerVerdict: 'allow', policySources: ['scanner'], url: upstreamUrl})
  } catch {
    const empty = {...FAILED, policySources: []}
    return {block: {code: MCP_CONTRACT_CODE, message: 'pipelock: contract upstream evaluation failed', data: contractData('parse_error', {...empty, liveVerdict: ''}, undefined), reason: 'parse_error'}, context: contractContext(mode, contract, FAILED)}
  }
  return settle(mode, contract, d, 'pipelock: upstream URL blocked by live-lock contract')
}
