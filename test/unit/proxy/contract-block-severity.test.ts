import assert from 'node:assert/strict'
import {test} from 'node:test'
import {blockHeaders} from '../../../src/plugins/proxy/block.js'
import {blockDecision, type DecisionBase} from '../../../src/plugins/proxy/core.js'

// A live-lock contract block is critical with retry `policy` whatever its code (learn-lifecycle
// §7.9). The block headers said so while the Decision (receipt, audit line, capture) carried the
// generic table's `warn` for contract_non_default_port: the record must say what the agent was told.

const clock = {nowMs: () => 0}
const b: DecisionBase = {requestId: 'req-1', transport: 'forward', method: 'GET', agent: 'shop', clientIp: '127.0.0.1', sessionKey: 'shop|127.0.0.1', startMs: 0}

test('a contract block records the severity and retry its headers carry; the same code from another stage keeps the table\'s', () => {
  for (const reason of ['contract_non_default_port', 'contract_invalid_path', 'contract_default_deny'] as const) {
    const d = blockDecision(clock as never, b, 'http://api.example.com:8080/x', {stage: 'contract', layer: 'contract', reason, detail: 'd', status: 403, enforced: true})
    const h = blockHeaders(reason, 'contract', {contract: true})
    assert.deepEqual([d.severity, d.retry], [h['X-Pipelock-Block-Reason-Severity'], h['X-Pipelock-Block-Reason-Retry']], reason)
    assert.deepEqual([d.severity, d.retry], ['critical', 'policy'], reason)
  }
  const other = blockDecision(clock as never, b, 'http://api.example.com:8080/x', {stage: 'url_scan', layer: 'scanner', reason: 'contract_non_default_port', detail: 'd', status: 403, enforced: true})
  assert.equal(other.severity, blockHeaders('contract_non_default_port', 'scanner')['X-Pipelock-Block-Reason-Severity'])
})
