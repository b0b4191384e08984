// Layer 2: the one contract evaluator (learn-lifecycle §7.5–§7.9), shared by `learn shadow`
// and the live gate. Pure: no clock, no I/O.
export {compactContract, evaluateHttp, evaluateMcp, evaluateMcpUpstream, withIndex} from './evaluate.js'
export type {IndexedContract} from './evaluate.js'
export {contractIndexBuilder, indexContract} from './contract-index.js'
export type {ContractIndex, ContractIndexBuilder} from './contract-index.js'
export {selectContract, goPathMatch} from './select.js'
export type {SelectorEntry} from './select.js'
export {blockReasonCode, blockLayer} from './block-reason.js'
export {
  argEquals,
  canonicalRequestPath,
  HTTP_RULE_KINDS,
  isDefaultPort,
  MCP_RULE_KIND,
  normalizeHost,
  parseRequestUrl,
  pathMatches,
  ruleHost,
  rulePaths,
} from './rule-match.js'
export type {PathMatcher, RequestUrl} from './rule-match.js'
export {MODES} from './types.js'
export type {
  ContractContext,
  ContractDecision,
  DecisionReason,
  DriftEvent,
  GateInput,
  HttpRequestInput,
  McpToolCallInput,
  Mode,
  ResolvedContract,
  WinningSource,
} from './types.js'
export {contractDriftPayload, evaluateDrift} from './drift.js'
export {CAPTURED_OVERRIDE_HEADER, INVALID_OVERRIDE, METHOD_OVERRIDE_HEADERS, methodOverrides} from './method-override.js'
export type {OverrideSources} from './method-override.js'
export type {DriftObservation, DriftResult, DriftSignal, OpportunityMissing} from './drift.js'
