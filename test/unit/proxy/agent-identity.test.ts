// operations.md §10.1: every row of §2.2 × binding on/off × profile known/unknown × listener/CIDR;
// Q-A1, Q-A3, control characters, 65-byte names.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {resolveIdentity, sanitiseAgent, type ProfileTable} from '../../../src/plugins/proxy/identity.js'

const table = (profiles: string[], cidr?: Record<string, string>): ProfileTable => ({profiles: new Set(profiles), cidrAgent: (ip) => cidr?.[ip]})
const T = table(['known', 'deployment_my-agent'], {'127.0.0.3': 'known'})
const unbound = {defaultAgentIdentity: '', bindDefaultAgentIdentity: false}
const dflt = (name: string, bind: boolean) => ({defaultAgentIdentity: name, bindDefaultAgentIdentity: bind})

const rows: Array<[string, Parameters<typeof resolveIdentity>[0], Parameters<typeof resolveIdentity>[2], [string, string, string]]> = [
  ['1 listener', dflt('d', true), {bound: 'known', clientIp: '127.0.0.3', header: 'evil'}, ['known', 'known', 'bound']],
  ['2 CIDR beats binding', dflt('d', true), {clientIp: '127.0.0.3', header: 'evil'}, ['known', 'known', 'matched']],
  ['3 binding, unknown profile', dflt('d', true), {clientIp: '1.1.1.1', header: 'known', query: 'known'}, ['d', '_default', 'config-default']],
  ['3 binding, known profile', dflt('known', true), {clientIp: '1.1.1.1', header: 'evil'}, ['known', 'known', 'config-default']],
  ['4 header, known', unbound, {clientIp: '1.1.1.1', header: 'known'}, ['known', 'known', 'matched']],
  ['4 header, unknown', unbound, {clientIp: '1.1.1.1', header: 'evil', query: 'known'}, ['evil', '_default', 'self-declared']],
  ['4 header beats unbound default', dflt('d', false), {clientIp: '1.1.1.1', header: 'evil'}, ['evil', '_default', 'self-declared']],
  ['Q-A1 header "anonymous" falls through to the default', dflt('d', false), {clientIp: '1.1.1.1', header: 'anonymous'}, ['d', '_default', 'config-default']],
  ['5 unbound default beats query', dflt('d', false), {clientIp: '1.1.1.1', query: 'known'}, ['d', '_default', 'config-default']],
  ['6 query, known', unbound, {clientIp: '1.1.1.1', query: 'known'}, ['known', 'known', 'matched']],
  ['6 query anonymous → 7', unbound, {clientIp: '1.1.1.1', query: 'anonymous'}, ['anonymous', '_default', 'self-declared']],
  ['7 nothing', unbound, {clientIp: '1.1.1.1'}, ['anonymous', '_default', 'self-declared']],
  ['Q-A3 default sanitised', dflt('deployment/my-agent', true), {clientIp: '1.1.1.1'}, ['deployment_my-agent', 'deployment_my-agent', 'config-default']],
]

for (const [name, s, r, [n, p, a]] of rows) {
  test(`§2.2 row ${name}`, () => {
    const id = resolveIdentity(s, T, r)
    assert.deepEqual([id.name, id.profile, id.auth], [n, p, a])
  })
}

test('sanitiser: control characters, slash, 65 bytes, empty', () => {
  assert.equal(sanitiseAgent('a\x00b\nc'), 'a_b_c')
  assert.equal(sanitiseAgent('a/b c'), 'a_b_c')
  assert.equal(sanitiseAgent('x'.repeat(65)), 'x'.repeat(64))
  assert.equal(sanitiseAgent(''), 'anonymous')
})
