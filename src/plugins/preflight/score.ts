/**
 * `pipelock audit score` (operations.md §7.5): a posture score of a config — 23 categories,
 * 170 points, findings with severities — computed from the effective config alone.
 */
import type {PipelockConfig} from '../config/index.js'

export type FindingSeverity = 'critical' | 'warning' | 'info'

export interface ScoreCategory {
  readonly name: string
  readonly score: number
  readonly max_score: number
  readonly detail?: string
}

export interface ScoreFinding {
  readonly severity: FindingSeverity
  readonly category: string
  readonly message: string
}

export interface ScoreReport {
  readonly total_score: number
  readonly max_score: number
  readonly percentage: number
  readonly grade: string
  readonly categories: ScoreCategory[]
  readonly findings?: ScoreFinding[]
  readonly config_file?: string
}

const HIGH_RISK_TOOLS = ['bash', 'shell', 'exec', 'terminal', 'run_command', 'execute', 'write_file', 'file_write', 'create_file', 'modify_file', 'delete', 'remove', 'rm', 'rmdir']

/** Go `%q` of an ASCII-ish config value (the messages quote actions and names that way). */
function q(s: string): string {
  return JSON.stringify(s)
}

export function scoreConfig(c: PipelockConfig, configFile?: string): ScoreReport {
  const categories: ScoreCategory[] = []
  const findings: ScoreFinding[] = []
  const cat = (name: string, max: number, score: number, detail?: string): void => {
    categories.push({name, score: Math.min(score, max), max_score: max, ...(detail !== undefined ? {detail} : {})})
  }
  const find = (category: string, severity: FindingSeverity, message: string): void => {
    findings.push({severity, category, message})
  }
  /**
   * A category that scores only when its section is on: `score` returns the points (and records the
   * enabled-state findings); off, it scores 0 with the `off` finding.
   */
  const gated = (name: string, max: number, on: boolean, off: [FindingSeverity, string], score: () => number = () => max): void => {
    if (on) cat(name, max, score())
    else {
      cat(name, max, 0)
      find(name, off[0], off[1])
    }
  }

  // DLP
  {
    const n = c.dlp.patterns.length
    let s = 0
    if (n > 0) s += 5 + (n >= 40 ? 5 : n >= 20 ? 3 : 1)
    else find('DLP', 'critical', 'No DLP patterns configured — secrets can leak in URLs and request bodies')
    if (c.dlp.scan_env) s += 3
    else find('DLP', 'warning', 'Environment variable leak scanning is disabled (dlp.scan_env: false)')
    if (c.fetch_proxy.monitoring.entropy_threshold > 0) s += 2
    cat('DLP', 15, s, `${n} patterns`)
  }
  // Response Scanning
  {
    const r = c.response_scanning
    let s = 0
    if (r.enabled) {
      s += 4 + (r.patterns.length >= 10 ? 3 : r.patterns.length > 0 ? 1 : 0)
      if (r.action === 'block' || r.action === 'ask') s += 3
      else find('Response Scanning', 'warning', `Response scanning action is ${q(r.action)} — consider 'block' or 'ask' for enforcement`)
    } else find('Response Scanning', 'critical', "Response scanning is disabled — prompt injection in tool results won't be detected")
    cat('Response Scanning', 10, s, `${r.patterns.length} patterns, action=${r.action}`)
  }
  // MCP Tool Scanning
  {
    const t = c.mcp_tool_scanning
    let s = 0
    if (t.enabled) {
      s += 5 + (t.action === 'block' ? 5 : t.action === 'ask' ? 4 : 2)
      if (t.action !== 'block' && t.action !== 'ask') find('MCP Tool Scanning', 'warning', `Tool scanning action is ${q(t.action)} — poisoned tool descriptions won't be blocked`)
    } else find('MCP Tool Scanning', 'critical', "MCP tool scanning is disabled — tool poisoning and rug-pull attacks won't be detected")
    // Off with no action configured, `mcp proxy` and `run --mcp-listen` turn it on with action block (config
    // resolution fills an enabled section's action, so an enabled one always has one).
    const detail = t.enabled ? `action=${t.action}` : t.action === '' ? 'off; MCP proxy modes enable it, action=block' : 'off'
    cat('MCP Tool Scanning', 10, s, detail)
  }
  // MCP Tool Policy
  {
    const p = c.mcp_tool_policy
    const rules = p.rules
    let s = 0
    if (p.enabled) {
      s += 5 + (rules.length >= 10 ? 5 : rules.length >= 5 ? 3 : rules.length > 0 ? 1 : 0)
      const effective = (r: (typeof rules)[number]): string => (r.action !== undefined && r.action !== '' ? r.action : p.action)
      if (rules.length === 0) find('MCP Tool Policy', 'warning', 'Tool policy is enabled but has no rules — no tool calls will be restricted')
      for (const r of rules) {
        const ap = (r.arg_pattern ?? '').replace(/^\^/, '').replace(/\$$/, '')
        if (r.arg_pattern !== undefined && (ap === '.*' || ap === '.+')) {
          find('MCP Tool Policy', 'warning', `Rule ${q(r.name)} has wildcard arg_pattern ${q(r.arg_pattern)} — matches all arguments, consider narrowing`)
        }
        const tp = r.tool_pattern.toLowerCase()
        if (effective(r) !== 'block' && HIGH_RISK_TOOLS.some((w) => tp.includes(w))) {
          find('MCP Tool Policy', 'warning', `Rule ${q(r.name)} matches high-risk tools but effective action is ${q(effective(r))} — consider 'block'`)
        }
      }
      const blocking = rules.filter((r) => effective(r) === 'block').length
      if (blocking > 0) s += 5
      else if (rules.length > 0) find('MCP Tool Policy', 'warning', 'No tool policy rules effectively block — dangerous tool calls will only generate warnings')
    } else find('MCP Tool Policy', 'warning', 'MCP tool policy is disabled — no pre-execution rules on tool calls')
    cat('MCP Tool Policy', 15, s, `${rules.length} rules`)
  }
  gated('MCP Input Scanning', 5, c.mcp_input_scanning.enabled, ['info', 'MCP input scanning is disabled — agent-to-server DLP and injection checks are off'])
  gated('MCP Session Binding', 5, c.mcp_session_binding.enabled, ['info', "MCP session binding is disabled — tool inventory changes mid-session won't be detected"])
  // Kill Switch
  {
    // [ext] The sources of runtime.md §11.1 a config sets up: config (`enabled`), the API (an
    // api_token on the main listener, or api_listen, which validation lets start only with a token
    // from the config or PIPELOCK_KILLSWITCH_API_TOKEN) and the sentinel file. The reference
    // counts api_listen alone, so an API on the main listener scored as no stop at all. SIGUSR1
    // needs no config and is not counted.
    const k = c.kill_switch
    const api = k.api_token !== '' || k.api_listen !== ''
    const sources = [k.enabled, api, k.sentinel_file !== '']
    const s = (k.enabled ? 4 : 0) + (api ? 3 : 0) + (k.sentinel_file !== '' ? 3 : 0)
    const n = sources.filter(Boolean).length
    if (n === 0) find('Kill Switch', 'warning', 'No kill switch API token or sentinel file configured — only SIGUSR1 on the proxy host can stop traffic in an emergency')
    cat('Kill Switch', 10, s, `${n} sources`)
  }
  // Enforcement
  {
    const s = (c.enforce ? 5 : 0) + (c.mode === 'strict' ? 5 : c.mode === 'balanced' ? 3 : c.mode === 'audit' ? 1 : 0)
    if (!c.enforce) find('Enforcement', 'critical', 'Enforcement is disabled (enforce: false) — pipelock will detect but not block')
    if (c.mode === 'audit') find('Enforcement', 'info', "Mode is 'audit' — all traffic is forwarded regardless of scan results")
    cat('Enforcement', 10, s, `mode=${c.mode}, enforce=${c.enforce}`)
  }
  // Domain Blocklist
  {
    const n = c.fetch_proxy.monitoring.blocklist.length
    if (n === 0) find('Domain Blocklist', 'info', 'No domain blocklist configured — known exfiltration domains are not blocked')
    cat('Domain Blocklist', 5, n > 0 ? 5 : 0, `${n} entries`)
  }
  gated('Adaptive Enforcement', 5, c.adaptive_enforcement.enabled, ['info', 'Adaptive enforcement is disabled — no automatic escalation on suspicious patterns'])
  gated('Tool Chain Detection', 5, c.tool_chain_detection.enabled, ['info', "Tool chain detection is disabled — multi-step attack sequences won't trigger alerts"],
    () => 3 + (c.tool_chain_detection.custom_patterns.length > 0 ? 2 : 0))
  gated('Sandbox', 5, c.sandbox.enabled, ['info', 'Sandbox is not enabled — agent processes run without containment'])
  const ll = c.learn_lock
  gated('Live-Lock Contracts', 10, ll.enabled, ['info', 'Live-lock contracts are disabled — agent behavior drift is not gated'], () => {
    if (ll.mode === 'shadow') find('Live-Lock Contracts', 'info', 'Contract gate is in shadow mode — drift is observed but never blocked')
    else if (ll.mode !== 'live') find('Live-Lock Contracts', 'warning', 'Contract gate is enabled but mode is silent (no signal, no receipts)')
    return 4 + (ll.mode === 'live' ? 6 : ll.mode === 'shadow' ? 3 : 0)
  })
  const red = c.redaction
  gated('Redaction', 10, red.enabled, ['warning', 'Redaction is disabled — provider request/response bodies are not class-preserved'], () => {
    if (!red.strict_reload) find('Redaction', 'info', 'Redaction strict_reload is off — dictionary corruption falls back to last snapshot instead of failing closed')
    return 4 + (red.default_profile !== '' ? 2 : 0) + (Object.keys(red.profiles).length > 0 ? 2 : 0) + (red.strict_reload ? 2 : 0)
  })
  const bs = c.browser_shield
  gated('Browser Shield', 5, bs.enabled, ['info', 'Browser shield is disabled — fetch responses are not stripped of DOM traps or tracking pixels'], () => {
    if (bs.strictness === 'minimal') find('Browser Shield', 'info', 'Browser shield strictness is minimal — DOM injection vectors are largely unfiltered')
    return 2 + (bs.strictness === 'aggressive' ? 3 : bs.strictness === 'standard' ? 2 : bs.strictness === 'minimal' ? 1 : 0)
  })
  const me = c.mediation_envelope
  gated('Mediation Envelope', 5, me.enabled, ['info', 'Mediation envelope is disabled — no federation verification of inbound or signed receipts on outbound'], () => {
    if (!me.sign) find('Mediation Envelope', 'info', 'Mediation envelope is enabled but outbound signing is off — downstream verifiers cannot attest the request')
    return 2 + (me.sign ? 3 : 0)
  })
  const fr = c.flight_recorder
  gated('Flight Recorder', 5, fr.enabled, ['info', 'Flight recorder is disabled — no replayable per-decision evidence is produced'], () => {
    // Checkpoints are signed with signing_key_path's key: sign_checkpoints without a key signs nothing.
    const signs = fr.sign_checkpoints && fr.signing_key_path !== ''
    if (!fr.sign_checkpoints) find('Flight Recorder', 'warning', 'Flight recorder runs but does not sign checkpoints — recorded evidence has no tamper-evident proof')
    if (fr.signing_key_path === '') find('Flight Recorder', 'warning', 'Flight recorder has no signing_key_path — neither receipts nor checkpoints are signed, so recorded evidence has no tamper-evident proof')
    if (!fr.redact) find('Flight Recorder', 'warning', 'Flight recorder is not running DLP on evidence — secrets observed in scanned content land in the recorder verbatim')
    return 2 + (signs ? 2 : 0) + (fr.redact ? 1 : 0)
  })
  const rb = c.request_body_scanning
  gated('Request Body Scanning', 10, rb.enabled, ['critical', 'Request body scanning is disabled — secrets sent in POST/PUT bodies are not detected'], () => {
    if (rb.action !== 'block') find('Request Body Scanning', 'warning', `Request body scanning action is ${q(rb.action)} — consider 'block' for enforcement`)
    if (!rb.scan_headers) find('Request Body Scanning', 'warning', 'Request header DLP is off — secrets in Authorization, X-API-Key, or similar headers will not be detected')
    return 4 + (rb.action === 'block' ? 3 : 0) + (rb.scan_headers ? 3 : 0)
  })
  const xr = c.cross_request_detection
  gated('Cross-Request Detection', 5, xr.enabled, ['info', 'Cross-request detection is disabled — secrets split across multiple requests will not be reassembled'],
    () => 2 + (xr.entropy_budget.enabled ? 2 : 0) + (xr.fragment_reassembly.enabled ? 1 : 0))
  const ap = c.address_protection
  gated('Address Protection', 5, ap.enabled, ['info', 'Address protection is disabled — blockchain address poisoning is not detected'], () => {
    if (ap.unknown_action === 'warn') find('Address Protection', 'info', 'Address protection allows unknown addresses with a warning — a strict allowlist with action=block tightens the surface')
    return 2 + (ap.action === 'block' ? 2 : 0) + (ap.unknown_action === 'block' ? 1 : 0)
  })
  const sp = c.seed_phrase_detection
  gated('Seed-Phrase Detection', 5, sp.enabled, ['critical', 'Seed-phrase detection is disabled — BIP-39 mnemonic leaks will not be detected'], () => {
    if (!sp.verify_checksum) find('Seed-Phrase Detection', 'warning', 'Seed-phrase checksum verification is disabled — mnemonic-like word lists are matched without BIP-39 validation')
    return 3 + (sp.verify_checksum ? 2 : 0)
  })
  const gp = c.git_protection
  gated('Git Protection', 5, gp.enabled, ['info', 'Git protection is disabled — pre-push secret scans and command gating are inactive'],
    // The reference's +1 for blocked_commands is not given: the list blocks nothing (containment
    // §4.2 leaves it inert), and a score must not reward a control that does not act.
    () => 2 + (gp.pre_push_scan ? 2 : 0))
  const fs = c.file_sentry
  gated('File Sentry', 5, fs.enabled, ['info', 'File sentry is disabled — filesystem-watch DLP is inactive'], () => {
    if (fs.watch_paths.length === 0) find('File Sentry', 'warning', 'File sentry is enabled but no watch_paths configured — the feature has no effect')
    return 2 + (fs.watch_paths.length > 0 ? 2 : 0) + (fs.scan_content ? 1 : 0)
  })

  const total = categories.reduce((a, x) => a + x.score, 0)
  const max = categories.reduce((a, x) => a + x.max_score, 0)
  const percentage = Math.floor((total * 100) / max)
  const grade = percentage >= 90 ? 'A' : percentage >= 80 ? 'B' : percentage >= 70 ? 'C' : percentage >= 60 ? 'D' : 'F'
  return {
    total_score: total, max_score: max, percentage, grade, categories,
    ...(findings.length > 0 ? {findings} : {}),
    ...(configFile !== undefined ? {config_file: configFile} : {}),
  }
}

const TAG: Readonly<Record<FindingSeverity, string>> = {critical: '  [CRITICAL] ', warning: '  [WARNING]  ', info: '  [INFO]     '}

/** The text report (§7.5). */
export function renderScore(r: ScoreReport): string {
  const lines = ['Pipelock Config Security Score', '==============================', `Config: ${r.config_file ?? '(built-in defaults)'}`, '']
  for (const c of r.categories) {
    const filled = Math.floor((c.score * 10) / c.max_score)
    const bar = '#'.repeat(filled) + '-'.repeat(10 - filled)
    lines.push(`  ${c.name.padEnd(25)} [${bar}] ${c.score}/${c.max_score}${c.detail !== undefined ? ` (${c.detail})` : ''}`)
  }
  lines.push('', `Overall: ${r.total_score}/${r.max_score} (${r.percentage}%) Grade: ${r.grade}`)
  if (r.findings !== undefined) {
    lines.push('', 'Recommendations:')
    for (const f of r.findings) lines.push(TAG[f.severity] + f.message)
  }
  return lines.join('\n') + '\n'
}
