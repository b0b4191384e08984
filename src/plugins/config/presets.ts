import {BUILTIN_TOOL_POLICY_RULES, ENVIRONMENT_DUMP_RULE, type ToolPolicyRuleSpec} from './builtin-tool-policy.js'
import {DEFAULT_DLP_PATTERNS, DEFAULT_RESPONSE_PATTERNS, PRESET_ONLY_RESPONSE_PATTERNS} from './builtin-patterns.js'
import {DEFAULT_API_ALLOWLIST, DEFAULT_BLOCKLIST, DEFAULT_INTERNAL_CIDRS, DEFAULT_LISTEN} from './defaults.js'

/**
 * The shipped presets of §20.5 as data (file-level config objects: exactly what the generated
 * YAML contains). Values the spec's preset table states are used as stated; everything else is
 * the default (and is listed in docs/config.md, "Presets"). Each preset is built fresh on every
 * call so callers may mutate it.
 */
export const PRESET_NAMES = ['balanced', 'strict', 'audit', 'claude-code', 'cursor', 'generic-agent', 'hostile-model'] as const
export type PresetName = (typeof PRESET_NAMES)[number]

export const PRESET_SUMMARIES: Readonly<Record<PresetName, string>> = {
  balanced: 'general use: warn on body and response findings, paste sites blocked, adaptive enforcement on',
  strict: 'allowlist-only egress: tight URL limits, block on body and response findings, cross-request detection on',
  audit: 'observe only: enforce false, everything is logged and nothing is blocked',
  'claude-code': 'coding agent (Claude Code): dev allowlist (registries, docs), relaxed URL limits, block on findings',
  cursor: 'coding agent (Cursor): dev allowlist (registries, docs), relaxed URL limits, block on findings',
  'generic-agent': 'any agent: broad allowlist, relaxed URL limits, warn on findings',
  'hostile-model': 'untrusted model: strict mode, very tight limits, WebSocket proxy on, raised DLP severities',
}

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name)
}

// --- pattern lists the presets carry (§9.5 "Shipped presets …")

const ETHEREUM_ADDRESS = {name: 'Ethereum Address', severity: 'high', regex: '0x[0-9a-fA-F]{40}\\b'}

/** hostile-model raises these nine to critical (§9.5). */
const HOSTILE_RAISED = new Set([
  'Google API Key',
  'Twilio API Key',
  'Mailgun API Key',
  'Linear API Key',
  'Notion API Key',
  'Sentry Auth Token',
  'JWT Token',
  'Google OAuth Client ID',
  'Credential in URL',
])

function presetDlpPatterns(raise: boolean): Record<string, string>[] {
  const list = [...DEFAULT_DLP_PATTERNS, ETHEREUM_ADDRESS].map((p) => {
    const out: Record<string, string> = {name: p.name, regex: p.regex, severity: raise && HOSTILE_RAISED.has(p.name) ? 'critical' : p.severity}
    if ('validator' in p && p.validator !== undefined) out.validator = p.validator
    return out
  })
  return list
}

/** Names the presets drop from the current default response list (§9.5). */
const NOT_IN_PRESETS = new Set([
  'Spanish Instruction Override',
  'Spanish System Prompt Disclosure',
  'Cross-Lingual Instruction Override',
  'Cross-Lingual System Prompt Disclosure',
  'CJK Instruction Override ZH',
  'CJK Instruction Override JP',
  'CJK Instruction Override KR',
  'CJK Jailbreak Mode',
  'Credential Path Directive',
  'Auth Material Requirement',
  'Preference Poisoning',
  'Silent Credential Handling',
])

/** The older regex variants the presets carry (§9.5). */
export const PRESET_VARIANTS: Readonly<Record<string, string>> = {
  'Tool Invocation': '(?i)you\\s+must\\s+(immediately\\s+)?(call|execute|run|invoke)\\s+(the|this)\\s+(function|tool|command|api|endpoint)',
  'Instruction Boundary': '(<\\|(?:endoftext|im_start|im_end|system|end_header_id|begin_of_text)\\|>|\\[/?INST\\]|<\\|(?:user|assistant)\\|>|<</?SYS>>)',
}

