// operations.md §2.5 (validation messages, in order), §2.6 (merge), listener canonicalisation.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {canonicalListener, mergeProfile} from '../../../src/plugins/config/index.js'
import {assertRefused, load} from './helpers.js'

test('§2.5 validation: each message, names in sorted order, first error wins', () => {
  assertRefused('agents:\n  a:\n    budget:\n      dow_action: pause\n', /agents\.a\.budget: invalid dow_action "pause": must be block or warn/)
  assertRefused('agents:\n  anonymous: {}\n', /agent profile name "anonymous" is reserved/)
  assertRefused(`agents:\n  ${'x'.repeat(65)}: {}\n`, /agent profile name "x{65}" exceeds 64 character limit/)
  assertRefused('agents:\n  "bad/name": {}\n', /agent profile name "bad\/name" contains invalid characters \(allowed: a-z, A-Z, 0-9, '\.', '_', '-'\)/)
  assertRefused('agents:\n  a:\n    mode: paranoid\n', /agent "a": invalid mode "paranoid": must be strict, balanced, or audit/)
  assertRefused('agents:\n  a:\n    listeners: ["nonsense"]\n', /agent "a": invalid listener address "nonsense"/)
  assertRefused('agents:\n  a:\n    dlp:\n      patterns:\n        - name: ""\n          regex: x\n', /agent "a": DLP pattern missing name/)
  assertRefused('agents:\n  a:\n    dlp:\n      patterns:\n        - name: p\n          regex: ""\n', /agent "a": DLP pattern "p" missing regex/)
  assertRefused('agents:\n  a:\n    source_cidrs: ["10.0.0.1"]\n', /agent "a": invalid source_cidrs entry "10\.0\.0\.1"/)
  assertRefused('agents:\n  a:\n    budget:\n      max_requests_per_session: -1\n', /agent "a": budget\.max_requests_per_session must be >= 0/)
  assertRefused('agents:\n  a:\n    rate_limit:\n      max_data_per_minute: -5\n', /agent "a": rate_limit\.max_data_per_minute must be >= 0/)
  assertRefused('agents:\n  a:\n    sandbox:\n      filesystem:\n        allow_write: [""]\n', /agent "a": sandbox filesystem allow_write contains empty path/)
  assertRefused('agents:\n  a:\n    trusted_domains: ["*"]\n', /agent "a" trusted_domains: bare "\*"/)
  assertRefused('agents:\n  a:\n    mode: strict\n    api_allowlist: []\n', /agent "a": strict mode requires at least one domain in api_allowlist/)
  // Sorted order: "a" is reported before "b" whatever the file order.
  assertRefused('agents:\n  b:\n    mode: x\n  a:\n    mode: y\n', /agent "a": invalid mode "y"/)
  // _default is exempt from name rules.
  assert.deepEqual(Object.keys(load('agents:\n  _default: {}\n').config.agents), ['_default'])
})

test('§2.5 merged profiles are validated (quirk fixed: domain_burst 0 is refused)', () => {
  assertRefused('session_profiling:\n  enabled: true\nagents:\n  a:\n    session_profiling:\n      domain_burst: 0\n', /agent "a": session_profiling\.domain_burst: must be > 0/)
  assertRefused('session_profiling:\n  enabled: true\nagents:\n  a:\n    session_profiling:\n      anomaly_action: shout\n', /agent "a": session_profiling\.anomaly_action must be "block" or "warn", got "shout"/)
})

