import {test} from 'node:test'
import assert from 'node:assert/strict'
import {loopbackSourceCidrs} from '../../../src/plugins/config/index.js'

test('loopbackSourceCidrs: the entries holding 127.0.0.1 or ::1 (any spelling a client arrives in), agents sorted, entries as written', () => {
  const agents = {
    zeta: {source_cidrs: ['0.0.0.0/0', '10.0.0.0/8']},
    alpha: {source_cidrs: [' 127.0.0.0/8 ', '127.0.0.2/32']},
    mapped: {source_cidrs: ['::ffff:127.0.0.1/128']},
    six: {source_cidrs: ['::/0']},
    lan: {source_cidrs: ['192.168.0.0/16', 'fd00::/8']},
    none: {},
  }
  assert.deepEqual(loopbackSourceCidrs({agents}), [
    {agent: 'alpha', cidr: '127.0.0.0/8'},
    {agent: 'mapped', cidr: '::ffff:127.0.0.1/128'},
    {agent: 'six', cidr: '::/0'},
    {agent: 'zeta', cidr: '0.0.0.0/0'},
  ])
  assert.deepEqual(loopbackSourceCidrs({agents: {ci: {source_cidrs: ['127.0.0.2/32', '127.0.0.3/32']}}}), [])
})
