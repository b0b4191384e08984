/** Block vocabulary (§10.2): the closed set of reason codes, their severity and retry class. */

export const REASON_CODES = Object.freeze({
  scheme_blocked: {severity: 'warn', retry: 'none'},
  domain_blocklist: {severity: 'critical', retry: 'policy'},
  // Beyond the reference's v1 vocabulary (issue 34): a strict-mode `api_allowlist` miss, which the
  // reference reports as `parse_error` although nothing failed to parse (docs/compatibility.md).
  domain_not_allowlisted: {severity: 'warn', retry: 'policy'},
  ssrf_private_ip: {severity: 'critical', retry: 'none'},
  ssrf_metadata: {severity: 'critical', retry: 'none'},
  ssrf_dns_rebind: {severity: 'critical', retry: 'transient'},
  path_entropy: {severity: 'warn', retry: 'policy'},
  subdomain_entropy: {severity: 'warn', retry: 'policy'},
  url_length: {severity: 'warn', retry: 'policy'},
  rate_limit: {severity: 'warn', retry: 'transient'},
  data_budget: {severity: 'warn', retry: 'policy'},
  dlp_match: {severity: 'critical', retry: 'none'},
  prompt_injection: {severity: 'critical', retry: 'none'},
  redaction_failure: {severity: 'critical', retry: 'transient'},
  media_policy: {severity: 'warn', retry: 'policy'},
  tool_policy_deny: {severity: 'critical', retry: 'policy'},
  tool_chain_blocked: {severity: 'critical', retry: 'none'},
  tool_poisoning: {severity: 'critical', retry: 'none'},
  session_binding: {severity: 'critical', retry: 'policy'},
  // Beyond the reference (issue 37): a request named a profile bound to another listener or CIDR.
  identity_not_bound: {severity: 'critical', retry: 'policy'},
  airlock_active: {severity: 'critical', retry: 'transient'},
  kill_switch_active: {severity: 'critical', retry: 'transient'},
  envelope_verify_failed: {severity: 'critical', retry: 'none'},
  outbound_envelope_failed: {severity: 'critical', retry: 'transient'},
  redirect_scan_denied: {severity: 'critical', retry: 'none'},
  authority_mismatch: {severity: 'critical', retry: 'policy'},
  escalation_level: {severity: 'critical', retry: 'transient'},
  session_anomaly: {severity: 'critical', retry: 'transient'},
  cross_request_deny: {severity: 'critical', retry: 'none'},
  compressed_response: {severity: 'warn', retry: 'policy'},
  browser_shield_oversize: {severity: 'warn', retry: 'policy'},
  parse_error: {severity: 'warn', retry: 'none'},
  timeout: {severity: 'warn', retry: 'transient'},
  pattern_unavailable: {severity: 'warn', retry: 'transient'},
  not_enabled: {severity: 'info', retry: 'policy'},
  bad_request: {severity: 'info', retry: 'none'},
  contract_default_deny: {severity: 'critical', retry: 'none'},
  contract_enforce_default: {severity: 'critical', retry: 'none'},
  contract_non_default_port: {severity: 'warn', retry: 'none'},
  contract_invalid_path: {severity: 'warn', retry: 'retry-with-canonical-path'},
  contract_observed_only: {severity: 'info', retry: 'none'},
  block_reason_overflow: {severity: 'warn', retry: 'transient'},
  // Beyond the reference (issue 39): a git push through the proxy to a branch outside
  // git_protection.allowed_branches (docs/git-protection.md).
  git_branch_denied: {severity: 'warn', retry: 'policy'},
} as const)

export type ReasonCode = keyof typeof REASON_CODES
export type ReasonSeverity = 'info' | 'warn' | 'critical'
export type ReasonRetry = 'none' | 'transient' | 'policy' | 'retry-with-canonical-path'

export function isReasonCode(s: string): s is ReasonCode {
  return Object.prototype.hasOwnProperty.call(REASON_CODES, s)
}

/** URL-pipeline scanner labels (Appendix A) plus the body/header/response layers this plugin emits. */
export type ScannerLabel =
  | 'context' | 'parser' | 'scheme' | 'crlf_injection' | 'path_traversal' | 'allowlist' | 'blocklist'
  | 'core_ssrf' | 'core_dlp' | 'dlp' | 'entropy' | 'subdomain_entropy' | 'ssrf' | 'ssrf_metadata'
  | 'ratelimit' | 'length' | 'databudget' | 'all'
  | 'body_dlp' | 'body_prompt_injection' | 'header_dlp' | 'response_scan'

const LABEL_TO_CODE: Readonly<Record<string, ReasonCode>> = Object.freeze({
  scheme: 'scheme_blocked',
  blocklist: 'domain_blocklist',
  allowlist: 'domain_not_allowlisted',
  ssrf_metadata: 'ssrf_metadata',
  ssrf: 'ssrf_private_ip',
  entropy: 'path_entropy',
  subdomain_entropy: 'subdomain_entropy',
  length: 'url_length',
  ratelimit: 'rate_limit',
  databudget: 'data_budget',
  dlp: 'dlp_match',
  core_dlp: 'dlp_match',
  body_dlp: 'dlp_match',
  header_dlp: 'dlp_match',
  address_protection: 'dlp_match',
  body_prompt_injection: 'prompt_injection',
  response_scan: 'prompt_injection',
  redaction: 'redaction_failure',
  scanner_unavailable: 'pattern_unavailable',
  parser: 'parse_error',
})

/**
 * Scanner label → reason code. **[quirk, replicated for v1]** every other unmapped label
 * (`crlf_injection`, `path_traversal`, `core_ssrf`, `context`) becomes `parse_error`; the layer
 * still carries the real label (§10.2, §24 #2). `allowlist` has its own code here (issue 34).
 */
export function reasonForLabel(label: string): ReasonCode {
  return LABEL_TO_CODE[label] ?? 'parse_error'
}

/** `X-Pipelock-Block-Reason-Layer` rule: ≤ 32 chars of `[A-Za-z0-9_]`, else omitted. */
export function validLayer(layer: string): boolean {
  if (layer.length === 0 || layer.length > 32) return false
  for (const c of layer) {
    const ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_'
    if (!ok) return false
  }
  return true
}