test('every budget field is applied: none is named as ignored; negative counts, a fan-out half and weights without a call limit are refused', () => {
  assert.deepEqual(load('agents:\n  _default:\n    budget:\n      max_tool_calls_per_session: 5\n      max_concurrent_tool_calls: 2\n      cost_multipliers: {write_file: 2}\n  b:\n    budget:\n      max_retries_per_endpoint: 3\n      fan_out_limit: 4\n      fan_out_window_seconds: 60\n').warnings, [])
  assertRefused('agents:\n  a:\n    budget:\n      fan_out_limit: 4\n', /agent "a": budget\.fan_out_limit needs budget\.fan_out_window_seconds > 0 \(fan-out is the unique endpoints called within the window\)/)
  assertRefused('agents:\n  a:\n    budget:\n      fan_out_window_seconds: 60\n', /agent "a": budget\.fan_out_window_seconds needs budget\.fan_out_limit > 0/)
  assertRefused('agents:\n  a:\n    budget:\n      max_concurrent_tool_calls: -1\n', /agent "a": budget\.max_concurrent_tool_calls must be >= 0/)
  assertRefused('agents:\n  a:\n    budget:\n      cost_multipliers: {write_file: 2}\n', /agent "a": budget\.cost_multipliers needs budget\.max_tool_calls_per_session > 0 \(the weights apply to the call count\)/)
  assertRefused('agents:\n  a:\n    budget:\n      max_tool_calls_per_session: 3\n      cost_multipliers: {write_file: -2}\n', /agent "a": budget\.cost_multipliers: "write_file" wants a tool name and a weight >= 0, got -2/)
  // An empty weight map sets nothing.
  assert.deepEqual(load('agents:\n  a:\n    budget:\n      cost_multipliers: {}\n').warnings, [])
})

test('§2.5 listeners: canonical forms and collisions', () => {
  assert.equal(canonicalListener(':8889')!.key, '0.0.0.0:8889')
  assert.equal(canonicalListener('0.0.0.0:8889')!.key, '0.0.0.0:8889')
  assert.equal(canonicalListener('[::]:8889')!.key, '0.0.0.0:8889')
  assert.equal(canonicalListener('127.0.0.1:8889')!.key, '127.0.0.1:8889')
  assert.equal(canonicalListener('[0:0::1]:9')!.key, '[::1]:9')
  assert.equal(canonicalListener('nonsense'), null)
  assertRefused('fetch_proxy:\n  listen: 127.0.0.1:8888\nagents:\n  a:\n    listeners: ["127.0.0.1:8888"]\n', /agent "a": listener "127\.0\.0\.1:8888" collides with fetch_proxy\.listen$/m)
  assertRefused('fetch_proxy:\n  listen: 127.0.0.1:8888\nagents:\n  a:\n    listeners: [":8888"]\n', /agent "a": listener ":8888" collides with fetch_proxy\.listen \(wildcard binds all interfaces\)/)
  assertRefused('agents:\n  a:\n    listeners: ["127.0.0.1:9001"]\n  b:\n    listeners: ["127.0.0.1:9001"]\n', /agent "b": listener "127\.0\.0\.1:9001" collides with agent "a" listener/)
  assert.ok(load('agents:\n  a:\n    listeners: ["127.0.0.1:9001", "127.0.0.2:9001"]\n').config)
})

test('§2.5 source CIDRs: overlap across agents refused both directions; within one agent allowed', () => {
  assertRefused('agents:\n  a:\n    source_cidrs: ["10.0.0.0/8"]\n  b:\n    source_cidrs: ["10.1.0.0/16"]\n', /agent "b": source_cidrs "10\.1\.0\.0\/16" overlaps with agent "a" source_cidrs/)
  assertRefused('agents:\n  a:\n    source_cidrs: ["10.1.0.0/16"]\n  b:\n    source_cidrs: ["10.0.0.0/8"]\n', /agent "b": source_cidrs "10\.0\.0\.0\/8" overlaps with agent "a" source_cidrs/)
  assert.ok(load('agents:\n  a:\n    source_cidrs: ["10.0.0.0/8", "10.1.0.0/16"]\n').config)
})

