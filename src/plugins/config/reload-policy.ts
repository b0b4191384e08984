import {BlockList} from 'node:net'
import {isDeepStrictEqual} from 'node:util'
import {DEFAULT_PROFILE, mergeProfile} from './agent-profiles.js'
import {parseCidr} from './net-rules.js'
import {a2aDowngrades, mcpAsRun, mcpResponseDowngrades, shieldDowngrades, taintDowngrades, toolPolicyDowngrades} from './reload-section-downgrades.js'
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
  // The recorder (and the exception store and config-state.json beside it) is opened once: a
  // signed hash chain cannot move, start or stop mid-run without forking or ending the chain
  // outside its own session_close, and an auditor would see a gap where nothing says why.
  'flight_recorder.enabled',
  'flight_recorder.dir',
  'flight_recorder.checkpoint_interval',
  'flight_recorder.retention_days',
  'flight_recorder.redact',
  'flight_recorder.sign_checkpoints',
  'flight_recorder.max_entries_per_file',
  'flight_recorder.file_mode',
  'flight_recorder.raw_escrow',
  'flight_recorder.escrow_public_key',
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
  'cross_request_detection.enabled',
  'cross_request_detection.entropy_budget.enabled',
  'cross_request_detection.fragment_reassembly.enabled',
  'canary_tokens.enabled',
  'address_protection.enabled',
  'media_policy.enabled',
  'mcp_input_scanning.enabled',
  'mcp_tool_scanning.enabled',
  'mcp_tool_policy.enabled',
  'mcp_session_binding.enabled',
  'tool_chain_detection.enabled',
  'dlp.scan_env',
  'dlp.include_defaults',
  'forward_proxy.sni_verification',
  'websocket_proxy.scan_text_frames',
  'exclusive_agent_binding',
  'browser_shield.enabled',
  // The default identity stops being bound: a header or query can now name another profile.
  'bind_default_agent_identity',
]

/** Switches whose true → false is a downgrade only while the feature they refine is on in both configs. */
export const FEATURE_SWITCHES: readonly (readonly [string, string])[] = [
  ['mcp_tool_scanning.detect_drift', 'mcp_tool_scanning.enabled'],
]

/** Lists whose growth loosens policy. */
const GROWTH_LISTS: readonly string[] = [
  'api_allowlist',
  'trusted_domains',
  'ssrf.ip_allowlist',
  'response_scanning.exempt_domains',
  'adaptive_enforcement.exempt_domains',
  'cross_request_detection.entropy_budget.exempt_domains',
  'kill_switch.allowlist_ips',
  'fetch_proxy.monitoring.subdomain_entropy_exclusions',
  // Hosts whose CONNECT tunnels carry bytes nobody inspects.
  'forward_proxy.raw_tunnel_hosts',
  'learn_lock.unlocked_agents',
]

/** Lists whose shrinking loosens policy. */
const SHRINK_LISTS: readonly string[] = ['internal', 'fetch_proxy.monitoring.blocklist']

/**
 * Action fields whose move away from `block` is a downgrade; with a switch, only while that
 * feature is on in both configs (turning it off is its own downgrade).
 */
const BLOCK_ACTIONS: readonly (readonly [string, string?])[] = [
  ['response_scanning.action'],
  ['request_body_scanning.action'],
  ['session_profiling.anomaly_action'],
  ['response_scanning.sse_streaming.action', 'response_scanning.sse_streaming.enabled'],
  ['cross_request_detection.action', 'cross_request_detection.enabled'],
  ['cross_request_detection.entropy_budget.action', 'cross_request_detection.entropy_budget.enabled'],
  ['address_protection.action', 'address_protection.enabled'],
  ['mcp_input_scanning.action', 'mcp_input_scanning.enabled'],
  ['mcp_tool_scanning.action', 'mcp_tool_scanning.enabled'],
  ['mcp_session_binding.unknown_tool_action', 'mcp_session_binding.enabled'],
  ['mcp_session_binding.no_baseline_action', 'mcp_session_binding.enabled'],
  // Read whether input scanning is on or not (stdio still blocks what does not parse).
  ['mcp_input_scanning.on_parse_error'],
  ['tool_chain_detection.action', 'tool_chain_detection.enabled'],
]

