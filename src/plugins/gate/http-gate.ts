/**
 * The contract step of the HTTP decision order (learn-lifecycle §7.6, §7.8, §7.9): the one
 * evaluator (`enforcement.evaluateHttp`, also used by `learn shadow`) applied to one request
 * under the contract pinned for it, turned into what the proxy needs — the verdict to enforce,
 * the wire block code, and the context every receipt of the request carries (§7.10).
 */
import {blockReasonCode, evaluateHttp, type ContractContext as EnforcementContractContext, type ContractDecision, type Mode, type ResolvedContract} from '../enforcement/index.js'

/** The contract fields a Decision carries to receipts, capture and audit (defined with the evaluator). */
export type ContractContext = EnforcementContractContext

export interface HttpGateResult {
  /** What the proxy enforces: `block` only when the mode is live and the contract denies. */
  readonly verdict: string
  /** The wire block-reason code of a block (§7.9). */
  readonly code: string
  readonly detail: string
  readonly context: ContractContext
  /**
   * A block's `capture_only` rule that matches the request (a default deny it would have
   * allowed, were it enforced): the one contract block whose fix is known, for the block hint.
   */
  readonly captureOnlyRuleId?: string
}

/** The contract fields of one decision under the contract pinned for it (§7.10). */
export function contractContext(mode: Mode, c: ResolvedContract, d: ContractDecision): ContractContext {
  return {
    mode,
    winningSource: d.winningSource,
    liveVerdict: d.liveVerdict,
    policySources: d.policySources,
    ruleId: d.ruleId,
    reason: d.reason,
    activeManifestHash: c.activeManifestHash ?? '',
    contractHash: c.contractHash,
    selectorId: c.selectorId ?? '',
    generation: c.generation ?? 0n,
  }
}

/**
 * Evaluates one request. `scannerVerdict` is what the scanners concluded (`allow`, `warn` or
 * `block`); a scanner block always wins, a contract never un-blocks it. An evaluator error is a
 * block (`parse_error`, layer `contract`), never a pass.
 */
export function gateHttp(mode: Mode, contract: ResolvedContract, req: {url: string; method: string; scannerVerdict: string; effectiveAction?: string; methodOverrides?: readonly string[] | undefined}): HttpGateResult {
  let d: ContractDecision
  try {
    d = evaluateHttp(contract, {
      mode, scannerVerdict: req.scannerVerdict, url: req.url, method: req.method,
      ...(req.effectiveAction !== undefined ? {effectiveAction: req.effectiveAction} : {}),
      ...(req.methodOverrides !== undefined && req.methodOverrides.length > 0 ? {methodOverrides: req.methodOverrides} : {}),
    })
  } catch (e) {
    const failed: ContractDecision = {verdict: 'block', liveVerdict: 'block', winningSource: 'contract', reason: '', ruleId: '', policySources: ['contract'], suppressed: false, adaptiveBlockSignal: false}
    return {verdict: 'block', code: 'parse_error', detail: `contract evaluation failed: ${(e as Error).message}`, context: contractContext(mode, contract, failed)}
  }
  const ctx = contractContext(mode, contract, d)
  if (d.verdict !== 'block') return {verdict: d.verdict, code: '', detail: '', context: ctx}
  const code = blockReasonCode(d)
  const what = d.overrideMethod === undefined ? 'request' : `method override ${d.overrideMethod}`
  const detail = `${code}: ${what} not allowed by contract ${contract.contractHash}${blockCause(d)}`
  return {verdict: 'block', code, detail, context: ctx, ...(d.captureOnlyRuleId === undefined ? {} : {captureOnlyRuleId: d.captureOnlyRuleId})}
}

/**
 * What the block belongs to, for the detail: the rule that decided it, or — when no rule did —
 * the host (none of its enforce rules matched, the port is not its scheme's default, or its path
 * rules cannot judge a path with no canonical form). A default deny also names a `capture_only`
 * rule that matches the request: only enforce rules allow, so that is the rule the operator meant
 * to keep reachable and has to enforce. The request's path is never repeated here: it is the
 * Decision's target, which transports record redacted.
 */
function blockCause(d: ContractDecision): string {
  if (d.ruleId !== '') return ` (rule ${d.ruleId})`
  const captureOnly = d.captureOnlyRuleId === undefined ? undefined : `capture-only rule ${d.captureOnlyRuleId} matches but is not enforced: enforce it to allow such requests`
  if (d.host === undefined) return captureOnly === undefined ? '' : ` (${captureOnly})`
  if (d.port !== undefined) return ` (port ${d.port} of host ${d.host}: contracts allow a host on its scheme's default port only)`
  if (d.method !== undefined) return ` (the path of this ${d.method} to host ${d.host} has no canonical form, so the host's path rules cannot judge it)`
  return ` (no enforce rule of host ${d.host} matches${captureOnly === undefined ? '' : `; ${captureOnly}`})`
}
