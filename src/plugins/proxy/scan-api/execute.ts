/**
 * One scan of the scan API (scanners-extra §1.5.3) with the very scanners the proxy uses: the
 * snapshot's URL pipeline, text DLP and injection scanner, and the MCP tool policy. Findings carry
 * the block vocabulary of the proxy's block headers (`reason`, `layer`) beside the reference's
 * `rule_id` and `severity`.
 */
import {JsonNumber, systemClock, type JsonObject, type JsonValue} from '../../canonical/index.js'
import {allStrings, ToolPolicy} from '../../mcp/index.js'
import {RateLimiter, reasonForLabel, type ReasonCode, type Resolver} from '../../scanner/index.js'
import type {ProxySnapshot} from '../state.js'
import type {ScanInput, ScanKind} from './request.js'

export interface Finding {
  readonly scanner: string
  readonly rule_id: string
  readonly severity: string
  readonly message: string
  /** The `X-Pipelock-Block-Reason` code the proxy would send for this finding. */
  readonly reason: ReasonCode
  /** The `X-Pipelock-Block-Reason-Layer` the proxy would send. */
  readonly layer: string
  readonly evidence?: {readonly encoding: string}
}

export interface ScanOutcome {
  readonly decision: 'allow' | 'deny'
  readonly findings: readonly Finding[]
}

/** The snapshot's `mcp_tool_policy`, compiled as the MCP pipeline compiles it (null when off). */
export function toolPolicyOf(snap: ProxySnapshot): ToolPolicy | null {
  const tp = snap.config.mcp_tool_policy
  return tp.enabled ? new ToolPolicy({action: tp.action === '' ? 'warn' : tp.action, rules: tp.rules, redirect_profiles: tp.redirect_profiles}, snap.scanner.response.normalizer) : null
}

/** Plain parsed JSON → the MCP extractor's tree (numbers keep a lexeme, objects are Maps). */
function toJsonValue(v: unknown): JsonValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v as JsonValue
  if (typeof v === 'number') return new JsonNumber(String(v))
  if (Array.isArray(v)) return v.map(toJsonValue)
  const m: JsonObject = new Map()
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) m.set(k, toJsonValue(x))
  return m
}

function urlRule(label: string): {rule: string; severity: string} {
  if (label === 'ssrf') return {rule: 'SSRF-Private-IP', severity: 'high'}
  if (label === 'dlp') return {rule: 'DLP-URL-Exfil', severity: 'critical'}
  if (label === 'blocklist') return {rule: 'BLOCK-Domain', severity: 'medium'}
  return {rule: `URL-${label}`, severity: 'medium'}
}

/**
 * Text DLP of a field, on the snapshot's scan pool when it is over 64 KiB (`BodyScans.scanText`;
 * a scan the pool cannot run rejects, and the API answers 503 `scan_unavailable`).
 */
async function dlpFindings(snap: ProxySnapshot, text: string, evidence: boolean): Promise<Finding[]> {
  const r = await snap.bodyScans.scanText(snap.scanner, text, 'scan_api')
  // One finding per pattern: the same secret seen through two decodings is one finding (the first encoding).
  const seen = new Set<string>()
  const matches = r.matches.filter((m) => !seen.has(m.pattern) && seen.add(m.pattern) !== undefined)
  return matches.map((m) => ({
    scanner: 'dlp', rule_id: `DLP-${m.pattern}`, severity: m.severity, message: `Secret-like token detected (${m.pattern})`, reason: 'dlp_match' as const, layer: 'dlp',
    ...(evidence ? {evidence: {encoding: m.encoding === '' ? 'plaintext' : m.encoding}} : {}),
  }))
}

/** The injection scan of a field, placed as `dlpFindings`. */
async function injectionFindings(snap: ProxySnapshot, content: string): Promise<Finding[]> {
  const r = await snap.bodyScans.scanInjection(snap.scanner, content)
  if (r.clean) return []
  const names = [...new Set(r.matches.map((m) => m.pattern))]
  return names.map((p) => ({
    scanner: 'prompt_injection', rule_id: `INJ-${p}`, severity: 'high', message: `Prompt injection pattern matched: ${p}`, reason: 'prompt_injection' as const, layer: 'response_scan',
  }))
}

export interface ScanDeps {
  readonly snap: ProxySnapshot
  readonly resolver: Resolver
  readonly signal: AbortSignal
  /** The snapshot's compiled tool policy (the listener keeps one per snapshot); default: compiled now. */
  readonly policy?: () => ToolPolicy | null
}

function outcome(findings: Finding[]): ScanOutcome {
  return {decision: findings.length > 0 ? 'deny' : 'allow', findings}
}

/** Runs `kind` on `input` (already validated). */
export async function executeScan(kind: ScanKind, input: ScanInput, includeEvidence: boolean, deps: ScanDeps): Promise<ScanOutcome> {
  const {snap} = deps
  switch (kind) {
    case 'url': {
      // A fresh rate-limit window per scan: the scan API evaluates a URL, it sends no traffic, so
      // it neither consumes nor reads the proxy's per-domain request windows or data budget.
      const r = await snap.scanner.scanUrl(input.url!, {resolver: deps.resolver, rateLimiter: new RateLimiter(systemClock), signal: deps.signal})
      if (r.allowed) return outcome([])
      const {rule, severity} = urlRule(r.scanner)
      return outcome([{scanner: 'url', rule_id: rule, severity, message: r.detail, reason: r.reason ?? reasonForLabel(r.scanner), layer: r.layer}])
    }
    case 'dlp':
      return outcome(await dlpFindings(snap, input.text!, includeEvidence))
    case 'prompt_injection':
      return outcome(await injectionFindings(snap, input.content!))
    case 'tool_call': {
      const args = input.arguments === undefined || input.arguments === null ? undefined : toJsonValue(input.arguments)
      const strings = args === undefined ? [] : allStrings(args)
      const text = strings.join(' ')
      const findings: Finding[] = []
      if (text !== '' && snap.config.mcp_input_scanning.enabled) {
        findings.push(...(await dlpFindings(snap, text, includeEvidence)), ...(await injectionFindings(snap, text)))
      }
      const policy = deps.policy !== undefined ? deps.policy() : toolPolicyOf(snap)
      if (policy !== null) {
        const v = policy.check(input.tool_name!, args)
        if (v.rules.length > 0) {
          for (const rule of v.rules) findings.push({scanner: 'tool_policy', rule_id: `POLICY-${rule}`, severity: 'high', message: `Tool call denied by policy rule: ${rule}`, reason: 'tool_policy_deny', layer: 'tool_policy'})
        } else if (v.action !== '') {
          findings.push({scanner: 'tool_policy', rule_id: 'POLICY-DENY', severity: 'high', message: 'Tool call denied by policy', reason: 'tool_policy_deny', layer: 'tool_policy'})
        }
      }
      return outcome(findings)
    }
  }
}
