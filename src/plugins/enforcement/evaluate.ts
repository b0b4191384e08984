import {goTrimSpace, type JsonObject} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {candidateRules, indexContract, lifecycleProblem, mcpKey, type ContractIndex, type IndexedHttpRule} from './contract-index.js'
import {canonicalRequestPath, httpConstraintsHold, isDefaultPort, MCP_RULE_KIND, mcpArgsHold, mcpArgsMatch, obj, parseRequestUrl, rulesOf, str, type RequestUrl} from './rule-match.js'
import {MODES, type ContractDecision, type DecisionReason, type GateInput, type HttpRequestInput, type McpToolCallInput, type Mode, type ResolvedContract} from './types.js'

// The one contract evaluator (learn-lifecycle §7.6–§7.8). `learn shadow` and the live gate both
// call these functions, so a replayed event and a live request get the same decision. The
// reference's shadow replay used looser, host-scoped rules (§10.6); we do not copy that.

function fail(message: string): PipelockError {
  return new PipelockError('CONTRACT_EVALUATION_FAILED', message)
}

const MODE_SET: ReadonlySet<string> = new Set(MODES)
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
function contractBlock(p: Prologue, contract: {readonly contractHash: string}, reason: DecisionReason, ruleId: string): ContractDecision {
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
  const problem = lifecycleProblem(rule)
  if (problem !== undefined) throw fail(problem)
  return rule.get('lifecycle_state') as string
}

/**
 * A contract with its index built: what a caller evaluating many requests holds. Evaluation reads
 * only the index; `body` is there when the caller keeps the tree (`withIndex`), absent when it
 * dropped it (`compactContract`).
 */
export interface IndexedContract extends Omit<ResolvedContract, 'body'> {
  readonly index: ContractIndex
  readonly body?: JsonObject
}

/** Builds the contract's index once; evaluate every request of that contract against the result. */
export function withIndex(contract: ResolvedContract): IndexedContract & ResolvedContract {
  return {...contract, index: indexContract(contract.body)}
}

/**
 * The index and the manifest context, without the decoded tree: the same decisions as
 * `withIndex`, in a fraction of the memory (the index holds copies of what it reads, so the tree
 * and the contract text can be collected once the caller lets go of them).
 */
export function compactContract(contract: ResolvedContract): IndexedContract {
  const {body, ...rest} = contract
  return {...rest, index: indexContract(body)}
}

/**
 * §7.6 `EvaluateHTTP`: kill switch → scanner → (no contract: scanner) → contract rules in order
 * (enforce HTTP rules only; host, default port, canonical path, methods/paths/effective_action)
 * → default deny once the contract has any enforce HTTP rule → mode gate.
 * Throws CONTRACT_EVALUATION_FAILED for invalid input; callers must treat that as a block.
 *
 * The rules are read through the contract's index (contract-index.ts), which gives the decision
 * of the rule-by-rule walk without visiting other hosts' rules. Pass an `IndexedContract` to
 * build it once; a plain `ResolvedContract` is indexed on each call.
 */
export function evaluateHttp(contract: ResolvedContract | IndexedContract | undefined, input: HttpRequestInput): ContractDecision {
  const d = evaluateHttpMethod(contract, input)
  const overrides = input.methodOverrides
  if (overrides === undefined || overrides.length === 0 || contract === undefined || d.liveVerdict === 'block') return d
  // A request is judged on every method it asks the server to perform (method-override.ts): the
  // request line's decision stands only when each override would be allowed too.
  for (const method of overrides) {
    const o = evaluateHttpMethod(contract, {...input, method})
    if (o.liveVerdict === 'block') return {...o, overrideMethod: method}
  }
  return d
}

/** `evaluateHttp` for the request line's method alone. */
function evaluateHttpMethod(contract: ResolvedContract | IndexedContract | undefined, input: HttpRequestInput): ContractDecision {
  const p = prologue(input)
  if (p.decided !== undefined) return p.decided
  if (contract === undefined) return scannerDecision(p)
  addSource(p.sources, 'contract')
  const url = parseRequestUrl(input.url)
  if (url === undefined) throw fail(`contract runtime: request URL has no http(s) host: ${JSON.stringify(input.url)}`)
  const index = 'index' in contract ? contract.index : indexContract(contract.body)
  // The walk throws on reaching an unsupported lifecycle_state: any decision at a later position
  // (or none at all) is preceded by that throw.
  const invalidAt = index.invalidHttp?.position ?? Infinity
  const at = (position: number): void => {
    if (position > invalidAt) throw fail((index.invalidHttp as {message: string}).message)
  }
  const host = index.httpByHost.get(url.host)
  const first = host?.all[0]
  const method = input.method
  const action = input.effectiveAction ?? ''
  if (host !== undefined && first !== undefined) {
    if (!isDefaultPort(url.scheme, url.port)) {
      at(first.position)
      // The port is refused for the whole host, before any rule is tried: no rule is the cause.
      // (§7.6 names the host's first rule, which then drew the block in receipts, the 403 and
      // shadow's per-rule rates although the port, not the rule, decided it.)
      return {...contractBlock(p, contract, 'contract_non_default_port', ''), host: url.host, port: url.port}
    }
    const canonical = canonicalRequestPath(url.escapedPath)
    if (canonical === undefined) {
      // No canonical path: the first rule with a path constraint blocks, unless an earlier
      // path-free rule holds.
      for (const r of host.all) {
        at(r.position)
        if (r.selector.paths !== undefined) return invalidPathBlock(p, contract, host.all, url, method, action)
        if (httpConstraintsHold(r.selector, method, undefined, action)) return contractAllow(p, r.id)
      }
    } else {
      for (const r of candidateRules(host, canonical)) {
        if (httpConstraintsHold(r.selector, method, canonical, action)) {
          at(r.position)
          return contractAllow(p, r.id)
        }
      }
    }
  }
  at(Infinity)
  if (!index.hasEnforceHttp) return scannerDecision(p)
  // A default deny names no rule: none matched. (§7.6 names the host's first rule, which then
  // drew the denial in receipts, the 403 and shadow's per-rule rates although it never matched.)
  const d = first !== undefined
    ? {...contractBlock(p, contract, 'contract_enforce_default', ''), host: url.host}
    : contractBlock(p, contract, 'contract_default_deny', '')
  const captureOnly = captureOnlyMatch(index, url, method, action)
  return captureOnly === undefined ? d : {...d, captureOnlyRuleId: captureOnly}
}

