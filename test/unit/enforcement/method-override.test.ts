import {test} from 'node:test'
import assert from 'node:assert/strict'
import {fromPlain, type JsonObject} from '../../../src/plugins/canonical/index.js'
import {evaluateHttp, INVALID_OVERRIDE, methodOverrides, type HttpRequestInput, type ResolvedContract} from '../../../src/plugins/enforcement/index.js'

// Method overrides (enforcement/method-override.ts): the methods a request names besides its
// request line, which the one evaluator judges like the request line's.

const form = (body: string, contentType = 'application/x-www-form-urlencoded'): {contentType: string; body: Uint8Array} => ({contentType, body: Buffer.from(body)})

const cases: [string, string, Parameters<typeof methodOverrides>[1], string[]][] = [
  ['none: an ordinary request', 'POST', {headers: {'content-type': 'application/json'}, url: 'http://h/v1/items?q=1', ...form('{"a":1}', 'application/json')}, []],
  ['X-HTTP-Method-Override', 'POST', {headers: {'x-http-method-override': 'DELETE'}}, ['DELETE']],
  ['X-HTTP-Method and X-Method-Override, upper-cased and trimmed', 'POST', {headers: {'x-http-method': ' patch ', 'x-method-override': 'put'}}, ['PATCH', 'PUT']],
  ['a comma list and repeated headers, without repeats', 'POST', {headers: {'x-http-method-override': ['DELETE, PATCH', 'delete']}}, ['DELETE', 'PATCH']],
  ['the request line itself is not an override', 'POST', {headers: {'x-http-method-override': 'post'}}, []],
  ['an empty value names nothing', 'POST', {headers: {'x-http-method-override': ' , '}}, []],
  ['not a token: the placeholder, never the text', 'POST', {headers: {'x-http-method-override': 'DEL ETE'}}, [INVALID_OVERRIDE]],
  ['longer than 32 characters: the placeholder', 'POST', {headers: {'x-http-method-override': 'A'.repeat(33)}}, [INVALID_OVERRIDE]],
  ['_method in the query', 'POST', {url: 'http://h/items/7?a=1&_method=delete'}, ['DELETE']],
  ['_method with an encoded name, `;` separator and `+`', 'POST', {url: 'http://h/items/7?a=1;%5Fmethod=DEL+ETE'}, [INVALID_OVERRIDE]],
  ['_method after the fragment is not sent', 'POST', {url: 'http://h/items/7#?_method=delete'}, []],
  ['a longer name is another parameter', 'POST', {url: 'http://h/items/7?_methods=delete&x_method=put'}, []],
  ['_method in an urlencoded form body', 'POST', form('sku=1&_method=PATCH'), ['PATCH']],
  ['the form type with parameters, any case', 'POST', form('_method=put', 'Application/X-WWW-Form-Urlencoded; charset=utf-8'), ['PUT']],
  ['_method in a JSON body is not a form field', 'POST', form('{"_method":"delete"}', 'application/json'), []],
  ['a multipart field, quoted', 'POST', form('--b\r\nContent-Disposition: form-data; name="_method"\r\n\r\nDELETE\r\n--b--\r\n', 'multipart/form-data; boundary=b'), ['DELETE']],
  ['a multipart field, unquoted, with another header line and LF endings', 'POST', form('--b\nContent-Disposition: form-data; name=_method\nContent-Type: text/plain\n\nput\n--b--\n', 'multipart/form-data; boundary=b'), ['PUT']],
  ['a multipart file named _method is not the field', 'POST', form('--b\r\nContent-Disposition: form-data; name="f"; filename="_method"\r\n\r\nDELETE\r\n--b--\r\n', 'multipart/form-data; boundary=b'), []],
  ['every source at once', 'GET', {headers: {'x-http-method-override': 'PUT', 'content-type': 'application/x-www-form-urlencoded'}, url: 'http://h/?_method=patch', body: Buffer.from('_method=delete')}, ['DELETE', 'PATCH', 'PUT']],
]

for (const [name, method, sources, want] of cases) {
  test(`methodOverrides: ${name}`, () => {
    assert.deepEqual(methodOverrides(method, sources), want)
  })
}

test('methodOverrides: reading its own output again gives the same list (what capture writes, learn shadow reads)', () => {
  for (const [, method, sources] of cases) {
    const once = methodOverrides(method, sources)
    assert.deepEqual(methodOverrides(method, {headers: {'x-http-method-override': once}}), once)
  }
})

const C: ResolvedContract = {
  contractHash: 'sha256:c',
  body: fromPlain({
    rules: [
      {rule_id: 'r-post', rule_kind: 'http_destination', lifecycle_state: 'enforce', selector: {host: {value: 'api.example.com'}, methods: ['POST'], paths: [{value: '/v1/items'}]}},
      {rule_id: 'r-delete', rule_kind: 'http_destination', lifecycle_state: 'enforce', selector: {host: {value: 'api.example.com'}, methods: ['DELETE'], paths: [{value: '/v1/items/old'}]}},
      {rule_id: 'r-docs', rule_kind: 'http_destination', lifecycle_state: 'enforce', selector: {host: {value: 'docs.example.com'}}},
    ],
  }) as JsonObject,
}
const req = (url: string, methodOverrides?: string[], more: Partial<HttpRequestInput> = {}): HttpRequestInput => ({url, method: 'POST', mode: 'live', scannerVerdict: 'allow', ...(methodOverrides ? {methodOverrides} : {}), ...more})

test('evaluateHttp: a POST the contract allows is denied when it names a method the contract does not allow there', () => {
  assert.equal(evaluateHttp(C, req('https://api.example.com/v1/items')).verdict, 'allow')
  const d = evaluateHttp(C, req('https://api.example.com/v1/items', ['DELETE']))
  assert.equal(d.verdict, 'block')
  assert.equal(d.reason, 'contract_enforce_default')
  assert.equal(d.overrideMethod, 'DELETE')
  // DELETE is allowed on another path only: still denied here.
  assert.equal(evaluateHttp(C, req('https://api.example.com/v1/items/old', ['DELETE'])).verdict, 'block', 'the request line POST is not allowed on /v1/items/old')
})

test('evaluateHttp: every named method must be allowed; a host-wide rule allows them all', () => {
  assert.equal(evaluateHttp(C, req('https://api.example.com/v1/items', [INVALID_OVERRIDE])).verdict, 'block')
  assert.equal(evaluateHttp(C, req('https://docs.example.com/a', ['DELETE', 'PATCH'])).verdict, 'allow')
  assert.equal(evaluateHttp(C, req('https://docs.example.com/a', ['DELETE', 'PATCH'])).overrideMethod, undefined)
})

test('evaluateHttp: in shadow mode an override denial is what live would do, the scanner verdict stands', () => {
  const d = evaluateHttp(C, req('https://api.example.com/v1/items', ['DELETE'], {mode: 'shadow'}))
  assert.equal(d.verdict, 'allow')
  assert.equal(d.liveVerdict, 'block')
  assert.equal(d.overrideMethod, 'DELETE')
})

test('evaluateHttp: a block of the request line is reported as the request line, not an override', () => {
  const d = evaluateHttp(C, req('https://api.example.com/v1/other', ['DELETE']))
  assert.equal(d.verdict, 'block')
  assert.equal(d.overrideMethod, undefined)
})

test('evaluateHttp: without a contract overrides change nothing (the scanner decides)', () => {
  assert.equal(evaluateHttp(undefined, req('https://x.example/', ['DELETE'])).verdict, 'allow')
})
