/**
 * Plain-data settings read by the scanners. The proxy maps the config schema (§20.3) onto this;
 * the scanner never reads config files or the environment itself. Defaults follow `Defaults()`
 * of the reference (§20.2/§20.3).
 */
import type {AddressProtectionSettings} from './address-checker.js'
import type {DlpPatternSpec, ResponsePatternSpec} from './pattern-types.js'

export type ResponseAction = 'strip' | 'warn' | 'block' | 'ask'

export interface CanaryToken {
  readonly name: string
  readonly value: string
}

export interface ScannerSettings {
  /** `mode`; only `strict` changes scanning (the allowlist stage, §5 stage 6). */
  mode: 'strict' | 'balanced' | 'audit'
  /** `enforce`; false turns blocks into would-block in the callers, scanners still classify. */
  enforce: boolean
  /** `api_allowlist` (hostname rules, §5.17). */
  apiAllowlist: string[]
  /** `fetch_proxy.monitoring.blocklist`. */
  blocklist: string[]
  /** `fetch_proxy.monitoring.max_url_length` (<=0 → 2048). */
  maxUrlLength: number
  /** `fetch_proxy.monitoring.entropy_threshold` (<=0 disables the stage). */
  entropyThreshold: number
  /** `fetch_proxy.monitoring.subdomain_entropy_threshold` (<=0 disables). */
  subdomainEntropyThreshold: number
  /** `fetch_proxy.monitoring.subdomain_entropy_exclusions`. */
  subdomainEntropyExclusions: string[]
  /** `fetch_proxy.monitoring.max_requests_per_minute` (<=0 → 60, always on). */
  maxRequestsPerMinute: number
  /** `fetch_proxy.monitoring.max_data_per_minute` bytes (0 = off). */
  maxDataPerMinute: number
  /** `internal` CIDRs; an empty list disables the DNS SSRF stage (core floor stays). */
  internal: string[]
  /** `trusted_domains`. */
  trustedDomains: string[]
  /** `ssrf.ip_allowlist` (CIDRs). */
  ssrfIpAllowlist: string[]
  /**
   * This machine's own interface addresses (CIDRs), injected by the proxy: counted with the core
   * floor, so a destination on one is refused like a private address (`ssrfIpAllowlist` and
   * `trustedDomains` open it as they open those). Absent = none.
   */
  hostAddresses?: string[]
  dlp: {
    /** `dlp.include_defaults`. */
    includeDefaults: boolean
    /** `dlp.patterns`; same name replaces a default, others are appended. */
    patterns: DlpPatternSpec[]
    /** `dlp.scan_env`. */
    scanEnv: boolean
    /** `dlp.min_env_secret_length`. */
    minEnvSecretLength: number
    /**
     * The environment to harvest secrets from when `scanEnv` is true (§5.9). Injected: the proxy
     * passes `process.env`; the scanner never reads it itself. Absent = no env secrets.
     */
    env?: Readonly<Record<string, string | undefined>>
    /** Secrets already loaded from `dlp.secrets_file` (see `parseSecretsFile`). */
    fileSecrets: string[]
  }
  /** `canary_tokens` (checked always — §24 #4 fixed). */
  canaryTokens: CanaryToken[]
  seedPhrase: {
    enabled: boolean
    minWords: 12 | 15 | 18 | 21 | 24
    verifyChecksum: boolean
    /** The 2048-word BIP-39 list; the English list (from `@scure/bip39`) when absent. */
    wordList?: readonly string[]
  }
  responseScanning: {
    enabled: boolean
    action: ResponseAction
    includeDefaults: boolean
    patterns: ResponsePatternSpec[]
    exemptDomains: string[]
    sseStreaming: {enabled: boolean; action: 'block' | 'warn'; maxEventBytes: number}
  }
  requestBodyScanning: {
    enabled: boolean
    action: 'warn' | 'block'
    maxBodyBytes: number
    scanHeaders: boolean
    headerMode: 'sensitive' | 'all'
    sensitiveHeaders: string[]
    ignoreHeaders: string[]
  }
  /**
   * Tool-poison patterns of verified community rule bundles (scanners-extra.md §5.5 step 5), added
   * to MCP tool-definition scanning: `regex` is RE2 source, `scanField` the text it is matched on.
   */
  toolPoison?: ReadonlyArray<{readonly name: string; readonly regex: string; readonly scanField: 'description' | 'name'}>
  /** `address_protection` (scanners-extra §4); absent = off. */
  addressProtection?: AddressProtectionSettings
  /**
   * `dns.host_overrides` (scanners-extra §6): normalised hostname → IPs, consulted instead of the
   * resolver by the SSRF stage and by the proxy's dial. Absent = none.
   */
  hostOverrides?: ReadonlyMap<string, readonly string[]>
}

