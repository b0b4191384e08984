import {z} from 'zod'

/**
 * The effective (resolved) configuration, runtime.md §20.3. Every object is strict, so the same
 * schema both types the resolved config and, through `fileSchemaOf`, refuses unknown keys at any
 * depth of a config file. Enumerations are plain strings here on purpose: their allowed values
 * are checked by `validateConfig` (§20.4), which words the error the way the reference does and
 * only checks a section's values when the section is enabled.
 *
 * Sections the runtime spec details take their fields from §20.3; the other sections carry the
 * reference's documented YAML field names so a reference config parses (fail-closed on enabling
 * them is `assertImplemented`'s job).
 */

/**
 * Builds the resolved-config schema. A function rather than module-level constants (bench: mcp): the
 * ≈ 1 MiB of schema objects is needed only while a config is resolved, and a long-lived process
 * (the MCP wrap) would otherwise keep it for its whole life; see `configSchemas`.
 */
function buildConfigSchema() {
  const int = z.number().int()
  const num = z.number()
  const str = z.string()
  const bool = z.boolean()
  const strList = z.array(z.string())
  const obj = z.strictObject

  // --- reusable items (array elements are replaced whole, so their own fields say what is required)

  const dlpPatternSchema = obj({
    name: str,
    regex: str,
    severity: str.optional(),
    validator: str.optional(),
    exempt_domains: strList.optional(),
    action: str.optional(),
  })

  const responsePatternSchema = obj({name: str, regex: str})

  const escalationActions = obj({upgrade_warn: str, upgrade_ask: str, block_all: bool})

  const toolPolicyRule = obj({
    name: str,
    tool_pattern: str,
    arg_pattern: str.optional(),
    arg_key: str.optional(),
    action: str.optional(),
    redirect_profile: str.optional(),
  })

  const toolPolicy = obj({
    enabled: bool,
    action: str,
    quarantine_dir: str,
    rules: z.array(toolPolicyRule),
    redirect_profiles: z.record(
      str,
      obj({exec: strList, reason: str.optional(), preserve_argv: bool.optional(), match_abs_path: bool.optional()}),
    ),
  })

  const agentProfile = obj({
    listeners: strList.optional(),
    source_cidrs: strList.optional(),
    mode: str.optional(),
    enforce: bool.optional(),
    api_allowlist: strList.optional(),
    dlp: obj({include_defaults: bool.optional(), patterns: z.array(dlpPatternSchema).optional()}).optional(),
    rate_limit: obj({max_requests_per_minute: int.optional(), max_data_per_minute: int.optional()}).optional(),
    session_profiling: obj({
      domain_burst: int.optional(),
      anomaly_action: str.optional(),
      volume_spike_ratio: num.optional(),
    }).optional(),
    mcp_tool_policy: toolPolicy.partial().optional(),
    budget: obj({
      max_requests_per_session: int.optional(),
      max_bytes_per_session: int.optional(),
      max_unique_domains_per_session: int.optional(),
      window_minutes: int.optional(),
      max_tool_calls_per_session: int.optional(),
      max_concurrent_tool_calls: int.optional(),
      max_wall_clock_minutes: int.optional(),
      max_retries_per_tool: int.optional(),
      max_retries_per_endpoint: int.optional(),
      loop_detection_window: int.optional(),
      fan_out_limit: int.optional(),
      fan_out_window_seconds: int.optional(),
      cost_multipliers: z.record(str, num).optional(),
      dow_action: str.optional(),
    }).optional(),
    allowed_addresses: strList.optional(),
    sandbox: obj({
      enabled: bool.optional(),
      strict: bool.optional(),
      best_effort: bool.optional(),
      workspace: str.optional(),
      filesystem: obj({allow_read: strList.optional(), allow_write: strList.optional()}).optional(),
    }).optional(),
    trusted_domains: strList.optional(),
  })

  return obj({
    version: int,
    mode: str,
    enforce: bool,
    explain_blocks: bool,
    api_allowlist: strList,
    suppress: z.array(obj({rule: str, path: str, reason: str.optional()})),
    fetch_proxy: obj({
      listen: str,
      timeout_seconds: int,
      max_response_mb: int,
      user_agent: str,
      monitoring: obj({
        max_url_length: int,
        entropy_threshold: num,
        subdomain_entropy_threshold: num,
        max_requests_per_minute: int,
        max_data_per_minute: int,
        blocklist: strList,
        subdomain_entropy_exclusions: strList,
      }),
    }),
    forward_proxy: obj({
      enabled: bool,
      max_tunnel_seconds: int,
      idle_timeout_seconds: int,
      sni_verification: bool,
      redirect_websocket_hosts: strList,
      // Hosts whose CONNECT tunnels may carry non-TLS bytes uninspected (issue 10 item 2); default none.
      raw_tunnel_hosts: strList,
    }),
    websocket_proxy: obj({
      enabled: bool,
      max_message_bytes: int,
      max_concurrent_connections: int,
      scan_text_frames: bool,
      allow_binary_frames: bool,
      forward_cookies: bool,
      strip_compression: bool,
      max_connection_seconds: int,
      idle_timeout_seconds: int,
      origin_policy: str,
    }),
    dlp: obj({
      scan_env: bool,
      secrets_file: str,
      min_env_secret_length: int,
      include_defaults: bool,
      patterns: z.array(dlpPatternSchema),
      action: str,
    }),
    canary_tokens: obj({
      enabled: bool,
      tokens: z.array(obj({name: str, value: str, env_var: str.optional()})),
    }),
    response_scanning: obj({
      enabled: bool,
      action: str,
      ask_timeout_seconds: int,
      include_defaults: bool,
      patterns: z.array(responsePatternSchema),
      exempt_domains: strList,
      sse_streaming: obj({enabled: bool, action: str, max_event_bytes: int}),
      // [ext] action on injection in MCP server messages (docs/mcp.md); absent = block in MCP modes.
      mcp_action: str.optional(),
    }),
    mcp_input_scanning: obj({enabled: bool, action: str, on_parse_error: str}),
    mcp_tool_scanning: obj({enabled: bool, action: str, detect_drift: bool}),
    mcp_tool_policy: toolPolicy,
    git_protection: obj({enabled: bool, allowed_branches: strList, blocked_commands: strList, pre_push_scan: bool}),
    logging: obj({format: str, output: str, file: str, include_allowed: bool, include_blocked: bool}),
    session_profiling: obj({
      enabled: bool,
      anomaly_action: str,
      domain_burst: int,
      window_minutes: int,
      volume_spike_ratio: num,
      max_sessions: int,
      session_ttl_minutes: int,
      cleanup_interval_seconds: int,
    }),
    adaptive_enforcement: obj({
      enabled: bool,
      escalation_threshold: num,
      decay_per_clean_request: num,
      cooperative_tool_downweight: bool,
      exempt_domains: strList,
      levels: obj({elevated: escalationActions, high: escalationActions, critical: escalationActions}),
    }),
    mcp_session_binding: obj({enabled: bool, unknown_tool_action: str, no_baseline_action: str}),
    request_body_scanning: obj({
      enabled: bool,
      action: str,
      max_body_bytes: int,
      scan_headers: bool,
      header_mode: str,
      sensitive_headers: strList,
      ignore_headers: strList,
    }),
    kill_switch: obj({
      enabled: bool,
      sentinel_file: str,
      message: str,
      health_exempt: bool,
      metrics_exempt: bool,
      api_exempt: bool,
      api_token: str,
      api_listen: str,
      allowlist_ips: strList,
    }),
    health_watchdog: obj({enabled: bool, interval_seconds: int, expose_subsystems: bool}),
    sentry: obj({enabled: bool, dsn: str, environment: str, sample_rate: num, debug: bool}),
    metrics_listen: str,
    emit: obj({
      instance_id: str,
      webhook: obj({url: str, min_severity: str, auth_token: str, timeout_seconds: int, queue_size: int}),
      // format, queue_size and tls are beyond the reference (OP §3.3, §3.5): excluded from the policy hash.
      syslog: obj({
        address: str,
        min_severity: str,
        facility: str,
        tag: str,
        format: str,
        queue_size: int,
        tls: obj({ca_file: str, cert_file: str, key_file: str, server_name: str}),
      }),
      otlp: obj({
        endpoint: str,
        headers: z.record(str, str),
        timeout_seconds: int,
        min_severity: str,
        queue_size: int,
        gzip: bool,
        agent_threat_detection_emit: bool,
      }),
    }),
    tool_chain_detection: obj({
      enabled: bool,
      action: str,
      window_size: int,
      window_seconds: int,
      max_gap: int,
      tool_categories: z.record(str, strList),
      pattern_overrides: z.record(str, str),
      custom_patterns: z.array(obj({name: str, sequence: strList, severity: str, action: str.optional()})),
    }),
    mcp_ws_listener: obj({allowed_origins: strList, max_connections: int}),
    tls_interception: obj({
      enabled: bool,
      ca_cert: str,
      ca_key: str,
      passthrough_domains: strList,
      cert_ttl: str,
      cert_cache_size: int,
      max_response_bytes: int,
    }),
    cross_request_detection: obj({
      enabled: bool,
      action: str,
      entropy_budget: obj({
        enabled: bool,
        bits_per_window: num,
        window_minutes: int,
        action: str,
        exempt_domains: strList,
      }),
      fragment_reassembly: obj({enabled: bool, max_buffer_bytes: int, window_minutes: int}),
    }),
    reverse_proxy: obj({enabled: bool, listen: str, upstream: str}),
    scan_api: obj({
      listen: str,
      auth: obj({bearer_tokens: strList}),
      rate_limit: obj({requests_per_minute: int, burst: int}),
      max_body_bytes: int,
      field_limits: obj({url: int, text: int, content: int, arguments: int}),
      timeouts: obj({read: str, write: str, scan: str}),
      connection_limit: int,
      kinds: obj({url: bool, dlp: bool, prompt_injection: bool, tool_call: bool}),
    }),
    address_protection: obj({
      enabled: bool,
      action: str,
      unknown_action: str,
      allowed_addresses: strList,
      chains: obj({eth: bool, btc: bool, sol: bool, bnb: bool}),
      similarity: obj({prefix_length: int, suffix_length: int}),
    }),
    seed_phrase_detection: obj({enabled: bool, min_words: int, verify_checksum: bool}),
    rules: obj({
      rules_dir: str,
      min_confidence: str,
      include_experimental: bool,
      disabled: strList,
      trusted_keys: z.array(obj({name: str, public_key: str, tier: str.optional()})),
    }),
    // containment.md §3.2; `action` is the documented key the reference's loader lacks (§3.6).
    file_sentry: obj({enabled: bool, best_effort: bool, watch_paths: strList, scan_content: bool, ignore_patterns: strList, action: str}),
    sandbox: obj({
      enabled: bool,
      strict: bool,
      best_effort: bool,
      workspace: str,
      filesystem: obj({allow_read: strList.optional(), allow_write: strList.optional()}).optional(),
    }),
    flight_recorder: obj({
      enabled: bool,
      dir: str,
      checkpoint_interval: int,
      retention_days: int,
      redact: bool,
      sign_checkpoints: bool,
      max_entries_per_file: int,
      // YAML `0600` is the integer 600 under the YAML 1.2 core schema; both spellings are accepted
      // and normalised to the four-digit octal string by the loader.
      file_mode: z.union([str, int]),
      raw_escrow: bool,
      escrow_public_key: str,
      signing_key_path: str,
    }),
    mcp_binary_integrity: obj({enabled: bool, manifest_path: str, action: str, require_signature: bool, signature_path: str, trusted_signer: str, keystore: str}),
    mcp_tool_provenance: obj({
      enabled: bool,
      action: str,
      mode: str,
      trusted_keys: strList,
      trusted_issuers: strList,
      trusted_subjects: strList,
      offline_only: bool,
    }),
    behavioral_baseline: obj({
      enabled: bool,
      learning_window: int,
      deviation_action: str,
      profile_dir: str,
      auto_ratify: bool,
      sensitivity_sigma: num,
      lock_dimensions: strList,
      poison_resistance: bool,
      seasonality_mode: str,
    }),
    airlock: obj({
      enabled: bool,
      triggers: obj({
        on_elevated: str,
        on_high: str,
        on_critical: str,
        on_severity: str,
        anomaly_count: int,
        anomaly_window_minutes: int,
      }),
      timers: obj({soft_minutes: int, hard_minutes: int, drain_minutes: int, drain_timeout_seconds: int}),
      tool_freeze: obj({snapshot_on_entry: bool, allow_cached_tools: bool}),
    }),
    browser_shield: obj({
      enabled: bool,
      strictness: str,
      max_shield_bytes: int,
      oversize_action: str,
      exempt_domains: strList,
      strip_extension_probing: bool,
      strip_hidden_traps: bool,
      strip_tracking_pixels: bool,
      inject_fingerprint_shims: bool,
      tracking_domains: strList,
    }),
    media_policy: obj({
      enabled: bool,
      strip_images: bool,
      strip_audio: bool,
      strip_video: bool,
      allowed_image_types: strList,
      strip_image_metadata: bool,
      max_image_bytes: int,
      log_media_exposure: bool,
    }),
    a2a_scanning: obj({
      enabled: bool,
      action: str,
      scan_agent_cards: bool,
      detect_card_drift: bool,
      session_smuggling_detection: bool,
      max_context_messages: int,
      max_contexts: int,
      scan_raw_parts: bool,
      max_raw_size: int,
    }),
    taint: obj({
      enabled: bool,
      policy: str,
      recent_sources: int,
      allowlisted_domains: strList,
      protected_paths: strList,
      elevated_paths: strList,
      trust_overrides: z.array(
        obj({
          scope: str,
          source_match: str.optional(),
          action_match: str.optional(),
          expires_at: str,
          granted_by: str.optional(),
          reason: str.optional(),
        }),
      ),
    }),
    mediation_envelope: obj({
      enabled: bool,
      sign: bool,
      signing_key_path: str,
      key_id: str,
      signed_components: strList,
      created_skew_seconds: int,
      max_body_bytes: int,
      signature_expires: str,
      actor_format: str,
      trust_domain: str,
      verify_inbound: obj({
        enabled: bool,
        trust_list: z.array(
          obj({key_id: str, public_key: str.optional(), well_known_url: str.optional(), trust_domains: strList.optional()}),
        ),
        replay_cache: obj({window: str, max_entries: int}),
      }),
    }),
    redaction: obj({
      enabled: bool,
      default_profile: str,
      profiles: z.record(str, obj({classes: strList.optional(), dictionaries: strList.optional()})),
      dictionaries: z.record(str, obj({
        class: str.optional(),
        entries: strList.optional(),
        entries_file: str.optional(),
        case_insensitive: bool.optional(),
        word_boundary: bool.optional(),
        priority: int.optional(),
      })),
      limits: obj({max_body_bytes: int, max_redactions_per_request: int, max_depth: int}),
      strict_reload: bool,
      allowlist_unparseable: strList,
      allowlist_unparseable_routes: z.array(obj({
        host: str,
        methods: strList.optional(),
        path_prefixes: strList.optional(),
        path_suffixes: strList.optional(),
        content_types: strList.optional(),
      })),
      providers: z.record(str, obj({host_patterns: strList.optional(), path_prefixes: strList.optional(), parser: str.optional()})),
    }),
    learn: obj({
      enabled: bool,
      capture_dir: str,
      privacy: obj({salt_source: str, public_allowlist_default: bool}),
      inference: obj({
        floors: obj({min_sessions: int, min_events: int, min_windows: int}),
        normalization: obj({
          algorithm: str,
          min_events: int,
          min_distinct_values: int,
          entropy_threshold_bits: num,
          reserved_segments_extra: strList,
          cardinality_cap_per_host: int,
          tail_promotion_block_pct: num,
        }),
      }),
    }),
    learn_lock: obj({
      enabled: bool,
      mode: str,
      store_dir: str,
      roster_path: str,
      // learn-lifecycle §7.1: all three keys must be present (checked by the loader with the
      // reference's messages, before this schema runs), so absence here means "no environment".
      environment: obj({id: str, tenant: str, deployment_id: str}).optional(),
      pinned_root_fingerprint: str,
      minimum_signatures: int,
      // [beyond] operations.md §2.3 / §12 Q6: a name the agent declares itself never selects a contract.
      ignore_self_declared_agents: bool,
      // [beyond] issue 37: agents let through without a contract while a live contract set is in force.
      unlocked_agents: strList,
    }),
    agents: z.record(str, agentProfile),
    default_agent_identity: str,
    bind_default_agent_identity: bool,
    // [beyond] issue 37: a profile bound to a listener or source CIDR cannot be named from elsewhere.
    exclusive_agent_binding: bool,
    license_key: str,
    license_file: str,
    license_public_key: str,
    internal: strList,
    trusted_domains: strList,
    ssrf: obj({ip_allowlist: strList}),
    dns: obj({host_overrides: z.record(str, strList)}),
  })
}