/** A numeric security threshold and the direction in which a change loosens it. */
export interface NumericThreshold {
  readonly field: string
  /**
   * `higher`: a larger value lets more through (a limit); `lower`: a smaller one does (a window, a
   * quarantine). A function, when the direction depends on the configs (the directions that loosen).
   */
  readonly looser: 'higher' | 'lower' | ((running: PipelockConfig, next: PipelockConfig) => readonly ('higher' | 'lower')[])
  /** Set when a value ≤ 0 means "no limit" (`higher`) or "never ends" (`lower`): how it is shown. */
  readonly off?: string
  /** Compared only while these switches are on in both configs (turning one off is its own downgrade). */
  readonly when?: readonly string[]
}

/*
 * Every number of the config schema, gone through once (resolved values: a 0 that takes the
 * default has already become the default, so only the fields with `off` can be ≤ 0 here).
 *
 * Counted, a larger value loosens:
 *   fetch_proxy.monitoring.max_url_length, entropy_threshold, subdomain_entropy_threshold (≤ 0 off),
 *   max_requests_per_minute, max_data_per_minute (0 = no budget); fetch_proxy.max_response_mb,
 *   request_body_scanning.max_body_bytes, tls_interception.max_response_bytes,
 *   websocket_proxy.max_message_bytes, response_scanning.sse_streaming.max_event_bytes,
 *   media_policy.max_image_bytes (size caps: what was refused as too large passes);
 *   dlp.min_env_secret_length (shorter env values stop counting as secrets), seed_phrase_detection.min_words;
 *   session_profiling.domain_burst, volume_spike_ratio; adaptive_enforcement.escalation_threshold,
 *   decay_per_clean_request; cross_request_detection.entropy_budget.bits_per_window;
 *   agents.<name>.budget.* limits (0 or absent = no limit).
 * Counted, a smaller value loosens:
 *   session_profiling.window_minutes, cross_request_detection.entropy_budget.window_minutes,
 *   fragment_reassembly.max_buffer_bytes and window_minutes (less history is joined and scanned);
 *   airlock.timers.soft_minutes, hard_minutes, drain_minutes (a quarantine ends sooner; 0 = manual
 *   release only); tool_chain_detection.window_size, window_seconds, max_gap.
 * Counted in the direction the oversize action gives (shieldSizeLooser):
 *   browser_shield.max_shield_bytes (larger loosens while the running config blocks oversized
 *   bodies, smaller while the new one rewrites only their head or passes them).
 * Not counted:
 *   timeouts (fetch_proxy.timeout_seconds, forward_proxy.*_seconds, websocket_proxy.*_seconds,
 *   response_scanning.ask_timeout_seconds, airlock.timers.drain_timeout_seconds, emit.*, scan_api.timeouts):
 *   they bound waiting and holding, and what passes is scanned the same;
 *   capacities (websocket_proxy.max_concurrent_connections, mcp_ws_listener.max_connections,
 *   session_profiling.max_sessions / session_ttl_minutes / cleanup_interval_seconds,
 *   tls_interception.cert_cache_size, emit queue sizes, flight_recorder.*, health_watchdog, sentry);
 *   address_protection.similarity.* (how lookalikes are compared, no loose or tight side);
 *   taint.recent_sources (how many sources a session remembers for its record);
 *   airlock.triggers.anomaly_count / anomaly_window_minutes and a2a_scanning.max_* (no effect in
 *   this build); redaction.limits and mediation_envelope.* (their own reload warnings);
 *   scan_api.* (the evaluation API's own request limits); learn.inference.* (offline inference);
 *   agents.<name>.budget window lengths and cost_multipliers (whether longer is tighter depends on
 *   the limit they pace).
 */
