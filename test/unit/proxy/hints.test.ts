// operations.md §7.2: the hint table (exact strings), the dlp row fixed, SSRF hints name the
// settings, redirect override, beyond-table hints for other layers.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {blockHint, hintHeader} from '../../../src/plugins/proxy/hints.js'

test('URL-pipeline rows are the reference strings; dlp points at exempt_domains (quirk fixed)', () => {
  assert.equal(blockHint({layer: 'blocklist', detail: 'x'}), 'Domain is on the blocklist. Remove from fetch_proxy.monitoring.blocklist if legitimate.')
  assert.equal(blockHint({layer: 'dlp', detail: 'DLP match: AWS Access ID'}), "A DLP pattern matched this URL. If false positive, add this host to that pattern's exempt_domains.")
  assert.equal(blockHint({layer: 'crlf_injection', detail: ''}), 'CRLF injection sequence detected in URL. This is never legitimate in normal traffic.')
  assert.match(blockHint({layer: 'ssrf', detail: ''})!, /ssrf\.ip_allowlist/)
  assert.match(blockHint({layer: 'core_ssrf', detail: ''})!, /ssrf\.ip_allowlist/)
})

test('overrides: a scanner hint first, then redirects; other layers get beyond-table hints', () => {
  assert.equal(blockHint({layer: 'ssrf', detail: '', hint: 'add h to trusted_domains'}), 'add h to trusted_domains')
  assert.equal(blockHint({layer: 'dlp', detail: 'redirect blocked: DLP match'}), 'Request was redirected to a different origin. Cross-origin redirects are blocked to prevent open redirect attacks.')
  assert.match(blockHint({layer: 'response_scan', detail: ''})!, /suppress entry/)
  assert.match(blockHint({layer: 'budget', detail: ''})!, /agents\.<name>\.budget/)
  assert.equal(blockHint({layer: 'no_such_layer', detail: ''}), undefined)
  assert.deepEqual(hintHeader(false, {layer: 'dlp', detail: ''}), {})
  assert.deepEqual(Object.keys(hintHeader(true, {layer: 'dlp', detail: ''})), ['X-Pipelock-Hint'])
})
