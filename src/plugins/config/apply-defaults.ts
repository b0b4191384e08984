import path from 'node:path'
import {DEFAULT_DLP_PATTERNS, DEFAULT_RESPONSE_PATTERNS} from './builtin-patterns.js'
import {defaultConfig} from './defaults.js'
import {applyEmitDefaults} from './emit-config.js'
import {REDACTION_LIMIT_CAPS, REDACTION_LIMIT_DEFAULTS} from './redaction-config.js'
import type {ConfigWarning} from './problems.js'
import {capTimerFields} from './timer-limits.js'
import type {DlpPatternConfig, PipelockConfig, ResponsePatternConfig} from './schema.js'

// The steps of `resolveConfig` after the schema parse, in a module of their own so the built-in
// defaults resolve without zod (resolve-defaults.ts; bench: mcp, RSS per MCP wrap).

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/**
 * The reference's `ApplyDefaults()`: zero values mean "unset" in Go, so an explicit 0 / "" for a
 * field with a non-zero default takes the default. Fields where 0 is meaningful (airlock timers,
 * max_data_per_minute, retention_days, anomaly_count) are left alone.
 */
export function applyDefaults(c: PipelockConfig, file: Record<string, unknown>, warnings: ConfigWarning[]): void {
  const d = defaultConfig()
  const zeroOnly = new Set<string>()
  if (c.version === 0) c.version = 1
  if (c.mode === '') c.mode = d.mode
  applyEmitDefaults(c, d)
  const fp = c.fetch_proxy
  if (fp.listen === '') fp.listen = d.fetch_proxy.listen
  if (fp.timeout_seconds <= 0) fp.timeout_seconds = d.fetch_proxy.timeout_seconds
  if (fp.max_response_mb <= 0) fp.max_response_mb = d.fetch_proxy.max_response_mb
  if (fp.user_agent === '') fp.user_agent = d.fetch_proxy.user_agent
  const mon = fp.monitoring
  if (mon.max_url_length <= 0) mon.max_url_length = d.fetch_proxy.monitoring.max_url_length
  if (mon.entropy_threshold <= 0) mon.entropy_threshold = d.fetch_proxy.monitoring.entropy_threshold
  if (mon.max_requests_per_minute <= 0) {
    // §24 #6: replicate the rewrite (the rate limit is always on), but say so at startup.
    if (isPlainObject(file.fetch_proxy) && isPlainObject(file.fetch_proxy.monitoring) && 'max_requests_per_minute' in file.fetch_proxy.monitoring) {
      warnings.push({
        field: 'fetch_proxy.monitoring.max_requests_per_minute',
        message: `${mon.max_requests_per_minute} is rewritten to 60: the per-domain rate limit cannot be disabled`,
      })
    }
    mon.max_requests_per_minute = d.fetch_proxy.monitoring.max_requests_per_minute
  }
  if (c.logging.format === '') c.logging.format = d.logging.format
  if (c.logging.output === '') c.logging.output = d.logging.output
  if (c.dlp.min_env_secret_length <= 0) c.dlp.min_env_secret_length = d.dlp.min_env_secret_length
  const rs = c.response_scanning
  if (rs.enabled && rs.action === '') rs.action = 'warn'
  if (rs.ask_timeout_seconds <= 0) rs.ask_timeout_seconds = d.response_scanning.ask_timeout_seconds
  if (rs.sse_streaming.max_event_bytes === 0) rs.sse_streaming.max_event_bytes = d.response_scanning.sse_streaming.max_event_bytes
  // envelope-redaction §13: a limit ≤ 0 takes the default; each is clamped at its cap.
  for (const k of ['max_body_bytes', 'max_redactions_per_request', 'max_depth'] as const) {
    const l = c.redaction.limits
    l[k] = l[k] <= 0 ? REDACTION_LIMIT_DEFAULTS[k] : Math.min(l[k], REDACTION_LIMIT_CAPS[k])
  }
  if (c.seed_phrase_detection.min_words === 0) c.seed_phrase_detection.min_words = 12
  zeroFill(c.forward_proxy, d.forward_proxy, ['max_tunnel_seconds', 'idle_timeout_seconds'], 'forward_proxy', zeroOnly)
  zeroFill(c.websocket_proxy, d.websocket_proxy, ['max_message_bytes', 'max_concurrent_connections', 'max_connection_seconds', 'idle_timeout_seconds'], 'websocket_proxy', zeroOnly)
  if (c.websocket_proxy.origin_policy === '') c.websocket_proxy.origin_policy = d.websocket_proxy.origin_policy
  // mcp.md §14.1: max_connections <= 0 takes the default (100).
  if (c.mcp_ws_listener.max_connections <= 0) c.mcp_ws_listener.max_connections = d.mcp_ws_listener.max_connections
  zeroFill(c.session_profiling, d.session_profiling, [
    'domain_burst',
    'window_minutes',
    'volume_spike_ratio',
    'max_sessions',
    'session_ttl_minutes',
    'cleanup_interval_seconds',
  ], 'session_profiling', zeroOnly)
  if (c.session_profiling.anomaly_action === '') c.session_profiling.anomaly_action = d.session_profiling.anomaly_action
  zeroFill(c.adaptive_enforcement, d.adaptive_enforcement, ['escalation_threshold', 'decay_per_clean_request'], 'adaptive_enforcement', zeroOnly)
  zeroFill(c.request_body_scanning, d.request_body_scanning, ['max_body_bytes'], 'request_body_scanning', zeroOnly)
  if (c.request_body_scanning.action === '') c.request_body_scanning.action = d.request_body_scanning.action
  if (c.request_body_scanning.header_mode === '') c.request_body_scanning.header_mode = d.request_body_scanning.header_mode
  if (c.kill_switch.message === '') c.kill_switch.message = d.kill_switch.message
  zeroFill(c.health_watchdog, d.health_watchdog, ['interval_seconds'], 'health_watchdog', zeroOnly)
  // transports §2.1: `<= 0` takes the default (cert_ttl "" is read as 24h where it is parsed).
  const ti = c.tls_interception
  if (ti.cert_cache_size <= 0) ti.cert_cache_size = d.tls_interception.cert_cache_size
  if (ti.max_response_bytes <= 0) ti.max_response_bytes = d.tls_interception.max_response_bytes
  // The reference's recorder reads a value ≤ 0 as its default (1000 / 10000); a negative value
  // must not checkpoint after every entry or rotate the file after every other one.
  const fr = c.flight_recorder
  if (fr.checkpoint_interval <= 0) fr.checkpoint_interval = d.flight_recorder.checkpoint_interval
  if (fr.max_entries_per_file <= 0) fr.max_entries_per_file = d.flight_recorder.max_entries_per_file
  c.flight_recorder.file_mode = normaliseFileMode(c.flight_recorder.file_mode)
  // Airlock triggers left empty are filled to none/soft/hard (the reference does it in validation).
  const t = c.airlock.triggers
  if (t.on_elevated === '') t.on_elevated = 'none'
  if (t.on_high === '') t.on_high = 'soft'
  if (t.on_critical === '') t.on_critical = 'hard'
  fillCrossRequestDefaults(c)
  if (c.taint.policy === '') c.taint.policy = d.taint.policy
  if (c.taint.recent_sources <= 0) c.taint.recent_sources = d.taint.recent_sources
  if (c.learn_lock.mode === '') c.learn_lock.mode = 'shadow'
  // scanners-extra §2.2 / §3.2: empty or non-positive values take the defaults.
  const a2a = c.a2a_scanning
  if (a2a.action === '') a2a.action = d.a2a_scanning.action
  if (a2a.max_context_messages <= 0) a2a.max_context_messages = d.a2a_scanning.max_context_messages
  if (a2a.max_contexts <= 0) a2a.max_contexts = d.a2a_scanning.max_contexts
  if (a2a.max_raw_size <= 0) a2a.max_raw_size = d.a2a_scanning.max_raw_size
  const bs = c.browser_shield
  if (bs.strictness === '') bs.strictness = d.browser_shield.strictness
  if (bs.oversize_action === '') bs.oversize_action = d.browser_shield.oversize_action
  if (bs.max_shield_bytes <= 0) bs.max_shield_bytes = d.browser_shield.max_shield_bytes
  if (c.media_policy.max_image_bytes === 0) c.media_policy.max_image_bytes = d.media_policy.max_image_bytes
  applyMcpDefaults(c)
  capTimerFields(c, warnings)
  warnRewrittenNumbers(file, c, [], warnings, zeroOnly)

  c.dlp.patterns = mergeByName<DlpPatternConfig>(c.dlp.include_defaults, DEFAULT_DLP_PATTERNS, c.dlp.patterns)
  // Default response patterns are merged only while response scanning is enabled (§20.1).
  if (rs.enabled) rs.patterns = mergeByName<ResponsePatternConfig>(rs.include_defaults, DEFAULT_RESPONSE_PATTERNS, rs.patterns)
}

