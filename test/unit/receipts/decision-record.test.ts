import {test} from 'node:test'
import assert from 'node:assert/strict'
import {JsonNumber} from '../../../src/plugins/canonical/index.js'
import {encodeActionReceipt, encodeDecisionRecord, ReceiptChainBuilder, ReceiptValidationError, type DecisionRecordFields} from '../../../src/plugins/receipts/index.js'
import {keyA, run, SYNTHETIC_IDENTITY} from '../../helpers/receipt-fixtures.js'

// The decision fast path (decision-record.ts) must give exactly the bytes of the general path
// (tree → projectStruct → goJson → signActionReceipt) for every field combination a decision has:
// the receipt chain and its vectors are defined by those bytes.

/** The record the general path is fed for these fields (what ReceiptEmitter built before the fast path). */
function generalRecord(f: DecisionRecordFields): Record<string, unknown> {
  const r: Record<string, unknown> = {
    action_id: f.actionId,
    action_type: f.actionType,
    timestamp: f.timestamp,
    principal: f.principal,
    actor: f.actor,
    target: f.target,
    side_effect_class: f.sideEffectClass,
    reversibility: f.reversibility,
    policy_hash: f.policyHash,
    verdict: f.verdict,
    transport: f.transport,
  }
  if (f.sessionId) r.session_id = f.sessionId
  if (f.contractWinningSource) r.contract_winning_source = f.contractWinningSource
  if (f.contractLiveVerdict) r.contract_live_verdict = f.contractLiveVerdict
  if (f.contractPolicySources && f.contractPolicySources.length > 0) r.contract_policy_sources = [...f.contractPolicySources]
  if (f.contractRuleId) r.contract_rule_id = f.contractRuleId
  if (f.activeManifestHash) r.active_manifest_hash = f.activeManifestHash
  if (f.contractHash) r.contract_hash = f.contractHash
  if (f.contractSelectorId) r.contract_selector_id = f.contractSelectorId
  if (f.contractGeneration !== undefined && f.contractGeneration > 0n) r.contract_generation = new JsonNumber(f.contractGeneration.toString())
  if (f.method) r.method = f.method
  if (f.layer) r.layer = f.layer
  if (f.pattern) r.pattern = f.pattern
  if (f.severity) r.severity = f.severity
  if (f.redaction) r.redaction = {...f.redaction, by_class: {...f.redaction.by_class}}
  if (f.requestId) r.request_id = f.requestId
  return r
}

const AWKWARD = ['', 'plain', 'a<b>&c', 'line\nbreak\t"q"\\', 'ctl\u0001\u001f\u007f', 'sep\u2028\u2029', 'é漢字🙂', 'lone\ud800x', 'tail\udc00']

function cases(): DecisionRecordFields[] {
  const base: DecisionRecordFields = {
    actionId: '019d9103-367b-7fff-bfff-ffffffffffff',
    actionType: 'read',
    timestamp: '2026-04-15T12:00:01.5Z',
    ...SYNTHETIC_IDENTITY,
    target: 'https://api.example.com/items?q=1&r=<2>',
    sideEffectClass: 'external_read',
    reversibility: 'full',
    verdict: 'allow',
    transport: 'fetch',
  }
  const out: DecisionRecordFields[] = [base]
  const optional = ['sessionId', 'contractWinningSource', 'contractLiveVerdict', 'contractRuleId', 'activeManifestHash', 'contractHash', 'contractSelectorId', 'method', 'layer', 'pattern', 'severity', 'requestId'] as const
  const required = ['principal', 'actor', 'target', 'policyHash'] as const
  AWKWARD.forEach((v, i) => {
    for (const k of optional) out.push({...base, [k]: v})
    for (const k of required) if (v !== '' || k !== 'target') out.push({...base, [k]: v, timestamp: `2026-04-15T12:00:0${i}.${i + 1}01Z`})
  })
  for (const sources of [[], ['contract'], ['scanner', 'contract', 'a<&>\u2028'], ['']]) {
    out.push({...base, contractPolicySources: sources})
  }
  for (const generation of [0n, 1n, 18_446_744_073_709_551_615n]) out.push({...base, contractGeneration: generation})
  // The redaction summary (receipts §4.3): by_class keys in byte order (§3.8), as the synthetic vector has them.
  out.push({...base, layer: 'body_dlp', redaction: {profile: 'default', provider: '', parser: '', total_redactions: 3, by_class: {zeta: 1, 'émail': 1, alpha: 1}}, requestId: 'r'})
  out.push({...base, redaction: {profile: 'llm', provider: 'anthropic', parser: 'json', total_redactions: 12, by_class: {'aws-access-key': 2, ipv4: 10}}})
  out.push({
    ...base,
    actionType: 'write',
    timestamp: '2026-11-22T17:40:00.123456789Z',
    sessionId: 'agent-a|127.0.0.1',
    contractWinningSource: 'contract',
    contractLiveVerdict: 'block',
    contractPolicySources: ['contract', 'scanner'],
    contractRuleId: 'r-191',
    activeManifestHash: 'sha256:' + '1'.repeat(64),
    contractHash: 'sha256:' + '0'.repeat(64),
    contractSelectorId: 's',
    contractGeneration: 7n,
    method: 'POST',
    layer: 'contract',
    pattern: 'contract_default_deny',
    severity: 'high',
    requestId: 'req-1',
  })
  return out
}

