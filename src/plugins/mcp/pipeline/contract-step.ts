/**
 * The contract step of the MCP request order (mcp.md §15.3, learn-lifecycle §7.7): kill switch →
 * scanners → **contract** → mode gate. The MCP core only defines the seam; the runtime (layer 3,
 * `mcp-proxy`) implements it with the one evaluator (`enforcement.evaluateMcp`) under the
 * contract in force, so shadow replay and the live wrap cannot disagree.
 */
import type {JsonObject, JsonValue} from '../../canonical/index.js'
import type {ContractContext} from '../../enforcement/index.js'

/** The contract fields a decision carries to receipts and capture (receipts §4.2 #32–39). */
export type McpContractFields = ContractContext

/** A -32006 error body: code, message and the `data` object (sorted keys, learn-lifecycle §7.9). */
export interface McpContractError {
  readonly code: number
  readonly message: string
  readonly data: JsonObject | null
  /** The wire block-reason code (`contract_default_deny`, …). */
  readonly reason: string
}

export interface McpContractOutcome {
  /** Set when the mode is live and the contract (or an evaluator error) blocks. */
  readonly block: McpContractError | null
  /** The contract pinned for the call and what it concluded; null when no contract is in force. */
  readonly context: McpContractFields | null
}

/** A `tools/call` the scanners let through (verdict allow or warn). */
export interface McpContractCall {
  readonly tool: string
  readonly args: JsonValue | undefined
  readonly scannerVerdict: 'allow' | 'warn'
  /** The warn path had findings. */
  readonly scannerMatched: boolean
}

export interface McpContractGate {
  /** The tool-call gate (§15.3): evaluated only after every scanner, and only when none blocked. */
  toolCall(call: McpContractCall): McpContractOutcome
  /**
   * The refusal of an agent with no contract while a live contract set is in force (and not
   * listed in `learn_lock.unlocked_agents`), else null: what `toolCall` answers such an agent,
   * for the other requests that read the server (`contractStage`).
   */
  uncontracted(): McpContractError | null
  /**
   * The upstream gate (bridge and listener, every forwarded message): a block when the contract in
   * force denies the upstream URL, else null. Evaluated with the contract only (fix Q33).
   */
  upstream(): McpContractOutcome | null
}
