import path from 'node:path'
import type {z} from 'zod'
import {DEFAULT_DLP_PATTERNS, DEFAULT_RESPONSE_PATTERNS} from './builtin-patterns.js'
import {defaultConfig} from './defaults.js'
import {applyEmitDefaults} from './emit-config.js'
import {ConfigFieldError, type ConfigWarning} from './problems.js'
import {configFileSchema, configSchema, type DlpPatternConfig, type PipelockConfig, type ResponsePatternConfig} from './schema.js'
import {checkDlpPattern, checkResponsePattern, validateConfig} from './validate.js'
import type {TreePath} from './yaml-source.js'

export interface ResolveOptions {
  /** Directory that relative paths (`dlp.secrets_file`, TLS CA files) resolve against. */
  readonly baseDir?: string
  /** Environment consulted by validation (`PIPELOCK_KILLSWITCH_API_TOKEN`). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Line lookup into the source file; when given, the schema problem earliest in the file is reported first. */
  readonly lineOf?: (path: TreePath) => number | undefined
}

export interface ResolvedConfig {
  readonly config: PipelockConfig
  readonly warnings: ConfigWarning[]
}

/**
 * File-level object (decoded YAML) → effective config (§20.1 after decoding):
 * null-as-absent, strict shape check, merge over the one merge base, ApplyDefaults-style zero
 * filling, pattern merge by name, relative paths, then §20.4 validation.
 * Throws ConfigFieldError (path + message) for the first problem.
 */
const JITLESS = {jitless: true} as const

export function resolveConfig(fileValue: unknown, options: ResolveOptions = {}): ResolvedConfig {
  const cleaned = stripNulls(fileValue ?? {})
  checkLearnLockEnvironment(cleaned)
  // jitless (issue 18, start-up): zod's default compiles a parser per object schema with
  // `new Function` on first use, ≈ 65 ms of a config's first parse for a parse that runs once per
  // start or reload; the interpreted parse measured as fast from the second parse on.
  const parsed = configFileSchema.safeParse(cleaned, JITLESS)
  if (!parsed.success) throw firstIssue(parsed.error.issues, options.lineOf)
  // Check the file's own patterns before the merge so errors point at the file's list index.
  const user = cleaned as {dlp?: {patterns?: DlpPatternConfig[]}; response_scanning?: {patterns?: ResponsePatternConfig[]}}
  user.dlp?.patterns?.forEach((p, i) => checkDlpPattern(p, ['dlp', 'patterns', i]))
  user.response_scanning?.patterns?.forEach((p, i) => checkResponsePattern(p, ['response_scanning', 'patterns', i]))
  const merged = deepMerge(defaultConfig() as unknown as Record<string, unknown>, cleaned as Record<string, unknown>)
  const warnings: ConfigWarning[] = []
  const config = configSchema.parse(merged, JITLESS)
  applyDefaults(config, cleaned as Record<string, unknown>, warnings)
  resolvePaths(config, options.baseDir)
  warnings.push(...validateConfig(config, {env: options.env}))
  return {config, warnings}
}

/**
 * §20.1: "absent or null" are the same for every key (that is what makes the security booleans
 * default to true, since the merge base has them true). Nulls inside lists stay and are refused
 * by the schema.
 */
function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x !== null && typeof x === 'object' ? stripNulls(x) : x))
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = stripNulls(x)
    return out
  }
  return v
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Mappings merge key by key; lists and scalars from the file replace the base value whole. */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {...base}
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(base[k]) ? deepMerge(base[k], v) : v
  }
  return out
}

/**
 * learn-lifecycle §7.1: `learn_lock.environment` must be a mapping with all three string keys,
 * checked whenever the key is present (even with the lock disabled), with the reference's words.
 */
function checkLearnLockEnvironment(value: unknown): void {
  if (!isPlainObject(value) || !isPlainObject(value.learn_lock) || !('environment' in value.learn_lock)) return
  const env = value.learn_lock.environment
  const at: TreePath = ['learn_lock', 'environment']
  if (!isPlainObject(env)) {
    throw new ConfigFieldError(at, 'must be a mapping with id, tenant, and deployment_id; migrate string form to environment: {id: <env>, tenant: "", deployment_id: ""}')
  }
  for (const k of Object.keys(env)) {
    if (!['id', 'tenant', 'deployment_id'].includes(k)) throw new ConfigFieldError([...at, k], `learn_lock.environment.${k} is not supported`)
    if (typeof env[k] !== 'string') throw new ConfigFieldError([...at, k], `learn_lock.environment.${k} must be a string`)
  }
  for (const k of ['id', 'tenant', 'deployment_id']) {
    if (!(k in env)) throw new ConfigFieldError([...at, k], `learn_lock.environment.${k} required; use an explicit empty string if intentionally unscoped`)
  }
}