/** §5.12 default `internal` list. */
export const DEFAULT_INTERNAL_CIDRS: readonly string[] = Object.freeze([
  '0.0.0.0/8', '127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16',
  '100.64.0.0/10', '::1/128', 'fc00::/7', 'fe80::/10', '224.0.0.0/4', 'ff00::/8',
])

/** §20.2 `Defaults()` api_allowlist. */
export const DEFAULT_API_ALLOWLIST: readonly string[] = Object.freeze([
  '*.anthropic.com', '*.openai.com', 'api.telegram.org', '*.discord.com', 'gateway.discord.gg', '*.slack.com',
  'github.com', '*.github.com', '*.githubusercontent.com', 'registry.npmjs.org',
])

/** §20.2 `Defaults()` blocklist. */
export const DEFAULT_BLOCKLIST: readonly string[] = Object.freeze([
  '*.pastebin.com', '*.hastebin.com', '*.paste.ee', '*.transfer.sh', '*.file.io', '*.requestbin.com',
])

export const DEFAULT_SENSITIVE_HEADERS: readonly string[] = Object.freeze([
  'Authorization', 'Cookie', 'X-Api-Key', 'X-Token', 'Proxy-Authorization', 'X-Goog-Api-Key',
])

export const DEFAULT_IGNORE_HEADERS: readonly string[] = Object.freeze([
  'Connection', 'Keep-Alive', 'Proxy-Authenticate', 'Te', 'Trailer', 'Transfer-Encoding', 'Upgrade', 'Host',
  'Content-Length', 'Content-Type', 'Accept', 'Accept-Encoding', 'User-Agent',
])

/** Fresh, mutable defaults (the reference's `Defaults()` merge base, §20.2 recommendation). */
export function defaultScannerSettings(): ScannerSettings {
  return {
    mode: 'balanced',
    enforce: true,
    apiAllowlist: [...DEFAULT_API_ALLOWLIST],
    blocklist: [...DEFAULT_BLOCKLIST],
    maxUrlLength: 2048,
    entropyThreshold: 4.5,
    subdomainEntropyThreshold: 4.0,
    subdomainEntropyExclusions: [],
    maxRequestsPerMinute: 60,
    maxDataPerMinute: 0,
    internal: [...DEFAULT_INTERNAL_CIDRS],
    trustedDomains: [],
    ssrfIpAllowlist: [],
    dlp: {includeDefaults: true, patterns: [], scanEnv: true, minEnvSecretLength: 16, fileSecrets: []},
    canaryTokens: [],
    seedPhrase: {enabled: true, minWords: 12, verifyChecksum: true},
    responseScanning: {
      enabled: true,
      action: 'warn',
      includeDefaults: true,
      patterns: [],
      exemptDomains: [],
      sseStreaming: {enabled: true, action: 'block', maxEventBytes: 65536},
    },
    requestBodyScanning: {
      enabled: true,
      action: 'warn',
      maxBodyBytes: 5 * 1024 * 1024,
      scanHeaders: true,
      headerMode: 'sensitive',
      sensitiveHeaders: [...DEFAULT_SENSITIVE_HEADERS],
      ignoreHeaders: [...DEFAULT_IGNORE_HEADERS],
    },
  }
}