/** The effective configuration every subsystem reads. Treat it as immutable. */
export type PipelockConfig = z.infer<ReturnType<typeof buildConfigSchema>>

export type DlpPatternConfig = PipelockConfig['dlp']['patterns'][number]
export type ResponsePatternConfig = PipelockConfig['response_scanning']['patterns'][number]

/**
 * The schema of a config *file*: the same tree with every object field optional (absent = take
 * the merge base's value) and every object still strict. Array elements and map values keep
 * their resolved schema: a list or map in a file replaces the default whole.
 */
export function fileSchemaOf(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodObject) {
    const shape: Record<string, z.ZodType> = {}
    for (const [k, v] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      const inner = v instanceof z.ZodOptional ? (v.unwrap() as z.ZodType) : v
      shape[k] = fileSchemaOf(inner).optional()
    }
    return z.strictObject(shape)
  }
  return schema
}

export interface ConfigSchemas {
  /** The effective (resolved) configuration. */
  readonly config: ReturnType<typeof buildConfigSchema>
  /** The same tree as a config file may write it (`fileSchemaOf`). */
  readonly file: z.ZodType
}

// Held weakly: calls close together (a load, a test's many resolves) share one build, and once
// the process is past resolving, the next full collection frees it. A rebuild is the same
// schema from the same code, so which build a call gets changes nothing it returns.
let held: WeakRef<ConfigSchemas> | undefined

/** The config schemas, built on first use and rebuilt if collected since. */
export function configSchemas(): ConfigSchemas {
  let s = held?.deref()
  if (s === undefined) {
    const config = buildConfigSchema()
    s = {config, file: fileSchemaOf(config)}
    held = new WeakRef(s)
  }
  return s
}

/** The top-level keys of §20.3, in schema order. */
export function topLevelKeys(): readonly string[] {
  return Object.keys(configSchemas().config.shape)
}