test('appendDecision gives the bytes and hashes of the general path, receipt after receipt (open run, then decisions)', () => {
  const fast = new ReceiptChainBuilder(keyA())
  const general = new ReceiptChainBuilder(keyA())
  const ctl = {actionId: 'open-1', timestamp: '2026-04-15T12:00:00Z', ...SYNTHETIC_IDENTITY}
  assert.equal(encodeActionReceipt(fast.openRun(run(1, 'epoch-A'), ctl)), encodeActionReceipt(general.openRun(run(1, 'epoch-A'), ctl)))
  const all = cases()
  assert.ok(all.length > 100)
  for (const f of all) {
    const got = fast.appendDecision(f)
    const want = general.append(generalRecord(f))
    assert.equal(got.envelope, encodeActionReceipt(want), JSON.stringify(f, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
    assert.equal(got.recordJson, want.recordJson)
    assert.equal(got.hash, general.head)
    assert.equal(got.seq, general.headSeq)
  }
})

test('appendDecision without an open run: genesis prev hash and no run_nonce, like append', () => {
  const fast = new ReceiptChainBuilder(keyA())
  const general = new ReceiptChainBuilder(keyA())
  for (const f of cases().slice(0, 5)) assert.equal(fast.appendDecision(f).envelope, encodeActionReceipt(general.append(generalRecord(f))))
  assert.match(new ReceiptChainBuilder(keyA()).appendDecision(cases()[0]!).recordJson, /"chain_prev_hash":"genesis","chain_seq":0}$/)
})

test('appendDecision refuses what validateActionRecord refuses, with its text, and leaves the chain unchanged', () => {
  const b = new ReceiptChainBuilder(keyA())
  const f = cases()[0]!
  const refusals: [Partial<DecisionRecordFields>, string][] = [
    [{actionId: ''}, 'invalid action record: action_id is required'],
    [{actionType: 'browse'}, 'invalid action record: invalid action_type "browse"'],
    [{timestamp: '0001-01-01T00:00:00Z'}, 'invalid action record: timestamp is required'],
    [{target: ''}, 'invalid action record: target is required'],
    [{verdict: ''}, 'invalid action record: verdict is required'],
    [{transport: ''}, 'invalid action record: transport is required'],
  ]
  for (const [patch, message] of refusals) {
    assert.throws(() => b.appendDecision({...f, ...patch}), (e: unknown) => e instanceof ReceiptValidationError && e.message === message)
    assert.throws(() => new ReceiptChainBuilder(keyA()).append(generalRecord({...f, ...patch})), {message})
  }
  assert.equal(b.headSeq, -1n)
})

test('the redaction summary renders as the receipts vector excerpt', () => {
  const enc = encodeDecisionRecord({
    actionId: 'a', actionType: 'read', timestamp: '2026-04-15T12:00:01.5Z', principal: 'p', actor: 'a', target: 't', sideEffectClass: 'none',
    reversibility: 'full', policyHash: 'h', verdict: 'allow', transport: 'forward', redaction: {profile: 'default', provider: '', parser: '', total_redactions: 3, by_class: {zeta: 1, 'émail': 1, alpha: 1}},
  }, {prevHash: 'genesis', seq: 0n})
  assert.ok(enc.includes('"redaction":{"profile":"default","total_redactions":3,"by_class":{"alpha":1,"zeta":1,"émail":1}}'), enc)
})
