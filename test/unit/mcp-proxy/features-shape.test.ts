import assert from 'node:assert/strict'
import {test} from 'node:test'
import {parseConfigText} from '../../../src/plugins/config/index.js'
import {assertMcpImplemented, mcpConfigWarnings} from '../../../src/plugins/mcp-proxy/features.js'

// request_body_scanning is on by default: its header DLP runs on the HTTP listener's clients.
const loaded = parseConfigText('request_body_scanning:\n  enabled: true\n  header_mode: all\nhealth_watchdog:\n  enabled: true\nforward_proxy:\n  enabled: true\n', 'c.yaml')

test('the HTTP listener reads request_body_scanning (header DLP): not named as unused with --listen', () => {
  const stdio = assertMcpImplemented(loaded.config)
  assert.ok(stdio.includes('request_body_scanning') && stdio.includes('request_body_scanning.scan_headers'), stdio.join(', '))
  const listener = assertMcpImplemented(loaded.config, {listener: true})
  assert.ok(!listener.includes('request_body_scanning') && !listener.includes('request_body_scanning.scan_headers'), listener.join(', '))
  assert.ok(listener.includes('health_watchdog') && listener.includes('forward_proxy'), 'the sections it does not read are still named')
  // The sandbox bridge's embedded forward proxy reads forward_proxy and request_body_scanning.
  const boxed = assertMcpImplemented(loaded.config, {sandboxed: true})
  assert.deepEqual(boxed.filter((f) => f === 'forward_proxy' || f.startsWith('request_body_scanning')), [])
})

test('load warnings about request_body_scanning are printed by the listener, not by the stdio wrap', () => {
  const w = [{field: 'request_body_scanning.max_body_bytes', message: 'is read as 5242880'}, {field: 'health_watchdog.interval_seconds', message: 'is read as 30'}]
  assert.equal(mcpConfigWarnings(w, {}).length, 0)
  const listener = mcpConfigWarnings(w, {listener: true})
  assert.equal(listener.length, 1)
  assert.match(listener[0]!, /request_body_scanning\.max_body_bytes/)
})
