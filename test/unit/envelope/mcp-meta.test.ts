// The MCP form of the mediation envelope (envelope-redaction spec §1, §2.2 "MCP form"): the
// header's members as JSON, `ph` as `sha256-128:` + base64, in the header's member order.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {mcpEnvelope, mcpMediationMeta, parseEnvelope, serializeEnvelope, type Envelope} from '../../../src/plugins/envelope/index.js'

// The spec's §2.1 example envelope.
const EXAMPLE: Envelope = {
  v: 1, act: 'write', vd: 'allow', se: 'external_write', actor: 'spiffe://pipelock.local/agent/claude', aa: 'self-declared',
  ph: Buffer.from('00112233445566778899aabbccddeeff', 'hex'), rid: '01961f3a-7b2c-7000-8000-000000000001', ts: 1618884473,
  taint: 'trusted', auth: 'user_broad',
}

test('the spec example as JSON: same members, same order, ph as sha256-128 base64', () => {
  assert.equal(
    serializeEnvelope(EXAMPLE),
    'v=1, act="write", vd="allow", se="external_write", actor="spiffe://pipelock.local/agent/claude", aa="self-declared", ph=:ABEiM0RVZneImaq7zN3u/w==:, rid="01961f3a-7b2c-7000-8000-000000000001", ts=1618884473, taint="trusted", auth="user_broad"',
  )
  assert.equal(
    JSON.stringify(mcpMediationMeta(EXAMPLE)),
    '{"v":1,"act":"write","vd":"allow","se":"external_write","actor":"spiffe://pipelock.local/agent/claude","aa":"self-declared","ph":"sha256-128:ABEiM0RVZneImaq7zN3u/w==","rid":"01961f3a-7b2c-7000-8000-000000000001","ts":1618884473,"taint":"trusted","auth":"user_broad"}',
  )
  // The header members and the JSON keys are the same set (one envelope, two encodings).
  const header = parseEnvelope(serializeEnvelope(EXAMPLE))
  assert.deepEqual(Object.keys(mcpMediationMeta(header)), Object.keys(mcpMediationMeta(EXAMPLE)))
})

test('optional members: empty strings dropped, reauth only when true, hop only when > 0; se kept even when empty', () => {
  const m = mcpMediationMeta({...EXAMPLE, se: '', taint: '', auth: undefined, task: 'task-1', authr: 'r', reauth: true, hop: 2})
  assert.deepEqual(Object.entries(m), [
    ['v', 1], ['act', 'write'], ['vd', 'allow'], ['se', ''], ['actor', 'spiffe://pipelock.local/agent/claude'], ['aa', 'self-declared'],
    ['ph', 'sha256-128:ABEiM0RVZneImaq7zN3u/w=='], ['rid', '01961f3a-7b2c-7000-8000-000000000001'], ['ts', 1618884473],
    ['task', 'task-1'], ['authr', 'r'], ['reauth', true], ['hop', 2],
  ])
  assert.equal('reauth' in mcpMediationMeta({...EXAMPLE, reauth: false}), false)
  assert.equal('hop' in mcpMediationMeta({...EXAMPLE, hop: 0}), false)
})

test('mcpEnvelope: SPIFFE or legacy actor, ph from the config hash, E1 taint/auth', () => {
  const base = {aa: 'bound' as const, actorFormat: 'spiffe' as const, trustDomain: 'Prod.Example', configHash: 'sha256:' + '00112233445566778899aabbccddeeff'.repeat(2), act: 'write', se: 'external_write', vd: 'warn' as const, rid: 'r-1', ts: 7}
  const e = mcpEnvelope({...base, agent: 'billing bot'})
  assert.equal(e.actor, 'spiffe://prod.example/agent/billing-bot')
  assert.equal(e.ph.toString('hex'), '00112233445566778899aabbccddeeff')
  assert.deepEqual([e.v, e.vd, e.aa, e.taint, e.auth], [1, 'warn', 'bound', 'trusted', 'user_broad'])
  assert.equal(mcpEnvelope({...base, agent: ''}).actor, 'spiffe://prod.example/agent/anonymous')
  assert.equal(mcpEnvelope({...base, agent: 'billing', actorFormat: 'legacy'}).actor, 'billing')
})