export const NUMERIC_THRESHOLDS: readonly NumericThreshold[] = [
  {field: 'fetch_proxy.monitoring.max_url_length', looser: 'higher'},
  {field: 'fetch_proxy.monitoring.entropy_threshold', looser: 'higher'},
  {field: 'fetch_proxy.monitoring.subdomain_entropy_threshold', looser: 'higher', off: 'off'},
  {field: 'fetch_proxy.monitoring.max_requests_per_minute', looser: 'higher'},
  {field: 'fetch_proxy.monitoring.max_data_per_minute', looser: 'higher', off: 'no limit'},
  {field: 'fetch_proxy.max_response_mb', looser: 'higher'},
  {field: 'request_body_scanning.max_body_bytes', looser: 'higher', when: ['request_body_scanning.enabled']},
  {field: 'tls_interception.max_response_bytes', looser: 'higher', when: ['tls_interception.enabled']},
  {field: 'websocket_proxy.max_message_bytes', looser: 'higher', when: ['websocket_proxy.enabled']},
  {field: 'response_scanning.sse_streaming.max_event_bytes', looser: 'higher', when: ['response_scanning.enabled', 'response_scanning.sse_streaming.enabled']},
  {field: 'media_policy.max_image_bytes', looser: 'higher', when: ['media_policy.enabled']},
  {field: 'dlp.min_env_secret_length', looser: 'higher'},
  {field: 'seed_phrase_detection.min_words', looser: 'higher', when: ['seed_phrase_detection.enabled']},
  {field: 'session_profiling.domain_burst', looser: 'higher', when: ['session_profiling.enabled']},
  {field: 'session_profiling.volume_spike_ratio', looser: 'higher', when: ['session_profiling.enabled']},
  {field: 'session_profiling.window_minutes', looser: 'lower', when: ['session_profiling.enabled']},
  {field: 'adaptive_enforcement.escalation_threshold', looser: 'higher', when: ['adaptive_enforcement.enabled']},
  {field: 'adaptive_enforcement.decay_per_clean_request', looser: 'higher', when: ['adaptive_enforcement.enabled']},
  {field: 'cross_request_detection.entropy_budget.bits_per_window', looser: 'higher', when: ['cross_request_detection.enabled', 'cross_request_detection.entropy_budget.enabled']},
  {field: 'cross_request_detection.entropy_budget.window_minutes', looser: 'lower', when: ['cross_request_detection.enabled', 'cross_request_detection.entropy_budget.enabled']},
  {field: 'cross_request_detection.fragment_reassembly.max_buffer_bytes', looser: 'lower', when: ['cross_request_detection.enabled', 'cross_request_detection.fragment_reassembly.enabled']},
  {field: 'cross_request_detection.fragment_reassembly.window_minutes', looser: 'lower', when: ['cross_request_detection.enabled', 'cross_request_detection.fragment_reassembly.enabled']},
  {field: 'airlock.timers.soft_minutes', looser: 'lower', off: 'manual release only', when: ['airlock.enabled']},
  {field: 'airlock.timers.hard_minutes', looser: 'lower', off: 'manual release only', when: ['airlock.enabled']},
  {field: 'airlock.timers.drain_minutes', looser: 'lower', off: 'manual release only', when: ['airlock.enabled']},
  {field: 'tool_chain_detection.window_size', looser: 'lower', when: ['tool_chain_detection.enabled']},
  {field: 'tool_chain_detection.window_seconds', looser: 'lower', when: ['tool_chain_detection.enabled']},
  {field: 'tool_chain_detection.max_gap', looser: 'lower', when: ['tool_chain_detection.enabled']},
  {field: 'browser_shield.max_shield_bytes', looser: shieldSizeLooser, when: ['browser_shield.enabled']},
]

/**
 * scanners-extra §3: a body over `max_shield_bytes` gets the `oversize_action` (empty: scan_head)
 * instead of the whole rewrite. Raised, the bodies between the two sizes are rewritten whole where
 * the running config refused them (`block`): they now pass. Lowered, they get the new config's
 * `oversize_action` where they were rewritten whole: only `block` is stricter than that.
 */
function shieldSizeLooser(running: PipelockConfig, next: PipelockConfig): ('higher' | 'lower')[] {
  const oversize = (c: PipelockConfig): string => (c.browser_shield.oversize_action === '' ? 'scan_head' : c.browser_shield.oversize_action)
  return [...(oversize(running) === 'block' ? ['higher' as const] : []), ...(oversize(next) !== 'block' ? ['lower' as const] : [])]
}