function variantRegex(name: string, regex: string): string {
  if (name in PRESET_VARIANTS) return PRESET_VARIANTS[name]!
  // "Instruction Dismissal (verbs set|put|cast|push|throw)" and "Priority Override (no leading \b)".
  if (name === 'Instruction Dismissal') return regex.replace('(set|put)', '(set|put|cast|push|throw)')
  if (name === 'Priority Override') return regex.replace('(?i)\\bprioritize', '(?i)prioritize')
  return regex
}

/** 23 entries (balanced, strict) or 21 (others: no Credential Solicitation, Memory Persistence Directive). */
function presetResponsePatterns(full: boolean): {name: string; regex: string}[] {
  const kept = DEFAULT_RESPONSE_PATTERNS.filter((p) => !NOT_IN_PRESETS.has(p.name))
    .filter((p) => full || (p.name !== 'Credential Solicitation' && p.name !== 'Memory Persistence Directive'))
    .map((p) => ({name: p.name, regex: variantRegex(p.name, p.regex)}))
  return [...kept, ...PRESET_ONLY_RESPONSE_PATTERNS.map((p) => ({name: p.name, regex: p.regex}))]
}

// --- allowlists beyond the 10 defaults (the spec names the kind, not the entries)

const DEV_ALLOWLIST = [
  ...DEFAULT_API_ALLOWLIST,
  'pypi.org',
  'files.pythonhosted.org',
  'registry.yarnpkg.com',
  'proxy.golang.org',
  'sum.golang.org',
  'crates.io',
  'static.crates.io',
  'index.crates.io',
  'rubygems.org',
  'docs.python.org',
  'developer.mozilla.org',
  'nodejs.org',
  'docs.rs',
  'pkg.go.dev',
]

const BROAD_ALLOWLIST = [
  ...DEV_ALLOWLIST,
  '*.googleapis.com',
  '*.huggingface.co',
  '*.wikipedia.org',
  '*.stackoverflow.com',
  '*.stackexchange.com',
  '*.readthedocs.io',
]

interface PresetKnobs {
  mode: 'balanced' | 'strict' | 'audit'
  enforce: boolean
  allowlist: readonly string[]
  maxUrl: number
  entropy: number
  subdomainEntropy?: number
  reqPerMin: number
  bodyAction: 'warn' | 'block'
  responseAction: 'warn' | 'block'
  fullResponseList: boolean
  timeoutSeconds?: number
  maxResponseMb?: number
}

function build(k: PresetKnobs): Record<string, unknown> {
  return {
    version: 1,
    mode: k.mode,
    enforce: k.enforce,
    api_allowlist: [...k.allowlist],
    fetch_proxy: {
      listen: DEFAULT_LISTEN,
      timeout_seconds: k.timeoutSeconds ?? 30,
      max_response_mb: k.maxResponseMb ?? 10,
      user_agent: 'Pipelock Fetch/1.0',
      monitoring: {
        max_url_length: k.maxUrl,
        entropy_threshold: k.entropy,
        subdomain_entropy_threshold: k.subdomainEntropy ?? 4.0,
        max_requests_per_minute: k.reqPerMin,
        max_data_per_minute: 0,
        blocklist: [...DEFAULT_BLOCKLIST],
      },
    },
    forward_proxy: {enabled: true, max_tunnel_seconds: 300, idle_timeout_seconds: 120},
    dlp: {scan_env: true, include_defaults: false, patterns: presetDlpPatterns(false)},
    response_scanning: {
      enabled: true,
      action: k.responseAction,
      include_defaults: false,
      patterns: presetResponsePatterns(k.fullResponseList),
    },
    request_body_scanning: {enabled: true, action: k.bodyAction, max_body_bytes: 5242880, scan_headers: true, header_mode: 'sensitive'},
    seed_phrase_detection: {enabled: true, min_words: 12, verify_checksum: true},
    logging: {format: 'json', output: 'stdout', include_allowed: true, include_blocked: true},
    session_profiling: {
      enabled: true,
      anomaly_action: 'warn',
      domain_burst: 5,
      window_minutes: 5,
      volume_spike_ratio: 3.0,
      max_sessions: 1000,
      session_ttl_minutes: 30,
      cleanup_interval_seconds: 60,
    },
    adaptive_enforcement: {enabled: true, escalation_threshold: 5.0, decay_per_clean_request: 0.5},
    airlock: {
      enabled: false,
      triggers: {on_elevated: 'none', on_high: 'soft', on_critical: 'hard'},
      timers: {soft_minutes: 5, hard_minutes: 15, drain_minutes: 0, drain_timeout_seconds: 30},
    },
    kill_switch: {enabled: false},
    internal: [...DEFAULT_INTERNAL_CIDRS],
  }
}

