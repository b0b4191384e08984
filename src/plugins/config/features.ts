import {PipelockError} from '../errors/index.js'
import type {PipelockConfig} from './schema.js'

/**
 * Every config section (dotted path) that switches on a runtime feature, with the test for "this
 * config turns it on". `assertImplemented` refuses to start when one of them is on but the running
 * build does not implement it (§20.4 last bullet, Appendix B #9): a control that is configured but
 * silently ignored is worse than a refusal.
 */
export const FEATURE_SECTIONS = {
  forward_proxy: (c) => c.forward_proxy.enabled,
  websocket_proxy: (c) => c.websocket_proxy.enabled,
  reverse_proxy: (c) => c.reverse_proxy.enabled,
  tls_interception: (c) => c.tls_interception.enabled,
  response_scanning: (c) => c.response_scanning.enabled,
  'response_scanning.sse_streaming': (c) => c.response_scanning.enabled && c.response_scanning.sse_streaming.enabled,
  request_body_scanning: (c) => c.request_body_scanning.enabled,
  'request_body_scanning.scan_headers': (c) => c.request_body_scanning.enabled && c.request_body_scanning.scan_headers,
  'dlp.scan_env': (c) => c.dlp.scan_env,
  'dlp.secrets_file': (c) => c.dlp.secrets_file !== '',
  canary_tokens: (c) => c.canary_tokens.enabled || c.canary_tokens.tokens.length > 0,
  seed_phrase_detection: (c) => c.seed_phrase_detection.enabled,
  suppress: (c) => c.suppress.length > 0,
  kill_switch: (c) => c.kill_switch.enabled || c.kill_switch.sentinel_file !== '' || c.kill_switch.api_token !== '',
  'kill_switch.api_listen': (c) => c.kill_switch.api_listen !== '',
  metrics_listen: (c) => c.metrics_listen !== '',
  health_watchdog: (c) => c.health_watchdog.enabled,
  session_profiling: (c) => c.session_profiling.enabled,
  adaptive_enforcement: (c) => c.adaptive_enforcement.enabled,
  airlock: (c) => c.airlock.enabled,
  taint: (c) => c.taint.enabled,
  media_policy: (c) => c.media_policy.enabled,
  cross_request_detection: (c) => c.cross_request_detection.enabled,
  mcp_input_scanning: (c) => c.mcp_input_scanning.enabled,
  mcp_tool_scanning: (c) => c.mcp_tool_scanning.enabled,
  mcp_tool_policy: (c) => c.mcp_tool_policy.enabled,
  mcp_session_binding: (c) => c.mcp_session_binding.enabled,
  mcp_binary_integrity: (c) => c.mcp_binary_integrity.enabled,
  mcp_tool_provenance: (c) => c.mcp_tool_provenance.enabled,
  tool_chain_detection: (c) => c.tool_chain_detection.enabled,
  git_protection: (c) => c.git_protection.enabled,
  address_protection: (c) => c.address_protection.enabled,
  file_sentry: (c) => c.file_sentry.enabled,
  sandbox: (c) => c.sandbox.enabled,
  flight_recorder: (c) => c.flight_recorder.enabled,
  behavioral_baseline: (c) => c.behavioral_baseline.enabled,
  browser_shield: (c) => c.browser_shield.enabled,
  a2a_scanning: (c) => c.a2a_scanning.enabled,
  mediation_envelope: (c) => c.mediation_envelope.enabled,
  // Inbound verification is independent of `enabled` (envelope spec §9.3).
  'mediation_envelope.verify_inbound': (c) => c.mediation_envelope.verify_inbound.enabled,
  redaction: (c) => c.redaction.enabled,
  learn: (c) => c.learn.enabled,
  learn_lock: (c) => c.learn_lock.enabled,
  scan_api: (c) => c.scan_api.listen !== '',
  // policy-extra §6: the reference validates mcp_ws_listener and never reads it (no inbound MCP
  // WebSocket listener exists, here either), so anything but the defaults is refused by name.
  mcp_ws_listener: (c) => c.mcp_ws_listener.allowed_origins.length > 0 || c.mcp_ws_listener.max_connections !== 100,
  'emit.webhook': (c) => c.emit.webhook.url !== '',
  'emit.syslog': (c) => c.emit.syslog.address !== '',
  'emit.otlp': (c) => c.emit.otlp.endpoint !== '',
  sentry: (c) => c.sentry.enabled && c.sentry.dsn !== '',
  rules: (c) => c.rules.rules_dir !== '',
  agents: (c) => Object.keys(c.agents).length > 0,
  'logging.file': (c) => c.logging.output === 'file' || c.logging.output === 'both',
  'logging.format.text': (c) => c.logging.format === 'text',
  bind_default_agent_identity: (c) => c.bind_default_agent_identity,
  license: (c) => c.license_key !== '' || c.license_file !== '',
} as const satisfies Record<string, (c: PipelockConfig) => boolean>

export type FeatureSection = keyof typeof FEATURE_SECTIONS

/** The feature section names `assertImplemented` knows about, in check order. */
export const FEATURE_SECTION_NAMES: readonly FeatureSection[] = Object.keys(FEATURE_SECTIONS) as FeatureSection[]

/** The feature sections this config turns on, in FEATURE_SECTION_NAMES order. */
export function enabledFeatures(config: PipelockConfig): FeatureSection[] {
  return FEATURE_SECTION_NAMES.filter((name) => FEATURE_SECTIONS[name](config))
}

/**
 * Throws NOT_IMPLEMENTED naming every section that the config enables but `implemented` lacks
 * (fail closed). `implemented` holds FEATURE_SECTION_NAMES entries. `phase` words the outcome: a
 * refused reload leaves the proxy running on its config, it does not refuse to start.
 */
export function assertImplemented(config: PipelockConfig, implemented: ReadonlySet<string>, phase: 'start' | 'reload' = 'start'): void {
  const missing = enabledFeatures(config).filter((name) => !implemented.has(name))
  if (missing.length === 0) return
  const list = missing.join(', ')
  throw new PipelockError(
    'NOT_IMPLEMENTED',
    `config enables ${missing.length === 1 ? 'a feature' : 'features'} this version does not implement: ${list}; ${phase === 'start' ? 'refusing to start' : 'reload refused (the running config stays)'}`,
    {hint: `disable ${missing.length === 1 ? 'it' : 'them'} in the config (see docs/config.md, "Implemented features")`},
  )
}
