import type {JsonObject} from '../canonical/index.js'

/** The three runtime modes (learn-lifecycle §7.8); `shadow` and `capture` never block more than the scanner. */
export const MODES = ['live', 'shadow', 'capture'] as const
export type Mode = (typeof MODES)[number]

/** Who decided (the `winning_source` of receipts and block headers). */
export type WinningSource = 'kill_switch' | 'scanner' | 'contract'

/** Decision reasons (§7.6, §7.7, §7.8); `''` when the request is simply allowed. */
export type DecisionReason =
  | ''
  | 'kill_switch_active'
  | 'scanner_decision_missing'
  | 'contract_non_default_port'
  | 'contract_invalid_path'
  | 'contract_enforce_default'
  | 'contract_default_deny'
  | 'contract_mcp_args_mismatch'
  | 'contract_mcp_default_deny'
  | 'contract_observed_only'

/**
 * The contract pinned for one request (§7.5): the body plus the manifest context that receipts
 * stamp. Shadow replay passes only `contractHash` and `body`.
 */
export interface ResolvedContract {
  contractHash: string
  body: JsonObject
  activeManifestHash?: string
  /** The manifest selector id (not the contract body's own selector id). */
  selectorId?: string
  generation?: bigint
}

/** Positive drift attached to every contract block (§7.6); telemetry only. */
export interface DriftEvent {
  contractHash: string
  ruleId: string
  kind: 'positive'
  mode: Mode
  action: 'block'
}

/** Inputs every evaluation shares (§7.6 steps 0–3). */
export interface GateInput {
  /** `live`, `shadow` or `capture`; anything else is an evaluation error. */
  mode: string
  killSwitch?: boolean
  /** The scanner's verdict (`allow`, `warn`, `block`, …); empty means the scanner did not decide → block. */
  scannerVerdict: string
  scannerMatched?: boolean
  policySources?: readonly string[]
}

export interface HttpRequestInput extends GateInput {
  url: string
  method: string
  /** The request's effective action (for `http_action` rules); compared exactly. */
  effectiveAction?: string
  /**
   * The other methods the request names through a method override (`methodOverrides`), each
   * judged like the request line's: the request is allowed only when every one is.
   */
  methodOverrides?: readonly string[]
}

export interface McpToolCallInput extends GateInput {
  server: string
  tool: string
  /** Tool arguments as a JSON tree (Map objects, JsonNumber numbers) or plain data. */
  args?: unknown
}

/** The one decision (§7.6): the proxy enforces `verdict` only; the rest is telemetry. */
export interface ContractDecision {
  verdict: string
  /** What `live` mode would have done (equals `verdict` in live mode). */
  liveVerdict: string
  winningSource: WinningSource
  reason: DecisionReason
  ruleId: string
  policySources: string[]
  /** True when the kill switch decided (nothing else was evaluated). */
  suppressed: boolean
  drift?: DriftEvent
  /** An adaptive-scoring block signal; only ever set in live mode. */
  adaptiveBlockSignal: boolean
  /** Set when a method override (not the request line) is what the contract denies. */
  overrideMethod?: string
  /**
   * Set on `contract_enforce_default`, `contract_non_default_port` and a `contract_invalid_path`
   * that names no rule: the request's host, which has enforce rules but none matched, or which was
   * asked for on a port contracts do not allow, or whose path rules cannot judge a path with no
   * canonical form (the decision's `ruleId` is then empty: the deny belongs to the host, not a rule).
   */
  host?: string
  /** Set on `contract_non_default_port`: the port the request named. */
  port?: string
  /**
   * Set on a `contract_invalid_path` that names no rule: the method judged (trimmed, upper-cased),
   * for which none or several of the host's path rules apply.
   */
  method?: string
  /**
   * Set on a default deny when a `capture_only` rule of the request's host would have allowed
   * it: that rule's id (capture-only rules never allow under a contract with enforce rules).
   */
  captureOnlyRuleId?: string
}

/** The contract fields a decision carries to receipts, capture and audit (receipts §4.2 #32–39, §7.10). */
export interface ContractContext {
  readonly mode: Mode
  readonly winningSource: string
  readonly liveVerdict: string
  readonly policySources: readonly string[]
  readonly ruleId: string
  /** Decision reason (`contract_default_deny`, `contract_observed_only`, …; '' when plainly allowed). */
  readonly reason: string
  readonly activeManifestHash: string
  readonly contractHash: string
  readonly selectorId: string
  readonly generation: bigint
}
