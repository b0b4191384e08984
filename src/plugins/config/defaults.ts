import type {PipelockConfig} from './schema.js'

/** `fetch_proxy.listen` when nothing else is configured (§1.1). */
export const DEFAULT_LISTEN = '127.0.0.1:8888'

/** The 10-entry `api_allowlist` of `Defaults()` (§20.2). */
export const DEFAULT_API_ALLOWLIST: readonly string[] = [
  '*.anthropic.com',
  '*.openai.com',
  'api.telegram.org',
  '*.discord.com',
  'gateway.discord.gg',
  '*.slack.com',
  'github.com',
  '*.github.com',
  '*.githubusercontent.com',
  'registry.npmjs.org',
]

/** The paste-site `fetch_proxy.monitoring.blocklist` of `Defaults()` (§20.2). */
export const DEFAULT_BLOCKLIST: readonly string[] = [
  '*.pastebin.com',
  '*.hastebin.com',
  '*.paste.ee',
  '*.transfer.sh',
  '*.file.io',
  '*.requestbin.com',
]

/** Default `internal` CIDRs, used when the key is absent (§5.12). */
export const DEFAULT_INTERNAL_CIDRS: readonly string[] = [
  '0.0.0.0/8',
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '169.254.0.0/16',
  '100.64.0.0/10',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
  '224.0.0.0/4',
  'ff00::/8',
]

export const DEFAULT_SENSITIVE_HEADERS: readonly string[] = [
  'Authorization',
  'Cookie',
  'X-Api-Key',
  'X-Token',
  'Proxy-Authorization',
  'X-Goog-Api-Key',
]

export const DEFAULT_IGNORE_HEADERS: readonly string[] = [
  'Connection',
  'Keep-Alive',
  'Proxy-Authenticate',
  'Te',
  'Trailer',
  'Transfer-Encoding',
  'Upgrade',
  'Host',
  'Content-Length',
  'Content-Type',
  'Accept',
  'Accept-Encoding',
  'User-Agent',
]

export const DEFAULT_TAINT_ALLOWLISTED_DOMAINS: readonly string[] = ['docs.anthropic.com', 'docs.github.com', 'developer.mozilla.org']
export const DEFAULT_TAINT_PROTECTED_PATHS: readonly string[] = [
  '*/auth/*',
  '*/security/*',
  '*/.github/workflows/*',
  '*/.env*',
  '*/secrets*',
  '*/policy*',
  '*/sandbox*',
]
export const DEFAULT_TAINT_ELEVATED_PATHS: readonly string[] = ['*/config/*', '*/middleware*']

const MIB = 1024 * 1024

/**
 * The merge base: the reference's `Defaults()` (what `pipelock run` uses without `--config`).
 * A config file is merged over this same object, so "no config" and "an empty config file" give
 * the same effective config — the §24 #5 fix (the reference leaves blocklist, allowlist and
 * airlock timers empty/0 when a file is loaded). Pattern lists are empty here: the built-in
 * catalogue is merged in by `resolveConfig` according to `include_defaults`.
 *
 * A fresh object on every call: callers may mutate their copy.
 */