/**
 * A warning for each number the file sets that is read as another (a value ≤ 0 that takes the
 * default, a limit clamped at its cap): the config runs as the warning says, never as written
 * without a word. Arrays are not walked (pattern lists are merged, not rewritten).
 */
function warnRewrittenNumbers(file: Record<string, unknown>, c: unknown, at: string[], warnings: ConfigWarning[], zeroOnly: ReadonlySet<string>): void {
  if (!isPlainObject(c)) return
  for (const [k, v] of Object.entries(file)) {
    const path = [...at, k]
    const got = c[k]
    if (isPlainObject(v)) warnRewrittenNumbers(v, got, path, warnings, zeroOnly)
    else if (typeof v === 'number' && typeof got === 'number' && got !== v) {
      const field = path.join('.')
      if (warnings.some((w) => w.field === field)) continue
      // Where only 0 is rewritten (zeroFill: validation refuses a negative), the words say 0.
      const why = v <= 0 ? (zeroOnly.has(field) ? ' (0 takes the default)' : ' (a value ≤ 0 takes the default)') : ' (the largest value allowed)'
      warnings.push({field, message: `${v} is read as ${got}${why}`})
    }
  }
}

/**
 * 0 takes the default; a negative value is left for validation to refuse (`must be > 0 (0 takes
 * the default N)`). Each field is noted in `zeroOnly` so its warning speaks of 0 alone.
 */