/** Per-agent budget limits (`agents.<name>.budget.<key>`): larger loosens, 0 or absent is no limit. */
export const AGENT_BUDGET_LIMITS = [
  'max_requests_per_session',
  'max_bytes_per_session',
  'max_unique_domains_per_session',
  'max_tool_calls_per_session',
  'max_concurrent_tool_calls',
  'max_wall_clock_minutes',
  'max_retries_per_tool',
  'max_retries_per_endpoint',
  'fan_out_limit',
] as const

/** `v` as a comparable bound: with `off`, a value ≤ 0 is no bound at all. */
function bound(v: number, off: string | undefined): number {
  return off !== undefined && v <= 0 ? Infinity : v
}

function shown(v: number, off: string | undefined): string {
  return off !== undefined && v <= 0 ? `${v} (${off})` : String(v)
}

function numericDowngrades(running: PipelockConfig, next: PipelockConfig, out: string[]): void {
  for (const t of NUMERIC_THRESHOLDS) {
    if (t.when !== undefined && !t.when.every((w) => get(running, w) === true && get(next, w) === true)) continue
    const from = get(running, t.field)
    const to = get(next, t.field)
    if (typeof from !== 'number' || typeof to !== 'number') continue
    const a = bound(from, t.off)
    const b = bound(to, t.off)
    const looser = typeof t.looser === 'function' ? t.looser(running, next) : [t.looser]
    if ((looser.includes('higher') && b > a) || (looser.includes('lower') && b < a)) out.push(`${t.field}: ${shown(from, t.off)} -> ${shown(to, t.off)}`)
  }
}

const SEVERITY_RANK: Record<string, number> = {critical: 4, high: 3, medium: 2, low: 1}

/** A pattern's severity as the scanner reads it (absent or empty: high). */
function severityOf(s: string | undefined): string {
  return s === undefined || s === '' ? 'high' : s
}

/** Up to five names, quoted, then how many more. */
function someNames(names: readonly string[]): string {
  const q = names.slice(0, 5).map((n) => JSON.stringify(n))
  return names.length > 5 ? `${q.join(', ')} and ${names.length - 5} more` : q.join(', ')
}

/**
 * Patterns compared by name, not by count: an edited regex cannot be proven to match at least
 * what it matched before, so any change to it counts, as does a removed pattern, a lowered
 * severity, an action leaving block, a changed validator (it filters matches) and an added
 * exempt domain. A new pattern only adds detection.
 */
function patternDowngrades(
  field: string,
  before: readonly {name: string; regex: string; severity?: string; validator?: string; exempt_domains?: string[]; action?: string}[],
  after: readonly {name: string; regex: string; severity?: string; validator?: string; exempt_domains?: string[]; action?: string}[],
  out: string[],
): void {
  const now = new Map(after.map((p) => [p.name, p]))
  const removed = before.filter((p) => !now.has(p.name)).map((p) => p.name)
  if (removed.length > 0) out.push(`${field}: ${before.length} -> ${after.length} patterns (removed ${someNames(removed)})`)
  for (const p of before) {
    const q = now.get(p.name)
    if (q === undefined) continue
    const at = `${field}[${JSON.stringify(p.name)}]`
    if (q.regex !== p.regex) out.push(`${at}.regex: changed (an edited regex may no longer match what it did)`)
    const [s0, s1] = [severityOf(p.severity), severityOf(q.severity)]
    if ((SEVERITY_RANK[s1] ?? 0) < (SEVERITY_RANK[s0] ?? 0)) out.push(`${at}.severity: ${s0} -> ${s1}`)
    if (p.action !== 'warn' && q.action === 'warn') out.push(`${at}.action: ${p.action === undefined || p.action === '' ? 'block' : p.action} -> warn`)
    if ((q.validator ?? '') !== '' && q.validator !== p.validator) out.push(`${at}.validator: ${p.validator ?? 'none'} -> ${q.validator}`)
    const exempt = new Set(p.exempt_domains ?? [])
    const added = (q.exempt_domains ?? []).filter((d) => !exempt.has(d))
    if (added.length > 0) out.push(`${at}.exempt_domains: added ${added.join(', ')}`)
  }
}

/** `c` with the value at `dotted` replaced (copied along the path, `c` untouched). */
function withValue(c: PipelockConfig, dotted: string, value: unknown): PipelockConfig {
  const put = (node: Tree, steps: readonly string[]): Tree => ({...node, [steps[0]!]: steps.length === 1 ? value : put(node[steps[0]!] as Tree, steps.slice(1))})
  return put(c as unknown as Tree, dotted.split('.')) as unknown as PipelockConfig
}