test('§2.6 merge rows', () => {
  const base = load('api_allowlist: [a.example]\ntrusted_domains: [t.example]\nfetch_proxy:\n  monitoring:\n    max_requests_per_minute: 60\n    max_data_per_minute: 1000\naddress_protection:\n  allowed_addresses: ["0xA"]\n').config
  const m = mergeProfile(base, {mode: 'audit', enforce: false, api_allowlist: [], rate_limit: {max_requests_per_minute: 5}, allowed_addresses: ['0xB'], sandbox: {filesystem: {allow_read: ['/x']}}})
  assert.equal(m.mode, 'audit')
  assert.equal(m.enforce, false)
  assert.deepEqual(m.api_allowlist, []) // present, even empty, replaces
  assert.deepEqual(m.trusted_domains, ['t.example']) // absent: inherited
  // rate_limit per field (quirk fixed): the omitted data limit is inherited, not switched off.
  assert.equal(m.fetch_proxy.monitoring.max_requests_per_minute, 5)
  assert.equal(m.fetch_proxy.monitoring.max_data_per_minute, 1000)
  assert.deepEqual(m.address_protection.allowed_addresses, ['0xA', '0xB'])
  assert.deepEqual(m.sandbox.filesystem?.allow_read, ['/x'])
  assert.deepEqual(m.agents, {})
  assert.equal(base.mode, 'balanced') // the base is never touched
  // DLP: include_defaults true keeps the base list minus same-named, then appends; false = own only.
  const own = {name: 'Custom', regex: 'zzz[0-9]{6}'}
  const withDefaults = mergeProfile(base, {dlp: {patterns: [own]}})
  assert.equal(withDefaults.dlp.patterns.length, base.dlp.patterns.length + 1)
  assert.deepEqual(withDefaults.dlp.patterns.at(-1), own)
  const replaced = mergeProfile(base, {dlp: {patterns: [{name: base.dlp.patterns[0]!.name, regex: 'x{9}'}]}})
  assert.equal(replaced.dlp.patterns.length, base.dlp.patterns.length)
  assert.deepEqual(mergeProfile(base, {dlp: {include_defaults: false, patterns: [own]}}).dlp.patterns, [own])
  // session_profiling fields replaced unconditionally.
  assert.equal(mergeProfile(base, {session_profiling: {domain_burst: 9}}).session_profiling.domain_burst, 9)
})

test('bind_default_agent_identity messages (§2.3)', () => {
  assertRefused('bind_default_agent_identity: true\ndefault_agent_identity: "  "\n', /bind_default_agent_identity requires default_agent_identity/)
  assertRefused('default_agent_identity: " x"\n', /default_agent_identity must not contain leading or trailing whitespace/)
})

test('§4.1 suppress validation messages', () => {
  assertRefused('suppress:\n  - rule: ""\n    path: x\n', /suppress entry 0 missing required field "rule"/)
  assertRefused('suppress:\n  - rule: ok\n    path: a\n  - rule: R\n    path: ""\n', /suppress entry 1 \(R\) missing required field "path"/)
  assertRefused('suppress:\n  - rule: R\n    path: "docs/[a"\n', /suppress entry 0 \(R\) has invalid path pattern "docs\/\[a": syntax error in pattern/)
  assert.equal(load('suppress:\n  - rule: R\n    path: "*/robots.txt"\n    reason: fp\n').config.suppress.length, 1)
})

test('§2.7 reload: listener sets are restart-only; a removed agent with a listener keeps its old profile', async () => {
  const {holdRestartOnly} = await import('../../../src/plugins/config/index.js')
  const running = load('agents:\n  a:\n    listeners: ["127.0.0.1:9101"]\n    mode: strict\n  b:\n    listeners: ["127.0.0.1:9102"]\n').config
  const next = load('agents:\n  b:\n    listeners: ["127.0.0.1:9999"]\n  c:\n    listeners: ["127.0.0.1:9103"]\n').config
  const held = holdRestartOnly(running, next)
  assert.deepEqual(held.changed, ['agents.a.listeners', 'agents.b.listeners', 'agents.c.listeners'])
  assert.deepEqual(held.config.agents.a, running.agents.a, 'a removed agent whose port stays bound is kept as it was')
  assert.deepEqual(held.config.agents.b!.listeners, ['127.0.0.1:9102'])
  assert.equal(held.config.agents.c!.listeners, undefined, "a new agent's listeners wait for a restart")
})
