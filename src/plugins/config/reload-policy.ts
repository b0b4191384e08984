import {isDeepStrictEqual} from 'node:util'
import type {PipelockConfig} from './schema.js'

/**
 * Fields whose change a hot reload cannot apply (§20.6): they bind sockets or are read once at
 * startup. A reload keeps their running value and reports them. `agents.<name>.listeners` is
 * checked per agent.
 */
export const RESTART_ONLY_FIELDS: readonly string[] = [
  'fetch_proxy.listen',
  'kill_switch.api_listen',
  'metrics_listen',
  // scanners-extra §1.8: the scan API's socket settings; its tokens, rate limit, limits, kinds
  // and scan deadline apply to the next request.
  'scan_api.listen',
  'scan_api.timeouts.read',
  'scan_api.timeouts.write',
  'scan_api.connection_limit',
  'flight_recorder.signing_key_path',
  'reverse_proxy',
  'license_key',
  'license_file',
  'license_public_key',
  'health_watchdog',
  'sentry.dsn',
  // The contract runtime and its store watch are built once, from these (learn-lifecycle §7.2);
  // `unlocked_agents` and `ignore_self_declared_agents` are read per request and apply.
  'learn_lock.enabled',
  'learn_lock.mode',
  'learn_lock.store_dir',
  'learn_lock.roster_path',
  'learn_lock.environment',
  'learn_lock.pinned_root_fingerprint',
  'learn_lock.minimum_signatures',
]

type Tree = Record<string, unknown>

function get(root: unknown, dotted: string): unknown {
  let node = root
  for (const s of dotted.split('.')) {
    if (node === null || typeof node !== 'object') return undefined
    node = (node as Tree)[s]
  }
  return node
}

function set(root: Tree, dotted: string, value: unknown): void {
  const steps = dotted.split('.')
  let node = root
  for (const s of steps.slice(0, -1)) node = node[s] as Tree
  node[steps[steps.length - 1]!] = structuredClone(value)
}

/**
 * Restart-only fields that differ between the running and the new config, and the new config
 * with those fields put back to their running values (the change is ignored, not applied).
 */
export function holdRestartOnly(running: PipelockConfig, next: PipelockConfig): {config: PipelockConfig; changed: string[]} {
  const out = structuredClone(next) as unknown as Tree
  const changed: string[] = []
  for (const field of RESTART_ONLY_FIELDS) {
    if (!isDeepStrictEqual(get(running, field), get(next, field))) {
      changed.push(field)
      set(out, field, get(running, field))
    }
  }
  const names = new Set([...Object.keys(running.agents), ...Object.keys(next.agents)])
  for (const name of [...names].sort()) {
    const before = running.agents[name]?.listeners
    const after = next.agents[name]?.listeners
    if (isDeepStrictEqual(before ?? [], after ?? [])) continue
    changed.push(`agents.${name}.listeners`)
    const agents = out.agents as Record<string, Tree>
    if (agents[name] !== undefined) {
      if (before === undefined) delete agents[name].listeners
      else agents[name].listeners = [...before]
    } else if (before !== undefined && before.length > 0) {
      // operations.md §2.7 (b): a removed agent whose port stays bound keeps its old profile, so a
      // reload cannot downgrade the policy of a spoof-proof port to `_default`.
      agents[name] = structuredClone(running.agents[name]) as unknown as Tree
    }
  }
  return {config: out as unknown as PipelockConfig, changed}
}

const MODE_RANK: Record<string, number> = {strict: 3, balanced: 2, audit: 1}

/** Security switches whose true → false is a downgrade. */
const DOWNGRADE_SWITCHES: readonly string[] = [
  'enforce',
  'response_scanning.enabled',
  'response_scanning.sse_streaming.enabled',
  'request_body_scanning.enabled',
  'request_body_scanning.scan_headers',
  'session_profiling.enabled',
  'adaptive_enforcement.enabled',
  'airlock.enabled',
  'seed_phrase_detection.enabled',
  'seed_phrase_detection.verify_checksum',
  'taint.enabled',
  'cross_request_detection.enabled',
  'media_policy.enabled',
  'mcp_input_scanning.enabled',
  'mcp_tool_scanning.enabled',
  'mcp_tool_policy.enabled',
  'mcp_session_binding.enabled',
  'dlp.scan_env',
  'dlp.include_defaults',
  'forward_proxy.sni_verification',
  'websocket_proxy.scan_text_frames',
  'exclusive_agent_binding',
]

