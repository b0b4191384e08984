// Issue 10 item 7: agent names that are secrets become `anonymous`; metric labels are bounded.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {AgentNames} from '../../../src/plugins/proxy/agent-name.js'
import {createScanner, defaultScannerSettings} from '../../../src/plugins/scanner/index.js'

const KEY = 'AKIA' + 'Q3EGRZ7NXPLM4TWB'
const scanner = createScanner(defaultScannerSettings())
const cfg = {agents: {'shop-agent': {} as never}, default_agent_identity: '', bind_default_agent_identity: false}

test('a secret used as an agent name (header or query) resolves to anonymous and is flagged', () => {
  const names = new AgentNames(scanner, cfg)
  assert.deepEqual(names.resolve(KEY, undefined), {agent: 'anonymous', rejected: true})
  assert.deepEqual(names.resolve(undefined, `x-${KEY}`), {agent: 'anonymous', rejected: true})
  assert.deepEqual(names.resolve('ghp_' + 'a'.repeat(36), undefined).agent, 'anonymous')
  assert.deepEqual(names.resolve('research-bot', undefined), {agent: 'research-bot', rejected: false})
  assert.deepEqual(names.resolve(undefined, undefined), {agent: 'anonymous', rejected: false})
})

test('a bound default identity ignores the client value (nothing to refuse)', () => {
  const names = new AgentNames(scanner, {...cfg, default_agent_identity: 'fixed', bind_default_agent_identity: true})
  assert.deepEqual(names.resolve(KEY, undefined), {agent: 'fixed', rejected: false})
})

test('metric labels: configured agents, the default identity and anonymous; everything else is other', () => {
  const names = new AgentNames(scanner, {...cfg, default_agent_identity: 'dflt'})
  assert.equal(names.metricLabel('shop-agent'), 'shop-agent')
  assert.equal(names.metricLabel('dflt'), 'dflt')
  assert.equal(names.metricLabel('anonymous'), 'anonymous')
  assert.equal(names.metricLabel('random-1234'), 'other')
})
