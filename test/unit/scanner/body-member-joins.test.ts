/**
 * A key cut between a form field's name and its value (`AKIA…=…`) or a JSON member's name and its
 * string value (`{"AKIA…":"…"}`) is found in a request body, wherever the sorted join of the body's
 * texts puts the halves; a member whose name ends in a key prefix (`"canvas": "…"`) is no key.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {createScanner, defaultScannerSettings, extractJsonParts} from '../../../src/plugins/scanner/index.js'
import {awsKeyId, githubToken} from './fixtures.js'

const sc = createScanner(defaultScannerSettings())
const scan = (contentType: string, body: string) => sc.scanRequestBody({contentType, body: Buffer.from(body)})
const JSON_TYPE = 'application/json'
const FORM = 'application/x-www-form-urlencoded'
const AWS = awsKeyId()
const GH = githubToken()

test('JSON members with string values are read as name and value pairs, nested ones included', () => {
  assert.deepEqual(extractJsonParts('{"a":"b","n":{"c":"d","e":1,"f":["g"]},"h":true}', false, true).members, [['a', 'b'], ['c', 'd']])
  assert.equal(extractJsonParts('{"a":"b"}').members, undefined)
})

test('a key cut between a name and its value is a critical finding in JSON and form bodies', () => {
  // "B-B" sorts between the halves: the sorted join of the texts does not hold the key.
  const cases: Array<[string, string, string]> = [
    [JSON_TYPE, JSON.stringify({[AWS.slice(0, 8)]: AWS.slice(8), 'B-B': 'x y'}), 'AWS Access ID'],
    [JSON_TYPE, JSON.stringify({outer: {[AWS.slice(0, 12).toLowerCase()]: AWS.slice(12).toLowerCase()}, 'B-B': 'x y', list: [1, 2]}), 'AWS Access ID'],
    [JSON_TYPE, JSON.stringify({[GH.slice(0, 20)]: GH.slice(20), 'a-a': 'x y'}), 'GitHub Token'],
    [FORM, `${AWS.slice(0, 8)}=${AWS.slice(8)}&B-B=x+y`, 'AWS Access ID'],
    [FORM, `page=2&${AWS.slice(0, 10)}=${encodeURIComponent(AWS.slice(10))}&B-B=x+y`, 'AWS Access ID'],
  ]
  for (const [type, body, pattern] of cases) {
    const r = scan(type, body)
    assert.deepEqual([r.action, r.layer, r.detail], ['block', 'body_dlp', `request body DLP match: ${pattern}`], body)
  }
})

test('names that end in a key prefix, and ordinary records, pass', () => {
  for (const [type, body] of [
    [JSON_TYPE, JSON.stringify({canvas: 'abcdefghijklmnop12', 'z-z': 'q'})],
    [JSON_TYPE, JSON.stringify({asia: 'northeastdockerpkg1', 'b-b': 'q'})],
    [JSON_TYPE, JSON.stringify({model: 'm', messages: [{role: 'user', content: 'Summarise the market in three lines.'}]})],
    [FORM, 'canvas=abcdefghijklmnop12&z-z=q'],
    [FORM, 'username=alice&password_confirm=&remember=on&redirect=%2Fhome'],
  ] as const) {
    const r = scan(type, body)
    assert.equal(r.action, 'allow', `${body}: ${r.detail}`)
  }
})