/** Lists whose growth loosens policy. */
const GROWTH_LISTS: readonly string[] = [
  'api_allowlist',
  'trusted_domains',
  'ssrf.ip_allowlist',
  'response_scanning.exempt_domains',
  'adaptive_enforcement.exempt_domains',
  'kill_switch.allowlist_ips',
  'fetch_proxy.monitoring.subdomain_entropy_exclusions',
  'learn_lock.unlocked_agents',
]

/** Lists whose shrinking loosens policy. */
const SHRINK_LISTS: readonly string[] = ['internal', 'fetch_proxy.monitoring.blocklist']

/**
 * `ValidateReload`: each way the new config is weaker than the running one, as
 * `<field>: <old> -> <new>` lines. A reload proceeds with these logged, unless the running
 * config is strict mode (then the reload is refused).
 */
export function reloadDowngrades(running: PipelockConfig, next: PipelockConfig): string[] {
  const out: string[] = []
  if ((MODE_RANK[next.mode] ?? 0) < (MODE_RANK[running.mode] ?? 0)) out.push(`mode: ${running.mode} -> ${next.mode}`)
  for (const f of DOWNGRADE_SWITCHES) {
    if (get(running, f) === true && get(next, f) === false) out.push(`${f}: true -> false`)
  }
  if (next.dlp.patterns.length < running.dlp.patterns.length) {
    out.push(`dlp.patterns: ${running.dlp.patterns.length} -> ${next.dlp.patterns.length} patterns`)
  }
  if (next.response_scanning.enabled && next.response_scanning.patterns.length < running.response_scanning.patterns.length) {
    out.push(`response_scanning.patterns: ${running.response_scanning.patterns.length} -> ${next.response_scanning.patterns.length} patterns`)
  }
  for (const [f, from, to] of [
    ['response_scanning.action', running.response_scanning.action, next.response_scanning.action],
    ['request_body_scanning.action', running.request_body_scanning.action, next.request_body_scanning.action],
    ['session_profiling.anomaly_action', running.session_profiling.anomaly_action, next.session_profiling.anomaly_action],
  ] as const) {
    if (from === 'block' && to !== 'block') out.push(`${f}: block -> ${to}`)
  }
  for (const f of GROWTH_LISTS) {
    const before = new Set(get(running, f) as string[])
    const added = (get(next, f) as string[]).filter((x) => !before.has(x))
    if (added.length > 0) out.push(`${f}: added ${added.join(', ')}`)
  }
  for (const f of SHRINK_LISTS) {
    const after = new Set(get(next, f) as string[])
    const removed = (get(running, f) as string[]).filter((x) => !after.has(x))
    if (removed.length > 0) out.push(`${f}: removed ${removed.join(', ')}`)
  }
  return out
}

/**
 * Why a reload must be refused outright (§20.6), or undefined. `startup` is the config the
 * process started with (listeners exist only for what was on then).
 */
export function reloadRejection(
  startup: PipelockConfig, running: PipelockConfig, next: PipelockConfig, downgrades: readonly string[], downgradeAttested = false,
): string | undefined {
  if (next.forward_proxy.enabled && !startup.forward_proxy.enabled) return 'rejected: forward proxy cannot be enabled via reload (requires restart)'
  if (next.websocket_proxy.enabled && !startup.websocket_proxy.enabled) return 'rejected: websocket proxy cannot be enabled via reload (requires restart)'
  // Issue 34: in strict mode a loosening needs the operator's note bound to the new file (the
  // reference refuses it until a restart); with one it applies, logged and recorded with the note.
  if (running.mode === 'strict' && downgrades.length > 0 && !downgradeAttested) {
    return `rejected: security downgrade from strict mode (${downgrades.join('; ')}); to apply it without a restart, attach an operator note to this file (pipelock policy note --reload, or <config>.change)`
  }
  return undefined
}
