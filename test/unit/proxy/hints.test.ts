// operations.md §7.2: the hint table (exact strings), the dlp row fixed, SSRF hints name the
// settings, redirect override, beyond-table hints for other layers.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {blockHint, captureOnlyContractHint, hintHeader, OTHER_HINTS} from '../../../src/plugins/proxy/hints.js'
import {contractHint} from '../../../src/plugins/proxy/request-gate.js'
import {gateHttp} from '../../../src/plugins/gate/index.js'
import {fromPlain, type JsonObject} from '../../../src/plugins/canonical/index.js'

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

test('a contract default deny that a capture-only rule would allow: the hint names the rule and the ratify --decide / promote steps that enforce it', () => {
  const hash = 'sha256:' + 'ab'.repeat(32)
  const h = captureOnlyContractHint('r-1c6ed57b038552fa949d', hash)
  assert.equal(
    h,
    'Capture-only rule r-1c6ed57b038552fa949d matches this request but is not enforced, and under a live contract only enforce rules allow. ' +
      'To allow such requests, enforce it: pipelock learn ratify --candidate CONTRACT.yaml --decide r-1c6ed57b038552fa949d=e --out RATIFIED.yaml ' +
      `(CONTRACT.yaml: the contract you promoted; the store under learn_lock.store_dir keeps it as history/sha256-${'ab'.repeat(32)}.yaml; its other rules keep their decisions), ` +
      'then pipelock learn promote --candidate RATIFIED.yaml with the --selector and store flags you promoted it with.',
  )
  // a hand-edited rule id the shell would split is quoted, the --decide value as one word; one that is not printable ASCII is left to the 403 detail
  assert.match(captureOnlyContractHint("r-it's", hash), /^Capture-only rule 'r-it'"'"'s' matches .* ratify --candidate CONTRACT\.yaml --decide 'r-it'"'"'s=e' --out RATIFIED\.yaml \(/)
  assert.match(captureOnlyContractHint('r-$(id)', hash), /^Capture-only rule 'r-\$\(id\)' matches .* --decide 'r-\$\(id\)=e' --out /)
  const odd = captureOnlyContractHint('r-\u00e9t\u00e9\n', 'sha256:c')
  assert.match(odd, /^The capture-only rule the block detail names matches this request .* --decide RULE_ID=e --out RATIFIED\.yaml \(CONTRACT\.yaml: .* keeps it as history\/; RULE_ID: that rule's id; its other rules keep their decisions\), then /)
  assert.match(odd, /^[\x20-\x7e]+$/)
  // through the header: the hint given, one line
  assert.deepEqual(hintHeader(true, {layer: 'contract', detail: 'contract_enforce_default: …', hint: h}), {'X-Pipelock-Hint': h})
  // other contract blocks keep the layer's hint
  assert.equal(blockHint({layer: 'contract', detail: 'contract_non_default_port: …'}), OTHER_HINTS.contract)
})

test('hintHeader: a hint stays one line of printable ASCII (a header value cannot hold more)', () => {
  assert.deepEqual(hintHeader(true, {layer: 'x', detail: '', hint: 'add caf\u00e9.example\r\nto trusted_domains \u2014 now'}), {'X-Pipelock-Hint': 'add caf?.example  to trusted_domains ? now'})
})

test('contractHint: the capture-only hint for a default deny a capture-only rule would allow (stage and redirect hop alike), else the layer hint', () => {
  const body = fromPlain({
    rules: [
      {rule_id: 'r-root', rule_kind: 'http_destination', lifecycle_state: 'enforce', selector: {host: {value: 'a.example'}, paths: [{value: '/'}]}},
      {rule_id: 'r-docs', rule_kind: 'http_destination', lifecycle_state: 'capture_only', selector: {host: {value: 'a.example'}, paths: [{value: '/docs'}]}},
    ],
  }) as JsonObject
  const contract = {contractHash: 'sha256:' + 'cd'.repeat(32), body}
  const gate = (url: string) => gateHttp('live', contract, {url, method: 'GET', scannerVerdict: 'allow'})
  assert.equal(contractHint(gate('https://a.example/docs')), captureOnlyContractHint('r-docs', contract.contractHash))
  assert.equal(contractHint(gate('https://a.example/other')), undefined)
  assert.equal(contractHint(gate('https://a.example:8443/docs')), undefined)
})