/**
 * MCP sections of a preset (mcp.md §14.4). Only `strict` and `hostile-model` carry them today:
 * `pipelock run` still refuses enabled MCP sections (it does not treat them as inert yet) and the
 * other five presets must keep starting under `run`. Their §14.4 values: balanced {input warn,
 * tools warn, policy warn with the built-in rule actions, chain warn}; audit {warn with
 * on_parse_error forward, warn, warn with no rule actions}; claude-code and cursor {block, block,
 * warn with the built-in rule actions}; generic-agent {warn, warn, warn with no rule actions}.
 * Until they carry them, `mcp proxy` auto-enables those sections (§14.2).
 */
interface McpKnobs {
  input: 'warn' | 'block'
  onParseError?: 'forward'
  tools: 'warn' | 'block'
  policy: 'warn' | 'block'
  /** Which rules keep their own `block`: the built-in 12, all 17 (strict: 15, i.e. 2/4/7 raised), none, or 18 (hostile). */
  ruleBlocks: 'builtin' | 'strict' | 'none' | 'hostile'
  chain: 'warn' | 'block'
  binding?: boolean
}

function mcpSections(k: McpKnobs): Record<string, unknown> {
  const raised = new Set(['Recursive Permission Change', 'Network Exfiltration', 'Package Install'])
  const rule = (r: ToolPolicyRuleSpec): Record<string, unknown> => {
    const {action, ...rest} = r
    if (k.ruleBlocks === 'none') return {...rest}
    if (k.ruleBlocks === 'hostile' || (k.ruleBlocks === 'strict' && raised.has(r.name))) return {...rest, action: 'block'}
    return action === undefined ? {...rest} : {...rest, action}
  }
  const rules = [...BUILTIN_TOOL_POLICY_RULES, ...(k.ruleBlocks === 'hostile' ? [ENVIRONMENT_DUMP_RULE] : [])].map(rule)
  return {
    mcp_input_scanning: {enabled: true, action: k.input, on_parse_error: k.onParseError ?? 'block'},
    mcp_tool_scanning: {enabled: true, action: k.tools, detect_drift: true},
    mcp_tool_policy: {enabled: true, action: k.policy, rules},
    ...(k.binding ? {mcp_session_binding: {enabled: true, unknown_tool_action: 'warn', no_baseline_action: 'warn'}} : {}),
    tool_chain_detection: {enabled: true, action: k.chain},
  }
}

type Section = Record<string, unknown>
const section = (o: Record<string, unknown>, k: string): Section => o[k] as Section

