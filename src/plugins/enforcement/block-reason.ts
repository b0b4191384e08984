import type {ContractDecision, DecisionReason} from './types.js'

// §7.9: decision reason → wire block-reason code for HTTP headers and MCP JSON-RPC errors.
const WIRE: Partial<Record<DecisionReason, string>> = {
  contract_default_deny: 'contract_default_deny',
  contract_enforce_default: 'contract_enforce_default',
  contract_non_default_port: 'contract_non_default_port',
  contract_invalid_path: 'contract_invalid_path',
  contract_observed_only: 'contract_observed_only',
  kill_switch_active: 'kill_switch_active',
  scanner_decision_missing: 'parse_error',
  contract_mcp_args_mismatch: 'contract_enforce_default',
  contract_mcp_default_deny: 'contract_default_deny',
}

/** The wire code of a blocking decision (kill switch first, a scanner winner is `parse_error`). */
export function blockReasonCode(d: ContractDecision): string {
  if (d.winningSource === 'kill_switch') return 'kill_switch_active'
  if (d.winningSource === 'scanner') return 'parse_error'
  return WIRE[d.reason] ?? 'contract_default_deny'
}

/** The layer header for a block: `kill_switch`, `scanner` or `contract`. */
export function blockLayer(d: ContractDecision): string {
  return d.winningSource
}
