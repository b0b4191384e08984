import {goTrimSpace, type JsonObject} from '../canonical/index.js'
import {LIFECYCLE_STATES} from '../contracts/index.js'
import {PipelockError} from '../errors/index.js'
import {
  canonicalRequestPath,
  HTTP_RULE_KINDS,
  httpConstraintsHold,
  isDefaultPort,
  MCP_RULE_KIND,
  mcpArgsMatch,
  obj,
  parseRequestUrl,
  ruleHost,
  rulePaths,
  rulesOf,
  str,
} from './rule-match.js'
import {MODES, type ContractDecision, type DecisionReason, type GateInput, type HttpRequestInput, type McpToolCallInput, type Mode, type ResolvedContract} from './types.js'

// The one contract evaluator (learn-lifecycle §7.6–§7.8). `learn shadow` and the live gate both
// call these functions, so a replayed event and a live request get the same decision. The
// reference's shadow replay used looser, host-scoped rules (§10.6); we do not copy that.

function fail(message: string): PipelockError {
  return new PipelockError('CONTRACT_EVALUATION_FAILED', message)
}

const MODE_SET: ReadonlySet<string> = new Set(MODES)
const LIFECYCLE_SET: ReadonlySet<string> = new Set(LIFECYCLE_STATES)

interface Prologue {
  mode: Mode
  sources: string[]
  scanner: string
  /** Set when steps 1–2 decided. */
  decided?: ContractDecision
}

function addSource(sources: string[], s: string): void {
  if (!sources.includes(s)) sources.push(s)
}

/** Steps 0–2: mode, policy sources, kill switch, scanner floor. */
function prologue(input: GateInput): Prologue {
  if (input.mode === '') throw fail('contract runtime: invalid decision input: mode required')
  if (!MODE_SET.has(input.mode)) throw fail(`contract runtime: invalid decision input: mode ${JSON.stringify(input.mode)}`)
  const mode = input.mode as Mode
  const sources: string[] = []
  for (const s of input.policySources ?? []) {
    const t = goTrimSpace(s)
    if (t !== '') addSource(sources, t)
  }
  if (input.scannerMatched === true || input.scannerVerdict !== '') addSource(sources, 'scanner')
  const base = {ruleId: '', adaptiveBlockSignal: false}
  if (input.killSwitch === true) {
    addSource(sources, 'kill_switch')
    return {mode, sources, scanner: input.scannerVerdict, decided: {...base, verdict: 'block', liveVerdict: 'block', winningSource: 'kill_switch', reason: 'kill_switch_active', policySources: sources, suppressed: true}}
  }
  if (input.scannerVerdict === '') {
    return {mode, sources, scanner: 'block', decided: {...base, verdict: 'block', liveVerdict: 'block', winningSource: 'scanner', reason: 'scanner_decision_missing', policySources: sources, suppressed: false}}
  }
  if (input.scannerVerdict === 'block') {
    return {mode, sources, scanner: 'block', decided: {...base, verdict: 'block', liveVerdict: 'block', winningSource: 'scanner', reason: '', policySources: sources, suppressed: false}}
  }
  return {mode, sources, scanner: input.scannerVerdict}
}

function scannerDecision(p: Prologue): ContractDecision {
  return {verdict: p.scanner, liveVerdict: p.scanner, winningSource: 'scanner', reason: '', ruleId: '', policySources: p.sources, suppressed: false, adaptiveBlockSignal: false}
}

/** Allow keeps the scanner verdict (a `warn` stays `warn`); only live mode names the contract as winner. */
function contractAllow(p: Prologue, ruleId: string): ContractDecision {
  return {verdict: p.scanner, liveVerdict: p.scanner, winningSource: p.mode === 'live' ? 'contract' : 'scanner', reason: '', ruleId, policySources: p.sources, suppressed: false, adaptiveBlockSignal: false}
}

/** A contract block in live terms, then the mode gate (§7.8). */
function contractBlock(p: Prologue, contract: ResolvedContract, reason: DecisionReason, ruleId: string): ContractDecision {
  const drift = {contractHash: contract.contractHash, ruleId, kind: 'positive' as const, mode: p.mode, action: 'block' as const}
  if (p.mode === 'live') {
    return {verdict: 'block', liveVerdict: 'block', winningSource: 'contract', reason, ruleId, policySources: p.sources, suppressed: false, drift, adaptiveBlockSignal: true}
  }
  // shadow/capture: never block more than the scanner; keep what live would have done.
  return {
    verdict: p.scanner,
    liveVerdict: 'block',
    winningSource: 'scanner',
    // the scanner verdict is never `block` here (steps 1–2 returned), so live differs from it
    reason: 'contract_observed_only',
    ruleId,
    policySources: p.sources,
    suppressed: false,
    drift,
    adaptiveBlockSignal: false,
  }
}