const BUILDERS: Record<PresetName, () => Record<string, unknown>> = {
  balanced: () =>
    build({mode: 'balanced', enforce: true, allowlist: DEFAULT_API_ALLOWLIST, maxUrl: 2048, entropy: 4.5, reqPerMin: 60, bodyAction: 'warn', responseAction: 'warn', fullResponseList: true}),
  strict: () => {
    const p = build({
      mode: 'strict',
      enforce: true,
      allowlist: DEFAULT_API_ALLOWLIST,
      maxUrl: 500,
      entropy: 3.5,
      subdomainEntropy: 3.5,
      reqPerMin: 30,
      bodyAction: 'block',
      responseAction: 'block',
      fullResponseList: true,
    })
    section(p, 'adaptive_enforcement').escalation_threshold = 3.0
    // The full section (operations §5.7): `{enabled: true}` alone is invalid (both sub-features off).
    p.cross_request_detection = {
      enabled: true,
      action: 'block',
      entropy_budget: {enabled: true, bits_per_window: 4096, window_minutes: 5, action: 'warn'},
      fragment_reassembly: {enabled: true, max_buffer_bytes: 65536, window_minutes: 5},
    }
    Object.assign(p, mcpSections({input: 'block', tools: 'block', policy: 'block', ruleBlocks: 'strict', chain: 'block'}))
    return p
  },
  audit: () =>
    // max_requests_per_minute 0 is rewritten to 60 at load (§24 #6); kept to match the reference preset.
    build({mode: 'audit', enforce: false, allowlist: [], maxUrl: 2048, entropy: 4.5, reqPerMin: 0, bodyAction: 'warn', responseAction: 'warn', fullResponseList: false}),
  'claude-code': () =>
    build({mode: 'balanced', enforce: true, allowlist: DEV_ALLOWLIST, maxUrl: 4096, entropy: 5.0, reqPerMin: 120, bodyAction: 'block', responseAction: 'block', fullResponseList: false}),
  cursor: () =>
    build({mode: 'balanced', enforce: true, allowlist: DEV_ALLOWLIST, maxUrl: 4096, entropy: 5.0, reqPerMin: 120, bodyAction: 'block', responseAction: 'block', fullResponseList: false}),
  'generic-agent': () =>
    build({mode: 'balanced', enforce: true, allowlist: BROAD_ALLOWLIST, maxUrl: 4096, entropy: 5.5, reqPerMin: 120, bodyAction: 'warn', responseAction: 'warn', fullResponseList: false}),
  'hostile-model': () => {
    const p = build({
      mode: 'strict',
      enforce: true,
      allowlist: DEFAULT_API_ALLOWLIST,
      maxUrl: 300,
      entropy: 3.0,
      reqPerMin: 15,
      bodyAction: 'block',
      responseAction: 'block',
      fullResponseList: false,
      timeoutSeconds: 15,
      maxResponseMb: 5,
    })
    section(p, 'dlp').patterns = presetDlpPatterns(true)
    p.websocket_proxy = {enabled: true, max_message_bytes: 1048576, max_concurrent_connections: 128, origin_policy: 'rewrite'}
    // Operations §5.7: as strict, but the entropy budget blocks.
    p.cross_request_detection = {
      enabled: true,
      action: 'block',
      entropy_budget: {enabled: true, bits_per_window: 4096, window_minutes: 5, action: 'block'},
      fragment_reassembly: {enabled: true, max_buffer_bytes: 65536, window_minutes: 5},
    }
    Object.assign(p, mcpSections({input: 'block', tools: 'block', policy: 'block', ruleBlocks: 'hostile', chain: 'block', binding: true}))
    p.media_policy = {
      enabled: true,
      strip_images: false,
      strip_audio: true,
      strip_video: true,
      allowed_image_types: ['image/png', 'image/jpeg'],
      strip_image_metadata: true,
      max_image_bytes: 5242880,
      log_media_exposure: true,
    }
    return p
  },
}

/** The preset as a file-level config object (what `generate config` writes). */
export function presetConfig(name: PresetName): Record<string, unknown> {
  return BUILDERS[name]()
}
