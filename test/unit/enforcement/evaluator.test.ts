import {test} from 'node:test'
import assert from 'node:assert/strict'
import {fromPlain, JsonNumber, type JsonObject} from '../../../src/plugins/canonical/index.js'
import {
  blockReasonCode,
  evaluateHttp,
  evaluateMcp,
  goPathMatch,
  selectContract,
  type HttpRequestInput,
  type ResolvedContract,
} from '../../../src/plugins/enforcement/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'

// Table tests for the one evaluator (learn-lifecycle §7.5–§7.9): shadow replay and the live
// gate call exactly these functions.

function rule(id: string, state: string, selector: Record<string, unknown>, kind = 'http_destination'): Record<string, unknown> {
  return {rule_id: id, rule_kind: kind, lifecycle_state: state, selector}
}

function contract(...rules: Record<string, unknown>[]): ResolvedContract {
  return {contractHash: 'sha256:c', body: fromPlain({rules}) as JsonObject}
}

const host = (value: string): Record<string, unknown> => ({host: {value, data_class: 'public'}})
const req = (url: string, more: Partial<HttpRequestInput> = {}): HttpRequestInput => ({url, method: 'GET', mode: 'live', scannerVerdict: 'allow', ...more})

const C = contract(
  rule('r-users', 'enforce', {...host('API.example.com.'), methods: ['get'], paths: [{value: '/v1/users'}]}, 'http_destination'),
  rule('r-post', 'enforce', {...host('api.example.com'), methods: ['POST'], paths: [{value: '/v1/orders'}], effective_action: 'allow'}, 'http_action'),
  rule('r-docs', 'enforce', host('docs.example.com')),
  rule('r-capture', 'capture_only', host('capture.example.com')),
  rule('r-star', 'enforce', {...host('star.example.com'), paths: [{value: '/repos/*'}]}),
  // a path compile collapsed (learn-compile §15): index 3 stands for any one segment
  rule('r-ids', 'enforce', {
    ...host('ids.example.com'),
    paths: [{value: '/v1/users/*', normalization: {algorithm: 'frequency_weighted_entropy_v1', collapsed_segments: [{index: 3, distinct_values: 54, event_count: 190, reason: 'high_entropy_identifier_segment'}]}}],
  }),
  // the same collapse with `admin` pinned (learn pin): the `*` never stands for it
  rule('r-pinned', 'enforce', {
    ...host('pinned.example.com'),
    paths: [
      {
        value: '/v1/users/*',
        normalization: {
          algorithm: 'frequency_weighted_entropy_v1',
          collapsed_segments: [{index: 3, distinct_values: 54, event_count: 190, reason: 'high_entropy_identifier_segment'}],
          pinned_segments: [{value: 'Export', reason: 'operator_pin'}],
        },
      },
    ],
  }),
)

