import {test} from 'node:test'
import assert from 'node:assert/strict'
import {assertRefused, load} from './helpers.js'

// Operations §5.1: cross_request_detection defaults (filled only for enabled parts) and validation.

test('cross_request_detection: defaults are filled only for the enabled parts', () => {
  const c = load('cross_request_detection:\n  enabled: true\n  action: ""\n  entropy_budget: {enabled: true, action: ""}\n  fragment_reassembly: {enabled: true}\n').config.cross_request_detection
  assert.equal(c.action, 'block')
  assert.deepEqual({b: c.entropy_budget.bits_per_window, w: c.entropy_budget.window_minutes, a: c.entropy_budget.action}, {b: 4096, w: 5, a: 'warn'})
  assert.deepEqual({m: c.fragment_reassembly.max_buffer_bytes, w: c.fragment_reassembly.window_minutes}, {m: 65536, w: 5})
  const off = load('cross_request_detection:\n  enabled: true\n  fragment_reassembly: {enabled: true}\n').config.cross_request_detection
  assert.equal(off.entropy_budget.bits_per_window, 0, 'a disabled part keeps its zeros')
})

test('cross_request_detection: validation', () => {
  assertRefused('cross_request_detection:\n  enabled: true\n', /cross_request_detection\.enabled: is true but both entropy_budget and fragment_reassembly are disabled \(silent no-op\)/)
  assertRefused('cross_request_detection:\n  enabled: true\n  action: deny\n  fragment_reassembly: {enabled: true}\n', /cross_request_detection\.action: must be one of block, warn, got "deny"/)
  assertRefused('cross_request_detection:\n  enabled: true\n  entropy_budget: {enabled: true, action: drop}\n', /cross_request_detection\.entropy_budget\.action: must be one of block, warn, got "drop"/)
  assertRefused('cross_request_detection:\n  entropy_budget: {exempt_domains: ["bad host"]}\n', /cross_request_detection\.entropy_budget\.exempt_domains\[0\]/)
  const w = load('cross_request_detection:\n  entropy_budget: {exempt_domains: ["api.example.com"]}\n').warnings
  assert.ok(w.some((x) => x.field === 'cross_request_detection.entropy_budget.exempt_domains' && /take effect when enabled/.test(x.message)), JSON.stringify(w))
})
