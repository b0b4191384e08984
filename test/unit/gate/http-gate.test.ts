// The live gate's block detail and receipt context for a contract default deny: the deny belongs
// to the host (no rule of it matched), so neither names a rule; the detail names a capture-only
// rule that matches, since only enforce rules allow. A refused port and a path no single path
// rule judges are the host's too.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {fromPlain, type JsonObject} from '../../../src/plugins/canonical/index.js'
import {gateHttp} from '../../../src/plugins/gate/index.js'

const rule = (id: string, state: string, paths?: string[]): Record<string, unknown> => ({
  rule_id: id,
  rule_kind: 'http_destination',
  lifecycle_state: state,
  selector: {host: {value: '127.77.13.9', data_class: 'public'}, ...(paths === undefined ? {} : {paths: paths.map((value) => ({value}))})},
})
const contract = {
  contractHash: 'sha256:c',
  body: fromPlain({rules: [rule('r-root', 'enforce', ['/']), rule('r-items', 'enforce', ['/api/items/*']), rule('r-docs', 'capture_only', ['/docs/index.html'])]}) as JsonObject,
}
const get = (url: string) => gateHttp('live', contract, {url, method: 'GET', scannerVerdict: 'allow'})
/** What a contract block says: its verdict, code and detail, and the receipt's rule id and reason. */
const outcome = (r: ReturnType<typeof get>) => ({verdict: r.verdict, code: r.code, detail: r.detail, rule: r.context.ruleId, reason: r.context.reason})

test('gateHttp: a default deny names the host whose rules did not match, not its first rule', () => {
  const r = get('http://127.77.13.9/other')
  assert.deepEqual(outcome(r), {
    verdict: 'block',
    code: 'contract_enforce_default',
    detail: 'contract_enforce_default: request not allowed by contract sha256:c (no enforce rule of host 127.77.13.9 matches)',
    rule: '',
    reason: 'contract_enforce_default',
  })
})

test('gateHttp: a default deny names the capture-only rule that matches the request (not enforced), the code and receipt context unchanged', () => {
  const r = get('http://127.77.13.9/docs/index.html')
  assert.deepEqual(outcome(r), {
    verdict: 'block',
    code: 'contract_enforce_default',
    detail: 'contract_enforce_default: request not allowed by contract sha256:c (no enforce rule of host 127.77.13.9 matches; capture-only rule r-docs matches but is not enforced: enforce it to allow such requests)',
    rule: '',
    reason: 'contract_enforce_default',
  })
  // a method override is judged the same way: GET /a is enforced, DELETE /a only capture-only
  const byMethod = {
    contractHash: 'sha256:m',
    body: fromPlain({
      rules: [
        {...rule('r-get', 'enforce', ['/a']), selector: {host: {value: '127.77.13.9'}, methods: ['GET'], paths: [{value: '/a'}]}},
        {...rule('r-delete', 'capture_only', ['/a']), selector: {host: {value: '127.77.13.9'}, methods: ['DELETE'], paths: [{value: '/a'}]}},
      ],
    }) as JsonObject,
  }
  const o = gateHttp('live', byMethod, {url: 'http://127.77.13.9/a', method: 'GET', scannerVerdict: 'allow', methodOverrides: ['DELETE']})
  assert.equal(o.detail, 'contract_enforce_default: method override DELETE not allowed by contract sha256:m (no enforce rule of host 127.77.13.9 matches; capture-only rule r-delete matches but is not enforced: enforce it to allow such requests)')
  // a host no enforce rule names, in a contract that enforces another: the contract-wide default deny
  const wide = {
    contractHash: 'sha256:w',
    body: fromPlain({rules: [rule('r-root', 'enforce', ['/']), {...rule('r-b', 'capture_only'), selector: {host: {value: 'b.example'}}}]}) as JsonObject,
  }
  const w = gateHttp('live', wide, {url: 'https://b.example/x', method: 'GET', scannerVerdict: 'allow'})
  assert.deepEqual([w.code, w.detail, w.context.ruleId], ['contract_default_deny', 'contract_default_deny: request not allowed by contract sha256:w (capture-only rule r-b matches but is not enforced: enforce it to allow such requests)', ''])
  // shadow mode does not block, so there is nothing to say
  assert.deepEqual(gateHttp('shadow', contract, {url: 'http://127.77.13.9/docs/index.html', method: 'GET', scannerVerdict: 'allow'}).detail, '')
})