function lifecycle(rule: JsonObject): string {
  const state = typeof rule.get('lifecycle_state') === 'string' ? (rule.get('lifecycle_state') as string) : ''
  if (!LIFECYCLE_SET.has(state)) throw fail(`contract: unsupported lifecycle_state: ${JSON.stringify(state)}`)
  return state
}

/**
 * §7.6 `EvaluateHTTP`: kill switch → scanner → (no contract: scanner) → contract rules in order
 * (enforce HTTP rules only; host, default port, canonical path, methods/paths/effective_action)
 * → default deny once the contract has any enforce HTTP rule → mode gate.
 * Throws CONTRACT_EVALUATION_FAILED for invalid input; callers must treat that as a block.
 */
export function evaluateHttp(contract: ResolvedContract | undefined, input: HttpRequestInput): ContractDecision {
  const p = prologue(input)
  if (p.decided !== undefined) return p.decided
  if (contract === undefined) return scannerDecision(p)
  addSource(p.sources, 'contract')
  const url = parseRequestUrl(input.url)
  if (url === undefined) throw fail(`contract runtime: request URL has no http(s) host: ${JSON.stringify(input.url)}`)
  let canonical: string | undefined | null = null // null = not computed yet
  let hasEnforce = false
  let firstHostRule = ''
  for (const rule of rulesOf(contract.body)) {
    if (!HTTP_RULE_KINDS.includes(str(rule, 'rule_kind'))) continue
    if (lifecycle(rule) !== 'enforce') continue
    hasEnforce = true
    if (ruleHost(rule) !== url.host) continue
    const id = str(rule, 'rule_id')
    if (firstHostRule === '') firstHostRule = id
    if (!isDefaultPort(url.scheme, url.port)) return contractBlock(p, contract, 'contract_non_default_port', id)
    if (canonical === null) canonical = canonicalRequestPath(url.escapedPath)
    if (rulePaths(rule) !== undefined && canonical === undefined) return contractBlock(p, contract, 'contract_invalid_path', id)
    if (httpConstraintsHold(rule, input.method, canonical, input.effectiveAction ?? '')) return contractAllow(p, id)
  }
  if (!hasEnforce) return scannerDecision(p)
  return firstHostRule !== ''
    ? contractBlock(p, contract, 'contract_enforce_default', firstHostRule)
    : contractBlock(p, contract, 'contract_default_deny', '')
}

/**
 * §7.7 `EvaluateMCP` for `tools/call` frames: server + tool exact, then typed args matchers.
 * Same prologue, default deny and mode gate as HTTP.
 */
export function evaluateMcp(contract: ResolvedContract | undefined, input: McpToolCallInput): ContractDecision {
  const p = prologue(input)
  if (p.decided !== undefined) return p.decided
  if (contract === undefined) return scannerDecision(p)
  addSource(p.sources, 'contract')
  const server = goTrimSpace(input.server)
  const tool = goTrimSpace(input.tool)
  if (server === '') throw fail('contract runtime: invalid MCP decision input: server required')
  if (tool === '') throw fail('contract runtime: invalid MCP decision input: tool required')
  let hasEnforce = false
  let argsMismatchRule: string | undefined
  for (const rule of rulesOf(contract.body)) {
    if (str(rule, 'rule_kind') !== MCP_RULE_KIND) continue
    if (lifecycle(rule) !== 'enforce') continue
    hasEnforce = true
    const sel = obj(rule.get('selector'))
    const wantServer = str(obj(sel?.get('server')), 'value')
    const wantTool = str(obj(sel?.get('tool')), 'value')
    if (wantServer === '' || wantTool === '' || wantServer !== server || wantTool !== tool) continue
    const id = str(rule, 'rule_id')
    if (mcpArgsMatch(rule, input.args)) return contractAllow(p, id)
    argsMismatchRule ??= id
  }
  if (!hasEnforce) return scannerDecision(p)
  return argsMismatchRule !== undefined
    ? contractBlock(p, contract, 'contract_mcp_args_mismatch', argsMismatchRule)
    : contractBlock(p, contract, 'contract_mcp_default_deny', '')
}

/** The MCP HTTP upstream is gated like any request (§7.7): POST, effective action `mcp_upstream`, ws(s) as http(s). */
export function evaluateMcpUpstream(contract: ResolvedContract | undefined, input: GateInput & {url: string}): ContractDecision {
  const url = input.url.replace(/^ws(s?):/i, (_m, s: string) => `http${s}:`)
  return evaluateHttp(contract, {...input, url, method: 'POST', effectiveAction: 'mcp_upstream'})
}