/** What a comparison knows of the run it is for (default: one that reads every section, with an MCP listener). */
export interface DowngradeScope {
  /** Parts of the config (a section, or a dotted field) no transport of the run reads: compared as if unchanged. */
  readonly unused?: readonly string[]
  /**
   * Whether the run auto-enables unconfigured MCP sections (an MCP listener does; mcp.md §14.2).
   * False: the sections are read as on file (the scan API of a run without an MCP listener).
   */
  readonly mcpAutoEnabled?: boolean
}

/** The downgrades of one (merged) policy, agents aside. */
function policyDowngrades(onFile0: PipelockConfig, onFile1: PipelockConfig, scope: DowngradeScope = {}): string[] {
  const asRun = scope.mcpAutoEnabled === false ? (c: PipelockConfig): PipelockConfig => c : mcpAsRun
  const running = asRun(onFile0)
  const next = (scope.unused ?? []).reduce((c, part) => withValue(c, part, get(running, part)), asRun(onFile1))
  const out: string[] = []
  if ((MODE_RANK[next.mode] ?? 0) < (MODE_RANK[running.mode] ?? 0)) out.push(`mode: ${running.mode} -> ${next.mode}`)
  for (const f of DOWNGRADE_SWITCHES) {
    if (get(running, f) === true && get(next, f) === false) out.push(`${f}: true -> false`)
  }
  for (const [f, on] of FEATURE_SWITCHES) {
    if (get(running, on) === true && get(next, on) === true && get(running, f) === true && get(next, f) === false) out.push(`${f}: true -> false`)
  }
  // transports §2.1: the reference's own words for these two.
  const [ti0, ti1] = [running.tls_interception, next.tls_interception]
  if (ti0.enabled && !ti1.enabled) out.push('TLS interception disabled — CONNECT tunnel body/header scanning lost')
  if (ti0.enabled && ti1.enabled) {
    const before = new Set(ti0.passthrough_domains)
    const added = ti1.passthrough_domains.filter((d) => !before.has(d))
    if (added.length > 0) out.push(`passthrough domains added: ${added.join(', ')} — these CONNECT tunnels now bypass body scanning`)
  }
  patternDowngrades('dlp.patterns', running.dlp.patterns, next.dlp.patterns, out)
  if (running.response_scanning.enabled && next.response_scanning.enabled) {
    patternDowngrades('response_scanning.patterns', running.response_scanning.patterns, next.response_scanning.patterns, out)
  }
  const tokens = new Set(next.canary_tokens.tokens.map((t) => t.name))
  const gone = running.canary_tokens.tokens.filter((t) => !tokens.has(t.name)).map((t) => t.name)
  if (running.canary_tokens.enabled && next.canary_tokens.enabled && gone.length > 0) out.push(`canary_tokens.tokens: removed ${someNames(gone)}`)
  for (const [f, on] of BLOCK_ACTIONS) {
    if (on !== undefined && !(get(running, on) === true && get(next, on) === true)) continue
    const [from, to] = [get(running, f), get(next, f)]
    if (from === 'block' && to !== 'block') out.push(`${f}: block -> ${String(to)}`)
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
  toolPolicyDowngrades(running.mcp_tool_policy, next.mcp_tool_policy, out)
  mcpResponseDowngrades(running.response_scanning, next.response_scanning, out)
  numericDowngrades(running, next, out)
  taintDowngrades(running.taint, next.taint, out)
  a2aDowngrades(running.a2a_scanning, next.a2a_scanning, out)
  shieldDowngrades(running.browser_shield, next.browser_shield, out)
  return out
}

type Profile = PipelockConfig['agents'][string]

/** The budget limits that loosened from `b0` to `b1` (absent or 0 = no limit). */
function budgetDowngrades(b0: Profile['budget'], b1: Profile['budget'], at: string, out: string[]): void {
  for (const k of AGENT_BUDGET_LIMITS) {
    const [from, to] = [b0?.[k] ?? 0, b1?.[k] ?? 0]
    if (bound(to, 'off') > bound(from, 'off')) out.push(`${at}.budget.${k}: ${shown(from, 'no limit')} -> ${shown(to, 'no limit')}`)
  }
}

/**
 * What traffic resolving to the profile `name` gets in `c` (operations.md §2.2): that profile
 * merged over the base, else the fallback — `_default` merged, or the base config with no budget.
 */
function profilePolicy(c: PipelockConfig, name: string): {policy: PipelockConfig; budget: Profile['budget']} {
  const p = c.agents[name] ?? c.agents[DEFAULT_PROFILE]
  return p === undefined ? {policy: {...c, agents: {}}, budget: undefined} : {policy: mergeProfile(c, p), budget: p.budget}
}

/** Whether `inner` (a CIDR) lies inside `outer`: same family, a prefix no longer, `outer` holding its address. */
function cidrWithin(inner: string, outer: string): boolean {
  const [a, b] = [parseCidr(inner.trim()), parseCidr(outer.trim())]
  if (a === undefined || b === undefined || a.bytes.length !== b.bytes.length || b.bits > a.bits) return false
  const family = a.bytes.length === 4 ? 'ipv4' : 'ipv6'
  const list = new BlockList()
  list.addSubnet(outer.trim().split('/')[0]!, b.bits, family)
  return list.check(inner.trim().split('/')[0]!, family)
}

/**
 * `source_cidrs` compared by the addresses they cover. Addresses that leave a profile's CIDRs are
 * no longer bound: those clients now declare their identity (a header can name any profile), so
 * that always counts. Addresses that join them get this profile instead of the fallback —
 * counted when the profile is looser than the new config's fallback in some compared respect
 * (`looser`), since a profile at least as strict as the default only tightens those clients.
 */
function cidrDowngrades(name: string, c0: readonly string[], c1: readonly string[], looser: boolean, out: string[]): void {
  const added = c1.filter((n) => !c0.some((o) => cidrWithin(n, o)))
  const removed = c0.filter((o) => !c1.some((n) => cidrWithin(o, n)))
  if (added.length > 0 && looser) out.push(`agents.${name}.source_cidrs: added ${added.join(', ')} (more clients are bound to this profile)`)
  if (removed.length > 0) out.push(`agents.${name}.source_cidrs: removed ${removed.join(', ')} (these clients now declare their own identity)`)
}

/**
 * `ValidateReload`: each way the new config is weaker than the running one, as
 * `<field>: <old> -> <new>` lines (the TLS interception, taint and A2A lines use the reference's words). A
 * reload proceeds with these logged, unless the running config is strict mode (then the reload
 * is refused). An agent in both configs is compared as its merged profile; a line the global
 * comparison already gave is not repeated for it. A removed agent is compared with what its
 * traffic now resolves to, an added one with what its traffic resolved to before.
 */
export function reloadDowngrades(running: PipelockConfig, next: PipelockConfig, scope: DowngradeScope = {}): string[] {
  const out = policyDowngrades(running, next, scope)
  const global = new Set(out)
  const fallback1 = profilePolicy(next, DEFAULT_PROFILE)
  for (const name of Object.keys(running.agents).sort()) {
    const p0 = running.agents[name]!
    const p1 = next.agents[name]
    if (p1 === undefined) {
      // A removed agent whose listener stays bound keeps its profile (holdRestartOnly).
      if ((p0.listeners ?? []).length > 0) continue
      // Its traffic (CIDR-bound, named by a header or the default identity) now gets the fallback.
      // The removal is a downgrade exactly when the fallback is looser than the profile in any
      // respect the comparison of two profiles knows (policy and budget): a fallback at least as
      // strict everywhere takes the profile's traffic without loosening anything.
      // "The default profile" is `_default`, or the base config when there is none (§2.8).
      trafficMoved(running, next, name, `removed (its traffic now gets ${fallbackName(name)})`, global, scope, out)
      continue
    }
    for (const d of policyDowngrades(mergeProfile(running, p0), mergeProfile(next, p1), scope)) {
      if (!global.has(d)) out.push(`agents.${name}: ${d}`)
    }
    budgetDowngrades(p0.budget, p1.budget, `agents.${name}`, out)
    if (name !== DEFAULT_PROFILE) {
      const budget: string[] = []
      budgetDowngrades(fallback1.budget, p1.budget, '', budget)
      const looser = budget.length > 0 || policyDowngrades(fallback1.policy, mergeProfile(next, p1), scope).length > 0
      cidrDowngrades(name, p0.source_cidrs ?? [], p1.source_cidrs ?? [], looser, out)
    }
  }
  // An added profile takes over the clients that name it (by a header, the default identity) or
  // that its `source_cidrs` bind: before the reload they got the fallback. The reverse of a
  // removal, compared the same way: a downgrade when the new profile is looser than that fallback.
  for (const name of Object.keys(next.agents).filter((n) => !Object.hasOwn(running.agents, n)).sort()) {
    trafficMoved(running, next, name, `added (looser than ${fallbackName(name)} its clients got before)`, global, scope, out)
  }
  defaultIdentityMoved(running, next, global, scope, out)
  return out
}

/** The profile name a default identity resolves to, sanitised as the identity resolver does (operations.md §3.1); profile names are of that charset already. */
function identityProfile(c: PipelockConfig, identity: string): string {
  const name = [...identity].map((ch) => (/^[a-zA-Z0-9._-]$/.test(ch) ? ch : '_')).join('').slice(0, 64)
  return Object.hasOwn(c.agents, name) ? name : DEFAULT_PROFILE
}

/** How a profile is named in a line: the profile, or the base config when `_default` is absent. */
function profileLabel(c: PipelockConfig, name: string): string {
  return Object.hasOwn(c.agents, name) ? `agents.${name}` : 'the base config'
}

/**
 * A bound default identity (`bind_default_agent_identity` on in both) that resolves to another
 * profile: every client no listener or source CIDR binds moves to it (operations.md §2.2). Compared
 * like a profile's traffic moving: a downgrade when what they get now is looser in any respect.
 * A rename to the same profile is no move (that profile's own edits are compared per agent).
 */
function defaultIdentityMoved(running: PipelockConfig, next: PipelockConfig, global: ReadonlySet<string>, scope: DowngradeScope, out: string[]): void {
  const bound = (c: PipelockConfig): boolean => c.bind_default_agent_identity && c.default_agent_identity !== ''
  if (!bound(running) || !bound(next)) return
  const [p0, p1] = [identityProfile(running, running.default_agent_identity), identityProfile(next, next.default_agent_identity)]
  if (p0 === p1) return
  const [before, after] = [profilePolicy(running, p0), profilePolicy(next, p1)]
  const lines = policyDowngrades(before.policy, after.policy, scope)
  const budget: string[] = []
  budgetDowngrades(before.budget, after.budget, 'default_agent_identity', budget)
  if (lines.length + budget.length === 0) return
  out.push(`default_agent_identity: ${JSON.stringify(running.default_agent_identity)} -> ${JSON.stringify(next.default_agent_identity)} (the clients it binds now get ${profileLabel(next, p1)} instead of ${profileLabel(running, p0)})`)
  for (const d of lines) if (!global.has(d)) out.push(`default_agent_identity: ${d}`)
  out.push(...budget)
}

/** What traffic falls back to when the profile `name` is not there. */
function fallbackName(name: string): string {
  return name === DEFAULT_PROFILE ? 'the base config' : 'the default profile'
}

/**
 * The traffic of the profile `name` resolves to something else after the reload (a removed
 * profile's to the fallback, an added one's from the fallback). A downgrade exactly when what it
 * gets now is looser than what it got before in any respect the comparison of two profiles knows
 * (policy and budget): `agents.<name>: <how>`, then each looser respect (a line the global
 * comparison already gave is not repeated). At least as strict everywhere: nothing.
 */
function trafficMoved(running: PipelockConfig, next: PipelockConfig, name: string, how: string, global: ReadonlySet<string>, scope: DowngradeScope, out: string[]): void {
  const [before, after] = [profilePolicy(running, name), profilePolicy(next, name)]
  const lines = policyDowngrades(before.policy, after.policy, scope)
  const budget: string[] = []
  budgetDowngrades(before.budget, after.budget, `agents.${name}`, budget)
  if (lines.length + budget.length === 0) return
  out.push(`agents.${name}: ${how}`)
  for (const d of lines) if (!global.has(d)) out.push(`agents.${name}: ${d}`)
  out.push(...budget)
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
