// Redaction of MCP tools/call arguments (config reference "Redaction"): the same matcher as HTTP
// bodies rewrites params.arguments before the content scan; a failure blocks the call; other
// methods and other parts of the message are left alone.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {call, runtimeFor, Session} from './helpers.js'

const EMAIL = ['ops', '@', 'corp.example'].join('')

function session(): Session {
  return new Session(runtimeFor({
    request_body_scanning: {enabled: true},
    redaction: {enabled: true, default_profile: 'p', profiles: {p: {classes: ['email', 'ipv4', 'credit-card']}}},
  }))
}

test('tools/call arguments are rewritten into placeholders; the summary counts them', () => {
  const d = session().req(call(1, 'send_mail', {to: EMAIL, body: `relay 10.0.0.5 for ${EMAIL}`, n: 3}))
  assert.equal(d.verdict, 'allow')
  assert.equal(d.forward, '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"send_mail","arguments":{"to":"<pl:email:1>","body":"relay <pl:ipv4:1> for <pl:email:1>","n":3}}}')
  assert.deepEqual(d.redaction, {profile: 'p', provider: 'generic-json', parser: 'json', total_redactions: 2, by_class: {email: 1, ipv4: 1}})
})

test('a secret in a numeric argument blocks the call with redaction_failure', () => {
  const d = session().req(call(2, 'pay', {card: 4111111111111111}))
  assert.equal(d.verdict, 'block')
  assert.equal(d.layer, 'redaction')
  assert.equal(d.reason, 'redaction_failure')
  assert.deepEqual(d.findings, ['redaction blocked request: secret_in_numeric_scalar'])
  assert.ok(d.answer !== null && d.forward === null)
})

test('other methods and calls without a hit pass unchanged', () => {
  const s = session()
  const list = s.req({jsonrpc: '2.0', id: 3, method: 'tools/list', params: {cursor: EMAIL}})
  assert.ok(list.forward!.includes(EMAIL))
  assert.equal(list.redaction, undefined)
  const clean = s.req(call(4, 'echo', {text: 'hello'}))
  assert.equal(clean.forward, JSON.stringify(call(4, 'echo', {text: 'hello'})))
  assert.equal(clean.redaction, undefined)
})
