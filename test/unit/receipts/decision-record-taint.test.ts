import assert from 'node:assert/strict'
import {test} from 'node:test'
import {JsonNumber} from '../../../src/plugins/canonical/index.js'
import {encodeActionReceipt, parseActionReceiptText, ReceiptChainBuilder, verifyActionReceipt} from '../../../src/plugins/receipts/index.js'
import {keyA} from '../../helpers/receipt-fixtures.js'

// The byte encoder of decision receipts (decision-record.ts) writes taint (#23–31) and a held
// request's answer (#17–20) at their canonical places: the same bytes as the generic encoder, and
// a receipt that verifies and re-encodes to itself.
test('decision receipts with taint and hitl fields: canonical order, verify, same bytes as the generic encoder', () => {
  const fast = new ReceiptChainBuilder(keyA())
  const slow = new ReceiptChainBuilder(keyA())
  const common = {
    actionId: 'a-1', actionType: 'write', timestamp: '2026-11-25T01:00:00Z', principal: 'org:p', actor: 'agent:a', target: 'http://127.0.0.1:1/deploy',
    sideEffectClass: 'external_write', reversibility: 'compensatable', policyHash: '', verdict: 'allow', transport: 'forward', method: 'POST',
  }
  const signed = fast.appendDecision({
    ...common,
    decisionPhase: 'outcome', deferId: 'ask-1', resolutionPolicy: 'hitl:allow', resolutionSource: 'operator:alice',
    sessionId: 'a|127.0.0.1', sessionTaintLevel: 'external_untrusted', sessionContaminated: true,
    recentTaintSources: [{url: 'http://127.0.0.1:1/page', kind: 'response', level: 4, timestamp: '2026-11-25T00:59:59.5Z'}],
    sessionTaskId: 'task-1', sessionTaskLabel: 'release', authorityKind: 'operator_override', taintDecision: 'ask',
    taintDecisionReason: 'external_publish_after_untrusted_external_exposure', taskOverrideApplied: true,
  })
  const generic = slow.append({
    action_id: 'a-1', action_type: 'write', timestamp: '2026-11-25T01:00:00Z', principal: 'org:p', actor: 'agent:a', target: 'http://127.0.0.1:1/deploy',
    side_effect_class: 'external_write', reversibility: 'compensatable', policy_hash: '', verdict: 'allow',
    decision_phase: 'outcome', defer_id: 'ask-1', resolution_policy: 'hitl:allow', resolution_source: 'operator:alice',
    session_id: 'a|127.0.0.1', session_taint_level: 'external_untrusted', session_contaminated: true,
    recent_taint_sources: [{url: 'http://127.0.0.1:1/page', kind: 'response', level: new JsonNumber('4'), timestamp: '2026-11-25T00:59:59.5Z'}],
    session_task_id: 'task-1', session_task_label: 'release', authority_kind: 'operator_override', taint_decision: 'ask',
    taint_decision_reason: 'external_publish_after_untrusted_external_exposure', task_override_applied: true,
    transport: 'forward', method: 'POST',
  })
  assert.equal(signed.envelope, encodeActionReceipt(generic))
  const parsed = parseActionReceiptText(signed.envelope)
  assert.equal(verifyActionReceipt(parsed), undefined)
  assert.equal(encodeActionReceipt(parsed), signed.envelope)
  assert.match(signed.recordJson, /"verdict":"allow","decision_phase":"outcome","defer_id":"ask-1","resolution_policy":"hitl:allow","resolution_source":"operator:alice","session_id":/)
})
