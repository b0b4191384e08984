/**
 * `a2a_scanning` and `browser_shield` (scanners-extra §2.2, §3.2): defaults from the
 * configuration reference, normalisation of empty/non-positive values, and the validation rules
 * (checked only while the section is enabled).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {assertRefused, load} from './helpers.js'

test('defaults: a2a warn with every check on; shield scan_head, the documented exemptions, strip toggles on', () => {
  const c = load('a2a_scanning:\n  enabled: true\nbrowser_shield:\n  enabled: true\n').config
  assert.deepEqual(c.a2a_scanning, {
    enabled: true, action: 'warn', scan_agent_cards: true, detect_card_drift: true, session_smuggling_detection: true,
    max_context_messages: 100, max_contexts: 1000, scan_raw_parts: true, max_raw_size: 1048576,
  })
  const b = c.browser_shield
  assert.equal(b.strictness, 'standard')
  assert.equal(b.oversize_action, 'scan_head')
  assert.equal(b.max_shield_bytes, 5242880)
  assert.deepEqual(b.exempt_domains, ['challenges.cloudflare.com', 'developer.mozilla.org', 'docs.github.com', 'github.dev', 'go.dev', 'hcaptcha.com', 'pkg.go.dev', 'vscode.dev', 'www.recaptcha.net'])
  // Omitted strip toggles are on in a loaded file too (the reference turns them off, §3.2 fix).
  assert.deepEqual([b.strip_extension_probing, b.strip_hidden_traps, b.strip_tracking_pixels, b.inject_fingerprint_shims], [true, true, true, false])
})

test('normalisation: empty and non-positive values take the defaults', () => {
  const c = load('a2a_scanning:\n  action: ""\n  max_context_messages: 0\n  max_contexts: -1\n  max_raw_size: 0\nbrowser_shield:\n  strictness: ""\n  max_shield_bytes: 0\n  oversize_action: ""\n').config
  assert.deepEqual([c.a2a_scanning.action, c.a2a_scanning.max_context_messages, c.a2a_scanning.max_contexts, c.a2a_scanning.max_raw_size], ['warn', 100, 1000, 1048576])
  assert.deepEqual([c.browser_shield.strictness, c.browser_shield.max_shield_bytes, c.browser_shield.oversize_action], ['standard', 5242880, 'scan_head'])
  assert.deepEqual(load('browser_shield:\n  exempt_domains: []\n').config.browser_shield.exempt_domains, [])
})

test('validation while enabled; none while disabled', () => {
  assertRefused('a2a_scanning:\n  enabled: true\n  action: ask\n', /a2a_scanning\.action: must be warn or block, got "ask"/, 3)
  assert.equal(load('a2a_scanning:\n  action: ask\n').config.a2a_scanning.action, 'ask')
  assertRefused('browser_shield:\n  enabled: true\n  strictness: paranoid\n', /browser_shield\.strictness: must be minimal, standard, or aggressive, got "paranoid"/, 3)
  assertRefused('browser_shield:\n  enabled: true\n  oversize_action: drop\n', /browser_shield\.oversize_action: must be block, scan_head, or warn, got "drop"/, 3)
  assertRefused('browser_shield:\n  enabled: true\n  oversize_action: warn\n', /browser_shield\.oversize_action: "warn" is only allowed with strictness "minimal"/, 3)
  assert.equal(load('browser_shield:\n  enabled: true\n  strictness: minimal\n  oversize_action: warn\n').config.browser_shield.oversize_action, 'warn')
  assertRefused('browser_shield:\n  enabled: true\n  exempt_domains: ["https://x.example"]\n', /browser_shield\.exempt_domains\[0\]: "https:\/\/x\.example" is a URL/)
  assertRefused('browser_shield:\n  enabled: true\n  tracking_domains: ["*.com"]\n', /browser_shield\.tracking_domains\[0\]: "\*\.com" wildcards a whole top-level domain/)
  assert.deepEqual(load('browser_shield:\n  enabled: true\n  tracking_domains: ["Pixel.Example."]\n').config.browser_shield.tracking_domains, ['pixel.example'])
})
