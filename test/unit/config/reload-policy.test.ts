import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {FEATURE_SWITCHES, NUMERIC_THRESHOLDS, reloadDowngrades, reloadRejection} from '../../../src/plugins/config/reload-policy.js'
import {A2A_SWITCHES} from '../../../src/plugins/config/reload-section-downgrades.js'
import {repoPath} from '../../helpers/vectors.js'
import {load, tempDir} from './helpers.js'

/** The downgrade lines from the config `before` to the config `after` (YAML texts). */
const downgrades = (before: string, after: string): string[] => reloadDowngrades(load(before).config, load(after).config)

test('TLS interception: turning it off and adding passthrough entries are downgrades, in the reference words', () => {
  const t = tempDir()
  try {
    const cert = t.file('ca.pem', 'x\n', 0o600)
    const key = t.file('ca-key.pem', 'x\n', 0o600)
    const tls = (enabled: boolean, passthrough: string[]): string =>
      `mode: strict\napi_allowlist: [localhost]\ntls_interception:\n  enabled: ${enabled}\n  ca_cert: ${cert}\n  ca_key: ${key}\n  passthrough_domains: ${JSON.stringify(passthrough)}\n`
    assert.deepEqual(downgrades(tls(true, []), tls(false, [])), ['TLS interception disabled — CONNECT tunnel body/header scanning lost'])
    assert.deepEqual(downgrades(tls(true, ['a.example']), tls(true, ['a.example', 'localhost', 'b.example'])), [
      'passthrough domains added: localhost, b.example — these CONNECT tunnels now bypass body scanning',
    ])
    // a set difference: renaming an entry adds one
    assert.deepEqual(downgrades(tls(true, ['a.example']), tls(true, ['c.example'])), ['passthrough domains added: c.example — these CONNECT tunnels now bypass body scanning'])
    assert.deepEqual(downgrades(tls(true, ['a.example', 'b.example']), tls(true, ['a.example'])), [])
    assert.deepEqual(downgrades(tls(false, []), tls(true, [])), [])
    // interception off in either config: passthrough entries bypass nothing more
    assert.deepEqual(downgrades(tls(false, []), tls(false, ['localhost'])), [])
    // and in strict mode the line refuses the reload
    const running = load(tls(true, [])).config
    const next = load(tls(false, [])).config
    assert.match(reloadRejection(running, running, next, reloadDowngrades(running, next)) ?? '', /^rejected: security downgrade from strict mode \(TLS interception disabled — CONNECT tunnel body\/header scanning lost\); /)
  } finally {
    t.cleanup()
  }
})