test('gateHttp: a rule that decides is still named', () => {
  assert.equal(get('http://127.77.13.9/').context.ruleId, 'r-root')
  assert.equal(get('http://127.77.14.1/').detail, 'contract_default_deny: request not allowed by contract sha256:c')
})

test('gateHttp: a non-default port names the host and the port, not the host\'s first rule (receipts carry no rule id)', () => {
  const r = get('http://127.77.13.9:8080/api/items/7')
  assert.deepEqual(outcome(r), {
    verdict: 'block',
    code: 'contract_non_default_port',
    detail: "contract_non_default_port: request not allowed by contract sha256:c (port 8080 of host 127.77.13.9: contracts allow a host on its scheme's default port only)",
    rule: '',
    reason: 'contract_non_default_port',
  })
})

test('gateHttp: a path with no canonical form names the one path rule for the method, else the host and method (receipts carry no rule id)', () => {
  // both path rules of the host allow any method: neither alone decided, the first (r-root) least of all
  const r = get('http://127.77.13.9//api/items/7')
  assert.deepEqual(outcome(r), {
    verdict: 'block',
    code: 'contract_invalid_path',
    detail: "contract_invalid_path: request not allowed by contract sha256:c (the path of this GET to host 127.77.13.9 has no canonical form, so the host's path rules cannot judge it)",
    rule: '',
    reason: 'contract_invalid_path',
  })
  const byMethod = {
    contractHash: 'sha256:m',
    body: fromPlain({
      rules: [
        {...rule('r-get', 'enforce'), selector: {host: {value: '127.77.13.9'}, methods: ['GET'], paths: [{value: '/a'}]}},
        {...rule('r-post', 'enforce'), selector: {host: {value: '127.77.13.9'}, methods: ['POST'], paths: [{value: '/b'}]}},
      ],
    }) as JsonObject,
  }
  // the only path rule for POST is the one whose path constraint failed: it is named
  const p = gateHttp('live', byMethod, {url: 'http://127.77.13.9/x/../b', method: 'POST', scannerVerdict: 'allow'})
  assert.deepEqual([p.code, p.detail, p.context.ruleId], ['contract_invalid_path', 'contract_invalid_path: request not allowed by contract sha256:m (rule r-post)', 'r-post'])
  // a method override no path rule is for (the request line's GET is allowed by a path-free rule): the host and that method
  const free = {
    contractHash: 'sha256:f',
    body: fromPlain({
      rules: [
        {...rule('r-get-any', 'enforce'), selector: {host: {value: '127.77.13.9'}, methods: ['GET']}},
        {...rule('r-post', 'enforce'), selector: {host: {value: '127.77.13.9'}, methods: ['POST'], paths: [{value: '/b'}]}},
      ],
    }) as JsonObject,
  }
  const o = gateHttp('live', free, {url: 'http://127.77.13.9//b', method: 'GET', scannerVerdict: 'allow', methodOverrides: ['DELETE']})
  assert.deepEqual([o.code, o.detail, o.context.ruleId], ['contract_invalid_path', "contract_invalid_path: method override DELETE not allowed by contract sha256:f (the path of this DELETE to host 127.77.13.9 has no canonical form, so the host's path rules cannot judge it)", ''])
  const d = gateHttp('live', byMethod, {url: 'http://127.77.13.9//a', method: 'DELETE', scannerVerdict: 'allow'})
  assert.deepEqual([d.code, d.detail, d.context.ruleId], ['contract_invalid_path', "contract_invalid_path: request not allowed by contract sha256:m (the path of this DELETE to host 127.77.13.9 has no canonical form, so the host's path rules cannot judge it)", ''])
})