export function defaultConfig(): PipelockConfig {
  return {
    version: 1,
    mode: 'balanced',
    enforce: true,
    explain_blocks: false,
    api_allowlist: [...DEFAULT_API_ALLOWLIST],
    suppress: [],
    fetch_proxy: {
      listen: DEFAULT_LISTEN,
      timeout_seconds: 30,
      max_response_mb: 10,
      user_agent: 'Pipelock Fetch/1.0',
      monitoring: {
        max_url_length: 2048,
        entropy_threshold: 4.5,
        subdomain_entropy_threshold: 4.0,
        max_requests_per_minute: 60,
        max_data_per_minute: 0,
        blocklist: [...DEFAULT_BLOCKLIST],
        subdomain_entropy_exclusions: [],
      },
    },
    forward_proxy: {
      enabled: false,
      max_tunnel_seconds: 300,
      idle_timeout_seconds: 120,
      sni_verification: true,
      redirect_websocket_hosts: [],
      raw_tunnel_hosts: [],
    },
    websocket_proxy: {
      enabled: false,
      max_message_bytes: 1048576,
      max_concurrent_connections: 128,
      scan_text_frames: true,
      allow_binary_frames: false,
      forward_cookies: false,
      strip_compression: true,
      max_connection_seconds: 3600,
      idle_timeout_seconds: 300,
      origin_policy: 'rewrite',
    },
    dlp: {scan_env: true, secrets_file: '', min_env_secret_length: 16, include_defaults: true, patterns: [], action: ''},
    canary_tokens: {enabled: false, tokens: []},
    response_scanning: {
      enabled: true,
      action: 'warn',
      ask_timeout_seconds: 30,
      include_defaults: true,
      patterns: [],
      exempt_domains: [],
      sse_streaming: {enabled: true, action: 'block', max_event_bytes: 65536},
    },
    // Actions stay empty while disabled (reference defaults): MCP auto-enable (mcp.md §14.2)
    // treats a disabled section with an empty action as "unconfigured".
    mcp_input_scanning: {enabled: false, action: '', on_parse_error: 'block'},
    mcp_tool_scanning: {enabled: false, action: '', detect_drift: false},
    mcp_tool_policy: {enabled: false, action: '', rules: [], redirect_profiles: {}, quarantine_dir: ''},
    git_protection: {enabled: false, allowed_branches: [], blocked_commands: [], pre_push_scan: true},
    logging: {format: 'json', output: 'stdout', file: '', include_allowed: true, include_blocked: true},
    session_profiling: {
      enabled: false,
      anomaly_action: 'warn',
      domain_burst: 5,
      window_minutes: 5,
      volume_spike_ratio: 3.0,
      max_sessions: 1000,
      session_ttl_minutes: 30,
      cleanup_interval_seconds: 60,
    },
    adaptive_enforcement: {
      enabled: false,
      escalation_threshold: 5.0,
      decay_per_clean_request: 0.5,
      cooperative_tool_downweight: true,
      exempt_domains: [],
      levels: {
        elevated: {upgrade_warn: 'block', upgrade_ask: '', block_all: false},
        high: {upgrade_warn: 'block', upgrade_ask: 'block', block_all: false},
        critical: {upgrade_warn: 'block', upgrade_ask: 'block', block_all: true},
      },
    },
    mcp_session_binding: {enabled: false, unknown_tool_action: 'warn', no_baseline_action: 'warn'},
    request_body_scanning: {
      enabled: true,
      action: 'warn',
      max_body_bytes: 5 * MIB,
      scan_headers: true,
      header_mode: 'sensitive',
      sensitive_headers: [...DEFAULT_SENSITIVE_HEADERS],
      ignore_headers: [...DEFAULT_IGNORE_HEADERS],
    },
    kill_switch: {
      enabled: false,
      sentinel_file: '',
      message: 'Emergency deny-all active',
      health_exempt: true,
      metrics_exempt: true,
      api_exempt: true,
      api_token: '',
      api_listen: '',
      allowlist_ips: [],
    },
    health_watchdog: {enabled: true, interval_seconds: 2, expose_subsystems: false},
    sentry: {enabled: true, dsn: '', environment: 'production', sample_rate: 1.0, debug: false},
    metrics_listen: '',
    emit: {
      instance_id: '',
      webhook: {url: '', min_severity: 'warn', auth_token: '', timeout_seconds: 5, queue_size: 64},
      syslog: {
        address: '', min_severity: 'warn', facility: 'local0', tag: 'pipelock',
        format: 'bsd', queue_size: 256, tls: {ca_file: '', cert_file: '', key_file: '', server_name: ''},
      },
      otlp: {endpoint: '', headers: {}, timeout_seconds: 10, min_severity: 'warn', queue_size: 256, gzip: false, agent_threat_detection_emit: false},
    },
    tool_chain_detection: {
      enabled: false,
      action: 'warn',
      window_size: 0,
      window_seconds: 0,
      max_gap: 3,
      tool_categories: {},
      pattern_overrides: {},
      custom_patterns: [],
    },
    mcp_ws_listener: {allowed_origins: [], max_connections: 100},
    tls_interception: {
      enabled: false,
      ca_cert: '',
      ca_key: '',
      // transports §2.1: absent or null → this list; an explicit list (even []) replaces it whole.
      passthrough_domains: ['*.googlevideo.com'],
      cert_ttl: '24h',
      cert_cache_size: 10_000,
      max_response_bytes: 5 * 1024 * 1024,
    },
    cross_request_detection: {
      enabled: false,
      action: 'block',
      entropy_budget: {enabled: false, bits_per_window: 0, window_minutes: 0, action: 'warn', exempt_domains: []},
      fragment_reassembly: {enabled: false, max_buffer_bytes: 0, window_minutes: 0},
    },
    reverse_proxy: {enabled: false, listen: ':8890', upstream: ''},
    scan_api: {
      listen: '',
      auth: {bearer_tokens: []},
      rate_limit: {requests_per_minute: 0, burst: 0},
      max_body_bytes: 0,
      field_limits: {url: 0, text: 0, content: 0, arguments: 0},
      timeouts: {read: '', write: '', scan: ''},
      connection_limit: 0,
      kinds: {url: true, dlp: true, prompt_injection: true, tool_call: true},
    },
    address_protection: {
      enabled: false,
      action: 'block',
      unknown_action: 'allow',
      allowed_addresses: [],
      chains: {eth: true, btc: true, sol: false, bnb: true},
      similarity: {prefix_length: 4, suffix_length: 4},
    },
    seed_phrase_detection: {enabled: true, min_words: 12, verify_checksum: true},
    rules: {rules_dir: '', min_confidence: '', include_experimental: false, disabled: [], trusted_keys: []},
    file_sentry: {enabled: false, watch_paths: [], scan_content: true, ignore_patterns: []},
    sandbox: {enabled: false, strict: false, best_effort: false, workspace: ''},
    flight_recorder: {
      enabled: false,
      dir: '',
      checkpoint_interval: 1000,
      retention_days: 0,
      redact: true,
      sign_checkpoints: true,
      max_entries_per_file: 10000,
      file_mode: '0600',
      raw_escrow: false,
      escrow_public_key: '',
      signing_key_path: '',
    },
    mcp_binary_integrity: {enabled: false, manifest_path: '', action: 'warn', require_signature: false, signature_path: '', trusted_signer: '', keystore: ''},
    mcp_tool_provenance: {
      enabled: false,
      action: 'warn',
      mode: 'pipelock',
      trusted_keys: [],
      trusted_issuers: [],
      trusted_subjects: [],
      offline_only: true,
    },
    behavioral_baseline: {
      enabled: false,
      learning_window: 10,
      deviation_action: 'warn',
      profile_dir: '',
      auto_ratify: false,
      sensitivity_sigma: 2.0,
      lock_dimensions: [],
      poison_resistance: true,
      seasonality_mode: 'none',
    },
    airlock: {
      enabled: false,
      triggers: {on_elevated: 'none', on_high: 'soft', on_critical: 'hard', on_severity: '', anomaly_count: 0, anomaly_window_minutes: 5},
      // Defaults() timers (§15); with the single merge base a file without `timers` gets these too.
      timers: {soft_minutes: 10, hard_minutes: 5, drain_minutes: 2, drain_timeout_seconds: 30},
      tool_freeze: {snapshot_on_entry: true, allow_cached_tools: true},
    },
    browser_shield: {
      enabled: false,
      strictness: 'standard',
      max_shield_bytes: 5 * MIB,
      oversize_action: 'scan_head',
      // Configuration reference: challenge providers and developer documentation hosts. Applied
      // when the key is absent; an explicit [] disables every exemption.
      exempt_domains: [
        'challenges.cloudflare.com', 'developer.mozilla.org', 'docs.github.com', 'github.dev', 'go.dev',
        'hcaptcha.com', 'pkg.go.dev', 'vscode.dev', 'www.recaptcha.net',
      ],
      strip_extension_probing: true,
      strip_hidden_traps: true,
      strip_tracking_pixels: true,
      inject_fingerprint_shims: false,
      tracking_domains: [],
    },
    media_policy: {
      enabled: true,
      strip_images: false,
      strip_audio: true,
      strip_video: true,
      allowed_image_types: ['image/png', 'image/jpeg'],
      strip_image_metadata: true,
      max_image_bytes: 5 * MIB,
      log_media_exposure: true,
    },
    a2a_scanning: {
      enabled: false,
      action: 'warn',
      scan_agent_cards: true,
      detect_card_drift: true,
      session_smuggling_detection: true,
      max_context_messages: 100,
      max_contexts: 1000,
      scan_raw_parts: true,
      max_raw_size: MIB,
    },
    taint: {
      enabled: true,
      policy: 'balanced',
      recent_sources: 10,
      allowlisted_domains: [...DEFAULT_TAINT_ALLOWLISTED_DOMAINS],
      protected_paths: [...DEFAULT_TAINT_PROTECTED_PATHS],
      elevated_paths: [...DEFAULT_TAINT_ELEVATED_PATHS],
      trust_overrides: [],
    },
    mediation_envelope: {
      enabled: false,
      sign: false,
      signing_key_path: '',
      key_id: '',
      signed_components: [],
      created_skew_seconds: 0,
      max_body_bytes: 0,
      signature_expires: '',
      actor_format: '',
      trust_domain: '',
      verify_inbound: {enabled: false, trust_list: [], replay_cache: {window: '', max_entries: 0}},
    },
    redaction: {enabled: false},
    learn: {
      enabled: false,
      capture_dir: '',
      privacy: {salt_source: '', public_allowlist_default: true},
      inference: {
        floors: {min_sessions: 5, min_events: 20, min_windows: 3},
        normalization: {
          algorithm: 'frequency_weighted_entropy_v1',
          min_events: 10,
          min_distinct_values: 5,
          entropy_threshold_bits: 3.0,
          reserved_segments_extra: [],
          cardinality_cap_per_host: 1000,
          tail_promotion_block_pct: 5.0,
        },
      },
    },
    learn_lock: {
      enabled: false,
      mode: 'shadow',
      store_dir: '',
      roster_path: '',
      pinned_root_fingerprint: '',
      minimum_signatures: 1,
      ignore_self_declared_agents: false,
      unlocked_agents: [],
    },
    agents: {},
    default_agent_identity: '',
    bind_default_agent_identity: false,
    exclusive_agent_binding: true,
    license_key: '',
    license_file: '',
    license_public_key: '',
    internal: [...DEFAULT_INTERNAL_CIDRS],
    trusted_domains: [],
    ssrf: {ip_allowlist: []},
    dns: {host_overrides: {}},
  }
}