const cases: [string, ResolvedContract | undefined, HttpRequestInput, {verdict: string; live?: string; win: string; reason: string; rule: string}][] = [
  ['host+method+path allow', C, req('https://api.example.com/v1/users'), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-users'}],
  ['host normalisation: case and trailing dot both sides', C, req('https://API.Example.com./v1/users'), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-users'}],
  ['path canonicalised (case, trailing slash) before exact equality', C, req('https://api.example.com/V1/Users/'), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-users'}],
  ['method is case-insensitive', C, req('https://api.example.com/v1/users', {method: ' get '}), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-users'}],
  ['wrong method → enforce default, no rule named (none matched)', C, req('https://api.example.com/v1/users', {method: 'DELETE'}), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['wrong path → enforce default', C, req('https://api.example.com/v1/other'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['effective_action must equal exactly', C, req('https://api.example.com/v1/orders', {method: 'POST', effectiveAction: 'allow'}), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-post'}],
  ['effective_action mismatch → block', C, req('https://api.example.com/v1/orders', {method: 'POST', effectiveAction: 'warn'}), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['host-only rule matches every path and method', C, req('https://docs.example.com/a/b?q=1', {method: 'PUT'}), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-docs'}],
  ['other host → contract-wide default deny (no §10.6 host scoping)', C, req('https://elsewhere.example.com/'), {verdict: 'block', win: 'contract', reason: 'contract_default_deny', rule: ''}],
  ['capture_only rules never allow', C, req('https://capture.example.com/'), {verdict: 'block', win: 'contract', reason: 'contract_default_deny', rule: ''}],
  ['non-default port blocks, no rule named (the port, not a rule, decides)', C, req('https://docs.example.com:8443/'), {verdict: 'block', win: 'contract', reason: 'contract_non_default_port', rule: ''}],
  ['explicit default port is fine', C, req('https://docs.example.com:443/'), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-docs'}],
  ['http port 443 is not default for http', C, req('http://docs.example.com:443/'), {verdict: 'block', win: 'contract', reason: 'contract_non_default_port', rule: ''}],
  ['uncanonicalisable path (dot segment) blocks', C, req('https://api.example.com/v1/../users'), {verdict: 'block', win: 'contract', reason: 'contract_invalid_path', rule: 'r-users'}],
  ['encoded slash blocks', C, req('https://api.example.com/v1%2Fusers'), {verdict: 'block', win: 'contract', reason: 'contract_invalid_path', rule: 'r-users'}],
  ['double slash blocks', C, req('https://api.example.com//v1/users'), {verdict: 'block', win: 'contract', reason: 'contract_invalid_path', rule: 'r-users'}],
  ['host-only rule ignores bad paths (no paths constraint)', C, req('https://docs.example.com/a//b'), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-docs'}],
  ['* in a path value is literal, not a wildcard', C, req('https://star.example.com/repos/x'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['literal * matches only itself', C, req('https://star.example.com/repos/%2A'), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-star'}],
  ['a collapsed segment matches any one id', C, req('https://ids.example.com/v1/users/8f3a2c'), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-ids'}],
  ['a collapsed segment never stands for a built-in reserved word (admin), pinned or not', C, req('https://ids.example.com/v1/users/admin'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['nor for one in another case (TOKEN)', C, req('https://ids.example.com/v1/users/TOKEN'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['nor for a double-encoded one with a ;parameter (%2561uth;x)', C, req('https://ids.example.com/v1/users/%2561uth;x'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['without a pin a collapsed segment stands for any other word (export)', C, req('https://ids.example.com/v1/users/export'), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-ids'}],
  ['a pinned value is not one of the ids a collapsed segment stands for', C, req('https://pinned.example.com/v1/users/export'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['a pin holds whatever case the request uses', C, req('https://pinned.example.com/v1/users/EXPORT'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['a pin holds for an encoded, double-encoded or ;parameter form', C, req('https://pinned.example.com/v1/users/%2565xport;x'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['other ids still match the pinned entry', C, req('https://pinned.example.com/v1/users/8f3a2c'), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-pinned'}],
  ['a collapsed segment matches exactly one segment, not more', C, req('https://ids.example.com/v1/users/8f3a2c/keys'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['literal segments of a collapsed path still match literally', C, req('https://ids.example.com/v1/admin/8f3a2c'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['a collapsed segment is not a dot segment (%2e resolves to the parent upstream)', C, req('https://ids.example.com/v1/users/%2e'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['a collapsed segment is not a dot-dot segment', C, req('https://ids.example.com/v1/users/%2E%2e'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['a collapsed segment is not a dot segment with a ;parameter (..; resolves to the parent on servers that drop them)', C, req('https://ids.example.com/v1/users/..;'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['nor an encoded one', C, req('https://ids.example.com/v1/users/%2e;jsessionid=1'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['a collapsed segment does not hold a backslash (WHATWG clients and IIS read it as a separator)', C, req('https://ids.example.com/v1/users/x\\admin'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['nor an encoded one (%5C)', C, req('https://ids.example.com/v1/users/x%5cadmin'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['a collapsed segment is UTF-8: an overlong %c0%ae%c0%ae (`..` to lenient decoders) is not an id', C, req('https://ids.example.com/v1/users/%c0%ae%c0%ae'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['nor any other byte that is not UTF-8', C, req('https://ids.example.com/v1/users/a%ffb'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['a collapsed segment may hold non-ASCII UTF-8', C, req('https://ids.example.com/v1/users/%C3%A9t%C3%A9'), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-ids'}],
  ['a collapsed segment is not a double-encoded dot-dot (%252e%252e: `..` to an upstream that decodes twice)', C, req('https://ids.example.com/v1/users/%252e%252e'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['nor a half double-encoded one (%2e%252e)', C, req('https://ids.example.com/v1/users/%2e%252e'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['nor a triple-encoded dot (%25252e)', C, req('https://ids.example.com/v1/users/%25252e'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['nor a double-encoded slash (a%252fb is a/b two decodes down)', C, req('https://ids.example.com/v1/users/a%252fb'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['nor a double-encoded backslash (%255c)', C, req('https://ids.example.com/v1/users/a%255cb'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['an id holding an escaped percent that decodes to a name is still an id', C, req('https://ids.example.com/v1/users/50%2541'), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-ids'}],
  ['a lone % is literal', C, req('https://ids.example.com/v1/users/100%25'), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-ids'}],
  ['a ;parameter on a name is still one segment', C, req('https://ids.example.com/v1/users/8f3a2c;v=2'), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-ids'}],
  ['a collapsed segment may hold dots inside a name', C, req('https://ids.example.com/v1/users/a.b..c'), {verdict: 'allow', win: 'contract', reason: '', rule: 'r-ids'}],
  ['a collapsed segment needs a segment', C, req('https://ids.example.com/v1/users'), {verdict: 'block', win: 'contract', reason: 'contract_enforce_default', rule: ''}],
  ['scanner warn stays warn on contract allow', C, req('https://docs.example.com/', {scannerVerdict: 'warn'}), {verdict: 'warn', win: 'contract', reason: '', rule: 'r-docs'}],
  ['scanner block wins over a contract allow', C, req('https://docs.example.com/', {scannerVerdict: 'block'}), {verdict: 'block', win: 'scanner', reason: '', rule: ''}],
  ['empty scanner verdict is a block', C, req('https://docs.example.com/', {scannerVerdict: ''}), {verdict: 'block', win: 'scanner', reason: 'scanner_decision_missing', rule: ''}],
  ['kill switch first, every mode', C, req('https://docs.example.com/', {killSwitch: true, mode: 'shadow'}), {verdict: 'block', win: 'kill_switch', reason: 'kill_switch_active', rule: ''}],
  ['no contract → scanner verdict', undefined, req('https://x.example/'), {verdict: 'allow', win: 'scanner', reason: '', rule: ''}],
  ['observation-only contract claims no jurisdiction', contract(rule('r', 'capture_only', host('a.example'))), req('https://b.example/'), {verdict: 'allow', win: 'scanner', reason: '', rule: ''}],
  ['MCP enforce rules do not count for HTTP', contract(rule('m', 'enforce', {server: {value: 's'}, tool: {value: 't'}}, 'mcp_tool_call')), req('https://b.example/'), {verdict: 'allow', win: 'scanner', reason: '', rule: ''}],
  ['bare string host never matches', contract(rule('r', 'enforce', {host: 'a.example'})), req('https://a.example/'), {verdict: 'block', win: 'contract', reason: 'contract_default_deny', rule: ''}],
  ['shadow mode: scanner verdict, live verdict kept, observed-only', C, req('https://elsewhere.example.com/', {mode: 'shadow'}), {verdict: 'allow', live: 'block', win: 'scanner', reason: 'contract_observed_only', rule: ''}],
  ['capture mode behaves like shadow', C, req('https://docs.example.com:8443/', {mode: 'capture'}), {verdict: 'allow', live: 'block', win: 'scanner', reason: 'contract_observed_only', rule: ''}],
  ['shadow allow keeps the rule id', C, req('https://docs.example.com/', {mode: 'shadow'}), {verdict: 'allow', live: 'allow', win: 'scanner', reason: '', rule: 'r-docs'}],
]

for (const [name, c, input, want] of cases) {
  test(`evaluateHttp: ${name}`, () => {
    const d = evaluateHttp(c, input)
    assert.deepEqual(
      {verdict: d.verdict, live: d.liveVerdict, win: d.winningSource, reason: d.reason, rule: d.ruleId},
      {verdict: want.verdict, live: want.live ?? want.verdict, win: want.win, reason: want.reason, rule: want.rule},
    )
  })
}

test('evaluateHttp: rules are tried in order; the first satisfied rule wins', () => {
  const c = contract(rule('a', 'enforce', {...host('h.example'), methods: ['POST']}), rule('b', 'enforce', host('h.example')), rule('c', 'enforce', host('h.example')))
  assert.equal(evaluateHttp(c, req('https://h.example/')).ruleId, 'b')
  assert.equal(evaluateHttp(c, req('https://h.example/', {method: 'POST'})).ruleId, 'a')
})

test('evaluateHttp: a default deny names the host, never a rule that did not match it', () => {
  // the host's first rule is for `/` only: it must not draw the deny of `/docs/index.html`
  const c = contract(
    rule('r-root', 'enforce', {...host('h.example'), paths: [{value: '/'}]}),
    rule('r-items', 'enforce', {...host('h.example'), paths: [{value: '/api/items/*'}]}),
  )
  const of = (d: ReturnType<typeof evaluateHttp>) => ({reason: d.reason, rule: d.ruleId, host: d.host, drift: d.drift?.ruleId})
  assert.deepEqual(of(evaluateHttp(c, req('https://H.example./docs/index.html'))), {reason: 'contract_enforce_default', rule: '', host: 'h.example', drift: ''})
  assert.deepEqual(of(evaluateHttp(c, req('https://h.example/docs/index.html', {mode: 'shadow'}))), {reason: 'contract_observed_only', rule: '', host: 'h.example', drift: ''})
  assert.deepEqual(of(evaluateHttp(c, req('https://other.example/'))), {reason: 'contract_default_deny', rule: '', host: undefined, drift: ''})
  // a rule that matched still names itself
  assert.deepEqual(of(evaluateHttp(c, req('https://h.example/'))), {reason: '', rule: 'r-root', host: undefined, drift: undefined})
})

test('evaluateHttp: a default deny names the capture-only rule that would have allowed the request (it never decides)', () => {
  const c = contract(
    rule('r-root', 'enforce', {...host('h.example'), paths: [{value: '/'}]}),
    rule('r-docs-post', 'capture_only', {...host('h.example'), methods: ['POST'], paths: [{value: '/docs/index.html'}]}),
    rule('r-docs', 'capture_only', {...host('h.example'), paths: [{value: '/docs/index.html'}]}),
  )
  const of = (d: ReturnType<typeof evaluateHttp>) => [d.verdict, d.reason, d.ruleId, d.captureOnlyRuleId]
  assert.deepEqual(of(evaluateHttp(c, req('https://h.example/docs/index.html'))), ['block', 'contract_enforce_default', '', 'r-docs'])
  assert.deepEqual(of(evaluateHttp(c, req('https://h.example/docs/index.html', {method: 'POST'}))), ['block', 'contract_enforce_default', '', 'r-docs-post'])
  assert.deepEqual(of(evaluateHttp(c, req('https://h.example/other'))), ['block', 'contract_enforce_default', '', undefined])
  // a host with capture-only rules only: the contract-wide default deny names it too
  assert.deepEqual(of(evaluateHttp(C, req('https://capture.example.com/x'))), ['block', 'contract_default_deny', '', 'r-capture'])
  // not on a non-default port, which no rule allows
  assert.deepEqual(of(evaluateHttp(C, req('https://capture.example.com:8443/x'))), ['block', 'contract_default_deny', '', undefined])
  // an observation-only contract decides nothing, so names nothing
  assert.deepEqual(of(evaluateHttp(contract(rule('r', 'capture_only', host('a.example'))), req('https://a.example/'))), ['allow', '', '', undefined])
})

test('evaluateHttp: a non-default port names the host and the port, never the host\'s first rule', () => {
  // the host's first rule is for `/` only: the port, refused for the whole host, is no fault of it
  const c = contract(
    rule('r-root', 'enforce', {...host('h.example'), paths: [{value: '/'}]}),
    rule('r-items', 'enforce', {...host('h.example'), paths: [{value: '/api/items/*'}]}),
  )
  const of = (d: ReturnType<typeof evaluateHttp>) => ({reason: d.reason, rule: d.ruleId, host: d.host, port: d.port, drift: d.drift?.ruleId})
  assert.deepEqual(of(evaluateHttp(c, req('https://H.example.:8443/api/items/7'))), {reason: 'contract_non_default_port', rule: '', host: 'h.example', port: '8443', drift: ''})
  assert.deepEqual(of(evaluateHttp(c, req('http://h.example:443/', {mode: 'shadow'}))), {reason: 'contract_observed_only', rule: '', host: 'h.example', port: '443', drift: ''})
  // a default port is judged by the rules as before
  assert.deepEqual(of(evaluateHttp(c, req('https://h.example:443/'))), {reason: '', rule: 'r-root', host: undefined, port: undefined, drift: undefined})
})

test('evaluateHttp: a path with no canonical form names the one path rule for the request, else the host and method', () => {
  // The reference names the host's first path rule (r-get) whatever the method: here only the
  // rule whose methods and effective_action hold for the request had its path constraint tested.
  const c = contract(
    rule('r-get', 'enforce', {...host('h.example'), methods: ['GET'], paths: [{value: '/a'}]}),
    rule('r-post', 'enforce', {...host('h.example'), methods: ['POST'], paths: [{value: '/b'}]}),
    rule('r-post-warn', 'enforce', {...host('h.example'), methods: ['POST'], paths: [{value: '/e'}], effective_action: 'warn'}, 'http_action'),
    rule('r-put-c', 'enforce', {...host('h.example'), methods: ['PUT'], paths: [{value: '/c'}]}),
    rule('r-put-d', 'enforce', {...host('h.example'), methods: ['PUT'], paths: [{value: '/d'}]}),
  )
  const of = (d: ReturnType<typeof evaluateHttp>) => ({verdict: d.verdict, reason: d.reason, rule: d.ruleId, host: d.host, method: d.method, drift: d.drift?.ruleId})
  const named = (rule: string) => ({verdict: 'block', reason: 'contract_invalid_path', rule, host: undefined, method: undefined, drift: rule})
  const hosts = (method: string) => ({verdict: 'block', reason: 'contract_invalid_path', rule: '', host: 'h.example', method, drift: ''})
  assert.deepEqual(of(evaluateHttp(c, req('https://h.example//b', {method: 'POST', effectiveAction: 'allow'}))), named('r-post'))
  assert.deepEqual(of(evaluateHttp(c, req('https://h.example/x/../a'))), named('r-get'))
  // two path rules apply (methods and effective_action hold for both): neither alone decided
  assert.deepEqual(of(evaluateHttp(c, req('https://h.example//e', {method: 'post', effectiveAction: 'warn'}))), hosts('POST'))
  assert.deepEqual(of(evaluateHttp(c, req('https://H.example.//c', {method: 'PUT'}))), hosts('PUT'))
  // no path rule is for DELETE: still the invalid path (as §7.6), charged to the host
  assert.deepEqual(of(evaluateHttp(c, req('https://h.example/%2Fa', {method: ' delete '}))), hosts('DELETE'))
  assert.deepEqual(of(evaluateHttp(c, req('https://h.example//a', {method: 'DELETE', mode: 'shadow'}))), {...hosts('DELETE'), verdict: 'allow', reason: 'contract_observed_only'})
  // an earlier path-free rule that holds still allows; a later one does not (the walk blocks first)
  const free = contract(rule('r-free', 'enforce', {...host('h.example'), methods: ['GET']}), rule('r-b', 'enforce', {...host('h.example'), paths: [{value: '/b'}]}), rule('r-any', 'enforce', host('h.example')))
  assert.deepEqual(of(evaluateHttp(free, req('https://h.example//b'))), {verdict: 'allow', reason: '', rule: 'r-free', host: undefined, method: undefined, drift: undefined})
  assert.deepEqual(of(evaluateHttp(free, req('https://h.example//b', {method: 'POST'}))), named('r-b'))
})

test('evaluateHttp: policy sources trimmed, de-duplicated, then scanner and contract appended', () => {
  const d = evaluateHttp(C, req('https://docs.example.com/', {policySources: [' config ', '', 'config', 'scanner']}))
  assert.deepEqual(d.policySources, ['config', 'scanner', 'contract'])
  const k = evaluateHttp(C, req('https://docs.example.com/', {killSwitch: true}))
  assert.deepEqual(k.policySources, ['scanner', 'kill_switch'])
  assert.equal(k.suppressed, true)
})

test('evaluateHttp: every contract block carries positive drift; adaptive signal only in live', () => {
  const live = evaluateHttp(C, req('https://elsewhere.example.com/'))
  assert.deepEqual(live.drift, {contractHash: 'sha256:c', ruleId: '', kind: 'positive', mode: 'live', action: 'block'})
  assert.equal(live.adaptiveBlockSignal, true)
  const shadow = evaluateHttp(C, req('https://elsewhere.example.com/', {mode: 'shadow'}))
  assert.equal(shadow.drift?.mode, 'shadow')
  assert.equal(shadow.adaptiveBlockSignal, false)
  assert.equal(evaluateHttp(C, req('https://docs.example.com/')).drift, undefined)
})

test('evaluateHttp: invalid mode, lifecycle or URL are errors (callers block)', () => {
  const code = (f: () => unknown): string => {
    try {
      f()
    } catch (e) {
      assert.ok(e instanceof PipelockError)
      return `${e.code}: ${e.message}`
    }
    return 'no error'
  }
  assert.equal(code(() => evaluateHttp(C, req('https://a/', {mode: ''}))), 'CONTRACT_EVALUATION_FAILED: contract runtime: invalid decision input: mode required')
  assert.equal(code(() => evaluateHttp(C, req('https://a/', {mode: 'enforce'}))), 'CONTRACT_EVALUATION_FAILED: contract runtime: invalid decision input: mode "enforce"')
  assert.equal(code(() => evaluateHttp(contract(rule('x', 'Enforce', host('a'))), req('https://a/'))), 'CONTRACT_EVALUATION_FAILED: contract: unsupported lifecycle_state: "Enforce"')
  assert.match(code(() => evaluateHttp(C, req('ftp://a/x'))), /CONTRACT_EVALUATION_FAILED: contract runtime: request URL has no http\(s\) host/)
  // the kill switch and the scanner floor come before any contract error
  assert.equal(evaluateHttp(contract(rule('x', 'bogus', host('a'))), req('https://a/', {killSwitch: true})).verdict, 'block')
})

test('evaluateHttp: expired, demoted and proposed rules are skipped like capture_only', () => {
  for (const state of ['expired', 'demoted', 'proposed', 'capture_only']) {
    const d = evaluateHttp(contract(rule('x', state, host('a.example')), rule('y', 'enforce', host('b.example'))), req('https://a.example/'))
    assert.equal(d.reason, 'contract_default_deny', state)
  }
})

const M = contract(
  rule('m-1', 'enforce', {server: {value: 'files'}, tool: {value: 'read'}, args: [{key: 'path', value: '/etc/motd'}, {key: 'n', value: new JsonNumber('10')}]}, 'mcp_tool_call'),
  rule('m-2', 'enforce', {server: {value: 'files'}, tool: {value: 'list'}}, 'mcp_tool_call'),
  rule('m-3', 'enforce', {server: {value: 'files'}, tool: {value: 'flag'}, args: [{key: 'on', value: true}]}, 'mcp_tool_call'),
)
const mcp = (server: string, tool: string, args?: unknown, mode = 'live') => evaluateMcp(M, {server, tool, args, mode, scannerVerdict: 'allow'})

test('evaluateMcp: server/tool exact, args typed equality with exact rationals', () => {
  assert.equal(mcp('files', 'read', {path: '/etc/motd', n: 10}).ruleId, 'm-1')
  assert.equal(mcp('files', 'read', fromPlain({path: '/etc/motd', n: 10})).winningSource, 'contract')
  assert.equal(mcp('files', 'read', new Map<string, unknown>([['path', '/etc/motd'], ['n', new JsonNumber('1.0e1')]])).verdict, 'allow')
  assert.equal(mcp('files', 'read', {path: '/etc/motd', n: '10'}).reason, 'contract_mcp_args_mismatch')
  assert.equal(mcp('files', 'read', {path: '/etc/motd', n: 10.5}).reason, 'contract_mcp_args_mismatch')
  assert.equal(mcp('files', 'read', {path: '/etc/motd'}).reason, 'contract_mcp_args_mismatch')
  assert.equal(mcp('files', 'read', {path: '/etc/motd', n: 10}).verdict, 'allow')
  assert.equal(mcp(' files ', ' list ').ruleId, 'm-2')
  assert.equal(mcp('Files', 'list').reason, 'contract_mcp_default_deny')
  assert.equal(mcp('files', 'flag', {on: true}).verdict, 'allow')
  assert.equal(mcp('files', 'flag', {on: 'true'}).verdict, 'block')
  assert.equal(mcp('files', 'nope').reason, 'contract_mcp_default_deny')
  assert.equal(mcp('files', 'nope', undefined, 'shadow').verdict, 'allow')
  assert.equal(mcp('files', 'nope', undefined, 'shadow').liveVerdict, 'block')
  assert.throws(() => mcp('', 'read'), /server required/)
  assert.throws(() => mcp('files', ' '), /tool required/)
  // HTTP-only contract: no MCP jurisdiction
  assert.equal(evaluateMcp(C, {server: 's', tool: 't', mode: 'live', scannerVerdict: 'allow'}).winningSource, 'scanner')
})

test('evaluateMcp: a matched argument with a case-folded twin key is a mismatch (a Go tool server reads the last one)', () => {
  // encoding/json gives the struct field `path` the last key equal under Unicode simple folding.
  assert.equal(mcp('files', 'read', {path: '/etc/motd', n: 10, Path: '/etc/shadow'}).reason, 'contract_mcp_args_mismatch')
  assert.equal(mcp('files', 'read', fromPlain({path: '/etc/motd', n: 10, PATH: '/etc/shadow'})).reason, 'contract_mcp_args_mismatch')
  assert.equal(mcp('files', 'read', {path: '/etc/motd', n: 10, '\u017fn': 1}).verdict, 'allow', 'ſn folds to SN, not to n or path')
  assert.equal(mcp('files', 'flag', {on: true, 'o\u0274': false}).verdict, 'allow', 'a look-alike that Go does not fold is another key')
  assert.equal(mcp('files', 'read', {path: '/etc/motd', n: 10, pathname: '/etc/shadow'}).verdict, 'allow', 'only the same field counts')
  assert.equal(mcp('files', 'list', {path: '/a', Path: '/b'}).verdict, 'allow', 'a rule without argument matchers allows any arguments')
})

test('blockReasonCode maps decision reasons to wire codes (§7.9)', () => {
  assert.equal(blockReasonCode(mcp('files', 'read', {})), 'contract_enforce_default')
  assert.equal(blockReasonCode(mcp('files', 'nope')), 'contract_default_deny')
  assert.equal(blockReasonCode(evaluateHttp(C, req('https://docs.example.com:81/'))), 'contract_non_default_port')
  assert.equal(blockReasonCode(evaluateHttp(C, req('https://a/', {killSwitch: true}))), 'kill_switch_active')
  assert.equal(blockReasonCode(evaluateHttp(C, req('https://a/', {scannerVerdict: ''}))), 'parse_error')
})

test('goPathMatch follows Go path.Match', () => {
  const t: [string, string, boolean | undefined][] = [
    ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true], ['a*b*c*d*e*/f', 'axbxcxdxe/f', true], ['a?c', 'abc', true], ['a?c', 'a/c', false],
    ['a[b-d]c', 'acc', true], ['a[^b-d]c', 'acc', false], ['a[^b-d]c', 'aec', true], ['a\\*b', 'a*b', true], ['a\\*b', 'ab', false],
    ['[', 'a', undefined], ['a[', 'a', undefined], ['[-]', '-', undefined], ['*x', 'xxx', true], ['agent-*', 'agent-7', true],
    ['a*b', 'a/b', false], ['[a-', 'a', undefined], ['\\', 'a', undefined],
  ]
  for (const [p, n, want] of t) assert.equal(goPathMatch(p, n), want, `${p} ~ ${n}`)
})

test('selectContract: exact agent > glob > default; ties go to the earliest; bad globs never match', () => {
  const sel = [{default: true}, {agent_glob: 'shop-*'}, {agent: 'shop-1'}, {agent_glob: 'shop-?'}, {agent_glob: '['}, {}]
  assert.equal(selectContract(sel, ' shop-1 '), 2)
  assert.equal(selectContract(sel, 'shop-2'), 1)
  assert.equal(selectContract(sel, 'other'), 0)
  assert.equal(selectContract([{agent_glob: '['}, {}], 'x'), -1)
})