function zeroFill<T extends object>(target: T, defaults: T, keys: readonly (keyof T & string)[], section: string, zeroOnly: Set<string>): void {
  for (const k of keys) {
    zeroOnly.add(`${section}.${k}`)
    if (target[k] === 0) target[k] = defaults[k]
  }
}

/** `0600` parses as 600 (YAML 1.2) or 384 (YAML 1.1 octal); both mean the octal mode. */
function normaliseFileMode(v: string | number): string {
  if (typeof v === 'string') return /^[0-7]{3}$/.test(v) ? `0${v}` : v
  if (v === 0) return '0600'
  if ([0o600, 0o640, 0o660].includes(v)) return `0${v.toString(8)}`
  return String(v).padStart(4, '0')
}

/** Defaults first (in catalogue order), a user pattern with the same name replaces it in place, others appended. */
function mergeByName<T extends {name: string}>(includeDefaults: boolean, defaults: readonly T[], user: readonly T[]): T[] {
  if (!includeDefaults) return user.map((p) => ({...p}))
  const out: T[] = defaults.map((p) => ({...p}))
  for (const p of user) {
    const i = out.findIndex((q) => q.name === p.name)
    if (i >= 0) out[i] = {...p}
    else out.push({...p})
  }
  return out
}

export function resolvePaths(c: PipelockConfig, baseDir: string | undefined): void {
  if (baseDir === undefined) return
  const abs = (p: string): string => (p === '' || path.isAbsolute(p) ? p : path.join(baseDir, p))
  c.dlp.secrets_file = abs(c.dlp.secrets_file)
  for (const d of Object.values(c.redaction.dictionaries)) if (d.entries_file !== undefined) d.entries_file = abs(d.entries_file)
  c.tls_interception.ca_cert = abs(c.tls_interception.ca_cert)
  c.tls_interception.ca_key = abs(c.tls_interception.ca_key)
  const st = c.emit.syslog.tls
  for (const k of ['ca_file', 'cert_file', 'key_file'] as const) st[k] = abs(st[k])
}

/**
 * MCP sections (mcp.md §14.1): actions are filled only for enabled sections (auto-enable depends on
 * it). [ext] Tool scanning enabled without an action blocks (the reference fills warn): warn is an
 * explicit choice (docs/compatibility.md).
 */
function applyMcpDefaults(c: PipelockConfig): void {
  const fill = (sec: {enabled: boolean; action: string}): void => {
    if (sec.enabled && sec.action === '') sec.action = 'warn'
  }
  fill(c.mcp_input_scanning)
  if (c.mcp_tool_scanning.enabled && c.mcp_tool_scanning.action === '') c.mcp_tool_scanning.action = 'block'
  fill(c.mcp_tool_policy)
  if (c.mcp_input_scanning.on_parse_error === '') c.mcp_input_scanning.on_parse_error = 'block'
  const sb = c.mcp_session_binding
  if (sb.enabled && sb.unknown_tool_action === '') sb.unknown_tool_action = 'warn'
  if (sb.enabled && sb.no_baseline_action === '') sb.no_baseline_action = 'warn'
  const tc = c.tool_chain_detection
  fill(tc)
  if (tc.window_size <= 0) tc.window_size = 20
  if (tc.window_seconds <= 0) tc.window_seconds = 60
}

/** Operations §5.1: defaults are filled only for enabled parts (≤ 0 → default, empty action → block / warn). */
function fillCrossRequestDefaults(c: PipelockConfig): void {
  const cr = c.cross_request_detection
  if (!cr.enabled) return
  if (cr.action === '') cr.action = 'block'
  const e = cr.entropy_budget
  if (e.enabled) {
    if (e.bits_per_window <= 0) e.bits_per_window = 4096
    if (e.window_minutes <= 0) e.window_minutes = 5
    if (e.action === '') e.action = 'warn'
  }
  const f = cr.fragment_reassembly
  if (f.enabled) {
    if (f.max_buffer_bytes <= 0) f.max_buffer_bytes = 65536
    if (f.window_minutes <= 0) f.window_minutes = 5
  }
}
