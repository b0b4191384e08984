/**
 * Config (§20.3) → the scanner's plain-data settings. Lives here, not in the config or scanner
 * plugin, because the proxy is the one place that knows both and injects the environment.
 */
import {dnsOverrides, type PipelockConfig} from '../config/index.js'
import {loadRuleBundles} from '../rules/index.js'
import {loadSecretsFile, type AddressProtectionSettings, type Chain, type ScannerSettings, type DlpPatternSpec, type Severity, type ValidatorName} from '../scanner/index.js'

export interface SettingsContext {
  /** Environment for `dlp.scan_env` (the proxy passes `process.env`); canary values never come from it. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** The running version, for bundles' `min_pipelock` (unchecked when absent). */
  readonly version?: string
  /** This machine's interface addresses as CIDRs (host-addresses.ts): the proxy's SSRF floor counts them. */
  readonly hostAddresses?: readonly string[]
}

function mode(m: string): ScannerSettings['mode'] {
  return m === 'strict' || m === 'audit' ? m : 'balanced'
}

export function scannerSettingsFromConfig(c: PipelockConfig, ctx: SettingsContext): ScannerSettings {
  const fileSecrets = c.dlp.secrets_file === '' ? [] : loadSecretsFile(c.dlp.secrets_file, c.dlp.min_env_secret_length).secrets
  // The config loader already merged the built-in patterns by name (include_defaults), so the
  // scanner gets the final list and must not merge the defaults a second time.
  const patterns: DlpPatternSpec[] = c.dlp.patterns.map((p) => ({
    name: p.name,
    regex: p.regex,
    severity: (p.severity ?? 'high') as Severity,
    ...(p.validator ? {validator: p.validator as ValidatorName} : {}),
    ...(p.exempt_domains && p.exempt_domains.length > 0 ? {exemptDomains: p.exempt_domains} : {}),
    ...(p.action === 'warn' ? {action: 'warn' as const} : {}),
  }))
  // Community rule bundles (scanners-extra.md §5.6): verified bundles add their DLP and injection
  // patterns after the built-in and user ones (names `<bundle>:<rule>`). This is the one place
  // bundle rules reach the scanners; a bundle that fails verification contributes nothing.
  const bundles = loadRuleBundles(c.rules, {env: ctx.env, ...(ctx.version === undefined ? {} : {version: ctx.version})})
  patterns.push(...bundles.dlp)
  const rs = c.response_scanning
  const rb = c.request_body_scanning
  const minWords = [12, 15, 18, 21, 24].includes(c.seed_phrase_detection.min_words) ? c.seed_phrase_detection.min_words : 12
  return {
    mode: mode(c.mode),
    enforce: c.enforce,
    apiAllowlist: [...c.api_allowlist],
    blocklist: [...c.fetch_proxy.monitoring.blocklist],
    maxUrlLength: c.fetch_proxy.monitoring.max_url_length,
    entropyThreshold: c.fetch_proxy.monitoring.entropy_threshold,
    subdomainEntropyThreshold: c.fetch_proxy.monitoring.subdomain_entropy_threshold,
    subdomainEntropyExclusions: [...c.fetch_proxy.monitoring.subdomain_entropy_exclusions],
    maxRequestsPerMinute: c.fetch_proxy.monitoring.max_requests_per_minute,
    maxDataPerMinute: c.fetch_proxy.monitoring.max_data_per_minute,
    internal: [...c.internal],
    trustedDomains: [...c.trusted_domains],
    ssrfIpAllowlist: [...c.ssrf.ip_allowlist],
    ...(ctx.hostAddresses !== undefined && ctx.hostAddresses.length > 0 ? {hostAddresses: [...ctx.hostAddresses]} : {}),
    dlp: {
      includeDefaults: false,
      patterns,
      scanEnv: c.dlp.scan_env,
      minEnvSecretLength: c.dlp.min_env_secret_length,
      ...(c.dlp.scan_env ? {env: ctx.env} : {}),
      fileSecrets,
    },
    // The value is the config's: `env_var` names where it is injected into a sandboxed or wrapped
    // agent (src/plugins/config/canary-env.ts), never a variable read from pipelock's environment.
    canaryTokens: c.canary_tokens.tokens.map((t) => ({name: t.name.trim(), value: t.value.trim()})),
    seedPhrase: {enabled: c.seed_phrase_detection.enabled, minWords: minWords as 12, verifyChecksum: c.seed_phrase_detection.verify_checksum},
    responseScanning: {
      enabled: rs.enabled,
      action: (rs.action === '' ? 'warn' : rs.action) as ScannerSettings['responseScanning']['action'],
      includeDefaults: false,
      patterns: [...rs.patterns.map((p) => ({name: p.name, regex: p.regex})), ...bundles.response],
      exemptDomains: [...rs.exempt_domains],
      sseStreaming: {
        enabled: rs.sse_streaming.enabled,
        action: rs.sse_streaming.action === 'warn' ? 'warn' : 'block',
        maxEventBytes: rs.sse_streaming.max_event_bytes,
      },
    },
    requestBodyScanning: {
      enabled: rb.enabled,
      action: rb.action === 'block' ? 'block' : 'warn',
      maxBodyBytes: rb.max_body_bytes,
      scanHeaders: rb.scan_headers,
      headerMode: rb.header_mode === 'all' ? 'all' : 'sensitive',
      sensitiveHeaders: [...rb.sensitive_headers],
      ignoreHeaders: [...rb.ignore_headers],
    },
    ...(bundles.toolPoison.length > 0 ? {toolPoison: bundles.toolPoison} : {}),
    addressProtection: addressSettings(c),
    hostOverrides: dnsOverrides(c),
  }
}

/** `address_protection` (scanners-extra §4.2); agent additions are already merged by `mergeProfile`. */
function addressSettings(c: PipelockConfig): AddressProtectionSettings {
  const a = c.address_protection
  const ch = a.chains
  return {
    enabled: a.enabled,
    action: a.action === 'warn' ? 'warn' : 'block',
    unknownAction: a.unknown_action === 'warn' || a.unknown_action === 'block' ? a.unknown_action : 'allow',
    allowedAddresses: [...a.allowed_addresses],
    chains: new Set<Chain>([...(ch.eth ? ['eth' as const] : []), ...(ch.btc ? ['btc' as const] : []), ...(ch.sol ? ['sol' as const] : []), ...(ch.bnb ? ['bnb' as const] : [])]),
    prefixLength: a.similarity.prefix_length > 0 ? a.similarity.prefix_length : 4,
    suffixLength: a.similarity.suffix_length > 0 ? a.similarity.suffix_length : 4,
  }
}
