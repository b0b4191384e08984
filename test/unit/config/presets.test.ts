import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {parse} from 'yaml'
import {
  DEFAULT_INTERNAL_CIDRS,
  PRESET_NAMES,
  parseConfigText,
  presetConfig,
  renderPresetYaml,
  resolveConfig,
  type PresetName,
} from '../../../src/plugins/config/index.js'
import {repoPath} from '../../helpers/vectors.js'

const resolved = (n: PresetName) => resolveConfig(presetConfig(n), {env: {}, preset: true})

test('every preset loads and validates; only audit warns (max_requests_per_minute 0 → 60)', () => {
  for (const n of PRESET_NAMES) {
    const r = resolved(n)
    const expected = n === 'audit' ? ['fetch_proxy.monitoring.max_requests_per_minute'] : []
    assert.deepEqual(
      r.warnings.map((w) => w.field),
      expected,
      n,
    )
  }
})

test('generate config round trip: the YAML loads back to exactly the preset, for every preset', () => {
  for (const n of PRESET_NAMES) {
    const yaml = renderPresetYaml(n)
    assert.deepEqual(parse(yaml), presetConfig(n), `${n}: file content`)
    assert.deepEqual(parseConfigText(yaml, `${n}.yaml`, {env: {}}).config, resolved(n).config, `${n}: effective config`)
  }
})

test('the balanced preset renders byte for byte as the checked-in fixture', () => {
  assert.equal(renderPresetYaml('balanced'), readFileSync(repoPath('test/unit/config/fixtures/preset-balanced.yaml'), 'utf8'))
})

test('preset table of §20.5: mode, enforce, forward proxy, URL limits, actions', () => {
  const rows: Record<PresetName, [string, boolean, number, number, number, string, string]> = {
    balanced: ['balanced', true, 2048, 4.5, 60, 'warn', 'warn'],
    strict: ['strict', true, 500, 3.5, 30, 'block', 'block'],
    audit: ['audit', false, 2048, 4.5, 60, 'warn', 'warn'],
    'claude-code': ['balanced', true, 4096, 5.0, 120, 'block', 'block'],
    cursor: ['balanced', true, 4096, 5.0, 120, 'block', 'block'],
    'generic-agent': ['balanced', true, 4096, 5.5, 120, 'warn', 'warn'],
    'hostile-model': ['strict', true, 300, 3.0, 15, 'block', 'block'],
  }
  for (const n of PRESET_NAMES) {
    const c = resolved(n).config
    const [mode, enforce, len, entropy, rpm, body, resp] = rows[n]
    assert.equal(c.mode, mode, n)
    assert.equal(c.enforce, enforce, n)
    assert.equal(c.forward_proxy.enabled, true, n)
    assert.equal(c.fetch_proxy.monitoring.max_url_length, len, n)
    assert.equal(c.fetch_proxy.monitoring.entropy_threshold, entropy, n)
    assert.equal(c.fetch_proxy.monitoring.max_requests_per_minute, rpm, n)
    assert.equal(c.request_body_scanning.action, body, n)
    assert.equal(c.response_scanning.action, resp, n)
    // all presets: explicit lists, internal listed, profiling + adaptive on, airlock present but off (5/15/0/30)
    assert.equal(c.dlp.include_defaults, false, n)
    assert.equal(c.dlp.patterns.length, 49, n)
    assert.equal(c.response_scanning.include_defaults, false, n)
    assert.equal(c.response_scanning.patterns.length, n === 'balanced' || n === 'strict' ? 23 : 21, n)
    assert.deepEqual(c.internal, DEFAULT_INTERNAL_CIDRS, n)
    assert.equal(c.session_profiling.enabled, true, n)
    assert.equal(c.adaptive_enforcement.enabled, true, n)
    assert.equal(c.airlock.enabled, false, n)
    assert.deepEqual(c.airlock.timers, {soft_minutes: 5, hard_minutes: 15, drain_minutes: 0, drain_timeout_seconds: 30}, n)
    assert.ok(c.dlp.patterns.some((p) => p.name === 'Ethereum Address'), n)
  }
  // audit keeps the reference's literal 0 in the file
  assert.equal(((presetConfig('audit').fetch_proxy as Record<string, Record<string, unknown>>).monitoring!).max_requests_per_minute, 0)
})

test('preset notables: allowlists, strict extras, hostile-model extras', () => {
  assert.equal(resolved('balanced').config.api_allowlist.length, 10)
  assert.deepEqual(resolved('audit').config.api_allowlist, [])
  assert.ok(resolved('claude-code').config.api_allowlist.includes('pypi.org'))
  assert.ok(resolved('generic-agent').config.api_allowlist.length > resolved('cursor').config.api_allowlist.length)
  const strict = resolved('strict').config
  assert.equal(strict.adaptive_enforcement.escalation_threshold, 3.0)
  assert.equal(strict.fetch_proxy.monitoring.subdomain_entropy_threshold, 3.5)
  assert.equal(strict.cross_request_detection.enabled, true)
  assert.equal(strict.mcp_input_scanning.action, 'block')
  assert.equal(strict.mcp_tool_scanning.action, 'block')
  const hostile = resolved('hostile-model').config
  assert.equal(hostile.websocket_proxy.enabled, true)
  assert.equal(hostile.fetch_proxy.timeout_seconds, 15)
  assert.equal(hostile.fetch_proxy.max_response_mb, 5)
  assert.equal(hostile.mcp_session_binding.enabled, true)
  assert.equal(hostile.media_policy.enabled, true)
  const raised = ['Google API Key', 'Twilio API Key', 'Mailgun API Key', 'Linear API Key', 'Notion API Key', 'Sentry Auth Token', 'JWT Token', 'Google OAuth Client ID', 'Credential in URL']
  for (const name of raised) {
    assert.equal(hostile.dlp.patterns.find((p) => p.name === name)?.severity, 'critical', name)
    assert.notEqual(resolved('balanced').config.dlp.patterns.find((p) => p.name === name)?.severity, 'critical', name)
  }
})

test('preset response lists carry the older variants and the preset-only patterns', () => {
  const names = resolved('balanced').config.response_scanning.patterns.map((p) => p.name)
  for (const n of ['Pliny Divider', 'Meta-Command Activation', 'Roleplay Framing', 'Output Format Forcing', 'System Prompt Extraction', 'Instruction Invalidation', 'Credential Solicitation', 'Memory Persistence Directive']) {
    assert.ok(names.includes(n), n)
  }
  for (const n of ['CJK Jailbreak Mode', 'Spanish Instruction Override', 'Credential Path Directive', 'Silent Credential Handling']) assert.ok(!names.includes(n), n)
  const small = resolved('cursor').config.response_scanning.patterns.map((p) => p.name)
  assert.ok(!small.includes('Credential Solicitation') && !small.includes('Memory Persistence Directive'))
  const byName = new Map(resolved('balanced').config.response_scanning.patterns.map((p) => [p.name, p.regex]))
  assert.match(byName.get('Instruction Boundary')!, /<<\/\?SYS>>/)
  assert.match(byName.get('Instruction Dismissal')!, /\(set\|put\|cast\|push\|throw\)/)
  assert.ok(byName.get('Priority Override')!.startsWith('(?i)prioritize'))
  assert.match(byName.get('Tool Invocation')!, /immediately/)
})