/**
 * `contract_invalid_path`, charged to the rule whose path constraint failed when there is exactly
 * one: the only path rule of the host whose other constraints (methods, effective_action) hold
 * for the request. With none or several, no one rule decided: the path, which no path rule can
 * judge, did; the block is the host's (no rule id, the host and method named). §7.6 names the
 * host's first path rule, which then drew blocks of methods it does not allow in receipts, the
 * 403 and shadow's per-rule rates.
 */
function invalidPathBlock(p: Prologue, contract: {readonly contractHash: string}, rules: readonly IndexedHttpRule[], url: RequestUrl, method: string, action: string): ContractDecision {
  const tested = rules.filter((r) => r.selector.paths !== undefined && httpConstraintsHold({...r.selector, paths: undefined}, method, undefined, action))
  if (tested.length === 1) return contractBlock(p, contract, 'contract_invalid_path', (tested[0] as IndexedHttpRule).id)
  return {...contractBlock(p, contract, 'contract_invalid_path', ''), host: url.host, method: goTrimSpace(method).toUpperCase()}
}

/**
 * The first `capture_only` rule that would have allowed the request, had it been enforced: a
 * capture-only rule never decides, but a report naming it says why the request is denied.
 */
function captureOnlyMatch(index: ContractIndex, url: RequestUrl, method: string, action: string): string | undefined {
  const h = index.captureOnlyByHost.get(url.host)
  if (h === undefined || !isDefaultPort(url.scheme, url.port)) return undefined
  const canonical = canonicalRequestPath(url.escapedPath)
  const rules = canonical === undefined ? h.all : candidateRules(h, canonical)
  return rules.find((r) => httpConstraintsHold(r.selector, method, canonical, action))?.id
}

/**
 * §7.7 `EvaluateMCP` for `tools/call` frames: server + tool exact, then typed args matchers.
 * Same prologue, default deny and mode gate as HTTP.
 */
export function evaluateMcp(contract: ResolvedContract | IndexedContract | undefined, input: McpToolCallInput): ContractDecision {
  const p = prologue(input)
  if (p.decided !== undefined) return p.decided
  if (contract === undefined) return scannerDecision(p)
  addSource(p.sources, 'contract')
  const server = goTrimSpace(input.server)
  const tool = goTrimSpace(input.tool)
  if (server === '') throw fail('contract runtime: invalid MCP decision input: server required')
  if (tool === '') throw fail('contract runtime: invalid MCP decision input: tool required')
  if ('index' in contract) {
    // The walk below through the index: only this server+tool's enforce rules, same decision.
    const index = contract.index
    const invalidAt = index.invalidMcp?.position ?? Infinity
    let mismatch: string | undefined
    for (const r of index.mcpByServerTool.get(mcpKey(server, tool)) ?? []) {
      if (r.position > invalidAt) throw fail((index.invalidMcp as {message: string}).message)
      if (mcpArgsHold(r.args, input.args)) return contractAllow(p, r.id)
      mismatch ??= r.id
    }
    if (index.invalidMcp !== undefined) throw fail(index.invalidMcp.message)
    if (!index.hasEnforceMcp) return scannerDecision(p)
    return mismatch !== undefined ? contractBlock(p, contract, 'contract_mcp_args_mismatch', mismatch) : contractBlock(p, contract, 'contract_mcp_default_deny', '')
  }
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
export function evaluateMcpUpstream(contract: ResolvedContract | IndexedContract | undefined, input: GateInput & {url: string}): ContractDecision {
  const url = input.url.replace(/^ws(s?):/i, (_m, s: string) => `http${s}:`)
  return evaluateHttp(contract, {...input, url, method: 'POST', effectiveAction: 'mcp_upstream'})
}