/** The zod issue that comes first, worded as one line with the dotted path of the offending key. */
function firstIssue(issues: readonly z.core.$ZodIssue[], lineOf?: (path: TreePath) => number | undefined): ConfigFieldError {
  const errors = issues.map(toFieldError)
  if (lineOf === undefined) return errors[0]!
  const line = (e: ConfigFieldError): number => lineOf(e.path) ?? Number.MAX_SAFE_INTEGER
  return errors.reduce((best, e) => (line(e) < line(best) ? e : best))
}

function toFieldError(issue: z.core.$ZodIssue): ConfigFieldError {
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!
    return new ConfigFieldError([...(issue.path as (string | number)[]), key], 'unknown key')
  }
  const p = issue.path as (string | number)[]
  if (issue.code === 'invalid_type') {
    return new ConfigFieldError(p, `expected ${issue.expected === 'number' ? 'a number' : issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`}`)
  }
  return new ConfigFieldError(p, issue.message)
}

/**
 * The reference's `ApplyDefaults()`: zero values mean "unset" in Go, so an explicit 0 / "" for a
 * field with a non-zero default takes the default. Fields where 0 is meaningful (airlock timers,
 * max_data_per_minute, retention_days, anomaly_count) are left alone.
 */
function applyDefaults(c: PipelockConfig, file: Record<string, unknown>, warnings: ConfigWarning[]): void {
  const d = defaultConfig()
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
  if (c.seed_phrase_detection.min_words === 0) c.seed_phrase_detection.min_words = 12
  zeroFill(c.forward_proxy, d.forward_proxy, ['max_tunnel_seconds', 'idle_timeout_seconds'])
  zeroFill(c.websocket_proxy, d.websocket_proxy, ['max_message_bytes', 'max_concurrent_connections', 'max_connection_seconds', 'idle_timeout_seconds'])
  if (c.websocket_proxy.origin_policy === '') c.websocket_proxy.origin_policy = d.websocket_proxy.origin_policy
  zeroFill(c.session_profiling, d.session_profiling, [
    'domain_burst',
    'window_minutes',
    'volume_spike_ratio',
    'max_sessions',
    'session_ttl_minutes',
    'cleanup_interval_seconds',
  ])
  if (c.session_profiling.anomaly_action === '') c.session_profiling.anomaly_action = d.session_profiling.anomaly_action
  zeroFill(c.adaptive_enforcement, d.adaptive_enforcement, ['escalation_threshold', 'decay_per_clean_request'])
  zeroFill(c.request_body_scanning, d.request_body_scanning, ['max_body_bytes'])
  if (c.request_body_scanning.action === '') c.request_body_scanning.action = d.request_body_scanning.action
  if (c.request_body_scanning.header_mode === '') c.request_body_scanning.header_mode = d.request_body_scanning.header_mode
  if (c.kill_switch.message === '') c.kill_switch.message = d.kill_switch.message
  zeroFill(c.health_watchdog, d.health_watchdog, ['interval_seconds'])
  // transports §2.1: `<= 0` takes the default (cert_ttl "" is read as 24h where it is parsed).
  const ti = c.tls_interception
  if (ti.cert_cache_size <= 0) ti.cert_cache_size = d.tls_interception.cert_cache_size
  if (ti.max_response_bytes <= 0) ti.max_response_bytes = d.tls_interception.max_response_bytes
  zeroFill(c.flight_recorder, d.flight_recorder, ['checkpoint_interval', 'max_entries_per_file'])
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
  applyMcpDefaults(c)

  c.dlp.patterns = mergeByName<DlpPatternConfig>(c.dlp.include_defaults, DEFAULT_DLP_PATTERNS, c.dlp.patterns)
  // Default response patterns are merged only while response scanning is enabled (§20.1).
  if (rs.enabled) rs.patterns = mergeByName<ResponsePatternConfig>(rs.include_defaults, DEFAULT_RESPONSE_PATTERNS, rs.patterns)
}

function zeroFill<T extends object>(target: T, defaults: T, keys: readonly (keyof T)[]): void {
  for (const k of keys) if (target[k] === 0) target[k] = defaults[k]
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

function resolvePaths(c: PipelockConfig, baseDir: string | undefined): void {
  if (baseDir === undefined) return
  const abs = (p: string): string => (p === '' || path.isAbsolute(p) ? p : path.join(baseDir, p))
  c.dlp.secrets_file = abs(c.dlp.secrets_file)
  c.tls_interception.ca_cert = abs(c.tls_interception.ca_cert)
  c.tls_interception.ca_key = abs(c.tls_interception.ca_key)
  const st = c.emit.syslog.tls
  for (const k of ['ca_file', 'cert_file', 'key_file'] as const) st[k] = abs(st[k])
}

/** MCP sections (mcp.md §14.1): actions are filled only for enabled sections (auto-enable depends on it). */
function applyMcpDefaults(c: PipelockConfig): void {
  const fill = (sec: {enabled: boolean; action: string}): void => {
    if (sec.enabled && sec.action === '') sec.action = 'warn'
  }
  fill(c.mcp_input_scanning)
  fill(c.mcp_tool_scanning)
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
