import {test} from 'node:test'
import assert from 'node:assert/strict'
import {assertRefused, load} from './helpers.js'

// A part switched on inside a section that is off does nothing. The mirror case is refused as a
// silent no-op; this one loads (the reference accepts it, and turning the section off is how a file
// switches all of it off) but is said at start, as response_scanning.exempt_domains is.

const warningsOf = (text: string): string[] => load(text).warnings.map((w) => `${w.field}: ${w.message}`)

test('cross_request_detection: a sub-feature on under the section off is named; the mirror case stays refused', () => {
  assert.deepEqual(warningsOf('cross_request_detection:\n  enabled: false\n  entropy_budget:\n    enabled: true\n    bits_per_window: 2048\n'), [
    'cross_request_detection.entropy_budget.enabled: is true while cross_request_detection.enabled is false: it has no effect; enable cross_request_detection (or remove it)',
  ])
  assert.deepEqual(warningsOf('cross_request_detection:\n  fragment_reassembly:\n    enabled: true\n'), [
    'cross_request_detection.fragment_reassembly.enabled: is true while cross_request_detection.enabled is false: it has no effect; enable cross_request_detection (or remove it)',
  ])
  assertRefused('cross_request_detection:\n  enabled: true\n', /cross_request_detection\.enabled: is true but both entropy_budget and fragment_reassembly are disabled \(silent no-op\)/)
  assert.deepEqual(warningsOf('cross_request_detection:\n  enabled: true\n  entropy_budget:\n    enabled: true\n'), [])
})

test('other sections: an explicit true under a section that is off is named; defaults and sub-parts off are not', () => {
  assert.deepEqual(warningsOf('response_scanning:\n  enabled: false\n  sse_streaming:\n    enabled: true\n'), [
    'response_scanning.sse_streaming.enabled: is true while response_scanning.enabled is false: it has no effect; enable response_scanning (or remove it)',
  ])
  assert.deepEqual(warningsOf('request_body_scanning:\n  enabled: false\n  scan_headers: true\n'), [
    'request_body_scanning.scan_headers: is true while request_body_scanning.enabled is false: it has no effect; enable request_body_scanning (or remove it)',
  ])
  assert.deepEqual(warningsOf('a2a_scanning:\n  scan_raw_parts: true\n'), [
    'a2a_scanning.scan_raw_parts: is true while a2a_scanning.enabled is false: it has no effect; enable a2a_scanning (or remove it)',
  ])
  // Default-on parts under a section the file turns off, and parts turned off, are not remarked on.
  assert.deepEqual(warningsOf('response_scanning:\n  enabled: false\nrequest_body_scanning:\n  enabled: false\na2a_scanning:\n  scan_raw_parts: false\n'), [])
})

test('adaptive enforcement and airlock under session profiling off stay refused (a dependency, not a part)', () => {
  assertRefused('session_profiling:\n  enabled: false\nadaptive_enforcement:\n  enabled: true\n', /adaptive_enforcement\.enabled: requires session_profiling\.enabled/)
})

test('tls_interception on with the forward proxy off intercepts nothing: said at start (check and run)', () => {
  const w = 'tls_interception.enabled: is true while forward_proxy.enabled is false: nothing is intercepted (interception applies to the forward proxy\'s CONNECT tunnels); enable forward_proxy'
  assert.deepEqual(warningsOf('tls_interception:\n  enabled: true\n'), [w])
  assert.deepEqual(warningsOf('tls_interception:\n  enabled: true\nforward_proxy:\n  enabled: false\n'), [w])
  assert.deepEqual(warningsOf('tls_interception:\n  enabled: true\nforward_proxy:\n  enabled: true\n'), [])
})
