// Issue 10 item 7 and operations.md §2.2: secret-looking self-declared names become `anonymous`;
// identity rows 1–7 with profiles, listener and source CIDRs.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {AgentNames} from '../../../src/plugins/proxy/agent-name.js'
import {createScanner, defaultScannerSettings} from '../../../src/plugins/scanner/index.js'

const KEY = 'AKIA' + 'Q3EGRZ7NXPLM4TWB'
const scanner = createScanner(defaultScannerSettings())
const cfg = {agents: {'shop-agent': {source_cidrs: ['127.0.0.2/32', '10.9.0.0/16']}, _default: {}}, default_agent_identity: '', bind_default_agent_identity: false}
const ip = '127.0.0.1'

test('a secret used as an agent name (header or query) resolves to anonymous and is flagged', () => {
  const names = new AgentNames(scanner, cfg)
  const r = names.resolve({clientIp: ip, header: KEY})
  assert.deepEqual(r, {identity: {name: 'anonymous', profile: '_default', auth: 'self-declared', declared: false}, rejected: true})
  assert.equal(names.resolve({clientIp: ip, query: `x-${KEY}`}).rejected, true)
  assert.equal(names.resolve({clientIp: ip, header: 'ghp_' + 'a'.repeat(36)}).identity.name, 'anonymous')
  assert.deepEqual(names.resolve({clientIp: ip, header: 'research-bot'}), {identity: {name: 'research-bot', profile: '_default', auth: 'self-declared', declared: true}, rejected: false})
  assert.deepEqual(names.resolve({clientIp: ip}).identity, {name: 'anonymous', profile: '_default', auth: 'self-declared', declared: false})
})

test('a bound default identity ignores the client value (nothing to refuse)', () => {
  const names = new AgentNames(scanner, {...cfg, default_agent_identity: 'fixed', bind_default_agent_identity: true})
  assert.deepEqual(names.resolve({clientIp: ip, header: KEY}), {identity: {name: 'fixed', profile: '_default', auth: 'config-default', declared: false}, rejected: false})
})

test('listener beats CIDR beats binding beats header; CIDR on IPv4-mapped peers', () => {
  const names = new AgentNames(scanner, {...cfg, agents: {...cfg.agents, other: {}}, default_agent_identity: 'fixed', bind_default_agent_identity: true})
  assert.deepEqual(names.resolve({bound: 'other', clientIp: '127.0.0.2', header: 'shop-agent'}).identity, {name: 'other', profile: 'other', auth: 'bound', declared: false})
  assert.deepEqual(names.resolve({clientIp: '127.0.0.2', header: 'other'}).identity, {name: 'shop-agent', profile: 'shop-agent', auth: 'matched', declared: false})
  assert.equal(names.resolve({clientIp: '::ffff:10.9.3.4'}).identity.profile, 'shop-agent')
  assert.equal(names.resolve({clientIp: '10.10.0.1', header: 'shop-agent'}).identity.auth, 'config-default')
})

test('a header naming an unbound configured profile selects it (matched, still declared)', () => {
  const names = new AgentNames(scanner, {...cfg, agents: {...cfg.agents, known: {}}})
  assert.deepEqual(names.resolve({clientIp: ip, header: 'known'}).identity, {name: 'known', profile: 'known', auth: 'matched', declared: true})
})

// Issue 37 item 1: binding is exclusive by default; a claim never selects a bound profile.
test('a header naming a profile bound to a source CIDR, from outside it, is refused (exclusive_agent_binding)', () => {
  const names = new AgentNames(scanner, cfg)
  assert.deepEqual(names.resolve({clientIp: ip, header: 'shop-agent'}).identity, {
    name: 'shop-agent', profile: '_default', auth: 'self-declared', declared: true,
    refused: 'agent "shop-agent" is bound to its own listener or source CIDR; a request naming it from 127.0.0.1 is refused',
  })
  const listener = new AgentNames(scanner, {...cfg, agents: {'shop-agent': {listeners: ['127.0.0.1:9999']}}})
  assert.equal(listener.resolve({clientIp: ip, query: 'shop-agent'}).identity.refused !== undefined, true)
  assert.deepEqual(listener.resolve({bound: 'shop-agent', clientIp: ip}).identity, {name: 'shop-agent', profile: 'shop-agent', auth: 'bound', declared: false})
  const advisory = new AgentNames(scanner, {...cfg, exclusive_agent_binding: false})
  assert.deepEqual(advisory.resolve({clientIp: ip, header: 'shop-agent'}).identity, {name: 'shop-agent', profile: 'shop-agent', auth: 'matched', declared: true})
})

test('contract selector: the default keeps its slash; declared names ignored when configured', async () => {
  const {contractSelector} = await import('../../../src/plugins/proxy/agent-listeners.js')
  const {defaultConfig} = await import('../../../src/plugins/config/index.js')
  const c = {...defaultConfig(), default_agent_identity: 'deployment/my-agent'}
  assert.deepEqual(contractSelector(c, {name: 'deployment_my-agent', profile: '_default', auth: 'config-default', declared: false}), {contractAgent: 'deployment/my-agent'})
  assert.deepEqual(contractSelector(c, {name: 'evil', profile: '_default', auth: 'self-declared', declared: true}), {})
  const ignoring = {...c, learn_lock: {...c.learn_lock, ignore_self_declared_agents: true}}
  assert.deepEqual(contractSelector(ignoring, {name: 'evil', profile: '_default', auth: 'self-declared', declared: true}), {contractAgent: 'deployment/my-agent'})
  assert.deepEqual(contractSelector(ignoring, {name: 'known', profile: 'known', auth: 'bound', declared: false}), {})
})
