import {test} from 'node:test'
import assert from 'node:assert/strict'
import {fromPlain, type JsonObject} from '../../../src/plugins/canonical/index.js'
import {contractDriftPayload, evaluateDrift, evaluateMcpUpstream, type DriftObservation, type ResolvedContract} from '../../../src/plugins/enforcement/index.js'
import {signEvidence, verifyEvidence} from '../../../src/plugins/receipts/index.js'
import {keyPairFromSeed, sha256} from '../../../src/plugins/signing/index.js'

const base: DriftObservation = {mode: 'live', lifecycleState: 'enforce', contractHash: 'sha256:c', ruleId: 'r-1', opportunityHealthy: true}
const key = keyPairFromSeed(sha256('drift test receipt key'))

test('evaluateDrift (§7.11): kill switch, validation, inactive states, opportunity_missing, positive and negative drift', () => {
  assert.deepEqual(evaluateDrift({...base, killSwitch: true, mode: ''}), {suppressed: true, blockSignal: false, autoDemote: false})
  assert.throws(() => evaluateDrift({...base, mode: ''}), /mode required/)
  assert.throws(() => evaluateDrift({...base, mode: 'audit'}), /mode "audit"/)
  assert.throws(() => evaluateDrift({...base, lifecycleState: 'on'}), /unsupported lifecycle_state: "on"/)
  assert.throws(() => evaluateDrift({...base, ruleId: ''}), /rule_id required/)
  for (const s of ['expired', 'demoted', 'proposed']) assert.deepEqual(evaluateDrift({...base, lifecycleState: s, unexpected: true}), {suppressed: false, blockSignal: false, autoDemote: false})
  const om = evaluateDrift({...base, opportunityHealthy: false, unexpected: true, parentContext: 'api.example.com', historicalOpportunityRate: '0.90', currentOpportunityRate: '0.10', window: '1h'})
  assert.deepEqual(om.opportunityMissing, {contract_hash: 'sha256:c', rule_id: 'r-1', parent_context: 'api.example.com', historical_opportunity_rate: '0.90', current_opportunity_rate: '0.10', window: '1h'})
  assert.equal(om.drift, undefined, 'never demotes, never reports drift while telemetry is unhealthy')
  const pos = evaluateDrift({...base, unexpected: true})
  assert.deepEqual(pos.drift, {kind: 'positive', action: 'block', observationSummary: 'unexpected observation outside enforced contract', opportunityStatus: 'healthy'})
  assert.equal(pos.blockSignal, true)
  assert.equal(evaluateDrift({...base, mode: 'shadow', unexpected: true}).blockSignal, false)
  const neg = {...base, opportunityObserved: true, expectedObserved: false}
  assert.equal(evaluateDrift({...neg, missedWindows: 2}).drift, undefined, 'default threshold 3')
  assert.deepEqual(evaluateDrift({...neg, missedWindows: 3}).drift, {kind: 'negative', missedWindows: 3, opportunityStatus: 'healthy'})
  const rs = (v: unknown): JsonObject => fromPlain({windows_floor: v}) as JsonObject
  assert.equal(evaluateDrift({...neg, missedWindows: 1, recurringSupport: rs(1)}).drift?.kind, 'negative')
  assert.equal(evaluateDrift({...neg, missedWindows: 1, recurringSupport: rs('2')}).drift, undefined)
  assert.equal(evaluateDrift({...neg, missedWindows: 5, requiredMissedWindows: 6, recurringSupport: rs(1)}).drift, undefined)
  assert.equal(evaluateDrift({...neg, expectedObserved: true, missedWindows: 9}).drift, undefined)
})

test('opportunity_missing and contract_drift payloads sign as valid EvidenceReceipt v2', () => {
  const om = evaluateDrift({...base, opportunityHealthy: false, parentContext: 'p', historicalOpportunityRate: '0.50', currentOpportunityRate: '0.00', window: '24h'}).opportunityMissing
  const signer = {keyPair: key, keyId: 'receipt-1', purpose: 'receipt-signing' as const}
  const common = {eventId: 'e-1', timestamp: '2026-04-30T12:00:00Z', chainSeq: 0, chainPrevHash: 'genesis', contractHash: 'sha256:c'}
  const r1 = signEvidence({...common, payloadKind: 'opportunity_missing', payload: om as unknown as Record<string, unknown>}, signer)
  assert.equal(verifyEvidence(r1, {publicKey: key.publicKey}).valid, true)
  const d = evaluateDrift({...base, opportunityObserved: true, missedWindows: 4}).drift
  assert.ok(d)
  const r2 = signEvidence({...common, payloadKind: 'contract_drift', payload: contractDriftPayload('sha256:c', 'r-1', d)}, signer)
  assert.equal(verifyEvidence(r2, {publicKey: key.publicKey}).valid, true)
})

test('evaluateMcpUpstream: POST, effective action mcp_upstream, ws(s) mapped to http(s)', () => {
  const c: ResolvedContract = {
    contractHash: 'sha256:c',
    body: fromPlain({rules: [{rule_id: 'u', rule_kind: 'http_action', lifecycle_state: 'enforce', selector: {host: {value: 'mcp.example.com'}, methods: ['POST'], effective_action: 'mcp_upstream'}}]}) as JsonObject,
  }
  const gate = {mode: 'live', scannerVerdict: 'allow'}
  assert.equal(evaluateMcpUpstream(c, {...gate, url: 'wss://mcp.example.com/rpc'}).ruleId, 'u')
  assert.equal(evaluateMcpUpstream(c, {...gate, url: 'ws://mcp.example.com:80/rpc'}).verdict, 'allow')
  assert.equal(evaluateMcpUpstream(c, {...gate, url: 'wss://mcp.example.com:8443/rpc'}).reason, 'contract_non_default_port')
})
