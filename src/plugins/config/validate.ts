import {readFileSync, statSync} from 'node:fs'
import {posix} from 'node:path'
import RE2 from 're2'
import {BUILTIN_CHAIN_PATTERNS, CHAIN_CATEGORIES, DEFAULT_DLP_PATTERNS, DEFAULT_RESPONSE_PATTERNS} from './builtin-patterns.js'
import {defaultConfig} from './defaults.js'
import {validateEmit} from './emit-config.js'
import {validateAddressProtection, validateDnsOverrides, validateScanApi} from './extra-sections.js'
import {headerNameError, headerValueError} from './header-rules.js'
import {LOG_DIR_MODE, logDirectoryState} from './log-file.js'
import {collisionMessage, configuredListeners, firstCollision} from './listeners.js'
import {checkHostRule, cidrsCoverAll, isCanonicalCidr, isLoopbackHost, mappedIpv4Cidr, parseCidr, parseHostPort} from './net-rules.js'
import {validateAgents} from './agent-profiles.js'
import {osErrorReason} from '../errors/index.js'
import {ConfigFieldError, dotted, type ConfigWarning} from './problems.js'
import {RedactionConfigError, validateRedactionSection} from './redaction-config.js'
import {validateSuppress} from './suppress-validate.js'
import {lineList, overCapReason, parseSecretsFile, SECRETS_FILE_MAX} from './secrets-file.js'
import {certTtlMs} from './tls-settings.js'
import {envelopeSettings} from './envelope-settings.js'
import type {DlpPatternConfig, PipelockConfig, ResponsePatternConfig} from './schema.js'

export interface ValidateOptions {
  /** Environment for `PIPELOCK_KILLSWITCH_API_TOKEN` (a token from env satisfies `api_listen`). */
  readonly env?: Readonly<Record<string, string | undefined>>
}

const MODES = ['strict', 'balanced', 'audit']
const SEVERITIES = ['critical', 'high', 'medium', 'low']
const VALIDATORS = ['luhn', 'mod97', 'aba', 'wif']
const TIERS = ['none', 'soft', 'hard', 'drain']
const SEED_WORD_COUNTS = [12, 15, 18, 21, 24]
const GIB = 1024 * 1024 * 1024

/**
 * §20.4: checks the effective config. Throws a ConfigFieldError for the first fatal problem (in
 * the order below, which follows the spec's list) and returns the non-fatal warnings. Pure except
 * for the `dlp.secrets_file` stat the spec requires.
 */
