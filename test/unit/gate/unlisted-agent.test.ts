// Issue 37 item 1: with live contracts in force, an agent without one is denied unless listed.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {unlistedAgentDenial} from '../../../src/plugins/gate/index.js'

const set = {manifestHash: 'sha256:x', generation: 1n, selectors: []}
const rt = (mode: 'live' | 'shadow' | 'capture', active = true) => ({mode, current: () => (active ? set : undefined)})

test('live with an active set: an unlisted agent is denied; names and glob patterns unlock', () => {
  assert.equal(unlistedAgentDenial(rt('live'), 'rogue', []), 'contract_default_deny: agent "rogue" has no active contract and is not listed in learn_lock.unlocked_agents')
  assert.equal(unlistedAgentDenial(rt('live'), 'rogue', ['rogue']), null)
  assert.equal(unlistedAgentDenial(rt('live'), 'batch-7', ['batch-*']), null)
  assert.notEqual(unlistedAgentDenial(rt('live'), 'other', ['batch-*']), null)
  assert.notEqual(unlistedAgentDenial(rt('live'), 'x', ['[']), null, 'a malformed pattern unlocks nothing')
})

test('shadow, capture, or no contract promoted yet: never denied', () => {
  assert.equal(unlistedAgentDenial(rt('shadow'), 'rogue', []), null)
  assert.equal(unlistedAgentDenial(rt('capture'), 'rogue', []), null)
  assert.equal(unlistedAgentDenial(rt('live', false), 'rogue', []), null)
})
