import {fixedClock, parseJson, type JsonValue} from '../canonical/index.js'
import type {CaptureFinding} from '../capture/index.js'
import {createUrlScanner, defaultScannerSettings, RateLimiter, scanUrl, type ScannerSettings, type UrlScanContext} from '../scanner/index.js'

/** The scanner half of a replayed URL event: its verdict and (for blocks) its findings. */
export interface ScannerReplayResult {
  verdict: string
  findings: CaptureFinding[]
}

export type ScannerReplay = (url: string) => Promise<ScannerReplayResult>

/**
 * The candidate config's MCP tool policy re-run on a captured tool call (learn-lifecycle §3.2
 * `tool_policy`): its verdict (`allow`, `warn`, `block`, `redirect`) and the matching rules.
 */
export type ToolPolicyReplay = (toolName: string, argsJson: string) => ScannerReplayResult

/** Rate limits depend on live timing, not on the request: replay never counts them. */
class NoRateLimit extends RateLimiter {
  override checkAndRecord(): boolean {
    return true
  }
}

/**
 * §3.1 step 2: replay scanning with the internal-network (SSRF) list emptied and env-var DLP off,
 * so a replay does not depend on the replaying host's DNS or environment. No DNS is ever asked.
 */
export function createScannerReplay(base: ScannerSettings = defaultScannerSettings()): ScannerReplay {
  const settings: ScannerSettings = {...base, internal: [], dlp: {...base.dlp, scanEnv: false}}
  const ctx: UrlScanContext = {
    scanner: createUrlScanner(settings),
    resolver: async () => [],
    rateLimiter: new NoRateLimit(fixedClock('2026-01-01T00:00:00Z')),
  }
  const scan = async (url: string): Promise<ScannerReplayResult> => {
    const r = await scanUrl(url, ctx)
    if (r.allowed) return {verdict: r.warnings.length > 0 ? 'warn' : 'allow', findings: []}
    const verdict = settings.enforce ? 'block' : 'warn'
    return {verdict, findings: [{kind: r.scanner, action: verdict, ...(r.reason === null ? {} : {pattern_name: r.reason})}]}
  }
  // With no rate limit, no DNS and no environment, a replayed scan is a pure function of the
  // URL, and captures repeat URLs: a bounded memo (cleared when full, so memory stays flat)
  // saves re-scanning them. Results are shared; callers only read them.
  const memo = new Map<string, Promise<ScannerReplayResult>>()
  return (url) => {
    let r = memo.get(url)
    if (r === undefined) {
      if (memo.size >= 20_000) memo.clear()
      memo.set(url, (r = scan(url)))
    }
    return r
  }
}

/** What a tool policy answers for one call (the MCP plugin's ToolPolicy has this shape). */
export interface ToolPolicyCheck {
  check(toolName: string, args: JsonValue | undefined): {readonly rules: readonly string[]; readonly action: string}
}

/**
 * A ToolPolicyReplay over a compiled tool policy: no matching rule → `allow`; otherwise the
 * winning action (`warn`, `block`, `redirect`) with one `tool_policy` finding naming the rules.
 * Arguments that are not JSON are checked as absent, as the live policy treats a call without them.
 */
export function createToolPolicyReplay(policy: ToolPolicyCheck): ToolPolicyReplay {
  return (toolName, argsJson) => {
    let args: JsonValue | undefined
    try {
      args = argsJson === '' ? undefined : parseJson(argsJson)
    } catch {
      args = undefined
    }
    const v = policy.check(toolName, args === null ? undefined : args)
    if (v.action === '') return {verdict: 'allow', findings: []}
    return {verdict: v.action, findings: [{kind: 'tool_policy', action: v.action, policy_rule: v.rules.join(','), tool_name: toolName}]}
  }
}