/** RFC 3339 date-time (`2026-06-01T00:00:00Z`, an offset, optional fraction). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

export function validateConfig(c: PipelockConfig, options: ValidateOptions = {}): ConfigWarning[] {
  const warnings: ConfigWarning[] = []
  const fail = (path: (string | number)[], message: string): never => {
    throw new ConfigFieldError(path, message)
  }
  const oneOf = (path: (string | number)[], value: string, allowed: readonly string[]): void => {
    if (!allowed.includes(value)) fail(path, `must be one of ${allowed.map((a) => (a === '' ? '""' : a)).join(', ')}, got "${value}"`)
  }
  const hostRules = (path: (string | number)[], list: readonly string[], opts: {tldWildcard?: boolean; warnBroad?: boolean} = {}): void => {
    list.forEach((h, i) => {
      const r = checkHostRule(h, opts)
      if (!r.ok) return fail([...path, i], r.message)
      if (r.warning !== undefined) warnings.push({field: dotted([...path, i]), message: r.warning})
    })
  }

  // Fields whose 0 the loader reads as the default (the reference's ApplyDefaults) and whose
  // negative values validation refuses: the message says both, so 0 and -1 are not two stories.
  const d = defaultConfig()
  const positive = (path: (string | number)[], v: number, dflt: number): void => {
    if (!(v > 0)) fail(path, `must be > 0 (0 takes the default ${dflt}), got ${v}`)
  }

  // version: the one schema this release reads; a later one may mean what this release cannot do.
  if (c.version !== 1) fail(['version'], `unsupported config version ${c.version}: this release reads version 1`)

  // mode
  oneOf(['mode'], c.mode, MODES)
  if (c.mode === 'strict' && c.api_allowlist.length === 0) fail(['api_allowlist'], 'strict mode requires a non-empty api_allowlist')
  // Entries are matched as hostnames (§5.17): a URL, a port or a glob would match no host at all.
  hostRules(['api_allowlist'], c.api_allowlist)
  // §20.4 semantics: audit ranks reloads and widens nothing; only enforce: false stops blocking.
  // The reference's docs say audit "blocks nothing", so a file that relies on it is told.
  if (c.mode === 'audit' && c.enforce) {
    warnings.push({field: 'mode', message: 'audit does not stop blocking by itself; set enforce: false to log without blocking'})
  }

  // Entropy is measured in bits per code point (§5.10): above 8 only a value of more than 256
  // distinct characters could reach it, so such a threshold switches the check off in practice.
  for (const [field, v] of [['entropy_threshold', c.fetch_proxy.monitoring.entropy_threshold], ['subdomain_entropy_threshold', c.fetch_proxy.monitoring.subdomain_entropy_threshold]] as const) {
    if (v > 8) warnings.push({field: `fetch_proxy.monitoring.${field}`, message: `${v} is above 8 bits per character: only a value of more than 256 distinct characters can reach it, so this check is off in practice (the default is ${field === 'entropy_threshold' ? '4.5' : '4.0'})`})
  }

  // logging
  oneOf(['logging', 'format'], c.logging.format, ['json', 'text'])
  oneOf(['logging', 'output'], c.logging.output, ['stdout', 'file', 'both'])
  if ((c.logging.output === 'file' || c.logging.output === 'both') && c.logging.file === '') {
    fail(['logging', 'file'], `required when logging.output is "${c.logging.output}"`)
  }
  // A directory can never be opened as the log: run refused it at start (EISDIR), check said OK.
  if ((c.logging.output === 'file' || c.logging.output === 'both') && isDirectory(c.logging.file)) {
    fail(['logging', 'file'], `${c.logging.file} is a directory; name the log file itself (e.g. ${posix.join(c.logging.file, 'audit.log')})`)
  }
  // Its directory: run creates one that is missing (as the recorder does its own), and can create
  // none under a file (ENOTDIR): that refused start-up while check said OK.
  if ((c.logging.output === 'file' || c.logging.output === 'both') && c.logging.file !== '') {
    const dir = logDirectoryState(c.logging.file)
    if (dir.blockedBy !== undefined) fail(['logging', 'file'], `${dir.blockedBy} is not a directory, so ${c.logging.file} cannot be created under it; name a file in a directory`)
    if (dir.missing !== undefined) warnings.push({field: 'logging.file', message: `its directory ${dir.missing} does not exist: pipelock run creates it (mode ${LOG_DIR_MODE.toString(8).padStart(4, '0')}, and any missing directory above it) when it opens the log`})
  }
  if (c.logging.output === 'stdout' && c.logging.file !== '') {
    warnings.push({field: 'logging.file', message: `set while logging.output is "stdout": nothing is written to ${c.logging.file}; set logging.output to "file" or "both" to write it`})
  }
  // operations §7.1: text is the stdout writer's format; the file writer always writes JSON lines.
  if (c.logging.format === 'text' && c.logging.output === 'file') {
    warnings.push({field: 'logging.format', message: 'text applies to stdout only: with logging.output "file" the audit log is written as JSON lines'})
  }

  // A header value pipelock sends itself: one the HTTP client refuses failed every /fetch.
  const ua = headerValueError(c.fetch_proxy.user_agent)
  if (ua !== null) fail(['fetch_proxy', 'user_agent'], ua)

  validateEmit(c)

  // dlp
  if (c.dlp.action !== '') fail(['dlp', 'action'], 'is reserved and must be empty (set action per pattern, warn only)')
  c.dlp.patterns.forEach((p, i) => checkDlpPattern(p, ['dlp', 'patterns', i]))
  if (c.dlp.secrets_file !== '') {
    let mode: number
    try {
      const st = statSync(c.dlp.secrets_file)
      if (!st.isFile()) fail(['dlp', 'secrets_file'], `${c.dlp.secrets_file} is not a regular file`)
      mode = st.mode
    } catch (e) {
      if (e instanceof ConfigFieldError) throw e
      return fail(['dlp', 'secrets_file'], `${c.dlp.secrets_file} cannot be read: ${osErrorReason(e)}`)
    }
    // §5.9: no group write/exec and no access at all for others.
    if ((mode & 0o037) !== 0) {
      fail(['dlp', 'secrets_file'], `${c.dlp.secrets_file} is too permissive (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); use 0600 or 0640`)
    }
    checkSecretsFileBody(c.dlp.secrets_file, c.dlp.min_env_secret_length, warnings)
  }

  // fetch proxy monitoring
  const mon = c.fetch_proxy.monitoring
  mon.blocklist.forEach((b, i) => {
    if (b.trim() === '') fail(['fetch_proxy', 'monitoring', 'blocklist', i], 'blocklist entries must not be empty')
  })
  // A URL, a port or a glob in the blocklist would block nothing; `*.tld` blocks a whole TLD.
  hostRules(['fetch_proxy', 'monitoring', 'blocklist'], mon.blocklist, {tldWildcard: true})
  hostRules(['fetch_proxy', 'monitoring', 'subdomain_entropy_exclusions'], mon.subdomain_entropy_exclusions)
  if (mon.max_requests_per_minute < 0) fail(['fetch_proxy', 'monitoring', 'max_requests_per_minute'], 'must be >= 0')
  if (mon.max_data_per_minute < 0) fail(['fetch_proxy', 'monitoring', 'max_data_per_minute'], 'must be >= 0')

  // response scanning
  const rs = c.response_scanning
  if (rs.mcp_action !== undefined && rs.mcp_action !== '') oneOf(['response_scanning', 'mcp_action'], rs.mcp_action, ['strip', 'warn', 'block', 'ask'])
  if (rs.enabled) {
    oneOf(['response_scanning', 'action'], rs.action, ['strip', 'warn', 'block', 'ask'])
    rs.patterns.forEach((p, i) => checkResponsePattern(p, ['response_scanning', 'patterns', i]))
    oneOf(['response_scanning', 'sse_streaming', 'action'], rs.sse_streaming.action, ['', 'block', 'warn'])
    if (rs.sse_streaming.max_event_bytes < 0) fail(['response_scanning', 'sse_streaming', 'max_event_bytes'], 'must be >= 0')
    hostRules(['response_scanning', 'exempt_domains'], rs.exempt_domains)
  } else if (rs.exempt_domains.length > 0) {
    warnings.push({field: 'response_scanning.exempt_domains', message: 'set while response scanning is disabled; it has no effect'})
  }

  // forward proxy
  if (c.forward_proxy.enabled) {
    for (const k of ['max_tunnel_seconds', 'idle_timeout_seconds'] as const) positive(['forward_proxy', k], c.forward_proxy[k], d.forward_proxy[k])
  }

  // Interception acts on the forward proxy's CONNECT tunnels only: without them nothing is
  // intercepted. Said, not refused, as response_scanning.exempt_domains while scanning is off.
  if (c.tls_interception.enabled && !c.forward_proxy.enabled) {
    warnings.push({field: 'tls_interception.enabled', message: 'is true while forward_proxy.enabled is false: nothing is intercepted (interception applies to the forward proxy\'s CONNECT tunnels); enable forward_proxy'})
  }

  // websocket proxy
  const ws = c.websocket_proxy
  if (ws.enabled) {
    for (const k of ['max_message_bytes', 'max_concurrent_connections', 'max_connection_seconds', 'idle_timeout_seconds'] as const) {
      positive(['websocket_proxy', k], ws[k], d.websocket_proxy[k])
    }
    oneOf(['websocket_proxy', 'origin_policy'], ws.origin_policy, ['rewrite', 'forward', 'strip'])
    if (!ws.strip_compression) fail(['websocket_proxy', 'strip_compression'], 'must be true (compressed frames cannot be scanned)')
    if (ws.max_concurrent_connections * ws.max_message_bytes * 2 > GIB) {
      warnings.push({
        field: 'websocket_proxy',
        message: `max_concurrent_connections x max_message_bytes x 2 = ${ws.max_concurrent_connections * ws.max_message_bytes * 2} bytes exceeds 1 GiB of buffer memory`,
      })
    }
  }

  // mcp_ws_listener (mcp.md §14.1): validated as the reference does; whether it may be set at all
  // is features.ts's business (no MCP WebSocket listener exists, so a non-default value refuses).
  c.mcp_ws_listener.allowed_origins.forEach((o, i) => {
    if (o.trim() === '') fail(['mcp_ws_listener', 'allowed_origins', i], 'is empty')
    else if (!validOrigin(o)) fail(['mcp_ws_listener', 'allowed_origins', i], `${JSON.stringify(o)}: must be a valid origin (e.g. https://example.com)`)
  })

  // session profiling
  const sp = c.session_profiling
  if (sp.enabled) {
    oneOf(['session_profiling', 'anomaly_action'], sp.anomaly_action, ['warn', 'block'])
    for (const k of ['domain_burst', 'window_minutes', 'volume_spike_ratio'] as const) {
      positive(['session_profiling', k], sp[k], d.session_profiling[k])
    }
  }
  for (const k of ['max_sessions', 'session_ttl_minutes', 'cleanup_interval_seconds'] as const) positive(['session_profiling', k], sp[k], d.session_profiling[k])

  // health watchdog: a probe every interval, stale after 3 intervals. A negative interval left
  // /health at 503 for good (a restart loop under a liveness probe); one past an hour is no watchdog.
  const hw = c.health_watchdog.interval_seconds
  if (hw < 1 || hw > 3600) fail(['health_watchdog', 'interval_seconds'], `must be between 1 and 3600 seconds (0 takes the default 2), got ${hw}`)

  // adaptive enforcement
  const ae = c.adaptive_enforcement
  if (ae.enabled) {
    if (!sp.enabled) fail(['adaptive_enforcement', 'enabled'], 'requires session_profiling.enabled')
    for (const k of ['escalation_threshold', 'decay_per_clean_request'] as const) positive(['adaptive_enforcement', k], ae[k], d.adaptive_enforcement[k])
    const order = ['elevated', 'high', 'critical'] as const
    for (const level of order) {
      oneOf(['adaptive_enforcement', 'levels', level, 'upgrade_warn'], ae.levels[level].upgrade_warn, ['', 'block'])
      oneOf(['adaptive_enforcement', 'levels', level, 'upgrade_ask'], ae.levels[level].upgrade_ask, ['', 'block'])
    }
    // Monotonic: a higher level may not be weaker than a lower one.
    for (let i = 1; i < order.length; i++) {
      const lo = ae.levels[order[i - 1]!]
      const hi = ae.levels[order[i]!]
      for (const k of ['upgrade_warn', 'upgrade_ask'] as const) {
        if (lo[k] === 'block' && hi[k] !== 'block') {
          fail(['adaptive_enforcement', 'levels', order[i]!, k], `must be "block" because levels.${order[i - 1]}.${k} is (levels must be monotonic)`)
        }
      }
      if (lo.block_all && !hi.block_all) {
        fail(['adaptive_enforcement', 'levels', order[i]!, 'block_all'], `must be true because levels.${order[i - 1]}.block_all is (levels must be monotonic)`)
      }
    }
    hostRules(['adaptive_enforcement', 'exempt_domains'], ae.exempt_domains)
  }

  // request body scanning
  const rb = c.request_body_scanning
  if (rb.enabled) {
    oneOf(['request_body_scanning', 'action'], rb.action, ['warn', 'block'])
    oneOf(['request_body_scanning', 'header_mode'], rb.header_mode, ['sensitive', 'all'])
    if (rb.max_body_bytes < 0) fail(['request_body_scanning', 'max_body_bytes'], `must be >= 0 (0 takes the default ${d.request_body_scanning.max_body_bytes}), got ${rb.max_body_bytes}`)
  }
  // Header-name lists: an entry that is no RFC 9110 token never equals a header's name. Checked
  // while scanning is off too (the entry is wrong either way, and a reload may turn it on).
  for (const k of ['sensitive_headers', 'ignore_headers'] as const) {
    rb[k].forEach((h, i) => {
      const e = headerNameError(h)
      if (e !== null) fail(['request_body_scanning', k, i], e)
    })
  }

  // seed phrases
  if (!SEED_WORD_COUNTS.includes(c.seed_phrase_detection.min_words)) {
    fail(['seed_phrase_detection', 'min_words'], `must be one of 12, 15, 18, 21, 24, got ${c.seed_phrase_detection.min_words}`)
  }

  // listeners
  const main = parseHostPort(c.fetch_proxy.listen)
  if (main === undefined) fail(['fetch_proxy', 'listen'], `"${c.fetch_proxy.listen}" is not host:port`)
  const ks = c.kill_switch
  ks.allowlist_ips.forEach((ip, i) => {
    if (parseCidr(ip) === undefined) fail(['kill_switch', 'allowlist_ips', i], `"${ip}" is not a CIDR (use /32 or /128 for one address)`)
  })
  let apiPort: number | undefined
  if (ks.api_listen !== '') {
    const hp = parseHostPort(ks.api_listen)
    if (hp === undefined) return fail(['kill_switch', 'api_listen'], `"${ks.api_listen}" is not host:port`)
    if (hp.port === main!.port) fail(['kill_switch', 'api_listen'], `port ${hp.port} is the fetch_proxy.listen port; use a different port`)
    const envToken = options.env?.PIPELOCK_KILLSWITCH_API_TOKEN ?? ''
    if (ks.api_token === '' && envToken === '') {
      fail(['kill_switch', 'api_token'], 'required when kill_switch.api_listen is set (or set PIPELOCK_KILLSWITCH_API_TOKEN)')
    }
    apiPort = hp.port
  }
  if (c.metrics_listen !== '') {
    const hp = parseHostPort(c.metrics_listen)
    if (hp === undefined) return fail(['metrics_listen'], `"${c.metrics_listen}" is not host:port`)
    if (hp.port === main!.port) fail(['metrics_listen'], `port ${hp.port} is the fetch_proxy.listen port; use a different port`)
    if (apiPort !== undefined && hp.port === apiPort) fail(['metrics_listen'], `port ${hp.port} is the kill_switch.api_listen port; use a different port`)
  }

  // SSRF lists
  c.internal.forEach((cidr, i) => {
    if (parseCidr(cidr) === undefined) fail(['internal', i], `"${cidr}" is not a valid CIDR`)
  })
  hostRules(['trusted_domains'], c.trusted_domains)
  // policy-extra §1.2: taint's allowlist takes the trusted_domains rules (a URL or host:port entry
  // would never match, so the domain would raise taint while the file says it does not).
  hostRules(['taint', 'allowlisted_domains'], c.taint.allowlisted_domains)
  hostRules(['forward_proxy', 'raw_tunnel_hosts'], c.forward_proxy.raw_tunnel_hosts)
  // Both lists go through the shared domain matcher (transports §2.6, §3.1): a URL, a port, a path
  // or a glob would match no host, so the tunnel would be intercepted (or the hint never given)
  // while the file says otherwise. `*` and `*.tld` are warned about, not refused (§2.6). Checked
  // whether or not interception / the WebSocket proxy is on: the entry is wrong either way.
  hostRules(['tls_interception', 'passthrough_domains'], c.tls_interception.passthrough_domains, {warnBroad: true})
  hostRules(['forward_proxy', 'redirect_websocket_hosts'], c.forward_proxy.redirect_websocket_hosts, {warnBroad: true})
  c.ssrf.ip_allowlist.forEach((cidr, i) => {
    const parsed = parseCidr(cidr)
    if (parsed === undefined) return fail(['ssrf', 'ip_allowlist', i], `"${cidr}" is not a valid CIDR`)
    if (!isCanonicalCidr(parsed)) fail(['ssrf', 'ip_allowlist', i], `"${cidr}" has host bits set; write the network address`)
    if (parsed.bits === 0) fail(['ssrf', 'ip_allowlist', i], `"${cidr}" would exempt every address`)
    const v4 = mappedIpv4Cidr(parsed)
    if (v4 !== undefined) fail(['ssrf', 'ip_allowlist', i], `"${cidr}" is an IPv4-mapped range: addresses are checked in their IPv4 form, so it would match nothing; ${v4.endsWith('/0') ? 'as IPv4 it is 0.0.0.0/0, every address, which is refused' : `write "${v4}"`}`)
  })
  // Entries that together span a whole family exempt every address as /0 would (0.0.0.0/1 + 128.0.0.0/1).
  const allow = c.ssrf.ip_allowlist.map((x) => parseCidr(x)!)
  for (const [size, family] of [[4, 'IPv4'], [16, 'IPv6']] as const) {
    if (cidrsCoverAll(allow, size)) fail(['ssrf', 'ip_allowlist'], `its entries together cover every ${family} address, which would exempt every address as a /0 would; list only the ranges to reach`)
  }

  // airlock
  const al = c.airlock
  if (al.enabled) {
    if (!sp.enabled) fail(['airlock', 'enabled'], 'requires session_profiling.enabled')
    const t = al.triggers
    oneOf(['airlock', 'triggers', 'on_elevated'], t.on_elevated, TIERS)
    oneOf(['airlock', 'triggers', 'on_high'], t.on_high, TIERS)
    oneOf(['airlock', 'triggers', 'on_critical'], t.on_critical, TIERS)
    const rank = (tier: string): number => TIERS.indexOf(tier)
    if (rank(t.on_elevated) > rank(t.on_high)) fail(['airlock', 'triggers', 'on_high'], 'must not be a lower tier than on_elevated')
    if (rank(t.on_high) > rank(t.on_critical)) fail(['airlock', 'triggers', 'on_critical'], 'must not be a lower tier than on_high')
    oneOf(['airlock', 'triggers', 'on_severity'], t.on_severity, ['', 'high', 'critical'])
    if (t.anomaly_count < 0) fail(['airlock', 'triggers', 'anomaly_count'], 'must be >= 0')
    if (t.anomaly_window_minutes < 0) fail(['airlock', 'triggers', 'anomaly_window_minutes'], 'must be >= 0')
    for (const k of ['soft_minutes', 'hard_minutes', 'drain_minutes', 'drain_timeout_seconds'] as const) {
      if (al.timers[k] < 0) fail(['airlock', 'timers', k], 'must be >= 0')
    }
    // §24 #13: accepted and validated, but inert in the reference and here.
    if (t.on_severity !== '' || t.anomaly_count !== 0) {
      warnings.push({field: 'airlock.triggers', message: 'on_severity and anomaly_count are accepted but have no effect in this version'})
    }
  }

  // containment §4.2: the list is validated but inert (the spec defines no command it would
  // block): a file that sets it must not believe commands are gated.
  if (c.git_protection.blocked_commands.length > 0) {
    warnings.push({field: 'git_protection.blocked_commands', message: 'is accepted but has no effect in this version: no git command is blocked (the pre-push hook and allowed_branches are what git protection enforces)'})
  }

  // cross_request_detection (operations §5.1)
  const cr = c.cross_request_detection
  hostRules(['cross_request_detection', 'entropy_budget', 'exempt_domains'], cr.entropy_budget.exempt_domains)
  if (cr.enabled) {
    if (!cr.entropy_budget.enabled && !cr.fragment_reassembly.enabled) {
      fail(['cross_request_detection', 'enabled'], 'is true but both entropy_budget and fragment_reassembly are disabled (silent no-op)')
    }
    oneOf(['cross_request_detection', 'action'], cr.action, ['block', 'warn'])
    if (cr.entropy_budget.enabled) {
      oneOf(['cross_request_detection', 'entropy_budget', 'action'], cr.entropy_budget.action, ['block', 'warn'])
      if (!(cr.entropy_budget.bits_per_window > 0)) fail(['cross_request_detection', 'entropy_budget', 'bits_per_window'], 'must be > 0')
      if (!(cr.entropy_budget.window_minutes > 0)) fail(['cross_request_detection', 'entropy_budget', 'window_minutes'], 'must be > 0')
    }
    if (cr.fragment_reassembly.enabled) {
      if (!(cr.fragment_reassembly.max_buffer_bytes > 0)) fail(['cross_request_detection', 'fragment_reassembly', 'max_buffer_bytes'], 'must be > 0')
      if (!(cr.fragment_reassembly.window_minutes > 0)) fail(['cross_request_detection', 'fragment_reassembly', 'window_minutes'], 'must be > 0')
    }
  } else if (cr.entropy_budget.exempt_domains.length > 0) {
    warnings.push({field: 'cross_request_detection.entropy_budget.exempt_domains', message: 'configured but cross_request_detection is disabled — these will take effect when enabled'})
  }

  if (c.bind_default_agent_identity && c.default_agent_identity.trim() === '') {
    fail(['default_agent_identity'], 'bind_default_agent_identity requires default_agent_identity')
  }
  if (c.default_agent_identity !== c.default_agent_identity.trim()) {
    fail(['default_agent_identity'], 'default_agent_identity must not contain leading or trailing whitespace')
  }
  validateSuppress(c, warnings)
  // operations.md §2.5: profiles, then each merged profile through these same validators.
  validateAgents(c, (merged) => void validateConfig(merged, options))

  validateFeatureSections(c, fail)
  validateScanApi(c, fail)
  validateAddressProtection(c, fail)
  validateDnsOverrides(c, fail)
  validateA2aAndShield(c, fail, hostRules)
  validateMcpSections(c, fail)
  // Every listener pipelock opens, against each other (agent listeners: validateAgents).
  const clash = firstCollision(configuredListeners(c))
  if (clash !== undefined) fail(clash.later.field.split('.'), collisionMessage(clash.later, clash.earlier))
  warnings.push(...listenWarnings(c))
  return warnings
}

/** `rules` (scanners-extra.md §5.2): the reference's texts, for check and run alike. */
function validateRules(c: PipelockConfig, fail: (path: (string | number)[], message: string) => never): void {
  const r = c.rules
  if (r.min_confidence !== '' && !['high', 'medium', 'low'].includes(r.min_confidence)) {
    fail(['rules', 'min_confidence'], `rules: min_confidence "${r.min_confidence}" must be high, medium, or low`)
  }
  r.disabled.forEach((raw, i) => {
    const v = raw.trim()
    if (v === '') fail(['rules', 'disabled', i], `rules: disabled[${i}] must be non-empty`)
    const colon = v.indexOf(':')
    if (colon >= 0) {
      if (colon === 0 || colon === v.length - 1) fail(['rules', 'disabled', i], `rules: disabled[${i}] "${v}" must be bundle:rule or a glob pattern`)
    } else if (!/[*?]/.test(v)) {
      fail(['rules', 'disabled', i], `rules: disabled[${i}] "${v}" must contain ':' (namespaced) or be a glob pattern with * or ?`)
    }
  })
  r.trusted_keys.forEach((k, i) => {
    if (k.name.trim() === '') fail(['rules', 'trusted_keys', i, 'name'], `rules: trusted_keys[${i}] name must be non-empty`)
    const at = ['rules', 'trusted_keys', i, 'public_key']
    if (k.public_key.length !== 64) fail(at, `rules: trusted_keys[${i}] "${k.name}" public_key must be exactly 64 hex chars`)
    if (k.public_key !== k.public_key.toLowerCase()) fail(at, `rules: trusted_keys[${i}] "${k.name}" public_key must be lowercase hex`)
    if (!/^[0-9a-f]{64}$/.test(k.public_key)) fail(at, `rules: trusted_keys[${i}] "${k.name}" public_key invalid hex: encoding/hex: invalid byte`)
    if (k.tier !== undefined && !['standard', 'community', 'pro'].includes(k.tier)) fail(['rules', 'trusted_keys', i, 'tier'], `rules: trusted_keys[${i}] "${k.name}" tier must be standard, community or pro`)
  })
}