test('DLP patterns are compared by name: an edited regex, a lowered severity, warn, a validator or an exempt domain is a downgrade', () => {
  const dlp = (...patterns: string[]): string => `dlp:\n  patterns:\n${patterns.map((p) => `    - ${p}\n`).join('')}`
  const acme = '{name: Acme Key, regex: "acmekey-[0-9]{8}", severity: critical}'
  // the count stays the same: the old comparison missed this
  assert.deepEqual(downgrades(dlp(acme), dlp('{name: Acme Key, regex: "acmekey-NEVER-[0-9]{8}", severity: critical}')), [
    'dlp.patterns["Acme Key"].regex: changed (an edited regex may no longer match what it did)',
  ])
  assert.deepEqual(downgrades(dlp(acme), dlp('{name: Acme Key, regex: "acmekey-[0-9]{8}", severity: low}')), ['dlp.patterns["Acme Key"].severity: critical -> low'])
  // an absent severity is read as high
  assert.deepEqual(downgrades(dlp('{name: Acme Key, regex: "a"}'), dlp('{name: Acme Key, regex: "a", severity: medium}')), ['dlp.patterns["Acme Key"].severity: high -> medium'])
  assert.deepEqual(downgrades(dlp('{name: Acme Key, regex: "a", severity: low}'), dlp('{name: Acme Key, regex: "a", severity: critical}')), [])
  assert.deepEqual(downgrades(dlp(acme), dlp('{name: Acme Key, regex: "acmekey-[0-9]{8}", severity: critical, action: warn}')), ['dlp.patterns["Acme Key"].action: block -> warn'])
  assert.deepEqual(downgrades(dlp(acme), dlp('{name: Acme Key, regex: "acmekey-[0-9]{8}", severity: critical, validator: luhn}')), ['dlp.patterns["Acme Key"].validator: none -> luhn'])
  assert.deepEqual(downgrades(dlp(acme), dlp('{name: Acme Key, regex: "acmekey-[0-9]{8}", severity: critical, exempt_domains: [api.acme.example]}')), [
    'dlp.patterns["Acme Key"].exempt_domains: added api.acme.example',
  ])
  // a renamed pattern: the old name is gone (a new one only adds detection)
  assert.deepEqual(downgrades(dlp(acme), dlp('{name: Acme Key 2, regex: "acmekey-[0-9]{8}", severity: critical}')), ['dlp.patterns: 49 -> 49 patterns (removed "Acme Key")'])
  assert.deepEqual(downgrades(dlp(acme), dlp(acme, '{name: Beta, regex: "beta-[0-9]{8}"}')), [])
  assert.deepEqual(downgrades(dlp(acme, '{name: Beta, regex: "beta-[0-9]{8}"}'), dlp(acme)), ['dlp.patterns: 50 -> 49 patterns (removed "Beta")'])
  // dropping the defaults names the first five and counts the rest
  const [line] = downgrades('dlp:\n  include_defaults: true\n', 'dlp:\n  include_defaults: false\n').filter((l) => l.startsWith('dlp.patterns'))
  assert.match(line ?? '', /^dlp\.patterns: 48 -> 0 patterns \(removed "[^"]+", "[^"]+", "[^"]+", "[^"]+", "[^"]+" and 43 more\)$/)
})

test('response (injection) patterns are compared by name while response scanning is on', () => {
  const rs = (regex: string, enabled = true): string => `response_scanning:\n  enabled: ${enabled}\n  action: block\n  patterns:\n    - {name: Acme Injection, regex: "${regex}"}\n`
  assert.deepEqual(downgrades(rs('ignore acme'), rs('ignore acme NEVER')), ['response_scanning.patterns["Acme Injection"].regex: changed (an edited regex may no longer match what it did)'])
  assert.deepEqual(downgrades(rs('ignore acme'), rs('ignore acme')), [])
  assert.deepEqual(downgrades(rs('ignore acme'), rs('ignore acme NEVER', false)), ['response_scanning.enabled: true -> false'])
})

test('numeric thresholds: raising a limit, or shortening a window, is a downgrade; the other way is not', () => {
  const mon = (k: string, v: number): string => `fetch_proxy:\n  monitoring:\n    ${k}: ${v}\n`
  assert.deepEqual(downgrades(mon('entropy_threshold', 4.5), mon('entropy_threshold', 8)), ['fetch_proxy.monitoring.entropy_threshold: 4.5 -> 8'])
  assert.deepEqual(downgrades(mon('entropy_threshold', 4.5), mon('entropy_threshold', 3.5)), [])
  assert.deepEqual(downgrades(mon('max_url_length', 500), mon('max_url_length', 4096)), ['fetch_proxy.monitoring.max_url_length: 500 -> 4096'])
  assert.deepEqual(downgrades(mon('max_requests_per_minute', 30), mon('max_requests_per_minute', 120)), ['fetch_proxy.monitoring.max_requests_per_minute: 30 -> 120'])
  assert.deepEqual(downgrades(mon('max_data_per_minute', 1000), mon('max_data_per_minute', 0)), ['fetch_proxy.monitoring.max_data_per_minute: 1000 -> 0 (no limit)'])
  assert.deepEqual(downgrades(mon('max_data_per_minute', 0), mon('max_data_per_minute', 1000)), [])
  assert.deepEqual(downgrades(mon('subdomain_entropy_threshold', 4), mon('subdomain_entropy_threshold', 0)), ['fetch_proxy.monitoring.subdomain_entropy_threshold: 4 -> 0 (off)'])
  assert.deepEqual(downgrades('request_body_scanning:\n  max_body_bytes: 100\n', 'request_body_scanning:\n  max_body_bytes: 1000\n'), ['request_body_scanning.max_body_bytes: 100 -> 1000'])
  assert.deepEqual(downgrades('fetch_proxy:\n  max_response_mb: 5\n', 'fetch_proxy:\n  max_response_mb: 50\n'), ['fetch_proxy.max_response_mb: 5 -> 50'])
  assert.deepEqual(downgrades('dlp:\n  min_env_secret_length: 16\n', 'dlp:\n  min_env_secret_length: 40\n'), ['dlp.min_env_secret_length: 16 -> 40'])
  assert.deepEqual(downgrades('seed_phrase_detection:\n  min_words: 12\n', 'seed_phrase_detection:\n  min_words: 24\n'), ['seed_phrase_detection.min_words: 12 -> 24'])
  const sp = (burst: number, window: number): string => `session_profiling:\n  enabled: true\n  domain_burst: ${burst}\n  window_minutes: ${window}\n`
  assert.deepEqual(downgrades(sp(5, 5), sp(10, 1)), ['session_profiling.domain_burst: 5 -> 10', 'session_profiling.window_minutes: 5 -> 1'])
  assert.deepEqual(downgrades(sp(10, 1), sp(5, 5)), [])
  // a feature off in the new config is reported once, as its switch
  assert.deepEqual(downgrades(sp(5, 5), 'session_profiling:\n  enabled: false\n  domain_burst: 50\n'), ['session_profiling.enabled: true -> false'])
  // airlock timers: 0 is manual release only, the tightest
  const al = (hard: number): string => `session_profiling:\n  enabled: true\nairlock:\n  enabled: true\n  timers:\n    hard_minutes: ${hard}\n`
  assert.deepEqual(downgrades(al(0), al(30)), ['airlock.timers.hard_minutes: 0 (manual release only) -> 30'])
  assert.deepEqual(downgrades(al(30), al(0)), [])
  assert.deepEqual(downgrades(al(30), al(5)), ['airlock.timers.hard_minutes: 30 -> 5'])
})

test('per-agent profiles: their own loosenings are named with the agent, a global one is not repeated', () => {
  const cfg = (rpm: number, entropy: number, budget: number, regex: string): string =>
    `fetch_proxy:\n  monitoring:\n    entropy_threshold: ${entropy}\nagents:\n  shop:\n    rate_limit: {max_requests_per_minute: ${rpm}}\n    budget: {max_requests_per_session: ${budget}}\n    dlp:\n      patterns:\n        - {name: Shop Key, regex: "${regex}"}\n`
  assert.deepEqual(downgrades(cfg(10, 4.5, 100, 'shop-[0-9]{6}'), cfg(20, 5, 0, 'shop-x')), [
    'fetch_proxy.monitoring.entropy_threshold: 4.5 -> 5',
    'agents.shop: dlp.patterns["Shop Key"].regex: changed (an edited regex may no longer match what it did)',
    'agents.shop: fetch_proxy.monitoring.max_requests_per_minute: 10 -> 20',
    'agents.shop.budget.max_requests_per_session: 100 -> 0 (no limit)',
  ])
  assert.deepEqual(downgrades(cfg(20, 5, 0, 'shop-x'), cfg(10, 4.5, 100, 'shop-x')), [])
})

test('an action leaving block counts only while its feature is on', () => {
  assert.deepEqual(downgrades('request_body_scanning:\n  action: block\n', 'request_body_scanning:\n  action: warn\n'), ['request_body_scanning.action: block -> warn'])
  assert.deepEqual(downgrades('address_protection:\n  enabled: false\n  action: block\n', 'address_protection:\n  enabled: false\n  action: warn\n'), [])
  const cr = (action: string): string => `cross_request_detection:\n  enabled: true\n  action: ${action}\n  fragment_reassembly:\n    enabled: true\n`
  assert.deepEqual(downgrades(cr('block'), cr('warn')), ['cross_request_detection.action: block -> warn'])
})

test('docs/config.md names every numeric threshold a reload compares', () => {
  const doc = readFileSync(repoPath('docs/config.md'), 'utf8')
  const section = doc.slice(doc.indexOf('## Hot reload'), doc.indexOf('## Reference: every top-level key'))
  for (const t of NUMERIC_THRESHOLDS) assert.ok(section.includes(`\`${t.field}\``), `docs/config.md Hot reload does not name ${t.field}`)
})

test('docs/config.md names the switches compared while their feature is on, and quotes the A2A lines', () => {
  const doc = readFileSync(repoPath('docs/config.md'), 'utf8')
  const section = doc.slice(doc.indexOf('## Hot reload'), doc.indexOf('## Reference: every top-level key'))
  for (const [field] of FEATURE_SWITCHES) assert.ok(section.includes(`\`${field}\``), `docs/config.md Hot reload does not name ${field}`)
  for (const [field, words] of A2A_SWITCHES) {
    assert.ok(section.includes(`\`${field}\``) && section.includes(`(\`${words}\`)`), `docs/config.md Hot reload does not quote the ${field} line`)
  }
})

test('taint: turned off, a lower policy, allowlisted domains added, path patterns removed, trust overrides added or extended, in the reference words', () => {
  const taint = (body: string, enabled = true): string => `taint:\n  enabled: ${enabled}\n${body}`
  assert.deepEqual(downgrades(taint(''), taint('', false)), ['taint-aware policy escalation disabled'])
  assert.deepEqual(downgrades(taint('  policy: strict\n'), taint('  policy: balanced\n')), ['taint policy downgraded from strict to balanced'])
  // permissive behaves as balanced but ranks below it, as in the reference
  assert.deepEqual(downgrades(taint('  policy: balanced\n'), taint('  policy: permissive\n')), ['taint policy downgraded from balanced to permissive'])
  assert.deepEqual(downgrades(taint('  policy: permissive\n'), taint('  policy: strict\n')), [])
  assert.deepEqual(downgrades(taint('  allowlisted_domains: [docs.example]\n'), taint('  allowlisted_domains: [docs.example, paste.example, gist.example]\n')), [
    'taint allowlisted domains added: paste.example, gist.example — these sources now downgrade from untrusted to allowlisted',
  ])
  assert.deepEqual(downgrades(taint('  allowlisted_domains: [docs.example, paste.example]\n'), taint('  allowlisted_domains: [docs.example]\n')), [])
  assert.deepEqual(downgrades(taint('  protected_paths: ["*/auth/*", "*/admin/*"]\n  elevated_paths: ["*/billing/*"]\n'), taint('  protected_paths: ["*/auth/*"]\n  elevated_paths: []\n')), [
    'taint protected paths removed: */admin/* — fewer actions are treated as protected under taint',
    'taint elevated paths removed: */billing/* — fewer actions are treated as elevated under taint',
  ])
  const ov = (...o: string[]): string => taint(`  trust_overrides:\n${o.map((x) => `    - ${x}\n`).join('')}`)
  const src = '{scope: source, source_match: " HTTPS://Docs.Example/* ", expires_at: "2030-01-01T00:00:00Z"}'
  assert.deepEqual(downgrades(ov(src), ov(src, '{scope: action, action_match: "mcp:write_file:*", expires_at: "2030-01-01T00:00:00Z"}')), [
    'taint trust overrides added: scope=action action=mcp:write_file:*',
  ])
  // a known key lasting longer is listed with its new expiry (RFC 3339, UTC)
  assert.deepEqual(downgrades(ov(src), ov('{scope: source, source_match: "https://docs.example/*", expires_at: "2031-06-01T12:00:00.5+02:00"}')), [
    'taint trust overrides added: scope=source source=https://docs.example/* expires_at=2031-06-01T10:00:00Z',
  ])
  assert.deepEqual(downgrades(ov(src), ov('{scope: source, source_match: "https://docs.example/*", expires_at: "2029-01-01T00:00:00Z"}')), [])
  assert.deepEqual(downgrades(ov(src), taint('  trust_overrides: []\n')), [])
  // dropping an action override's source matcher makes it fire after any source: a new key
  assert.deepEqual(downgrades(
    ov('{scope: action, action_match: "mcp:exec:*", source_match: "https://ci.example/*", expires_at: "2030-01-01T00:00:00Z"}'),
    ov('{scope: action, action_match: "mcp:exec:*", expires_at: "2030-01-01T00:00:00Z"}'),
  ), ['taint trust overrides added: scope=action action=mcp:exec:*'])
  // with taint off in either config only the switch is compared
  assert.deepEqual(downgrades(taint('  policy: strict\n', false), taint('  policy: permissive\n', false)), [])
  assert.deepEqual(downgrades(taint('  policy: strict\n'), taint('  policy: permissive\n', false)), ['taint-aware policy escalation disabled'])
  // strict mode refuses the reload with the line
  const running = load(`mode: strict\napi_allowlist: [localhost]\n${taint('  policy: strict\n')}`).config
  const next = load(`mode: strict\napi_allowlist: [localhost]\n${taint('  policy: balanced\n')}`).config
  assert.match(reloadRejection(running, running, next, reloadDowngrades(running, next)) ?? '', /^rejected: security downgrade from strict mode \(taint policy downgraded from strict to balanced\); /)
})

test('a removed agent profile: a downgrade when the default profile its traffic now gets is looser in any compared respect', () => {
  const base = 'mode: balanced\napi_allowlist: [api.example]\n'
  const shop = '  shop:\n    source_cidrs: ["10.1.0.0/16"]\n    mode: strict\n    api_allowlist: [api.example]\n    rate_limit: {max_requests_per_minute: 10}\n    budget: {max_requests_per_session: 100}\n'
  const def = (body: string): string => `  _default:\n${body}`
  // no _default: the base config, with no budget
  assert.deepEqual(downgrades(`${base}agents:\n${shop}`, base), [
    'agents.shop: removed (its traffic now gets the default profile)',
    'agents.shop: mode: strict -> balanced',
    'agents.shop: fetch_proxy.monitoring.max_requests_per_minute: 10 -> 60',
    'agents.shop.budget.max_requests_per_session: 100 -> 0 (no limit)',
  ])
  // a _default at least as strict in every compared respect takes the traffic: no downgrade
  const strictDefault = def('    mode: strict\n    rate_limit: {max_requests_per_minute: 5}\n    budget: {max_requests_per_session: 50}\n')
  assert.deepEqual(downgrades(`${base}agents:\n${shop}${strictDefault}`, `${base}agents:\n${strictDefault}`), [])
  // looser in one respect only (the budget): still a downgrade
  const noBudget = def('    mode: strict\n    rate_limit: {max_requests_per_minute: 5}\n')
  assert.deepEqual(downgrades(`${base}agents:\n${shop}${noBudget}`, `${base}agents:\n${noBudget}`), [
    'agents.shop: removed (its traffic now gets the default profile)',
    'agents.shop.budget.max_requests_per_session: 100 -> 0 (no limit)',
  ])
  // a profile that sets nothing of its own gave its traffic the base policy: removing it loosens nothing
  assert.deepEqual(downgrades(`${base}agents:\n  bare:\n    source_cidrs: ["10.2.0.0/16"]\n`, base), [])
  // a removed agent whose listener stays bound keeps its profile (restart-only listeners)
  assert.deepEqual(downgrades(`${base}agents:\n  shop:\n    listeners: ["127.0.0.1:18999"]\n    mode: strict\n    api_allowlist: [api.example]\n`, base), [])
  // _default removed: everything that fell back to it now gets the base config
  assert.deepEqual(downgrades(`${base}agents:\n${def('    mode: strict\n')}`, base), ['agents._default: removed (its traffic now gets the base config)', 'agents._default: mode: strict -> balanced'])
  // and from strict mode the removal refuses the reload
  const running = load(`mode: strict\napi_allowlist: [api.example]\nagents:\n  shop:\n    budget: {max_requests_per_session: 100}\n`).config
  const next = load('mode: strict\napi_allowlist: [api.example]\n').config
  assert.match(
    reloadRejection(running, running, next, reloadDowngrades(running, next)) ?? '',
    /^rejected: security downgrade from strict mode \(agents\.shop: removed \(its traffic now gets the default profile\); agents\.shop\.budget\.max_requests_per_session: 100 -> 0 \(no limit\)\); /,
  )
})

test('identity binding loosened: source CIDRs no longer covered, widened to a looser profile, the default identity unbound', () => {
  const cfg = (cidrs: string[], allow = '[api.example]'): string => `api_allowlist: [api.example]\nagents:\n  shop:\n    source_cidrs: ${JSON.stringify(cidrs)}\n    api_allowlist: ${allow}\n`
  // narrowed or removed: those clients' identity becomes a claim, whatever the profile
  assert.deepEqual(downgrades(cfg(['10.1.0.0/16', '10.9.0.0/24']), cfg(['10.1.2.0/24'])), [
    'agents.shop.source_cidrs: removed 10.1.0.0/16, 10.9.0.0/24 (these clients now declare their own identity)',
  ])
  // widened: counts only when the profile is looser than the fallback (here: a wider allowlist)
  assert.deepEqual(downgrades(cfg(['10.1.2.0/24'], '[api.example, shop.example]'), cfg(['10.1.0.0/16'], '[api.example, shop.example]')), [
    'agents.shop.source_cidrs: added 10.1.0.0/16 (more clients are bound to this profile)',
  ])
  assert.deepEqual(downgrades(cfg(['10.1.2.0/24']), cfg(['10.1.0.0/16'])), [])
  // compared by containment in one entry: an entry inside a kept one binds no new client
  assert.deepEqual(downgrades(cfg(['10.1.0.0/16'], '[api.example, shop.example]'), cfg(['10.1.5.0/24', '10.1.0.0/16'], '[api.example, shop.example]')), [])
  // (an entry split in two is not matched up: it reads as removed, erring on the side of refusing)
  assert.deepEqual(downgrades(cfg(['10.1.0.0/16']), cfg(['10.1.0.0/17', '10.1.128.0/17'])), [
    'agents.shop.source_cidrs: removed 10.1.0.0/16 (these clients now declare their own identity)',
  ])
  assert.deepEqual(downgrades(cfg(['fd00::/64']), cfg(['fd00::/48'], '[api.example, shop.example]')), [
    'agents.shop: api_allowlist: added shop.example',
    'agents.shop.source_cidrs: added fd00::/48 (more clients are bound to this profile)',
  ])
  const bind = (on: boolean): string => `default_agent_identity: shop\nbind_default_agent_identity: ${on}\n`
  assert.deepEqual(downgrades(bind(true), bind(false)), ['bind_default_agent_identity: true -> false'])
  assert.deepEqual(downgrades(bind(false), bind(true)), [])
})

test('MCP tool policy: fewer rules in the reference words, rules compared by name, actions ranked block > redirect > warn', () => {
  const tp = (action: string, ...rules: string[]): string =>
    `mcp_tool_policy:\n  enabled: true\n  action: ${action}\n  redirect_profiles:\n    safe: {exec: [/bin/true]}\n  rules:\n${rules.map((r) => `    - ${r}\n`).join('')}`
  const rm = '{name: No rm, tool_pattern: "^bash$", arg_pattern: "rm -rf", action: block}'
  const curl = '{name: No curl, tool_pattern: "^bash$", arg_pattern: "curl"}'
  assert.deepEqual(downgrades(tp('block', rm, curl), tp('block', curl)), ['tool policy rules reduced from 2 to 1 (removed "No rm")'])
  assert.deepEqual(downgrades(tp('block', rm, curl), tp('block', rm, '{name: No wget, tool_pattern: "^bash$", arg_pattern: "wget"}')), ['mcp_tool_policy.rules: 2 -> 2 rules (removed "No curl")'])
  assert.deepEqual(downgrades(tp('block', rm), tp('block', rm, curl)), [])
  assert.deepEqual(downgrades(tp('block', rm), tp('block', '{name: No rm, tool_pattern: "^bash$", arg_pattern: "rm -rf /nowhere", action: block}')), [
    'mcp_tool_policy.rules["No rm"].arg_pattern: changed (an edited regex may no longer match what it did)',
  ])
  // a rule's own action relaxed, to warn or to a redirect
  assert.deepEqual(downgrades(tp('warn', rm), tp('warn', '{name: No rm, tool_pattern: "^bash$", arg_pattern: "rm -rf", action: warn}')), ['mcp_tool_policy.rules["No rm"].action: block -> warn'])
  assert.deepEqual(downgrades(tp('warn', rm), tp('warn', '{name: No rm, tool_pattern: "^bash$", arg_pattern: "rm -rf", action: redirect, redirect_profile: safe}')), [
    'mcp_tool_policy.rules["No rm"].action: block -> redirect',
  ])
  // dropping a rule's own block makes it inherit the default (warn here)
  assert.deepEqual(downgrades(tp('warn', rm), tp('warn', '{name: No rm, tool_pattern: "^bash$", arg_pattern: "rm -rf"}')), ['mcp_tool_policy.rules["No rm"].action: block -> warn'])
  // an inherited action moves with the default action: one line
  assert.deepEqual(downgrades(tp('block', curl), tp('warn', curl)), ['mcp_tool_policy.action: block -> warn'])
  assert.deepEqual(downgrades(tp('warn', curl), tp('block', curl)), [])
  // an unconfigured section runs the 17 built-in rules in MCP modes: a short list replacing it has fewer
  const [line] = downgrades('mcp_tool_policy:\n  enabled: false\n', tp('warn', curl))
  assert.match(line ?? '', /^tool policy rules reduced from 17 to 1 \(removed "[^"]+", "[^"]+", "[^"]+", "[^"]+", "[^"]+" and 12 more\)$/)
})

test('MCP session binding, input parse errors, drift detection and the response action', () => {
  const sb = (unknown: string, enabled = true): string => `mcp_tool_scanning:\n  enabled: true\n  action: block\nmcp_session_binding:\n  enabled: ${enabled}\n  unknown_tool_action: ${unknown}\n  no_baseline_action: block\n`
  assert.deepEqual(downgrades(sb('block'), sb('warn')), ['mcp_session_binding.unknown_tool_action: block -> warn'])
  assert.deepEqual(downgrades(sb('block'), sb('block', false)), ['mcp_session_binding.enabled: true -> false'])
  assert.deepEqual(downgrades(sb('block', false), sb('warn', false)), [])
  assert.deepEqual(downgrades('mcp_tool_scanning:\n  enabled: true\n  action: block\nmcp_session_binding:\n  enabled: true\n  no_baseline_action: block\n', 'mcp_tool_scanning:\n  enabled: true\n  action: block\nmcp_session_binding:\n  enabled: true\n  no_baseline_action: warn\n'), [
    'mcp_session_binding.no_baseline_action: block -> warn',
  ])
  const inp = (onParse: string): string => `mcp_input_scanning:\n  enabled: true\n  action: block\n  on_parse_error: ${onParse}\n`
  assert.deepEqual(downgrades(inp('block'), inp('forward')), ['mcp_input_scanning.on_parse_error: block -> forward'])
  assert.deepEqual(downgrades(inp('forward'), inp('block')), [])
  // an unconfigured section is auto-enabled in block mode: writing warn relaxes it
  assert.deepEqual(downgrades('mcp_input_scanning:\n  on_parse_error: block\n', 'mcp_input_scanning:\n  enabled: true\n  action: warn\n'), ['mcp_input_scanning.action: block -> warn'])
  const ts = (drift: boolean, enabled = true): string => `mcp_tool_scanning:\n  enabled: ${enabled}\n  action: block\n  detect_drift: ${drift}\n`
  assert.deepEqual(downgrades(ts(true), ts(false)), ['mcp_tool_scanning.detect_drift: true -> false'])
  assert.deepEqual(downgrades(ts(true), ts(false, false)), ['mcp_tool_scanning.enabled: true -> false'])
  const rs = (action: string, mcp?: string): string => `response_scanning:\n  enabled: true\n  action: ${action}\n${mcp === undefined ? '' : `  mcp_action: ${mcp}\n`}`
  assert.deepEqual(downgrades(rs('warn'), rs('warn', 'warn')), ['response_scanning.mcp_action: block -> warn'])
  assert.deepEqual(downgrades(rs('warn', 'block'), rs('warn', 'strip')), ['response_scanning.mcp_action: block -> strip'])
  assert.deepEqual(downgrades(rs('warn', 'ask'), rs('warn', 'warn')), ['response_scanning.mcp_action: ask -> warn'])
  assert.deepEqual(downgrades(rs('warn', 'warn'), rs('warn')), [])
  // unset in both, it follows response_scanning.action, whose own line says it
  assert.deepEqual(downgrades(rs('block'), rs('strip')), ['response_scanning.action: block -> strip'])
})

test('A2A scanning: turned off, block -> warn or a check turned off, in the reference words', () => {
  const a2a = (body: string, enabled = true): string => `a2a_scanning:\n  enabled: ${enabled}\n${body}`
  assert.deepEqual(downgrades(a2a('  action: block\n'), a2a('  action: block\n', false)), ['A2A scanning disabled'])
  assert.deepEqual(downgrades(a2a('  action: block\n'), a2a('  action: warn\n')), ['A2A scanning action downgraded from block to warn'])
  assert.deepEqual(downgrades(a2a('  action: warn\n'), a2a('  action: block\n')), [])
  assert.deepEqual(downgrades(
    a2a('  scan_agent_cards: true\n  detect_card_drift: true\n  session_smuggling_detection: true\n  scan_raw_parts: true\n'),
    a2a('  scan_agent_cards: false\n  detect_card_drift: false\n  session_smuggling_detection: false\n  scan_raw_parts: false\n'),
  ), [
    'A2A Agent Card scanning disabled',
    'A2A Agent Card drift detection disabled',
    'A2A session smuggling detection disabled',
    'A2A raw part scanning disabled — text-like attachments will not be scanned',
  ])
  // off in either config: only the switch counts
  assert.deepEqual(downgrades(a2a('  scan_raw_parts: true\n', false), a2a('  scan_raw_parts: false\n', false)), [])
})

test('Browser Shield: turned off or made less aggressive while on', () => {
  const bs = (body: string, enabled = true): string => `browser_shield:\n  enabled: ${enabled}\n${body}`
  assert.deepEqual(downgrades(bs(''), bs('', false)), ['browser_shield.enabled: true -> false'])
  assert.deepEqual(downgrades(bs('  strictness: aggressive\n'), bs('  strictness: standard\n')), ['browser_shield.strictness: aggressive -> standard'])
  assert.deepEqual(downgrades(bs('  strictness: minimal\n'), bs('  strictness: aggressive\n')), [])
  assert.deepEqual(downgrades(bs('  oversize_action: block\n'), bs('  oversize_action: scan_head\n')), ['browser_shield.oversize_action: block -> scan_head'])
  assert.deepEqual(downgrades(bs('  strictness: minimal\n  oversize_action: scan_head\n'), bs('  strictness: minimal\n  oversize_action: warn\n')), ['browser_shield.oversize_action: scan_head -> warn'])
  assert.deepEqual(downgrades(bs('  strip_hidden_traps: true\n  inject_fingerprint_shims: true\n'), bs('  strip_hidden_traps: false\n  inject_fingerprint_shims: false\n')), [
    'browser_shield.strip_hidden_traps: true -> false',
    'browser_shield.inject_fingerprint_shims: true -> false',
  ])
  assert.deepEqual(downgrades(bs('  exempt_domains: [go.dev]\n  tracking_domains: [t.example, px.example]\n'), bs('  exempt_domains: [go.dev, shop.example]\n  tracking_domains: [t.example]\n')), [
    'browser_shield.exempt_domains: added shop.example',
    'browser_shield.tracking_domains: removed px.example',
  ])
  // off in both: nothing it does changes
  assert.deepEqual(downgrades(bs('  strictness: aggressive\n', false), bs('  strictness: minimal\n', false)), [])
})

test('an added agent profile: a downgrade when it is looser than the default profile its clients got before', () => {
  const base = 'mode: strict\napi_allowlist: [api.example]\nfetch_proxy: {monitoring: {max_requests_per_minute: 10}}\n'
  // named by a header (no source_cidrs): those clients got the base config before
  const loose = '  shop:\n    mode: balanced\n    api_allowlist: [api.example, shop.example]\n    rate_limit: {max_requests_per_minute: 60}\n'
  assert.deepEqual(downgrades(base, `${base}agents:\n${loose}`), [
    'agents.shop: added (looser than the default profile its clients got before)',
    'agents.shop: mode: strict -> balanced',
    'agents.shop: api_allowlist: added shop.example',
    'agents.shop: fetch_proxy.monitoring.max_requests_per_minute: 10 -> 60',
  ])
  // bound by new source_cidrs, looser in the budget only: the _default those clients had set one
  const def = '  _default:\n    budget: {max_requests_per_session: 50}\n'
  const bound = '  shop:\n    source_cidrs: ["10.1.0.0/16"]\n    budget: {max_requests_per_session: 500}\n'
  assert.deepEqual(downgrades(`${base}agents:\n${def}`, `${base}agents:\n${def}${bound}`), [
    'agents.shop: added (looser than the default profile its clients got before)',
    'agents.shop.budget.max_requests_per_session: 50 -> 500',
  ])
  // at least as strict as that fallback in every compared respect: no downgrade
  const strict = '  shop:\n    source_cidrs: ["10.1.0.0/16"]\n    rate_limit: {max_requests_per_minute: 5}\n    budget: {max_requests_per_session: 20}\n'
  assert.deepEqual(downgrades(`${base}agents:\n${def}`, `${base}agents:\n${def}${strict}`), [])
  // a profile that sets nothing of its own gives its clients the base policy they had
  assert.deepEqual(downgrades(base, `${base}agents:\n  bare:\n    source_cidrs: ["10.2.0.0/16"]\n`), [])
  // _default added: every client without a profile got the base config before
  assert.deepEqual(downgrades(base, `${base}agents:\n  _default:\n    mode: balanced\n`), [
    'agents._default: added (looser than the base config its clients got before)',
    'agents._default: mode: strict -> balanced',
  ])
  // a line the global comparison already gives is not repeated for the profile
  assert.deepEqual(downgrades(base, `${base.replace('[api.example]', '[api.example, x.example]')}agents:\n  shop:\n    source_cidrs: ["10.1.0.0/16"]\n`), [
    'api_allowlist: added x.example',
    'agents.shop: added (looser than the default profile its clients got before)',
  ])
  // from strict mode the addition refuses the reload
  const running = load(base).config
  const next = load(`${base}agents:\n${loose}`).config
  assert.match(
    reloadRejection(running, running, next, reloadDowngrades(running, next)) ?? '',
    /^rejected: security downgrade from strict mode \(agents\.shop: added \(looser than the default profile its clients got before\); agents\.shop: mode: strict -> balanced; /,
  )
})

test('a bound default identity renamed: a downgrade when the profile its clients now get is looser', () => {
  const shop = '  shop:\n    dlp:\n      patterns:\n        - {name: Shop Key, regex: "shopkey-[0-9]{6}", severity: critical}\n'
  const cfg = (identity: string, bind = true, agents = shop + '  loose:\n    api_allowlist: [api.example, loose.example]\n'): string =>
    `api_allowlist: [api.example]\ndefault_agent_identity: ${identity}\nbind_default_agent_identity: ${bind}\nagents:\n${agents}`
  assert.deepEqual(downgrades(cfg('shop'), cfg('loose')), [
    'default_agent_identity: "shop" -> "loose" (the clients it binds now get agents.loose instead of agents.shop)',
    'default_agent_identity: dlp.patterns: 49 -> 48 patterns (removed "Shop Key")',
    'default_agent_identity: api_allowlist: added loose.example',
  ])
  // a name no profile has resolves to the default profile (here the base config)
  assert.deepEqual(downgrades(cfg('shop'), cfg('nobody')), [
    'default_agent_identity: "shop" -> "nobody" (the clients it binds now get the base config instead of agents.shop)',
    'default_agent_identity: dlp.patterns: 49 -> 48 patterns (removed "Shop Key")',
  ])
  // stricter or equal: applies without a word
  assert.deepEqual(downgrades(cfg('nobody'), cfg('shop')), [])
  assert.deepEqual(downgrades(cfg('shop'), cfg('shop', true, shop + '  shop2:\n    dlp:\n      patterns:\n        - {name: Shop Key, regex: "shopkey-[0-9]{6}", severity: critical}\n')), [])
  // unbound in either config: the default identity is a claim a header overrides (its own line when bind turns off)
  assert.deepEqual(downgrades(cfg('shop', false), cfg('loose', false)), [])
  // and in strict mode the rename refuses the reload
  const running = load(`mode: strict\n${cfg('shop')}`).config
  const next = load(`mode: strict\n${cfg('loose')}`).config
  assert.match(reloadRejection(running, running, next, reloadDowngrades(running, next)) ?? '', /^rejected: security downgrade from strict mode \(default_agent_identity: "shop" -> "loose" \(the clients it binds now get agents\.loose instead of agents\.shop\); /)
})

test('MCP tool policy redirects: a rule sent to another handler, or its handler edited, is a downgrade', () => {
  const tp = (profiles: string, ...rules: string[]): string =>
    `mcp_tool_policy:\n  enabled: true\n  action: warn\n  redirect_profiles:\n${profiles}  rules:\n${rules.map((r) => `    - ${r}\n`).join('')}`
  const refuse = '    refuse: {exec: [/bin/echo, refused]}\n'
  const rule = (profile: string, action = 'redirect'): string => `{name: Egress, tool_pattern: "^bash$", arg_pattern: "curl", action: ${action}, redirect_profile: ${profile}}`
  // the handler edited in place, or handed the call's arguments
  assert.deepEqual(downgrades(tp(refuse, rule('refuse')), tp('    refuse: {exec: [/bin/sh, -c, "curl \\"$0\\""]}\n', rule('refuse'))), [
    'mcp_tool_policy.redirect_profiles["refuse"].exec: changed (an edited handler may no longer refuse what it did)',
  ])
  assert.deepEqual(downgrades(tp(refuse, rule('refuse')), tp('    refuse: {exec: [/bin/echo, refused], preserve_argv: true}\n', rule('refuse'))), [
    'mcp_tool_policy.redirect_profiles["refuse"].preserve_argv: false -> true (the handler now gets the call\'s arguments)',
  ])
  // a label is no loosening
  assert.deepEqual(downgrades(tp(refuse, rule('refuse')), tp('    refuse: {exec: [/bin/echo, refused], reason: audited}\n', rule('refuse'))), [])
  // the rule sent to another profile: judged by that profile's handler
  const both = refuse + '    run: {exec: [/usr/local/bin/run-it]}\n'
  assert.deepEqual(downgrades(tp(both, rule('refuse')), tp(both, rule('run'))), [
    'mcp_tool_policy.rules["Egress"].redirect_profile: "refuse" -> "run" (exec: changed (an edited handler may no longer refuse what it did))',
  ])
  assert.deepEqual(downgrades(tp(both, rule('refuse')), tp(both + '    same: {exec: [/bin/echo, refused]}\n', rule('same'))), [])
  // the profile removed: its rule now warns (looser) or blocks (stricter)
  assert.deepEqual(downgrades(tp(refuse, rule('refuse')), tp('    other: {exec: [/bin/true]}\n', '{name: Egress, tool_pattern: "^bash$", arg_pattern: "curl", action: warn}')), [
    'mcp_tool_policy.rules["Egress"].action: redirect -> warn',
  ])
  assert.deepEqual(downgrades(tp(refuse, rule('refuse')), tp('    other: {exec: [/bin/true]}\n', '{name: Egress, tool_pattern: "^bash$", arg_pattern: "curl", action: block}')), [])
  // a profile no redirecting rule uses changes nothing
  assert.deepEqual(downgrades(tp(both, rule('refuse')), tp(refuse + '    run: {exec: [/bin/sh]}\n', rule('refuse'))), [])
})

test('MCP tool policy: redirect rules reordered send the calls both match to the other handler', () => {
  const profiles = '    refuse: {exec: [/bin/echo, refused]}\n    run: {exec: [/usr/local/bin/run-it]}\n    refuse2: {exec: [/bin/echo, refused]}\n'
  const tp = (...rules: string[]): string => `mcp_tool_policy:\n  enabled: true\n  action: warn\n  redirect_profiles:\n${profiles}  rules:\n${rules.map((r) => `    - ${r}\n`).join('')}`
  const rule = (name: string, profile: string, action = 'redirect'): string => `{name: ${name}, tool_pattern: "^bash$", arg_pattern: "${name.toLowerCase()}", action: ${action}, redirect_profile: ${profile}}`
  // "Curl" went first: a call matching both went to "refuse"; now "Net" goes first, to "run"
  assert.deepEqual(downgrades(tp(rule('Curl', 'refuse'), rule('Net', 'run')), tp(rule('Net', 'run'), rule('Curl', 'refuse'))), [
    'mcp_tool_policy.rules: "Net" now before "Curl" (a call both match goes to "run" instead of "refuse": exec: changed (an edited handler may no longer refuse what it did))',
  ])
  // two profiles with the same handler: nothing changes for a call
  assert.deepEqual(downgrades(tp(rule('Curl', 'refuse'), rule('Net', 'refuse2')), tp(rule('Net', 'refuse2'), rule('Curl', 'refuse'))), [])
  // the same profile: nothing changes
  assert.deepEqual(downgrades(tp(rule('Curl', 'refuse'), rule('Net', 'refuse')), tp(rule('Net', 'refuse'), rule('Curl', 'refuse'))), [])
  // a rule that does not redirect decides no handler: moving it says nothing
  assert.deepEqual(downgrades(tp(rule('Curl', 'refuse'), rule('Log', 'run', 'warn')), tp(rule('Log', 'run', 'warn'), rule('Curl', 'refuse'))), [])
  // the order kept: nothing
  assert.deepEqual(downgrades(tp(rule('Curl', 'refuse'), rule('Net', 'run')), tp(rule('Curl', 'refuse'), rule('Net', 'run'))), [])
})

test('browser_shield.max_shield_bytes: the direction that loosens follows oversize_action', () => {
  const bs = (bytes: number, oversize: string): string => `browser_shield:\n  enabled: true\n  strictness: minimal\n  max_shield_bytes: ${bytes}\n  oversize_action: ${oversize}\n`
  // lowered: bodies between the sizes now get only their head rewritten, or none of it
  assert.deepEqual(downgrades(bs(5242880, 'scan_head'), bs(1048576, 'scan_head')), ['browser_shield.max_shield_bytes: 5242880 -> 1048576'])
  assert.deepEqual(downgrades(bs(5242880, 'warn'), bs(1048576, 'warn')), ['browser_shield.max_shield_bytes: 5242880 -> 1048576'])
  assert.deepEqual(downgrades(bs(5242880, 'block'), bs(1048576, 'block')), [])
  // raised: bodies that were refused as too large now pass (rewritten)
  assert.deepEqual(downgrades(bs(1048576, 'block'), bs(5242880, 'block')), ['browser_shield.max_shield_bytes: 1048576 -> 5242880'])
  assert.deepEqual(downgrades(bs(1048576, 'scan_head'), bs(5242880, 'scan_head')), [])
  // lowered into a block: those bodies are refused now, stricter than a rewrite
  assert.deepEqual(downgrades(bs(5242880, 'warn'), bs(1048576, 'block')), [])
  // the shield off in either config: its own line, or nothing
  assert.deepEqual(downgrades(bs(5242880, 'warn'), `browser_shield:\n  enabled: false\n  strictness: minimal\n  max_shield_bytes: 1048576\n  oversize_action: warn\n`), ['browser_shield.enabled: true -> false'])
})

test('a run that does not read the MCP sections: their loosening is compared as unchanged, and as on file', () => {
  const tp = (action: string): string => `mcp_tool_policy:\n  enabled: true\n  action: ${action}\n  rules:\n    - {name: No curl, tool_pattern: "^bash$", arg_pattern: "curl"}\n`
  const mcp = `${tp('block')}mcp_tool_scanning:\n  enabled: true\n  action: block\n`
  const loose = `${tp('warn')}mcp_tool_scanning:\n  enabled: true\n  action: warn\n`
  const [running, next] = [load(mcp).config, load(loose).config]
  assert.deepEqual(reloadDowngrades(running, next), ['mcp_tool_scanning.action: block -> warn', 'mcp_tool_policy.action: block -> warn'])
  assert.deepEqual(reloadDowngrades(running, next, {unused: ['mcp_tool_scanning', 'mcp_tool_policy'], mcpAutoEnabled: false}), [])
  // the scan API reads the tool policy: only the tool scanning line is left out
  assert.deepEqual(reloadDowngrades(running, next, {unused: ['mcp_tool_scanning'], mcpAutoEnabled: false}), ['mcp_tool_policy.action: block -> warn'])
  // as on file: an unconfigured tool policy is off there, so a short one replacing it loosens nothing
  assert.deepEqual(reloadDowngrades(load('').config, load(tp('warn')).config, {mcpAutoEnabled: false}), [])
  // per agent too
  const agent = (action: string): string => `agents:\n  shop:\n    mcp_tool_policy:\n      enabled: true\n      action: ${action}\n      rules:\n        - {name: No curl, tool_pattern: "^bash$", arg_pattern: "curl"}\n`
  assert.deepEqual(reloadDowngrades(load(agent('block')).config, load(agent('warn')).config), ['agents.shop: mcp_tool_policy.action: block -> warn'])
  assert.deepEqual(reloadDowngrades(load(agent('block')).config, load(agent('warn')).config, {unused: ['mcp_tool_policy']}), [])
})