/** Feature-specific checks for sections the proxy does not implement yet (§20.4 last bullet). */
function validateFeatureSections(c: PipelockConfig, fail: (path: (string | number)[], message: string) => never): void {
  // envelope-redaction §13 (runs even when disabled, as the reference does).
  try {
    validateRedactionSection(c.redaction, c.request_body_scanning.enabled)
  } catch (e) {
    if (!(e instanceof RedactionConfigError)) throw e
    // The reference's words (`redaction: redact: …`), at the line of the entry at fault.
    throw new ConfigFieldError(['redaction'], e.prefixed ? `redact: ${e.message}` : e.message, ['redaction', ...e.at])
  }
  const fr = c.flight_recorder
  if (fr.enabled && fr.dir === '') fail(['flight_recorder', 'dir'], 'required when flight_recorder.enabled is true')
  if (!['0600', '0640', '0660'].includes(String(fr.file_mode))) fail(['flight_recorder', 'file_mode'], `must be 0600, 0640 or 0660, got ${fr.file_mode}`)
  if (fr.retention_days < 0) fail(['flight_recorder', 'retention_days'], 'must be >= 0')
  if (fr.enabled && fr.raw_escrow) {
    const k = fr.escrow_public_key.trim()
    if (k === '') fail(['flight_recorder', 'escrow_public_key'], 'is required when raw_escrow is enabled')
    if (!/^[0-9a-fA-F]{64}$/.test(k)) fail(['flight_recorder', 'escrow_public_key'], 'must be 64 hex chars (a 32-byte X25519 public key)')
  }
  // tls_interception (transports §2.1, only when enabled): cert_ttl here, as `run` reads it; empty
  // ca_cert/ca_key mean <pipelock home>/ca.pem and ca-key.pem, and the CA files (which depend on
  // the host) are checked when the proxy builds its interceptor.
  if (c.tls_interception.enabled) certTtlMs(c.tls_interception.cert_ttl)
  if (c.reverse_proxy.enabled && c.reverse_proxy.upstream === '') fail(['reverse_proxy', 'upstream'], 'required when reverse_proxy.enabled is true')
  if (c.reverse_proxy.enabled && !/^https?:\/\/[^/?#@]*@?[^/?#@]+/i.test(c.reverse_proxy.upstream)) {
    fail(['reverse_proxy', 'upstream'], `${JSON.stringify(c.reverse_proxy.upstream)} must be http:// or https:// with a host`)
  }
  if (c.reverse_proxy.enabled && c.reverse_proxy.listen === '') fail(['reverse_proxy', 'listen'], 'required when reverse_proxy is enabled')
  if (c.reverse_proxy.enabled && parseHostPort(c.reverse_proxy.listen) === undefined) fail(['reverse_proxy', 'listen'], `"${c.reverse_proxy.listen}" is not host:port`)
  // Envelope spec §9.2: the same normalization `pipelock run` builds its signer and verifier with
  // (the signing key is read here too), run even while the section is disabled.
  envelopeSettings(c.mediation_envelope, fail)
  // sandbox (containment.md §2.4): checked even when disabled (`pipelock sandbox` ignores `enabled`).
  if (c.sandbox.strict && c.sandbox.best_effort) fail(['sandbox'], 'best_effort and strict are mutually exclusive')
  for (const k of ['allow_read', 'allow_write'] as const) {
    (c.sandbox.filesystem?.[k] ?? []).forEach((p, i) => {
      if (p.trim() === '') fail(['sandbox', 'filesystem', k, i], `sandbox filesystem ${k} contains empty path`)
      if (!p.startsWith('/')) fail(['sandbox', 'filesystem', k, i], `sandbox ${k} "${p}" must be an absolute path`)
    })
  }
  validateMediaPolicy(c, fail)
  validateCanaries(c, fail)
  validateRules(c, fail)
  validateGitProtection(c, fail)
  validateFileSentry(c, fail)
  if (c.taint.enabled && !['', 'strict', 'balanced', 'permissive'].includes(c.taint.policy)) {
    fail(['taint', 'policy'], `must be one of strict, balanced, permissive, got "${c.taint.policy}"`)
  }
  // policy-extra §1.2: protected/elevated path patterns and trust overrides (first error wins).
  for (const k of ['protected_paths', 'elevated_paths'] as const) {
    c.taint[k].forEach((p, i) => {
      if (p.trim() === '') fail(['taint', k, i], 'must not be empty')
    })
  }
  c.taint.trust_overrides.forEach((o, i) => {
    const at = ['taint', 'trust_overrides', i]
    const scope = o.scope.trim().toLowerCase()
    if (scope === '') fail([...at, 'scope'], 'is required')
    if (scope === 'action' && (o.action_match ?? '').trim() === '') fail([...at, 'action_match'], 'is required for scope=action')
    if (scope === 'source' && (o.source_match ?? '').trim() === '') fail([...at, 'source_match'], 'is required for scope=source')
    if (scope !== 'action' && scope !== 'source') fail([...at, 'scope'], `must be action or source, got "${o.scope}"`)
    if (o.expires_at.trim() === '') fail([...at, 'expires_at'], 'is required')
    if (!RFC3339.test(o.expires_at.trim()) || Number.isNaN(Date.parse(o.expires_at))) fail([...at, 'expires_at'], `must be an RFC 3339 time, got "${o.expires_at}"`)
  })

  // learn (learn-compile §17)
  const learn = c.learn
  if (learn.enabled && !learn.capture_dir.startsWith('/')) fail(['learn', 'capture_dir'], 'must be an absolute path when learn.enabled is true')
  const algo = learn.inference.normalization.algorithm
  if (algo !== '' && algo !== 'frequency_weighted_entropy_v1') fail(['learn', 'inference', 'normalization', 'algorithm'], `must be frequency_weighted_entropy_v1, got "${algo}"`)
  for (const [k, v] of Object.entries(learn.inference.floors)) {
    if (v < 0) fail(['learn', 'inference', 'floors', k], `${v}: must be non-negative`)
  }
  const norm = learn.inference.normalization
  for (const k of ['min_events', 'min_distinct_values', 'cardinality_cap_per_host'] as const) {
    if (norm[k] < 0) fail(['learn', 'inference', 'normalization', k], `${norm[k]}: must be non-negative`)
  }
  if (norm.entropy_threshold_bits < 0 || norm.entropy_threshold_bits > 8) fail(['learn', 'inference', 'normalization', 'entropy_threshold_bits'], 'must be between 0 and 8')
  if (norm.tail_promotion_block_pct < 0 || norm.tail_promotion_block_pct > 100) fail(['learn', 'inference', 'normalization', 'tail_promotion_block_pct'], 'must be between 0 and 100')
  norm.reserved_segments_extra.forEach((s, i) => {
    if (s === '') fail(['learn', 'inference', 'normalization', 'reserved_segments_extra', i], 'must not be empty')
  })

  // learn_lock (learn-lifecycle §7.1), in the reference's order.
  const ll = c.learn_lock
  if (ll.enabled) {
    for (const k of ['store_dir', 'roster_path'] as const) {
      if (ll[k] === '') fail(['learn_lock', k], `required when learn_lock.enabled is true`)
      if (!ll[k].startsWith('/')) fail(['learn_lock', k], `must be an absolute path, got "${ll[k]}"`)
    }
    if ((ll.environment?.id ?? '') === '') fail(['learn_lock', 'environment', 'id'], 'required when learn_lock.enabled is true')
    if (ll.mode !== '' && !['live', 'shadow', 'capture'].includes(ll.mode)) fail(['learn_lock', 'mode'], `must be one of live/shadow/capture, got "${ll.mode}"`)
    if (ll.pinned_root_fingerprint === '') fail(['learn_lock', 'pinned_root_fingerprint'], 'required when learn_lock.enabled is true')
    if (!/^sha256:[0-9a-fA-F]{64}$/.test(ll.pinned_root_fingerprint)) {
      fail(['learn_lock', 'pinned_root_fingerprint'], 'must be sha256:<64 lowercase hex>')
    }
    const canon = ll.pinned_root_fingerprint.toLowerCase()
    if (canon !== ll.pinned_root_fingerprint) fail(['learn_lock', 'pinned_root_fingerprint'], `must be lowercase canonical fingerprint "${canon}", got "${ll.pinned_root_fingerprint}"`)
    if (ll.minimum_signatures < 0) fail(['learn_lock', 'minimum_signatures'], `must be >= 0, got ${ll.minimum_signatures}`)
  }
}

/** MCP sections (mcp.md §14.1), in the reference's order and words; first problem wins. */
function validateMcpSections(c: PipelockConfig, fail: (path: (string | number)[], message: string) => never): void {
  const inp = c.mcp_input_scanning
  if (inp.enabled && !['warn', 'block'].includes(inp.action)) fail(['mcp_input_scanning', 'action'], `invalid mcp_input_scanning action "${inp.action}": must be warn or block`)
  if (!['block', 'forward'].includes(inp.on_parse_error)) {
    fail(['mcp_input_scanning', 'on_parse_error'], `invalid mcp_input_scanning on_parse_error "${inp.on_parse_error}": must be block or forward`)
  }
  const ts = c.mcp_tool_scanning
  if (ts.enabled && !['warn', 'block'].includes(ts.action)) fail(['mcp_tool_scanning', 'action'], `invalid mcp_tool_scanning action "${ts.action}": must be warn or block`)
  const tp = c.mcp_tool_policy
  const at = ['mcp_tool_policy']
  if (tp.enabled) {
    if (tp.rules.length === 0) fail([...at, 'rules'], 'mcp_tool_policy is enabled but has no rules; add rules or set enabled: false')
    if (!['warn', 'block', 'redirect'].includes(tp.action)) fail([...at, 'action'], `invalid mcp_tool_policy action "${tp.action}": must be warn, block, or redirect`)
    for (const [name, p] of Object.entries(tp.redirect_profiles)) {
      if (p.exec.length === 0 || p.exec[0] === '') fail([...at, 'redirect_profiles', name], `mcp_tool_policy redirect_profile "${name}" has empty exec`)
      if (p.match_abs_path && !p.exec[0]!.startsWith('/')) {
        fail([...at, 'redirect_profiles', name], `mcp_tool_policy redirect_profile "${name}": match_abs_path is true but exec[0] "${p.exec[0]}" is not absolute`)
      }
    }
    tp.rules.forEach((r, i) => {
      const here = [...at, 'rules', i]
      if (r.name === '') fail(here, `mcp_tool_policy rule ${i} missing name`)
      const pre = `mcp_tool_policy rule "${r.name}"`
      if (r.tool_pattern === '') fail(here, `${pre} missing tool_pattern`)
      const toolErr = compileError(r.tool_pattern)
      if (toolErr !== undefined) fail(here, `${pre} has invalid tool_pattern: ${toolErr}`)
      if (r.arg_pattern) {
        const e = compileError(r.arg_pattern)
        if (e !== undefined) fail(here, `${pre} has invalid arg_pattern: ${e}`)
      }
      if (r.arg_key) {
        if (!r.arg_pattern) fail(here, `${pre} has arg_key without arg_pattern`)
        const e = compileError(r.arg_key)
        if (e !== undefined) fail(here, `${pre} has invalid arg_key: ${e}`)
      }
      if (r.action !== undefined && r.action !== '' && !['warn', 'block', 'redirect'].includes(r.action)) {
        fail(here, `${pre} has invalid action "${r.action}": must be warn, block, or redirect`)
      }
      const eff = r.action !== undefined && r.action !== '' ? r.action : tp.action
      if (eff === 'redirect') {
        if (!r.redirect_profile) fail(here, `${pre} has action=redirect but no redirect_profile`)
        if (!(r.redirect_profile! in tp.redirect_profiles)) fail(here, `${pre} references unknown redirect_profile "${r.redirect_profile}"`)
      }
    })
  }
  const sb = c.mcp_session_binding
  if (sb.enabled) {
    if (!ts.enabled) fail(['mcp_session_binding', 'enabled'], 'mcp_session_binding.enabled requires mcp_tool_scanning.enabled (binding needs tool scanning for baseline capture)')
    for (const k of ['unknown_tool_action', 'no_baseline_action'] as const) {
      if (!['warn', 'block'].includes(sb[k])) fail(['mcp_session_binding', k], `invalid mcp_session_binding.${k} "${sb[k]}": must be warn or block`)
    }
  }
  const bi = c.mcp_binary_integrity
  if (bi.enabled) {
    if (bi.manifest_path === '') fail(['mcp_binary_integrity', 'manifest_path'], 'mcp_binary_integrity.manifest_path is required when enabled')
    if (!['warn', 'block'].includes(bi.action)) fail(['mcp_binary_integrity', 'action'], `invalid mcp_binary_integrity.action "${bi.action}": must be warn or block`)
    if (bi.require_signature && bi.trusted_signer.trim() === '') fail(['mcp_binary_integrity', 'trusted_signer'], 'mcp_binary_integrity.trusted_signer is required when require_signature is true')
  }
  const tc = c.tool_chain_detection
  if (tc.enabled) {
    if (!['warn', 'block'].includes(tc.action)) fail(['tool_chain_detection', 'action'], `invalid tool_chain_detection.action "${tc.action}": must be warn or block`)
    if (tc.max_gap < 0) fail(['tool_chain_detection', 'max_gap'], 'tool_chain_detection.max_gap must be non-negative')
    const builtins = BUILTIN_CHAIN_PATTERNS.map((p) => p.name)
    for (const [name, a] of Object.entries(tc.pattern_overrides)) {
      if (!['warn', 'block'].includes(a)) fail(['tool_chain_detection', 'pattern_overrides', name], `tool_chain_detection.pattern_overrides["${name}"]: invalid action "${a}": must be warn or block`)
      // An override of a name no pattern has changes nothing (a typo would leave the chain at warn).
      if (!builtins.includes(name) && !tc.custom_patterns.some((p) => p.name === name)) {
        fail(['tool_chain_detection', 'pattern_overrides', name], `tool_chain_detection.pattern_overrides["${name}"]: no built-in or custom pattern has this name (built-ins: ${builtins.join(', ')})`)
      }
    }
    const cats: readonly string[] = CHAIN_CATEGORIES
    tc.custom_patterns.forEach((p, i) => {
      const here = ['tool_chain_detection', 'custom_patterns', i]
      if (p.name === '') fail(here, `tool_chain_detection.custom_patterns[${i}] missing name`)
      const pre = `tool_chain_detection.custom_patterns[${i}] "${p.name}"`
      if (p.sequence.length < 2) fail(here, `${pre}: sequence must have at least 2 steps`)
      // Fail closed on a step no call can ever be classified as (the pattern could never fire).
      p.sequence.forEach((s) => {
        if (!cats.includes(s)) fail(here, `${pre}: unknown category "${s}": must be one of ${cats.join(', ')}`)
      })
      if (!['medium', 'high', 'critical'].includes(p.severity)) fail(here, `${pre}: invalid severity "${p.severity}": must be medium, high, or critical`)
      if (p.action !== undefined && p.action !== '' && !['warn', 'block'].includes(p.action)) fail(here, `${pre}: invalid action "${p.action}": must be warn or block`)
    })
  }
}

/** §20.4 listen warnings (non-fatal): non-loopback IP, or an all-interfaces bind. */
function listenWarnings(c: PipelockConfig): ConfigWarning[] {
  const out: ConfigWarning[] = []
  // `what` names the listener, so the warning says what is exposed (not always the proxy).
  const check = (field: string, value: string, what: string, who: string): void => {
    const hp = parseHostPort(value)
    if (hp === undefined) return
    if (hp.host === '' || hp.host === '0.0.0.0' || hp.host === '::') {
      out.push({field, message: `"${value}" listens on all interfaces; anything that can reach this host can use ${what}`})
    } else if (!isLoopbackHost(hp.host)) {
      out.push({field, message: `"${value}" is not a loopback address; make sure only ${who} can reach it`})
    }
  }
  check('fetch_proxy.listen', c.fetch_proxy.listen, 'the proxy', 'your agents')
  if (c.kill_switch.api_listen !== '') check('kill_switch.api_listen', c.kill_switch.api_listen, 'the admin API (kill switch, sessions; token-protected)', 'operators')
  if (c.metrics_listen !== '') check('metrics_listen', c.metrics_listen, 'the metrics endpoint', 'your monitoring')
  if (c.scan_api.listen !== '') check('scan_api.listen', c.scan_api.listen, 'the scan API (token-protected)', 'its clients')
  return out
}

function compileError(source: string): string | undefined {
  try {
    new RE2(source, 'u')
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

const BUILTIN_DLP_NAMES = new Set(DEFAULT_DLP_PATTERNS.map((p) => p.name))
// Catalogue entries are known to compile (a scanner test pins that); skipping them keeps a load
// (and every hot reload) from recompiling ~80 regexes.
const BUILTIN_SOURCES = new Set([...DEFAULT_DLP_PATTERNS, ...DEFAULT_RESPONSE_PATTERNS].map((p) => `${p.name}\u0000${p.regex}`))

function failAt(path: (string | number)[], message: string): never {
  throw new ConfigFieldError(path, message)
}

/** One DLP pattern (§20.4): name, RE2-compilable regex (with the forced `(?i)`), vocabularies, warn-only action. */
export function checkDlpPattern(p: DlpPatternConfig, at: (string | number)[]): void {
  if (p.name.trim() === '') failAt([...at, 'name'], 'pattern needs a name')
  if (p.regex === '') failAt([...at, 'regex'], `pattern "${p.name}" needs a regex`)
  const err = BUILTIN_SOURCES.has(`${p.name}\u0000${p.regex}`) ? undefined : compileError(p.regex.startsWith('(?i)') ? p.regex : `(?i)${p.regex}`)
  if (err !== undefined) failAt([...at, 'regex'], `pattern "${p.name}" does not compile: ${err}`)
  if (p.severity !== undefined && p.severity !== '' && !SEVERITIES.includes(p.severity)) {
    failAt([...at, 'severity'], `must be one of ${SEVERITIES.join(', ')}, got "${p.severity}"`)
  }
  if (p.validator !== undefined && p.validator !== '' && !VALIDATORS.includes(p.validator)) {
    failAt([...at, 'validator'], `must be one of ${VALIDATORS.join(', ')}, got "${p.validator}"`)
  }
  if (p.action !== undefined && p.action !== '') {
    if (p.action !== 'warn') failAt([...at, 'action'], `only "warn" is supported, got "${p.action}"`)
    if (BUILTIN_DLP_NAMES.has(p.name)) failAt([...at, 'action'], `built-in pattern "${p.name}" cannot be demoted to warn`)
  }
  ;(p.exempt_domains ?? []).forEach((h, i) => {
    const r = checkHostRule(h)
    if (!r.ok) failAt([...at, 'exempt_domains', i], r.message)
  })
}

/** One response pattern: named, compilable as written. */
export function checkResponsePattern(p: ResponsePatternConfig, at: (string | number)[]): void {
  if (p.name.trim() === '') failAt([...at, 'name'], 'pattern needs a name')
  const err = p.regex === '' ? 'empty regex' : BUILTIN_SOURCES.has(`${p.name}\u0000${p.regex}`) ? undefined : compileError(p.regex)
  if (err !== undefined) failAt([...at, 'regex'], `pattern "${p.name}" does not compile: ${err}`)
}

/**
 * canary_tokens (containment.md §5.2), always checked. Values are literal: an `env_var` names the
 * variable the value is injected as into a sandboxed or wrapped agent, it is never read from
 * pipelock's own environment (docs/sandbox.md, "Canary tokens").
 */
function validateCanaries(c: PipelockConfig, fail: (path: (string | number)[], message: string) => never): void {
  const ct = c.canary_tokens
  if (ct.enabled && ct.tokens.length === 0) fail(['canary_tokens', 'tokens'], 'canary_tokens.enabled is true but canary_tokens.tokens is empty')
  const names = new Set<string>()
  const values = new Set<string>()
  ct.tokens.forEach((t, i) => {
    const at = `canary_tokens.tokens[${i}]`
    if (t.name.trim() === '') fail(['canary_tokens', 'tokens', i, 'name'], `${at}.name is required`)
    if (t.value.trim() === '') fail(['canary_tokens', 'tokens', i, 'value'], `${at}.value is required`)
    if (Buffer.byteLength(t.value.trim()) < 8) fail(['canary_tokens', 'tokens', i, 'value'], `${at}.value must be at least 8 characters`)
    const n = t.name.trim().toLowerCase()
    if (names.has(n)) fail(['canary_tokens', 'tokens', i, 'name'], `${at}.name "${t.name.trim()}" is duplicated`)
    names.add(n)
    if (values.has(t.value.trim())) fail(['canary_tokens', 'tokens', i, 'value'], `${at}.value is duplicated`)
    values.add(t.value.trim())
    const ev = (t.env_var ?? '').trim()
    if (ev !== '' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(ev)) fail(['canary_tokens', 'tokens', i, 'env_var'], `${at}.env_var "${ev}" is invalid`)
  })
}

/** A URL with a scheme and a host (mcp.md §14.1's origin check). */
function validOrigin(o: string): boolean {
  try {
    const u = new URL(o)
    return u.host !== '' && /^[a-z][a-z0-9+.-]*:$/i.test(u.protocol)
  } catch {
    return false
  }
}

/**
 * scanners-extra §2.2 and §3.2: checked only while the section is enabled (the reference's rule),
 * by `pipelock check` and `pipelock run` alike. Host lists are normalised in place (lower-case,
 * trailing dot dropped) so the runtime matches what was validated.
 */
function validateA2aAndShield(
  c: PipelockConfig,
  fail: (path: (string | number)[], message: string) => never,
  hostRules: (path: (string | number)[], list: readonly string[]) => void,
): void {
  const a = c.a2a_scanning
  if (a.enabled && a.action !== 'warn' && a.action !== 'block') fail(['a2a_scanning', 'action'], `must be warn or block, got "${a.action}"`)
  const b = c.browser_shield
  if (!b.enabled) return
  if (!['minimal', 'standard', 'aggressive'].includes(b.strictness)) {
    fail(['browser_shield', 'strictness'], `must be minimal, standard, or aggressive, got "${b.strictness}"`)
  }
  if (b.max_shield_bytes <= 0) fail(['browser_shield', 'max_shield_bytes'], 'must be positive')
  if (!['block', 'scan_head', 'warn'].includes(b.oversize_action)) {
    fail(['browser_shield', 'oversize_action'], `must be block, scan_head, or warn, got "${b.oversize_action}"`)
  }
  if (b.oversize_action === 'warn' && b.strictness !== 'minimal') {
    fail(['browser_shield', 'oversize_action'], '"warn" is only allowed with strictness "minimal"')
  }
  hostRules(['browser_shield', 'exempt_domains'], b.exempt_domains)
  hostRules(['browser_shield', 'tracking_domains'], b.tracking_domains)
  const norm = (h: string): string => h.trim().toLowerCase().replace(/\.$/, '')
  b.exempt_domains = b.exempt_domains.map(norm)
  b.tracking_domains = b.tracking_domains.map(norm)
}

/** A concrete `image/<subtype>` media type: RFC 6838 restricted-name characters, no wildcard. */
const IMAGE_TYPE = /^image\/[a-z0-9][a-z0-9!#$&^_.+-]*$/

/**
 * media_policy, checked whether or not it is enabled (a reload that turns it on cannot bring in a
 * bad list): allowed image types are concrete `image/…` types, never SVG (active content: scripts
 * and event handlers); `max_image_bytes` is non-negative (0 takes the 5 MiB default).
 */
function validateMediaPolicy(c: PipelockConfig, fail: (path: (string | number)[], message: string) => never): void {
  const m = c.media_policy
  m.allowed_image_types.forEach((t, i) => {
    const type = t.trim().toLowerCase()
    if (type === 'image/svg+xml') fail(['media_policy', 'allowed_image_types', i], 'image/svg+xml cannot be allowed: SVG is active content (scripts, event handlers)')
    if (!IMAGE_TYPE.test(type)) fail(['media_policy', 'allowed_image_types', i], `must be an image/<subtype> media type with a concrete subtype (no wildcards), got "${t}"`)
  })
  if (m.max_image_bytes < 0) fail(['media_policy', 'max_image_bytes'], `must be non-negative (0 means the 5 MiB default), got ${m.max_image_bytes}`)
}

/** git_protection (containment.md §4.2), checked when enabled. */
function validateGitProtection(c: PipelockConfig, fail: (path: (string | number)[], message: string) => never): void {
  const gp = c.git_protection
  if (!gp.enabled) return
  gp.allowed_branches.forEach((p, i) => {
    if (p.trim() === '') fail(['git_protection', 'allowed_branches', i], 'empty allowed_branches pattern')
    if (!globIsValid(p)) fail(['git_protection', 'allowed_branches', i], `invalid allowed_branches glob pattern "${p}": syntax error in pattern`)
  })
  gp.blocked_commands.forEach((b, i) => {
    if (b.trim() === '') fail(['git_protection', 'blocked_commands', i], 'empty blocked_commands entry')
  })
}

function isDirectory(file: string): boolean {
  try {
    return file !== '' && statSync(file).isDirectory()
  } catch {
    return false
  }
}

/** A path.Match-style glob is well formed: every `[` has its `]`, no trailing `\`. */
function globIsValid(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '\\') {
      if (i + 1 >= p.length) return false
      i++
    } else if (p[i] === '[') {
      const end = p.indexOf(']', i + 2)
      if (end < 0) return false
      i = end
    }
  }
  return true
}

/** file_sentry (containment.md §3.2, §3.6), checked when enabled; paths resolve at start. */
function validateFileSentry(c: PipelockConfig, fail: (path: (string | number)[], message: string) => never): void {
  const fs = c.file_sentry
  if (!['warn', 'block'].includes(fs.action)) fail(['file_sentry', 'action'], `file_sentry: action "${fs.action}" must be warn or block`)
  if (!fs.enabled) return
  if (fs.watch_paths.length === 0) fail(['file_sentry', 'watch_paths'], 'file_sentry: watch_paths must be non-empty when enabled')
  fs.watch_paths.forEach((p, i) => {
    if (p.trim() === '') fail(['file_sentry', 'watch_paths', i], `file_sentry: watch_paths[${i}] must not be empty`)
    // A relative path is read from the config file's directory and may not leave it (§3.2).
    const rel = p.startsWith('/') ? '' : posix.normalize(p)
    if (rel === '..' || rel.startsWith('../')) fail(['file_sentry', 'watch_paths', i], `file_sentry: watch_paths[${i}] "${p}" escapes config directory (use absolute path instead)`)
  })
}

/**
 * What the scanner will look for in `dlp.secrets_file`, said at start (secrets-file.ts): a file of
 * more secrets than are looked for is refused; lines that are no secret (too short, too long) are
 * named by number, never by content.
 */
function checkSecretsFileBody(file: string, minLength: number, warnings: ConfigWarning[]): void {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    return failAt(['dlp', 'secrets_file'], `${file} cannot be read: ${osErrorReason(e)}`)
  }
  const parsed = parseSecretsFile(text, minLength)
  if (parsed.total > SECRETS_FILE_MAX) {
    failAt(['dlp', 'secrets_file'], `${overCapReason(file, parsed.total)}: keep at most ${SECRETS_FILE_MAX} in the file (the others would pass unseen)`)
  }
  if (parsed.tooShortLines.length > 0) {
    warnings.push({field: 'dlp.secrets_file', message: `${file}: ${lineList(parsed.tooShortLines)} ${parsed.tooShortLines.length === 1 ? 'is' : 'are'} shorter than dlp.min_env_secret_length (${minLength} bytes) and not looked for`})
  }
  if (parsed.tooLongLines.length > 0) {
    warnings.push({field: 'dlp.secrets_file', message: `${file}: ${lineList(parsed.tooLongLines)} ${parsed.tooLongLines.length === 1 ? 'is' : 'are'} longer than 4096 bytes and not looked for`})
  }
}
