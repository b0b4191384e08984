import {test} from 'node:test'
import assert from 'node:assert/strict'
import {CanonicalizationError, JsonNumber} from '../../../src/plugins/canonical/index.js'
import {
  checkEvidencePayload,
  EvidenceValidationError,
  evidencePreimage,
  EVIDENCE_PAYLOAD_SCHEMAS,
  parseEvidenceReceiptValue,
  signEvidence,
  validateEvidenceStrict,
  verifyEvidence,
} from '../../../src/plugins/receipts/evidence/index.js'
import {envelopeTree, forge, KEY_HEX, KINDS, payloadOf, signerFor, toTree, unsignedFor} from './evidence-fixtures.js'

// The 13 payload kinds: strict decoding, required fields, enums, verify vs produce rules
// (receipts.md §9.3, §9.5 step 6).

function refusesToSign(kind: (typeof KINDS)[number], payload: unknown, message: string | RegExp): void {
  assert.throws(
    () => signEvidence(unsignedFor(kind, payload), signerFor(kind)),
    (e: unknown) => {
      assert.ok(e instanceof EvidenceValidationError, String(e))
      if (typeof message === 'string') assert.equal(e.message, message)
      else assert.match(e.message, message)
      return true
    },
  )
}

function verifierSays(kind: string, payload: unknown): {valid: boolean; signatureValid: boolean; error?: string} {
  return verifyEvidence(forge(envelopeTree(kind, payload)), {publicKey: KEY_HEX})
}

for (const kind of KINDS) {
  const schema = EVIDENCE_PAYLOAD_SCHEMAS[kind]

  test(`${kind}: sign → verify round trip`, () => {
    const signed = signEvidence(unsignedFor(kind), signerFor(kind))
    const r = verifyEvidence(signed, {publicKey: KEY_HEX, expectedSignerKeyId: 'test-key-id', expectedPurpose: signerFor(kind).purpose})
    assert.equal(r.error, undefined)
    assert.equal(r.valid, true)
    assert.equal(r.payloadKind, kind)
    assert.deepEqual(validateEvidenceStrict(signed), {ok: true})
  })

  for (const f of schema.fields.filter((x) => x.req)) {
    test(`${kind}: required ${f.name} missing or empty is refused by producer and verifier`, () => {
      const missing = payloadOf(kind)
      delete missing[f.name]
      const expected = `payload missing required field: ${f.name}`
      refusesToSign(kind, missing, expected)
      const r = verifierSays(kind, missing)
      assert.equal(r.valid, false)
      assert.equal(r.signatureValid, true)
      assert.equal(r.error, expected)
      if (f.type !== 'struct') {
        const empty = payloadOf(kind)
        empty[f.name] = f.type === 'string' ? '' : f.type === 'strings' ? [] : {}
        refusesToSign(kind, empty, expected)
        assert.equal(verifierSays(kind, empty).error, expected)
      }
    })
  }

  for (const f of schema.fields.filter((x) => x.oneOf !== undefined)) {
    test(`${kind}: ${f.name} outside its enum is refused`, () => {
      const bad = payloadOf(kind)
      bad[f.name] = 'Accepted<>'
      const allowed = (f.oneOf as readonly string[]).map((x) => `"${x}"`).join(' or ')
      const expected = `payload field has invalid enum value: ${f.name}="Accepted<>" (must be ${allowed})`
      refusesToSign(kind, bad, expected)
      assert.equal(verifierSays(kind, bad).error, expected)
    })
  }

  test(`${kind}: unknown payload key is refused (strict decode, first required field named)`, () => {
    const bad = {...payloadOf(kind), extra_field: 'x'}
    const expected = `payload missing required field: ${schema.firstRequired} (unmarshal: strict decode: json: unknown field "extra_field")`
    refusesToSign(kind, bad, expected)
    const r = verifierSays(kind, bad)
    assert.equal(r.error, expected)
    assert.equal(r.signatureValid, true)
  })

  test(`${kind}: empty or null payload`, () => {
    const expected = `payload missing required field: ${schema.firstRequired} (unmarshal: empty or null payload)`
    refusesToSign(kind, null, expected)
    assert.equal(verifierSays(kind, undefined).error, expected)
    assert.equal(verifierSays(kind, null).error, expected)
    assert.equal(
      verifierSays(kind, []).error,
      `payload missing required field: ${schema.firstRequired} (unmarshal: strict decode: json: cannot unmarshal array into Go value of type contract.${schema.goType})`,
    )
  })
}

test('rejected outcomes need a reject_reason', () => {
  for (const kind of ['contract_promote_committed', 'contract_rollback_committed'] as const) {
    const p = {...payloadOf(kind), validation_outcome: 'rejected'}
    delete (p as Record<string, unknown>).reject_reason
    refusesToSign(kind, p, 'payload missing required field: reject_reason')
    assert.equal(verifierSays(kind, p).error, 'payload missing required field: reject_reason')
    assert.equal(verifierSays(kind, {...p, reject_reason: 'why'}).valid, true)
  }
})

test('JSON types must match: strings, lists, maps, uint64 (Go decode texts)', () => {
  const first = 'payload missing required field: action_type (unmarshal: strict decode: '
  const cases: [string, Record<string, unknown>, string][] = [
    ['proxy_decision', {target: 5}, 'json: cannot unmarshal number into Go struct field ProxyDecisionPayload.target of type string'],
    ['proxy_decision', {verdict: true}, 'json: cannot unmarshal bool into Go struct field ProxyDecisionPayload.verdict of type string'],
    ['proxy_decision', {policy_sources: 'test'}, 'json: cannot unmarshal string into Go struct field ProxyDecisionPayload.policy_sources of type []string'],
    ['proxy_decision', {policy_sources: ['a', 1]}, 'json: cannot unmarshal number into Go struct field ProxyDecisionPayload.policy_sources of type string'],
  ]
  for (const [kind, patch, err] of cases) {
    const p = {...payloadOf(kind as 'proxy_decision'), ...patch}
    assert.equal(verifierSays(kind, p).error, `${first}${err})`)
    refusesToSign(kind as 'proxy_decision', p, `${first}${err})`)
  }
  // Not forged: JCS refuses these numbers, but Validate (payload, step 6) reports first.
  const intent = (v: unknown): string | undefined =>
    verifyEvidence(envelopeTree('contract_promote_intent', {...payloadOf('contract_promote_intent'), target_generation: v}), {
      publicKey: KEY_HEX,
    }).error
  const pre = 'payload missing required field: target_manifest_hash (unmarshal: strict decode: json: cannot unmarshal '
  const post = ' into Go struct field ContractPromoteIntentPayload.target_generation of type uint64)'
  assert.equal(intent('2'), `${pre}string${post}`)
  assert.equal(intent(new JsonNumber('-1')), `${pre}number -1${post}`)
  assert.equal(intent(new JsonNumber('1.5')), `${pre}number 1.5${post}`)
  assert.equal(intent(new JsonNumber('1e3')), `${pre}number 1e3${post}`)
  // Beyond int64 nothing can be forged (JCS refuses), so check the decoder directly.
  const over = toTree({...payloadOf('contract_promote_intent'), target_generation: new JsonNumber('18446744073709551616')})
  assert.equal(checkEvidencePayload(EVIDENCE_PAYLOAD_SCHEMAS.contract_promote_intent, over, 'verify'), `${pre}number 18446744073709551616${post}`)
  assert.equal(intent(new JsonNumber('9223372036854775807')), 'payload field has invalid enum value: signature.signature prefix')
  // uint64 max decodes, but JCS allows only int64: such a receipt can be neither signed nor verified.
  const huge = {...payloadOf('contract_promote_intent'), target_generation: new JsonNumber('18446744073709551615')}
  assert.equal(checkEvidencePayload(EVIDENCE_PAYLOAD_SCHEMAS.contract_promote_intent, toTree(huge), 'verify'), undefined)
  assert.throws(() => evidencePreimage(envelopeTree('contract_promote_intent', huge)), /float not allowed in canonicalization/)
  refusesToSign('contract_promote_intent', huge, 'float not allowed in canonicalization; use decimal string')
  const ratified = verifierSays('contract_ratified', {...payloadOf('contract_ratified'), ratification_decision_per_rule: {'r-1': 1}})
  assert.match(ratified.error ?? '', /cannot unmarshal number into Go struct field ContractRatifiedPayload\.ratification_decision_per_rule of type string/)
  const agg = verifierSays('shadow_delta', {...payloadOf('shadow_delta'), aggregation: {lossless_count: 'x'}})
  assert.match(agg.error ?? '', /ShadowDeltaPayload\.aggregation\.lossless_count of type uint64/)
  const aggUnknown = verifierSays('shadow_delta', {...payloadOf('shadow_delta'), aggregation: {...(payloadOf('shadow_delta').aggregation as object), extra: 1}})
  assert.match(aggUnknown.error ?? '', /strict decode: json: unknown field "extra"\)$/)
})

test('null payload members take the zero value, as in Go', () => {
  assert.equal(verifierSays('proxy_decision', {...payloadOf('proxy_decision'), target: null}).error, 'payload missing required field: target')
  assert.equal(verifierSays('proxy_decision', {...payloadOf('proxy_decision'), rule_id: null}).valid, true)
})

test('the first error in document order wins', () => {
  const unknownFirst = {extra: 1, ...payloadOf('proxy_decision'), target: 5}
  assert.match(verifierSays('proxy_decision', unknownFirst).error ?? '', /unknown field "extra"\)$/)
  const typeFirst = {...payloadOf('proxy_decision'), target: 5, extra: 1}
  assert.match(verifierSays('proxy_decision', typeFirst).error ?? '', /ProxyDecisionPayload\.target of type string\)$/)
})

test('shadow_delta: verifiers check only the RFC 3339 window; producers apply every Go rule', () => {
  const agg = (patch: Record<string, unknown>): Record<string, unknown> => {
    const p = payloadOf('shadow_delta')
    p.aggregation = {...(p.aggregation as Record<string, unknown>), ...patch}
    return p
  }
  const producerOnly: [Record<string, unknown>, string][] = [
    [{window_end: '2026-04-25T20:00:00Z'}, 'aggregation.window_end'],
    [{window_end: '2026-04-25T19:00:00Z'}, 'aggregation.window_end'],
    [{lossless_count: 0, delta_sample_count: 0, exemplar_ids: []}, 'aggregation.lossless_count'],
    [{delta_sample_count: 7}, 'aggregation.delta_sample_count'],
    [{lossless_count: 1}, 'aggregation.delta_sample_count'],
    [{exemplar_ids: ['ex-1', '']}, 'aggregation.exemplar_ids'],
  ]
  for (const [patch, field] of producerOnly) {
    refusesToSign('shadow_delta', agg(patch), `payload field has invalid enum value: ${field}`)
    const r = verifierSays('shadow_delta', agg(patch))
    assert.equal(r.valid, true, `${field}: ${r.error}`)
    assert.equal(validateEvidenceStrict(forge(envelopeTree('shadow_delta', agg(patch)))).error, `payload field has invalid enum value: ${field}`)
  }
  const both: [Record<string, unknown>, string][] = [
    [{window_start: ''}, 'payload missing required field: aggregation.window_start'],
    [{window_end: ''}, 'payload missing required field: aggregation.window_end'],
    [{window_start: '2026-04-25 20:00:00'}, 'payload field has invalid enum value: aggregation.window_start'],
    [{window_end: '2026-02-30T21:00:00Z'}, 'payload field has invalid enum value: aggregation.window_end'],
  ]
  for (const [patch, message] of both) {
    refusesToSign('shadow_delta', agg(patch), message)
    assert.equal(verifierSays('shadow_delta', agg(patch)).error, message)
  }
  // Nanosecond windows with offsets compare as instants.
  assert.doesNotThrow(() =>
    signEvidence(
      unsignedFor('shadow_delta', agg({window_start: '2026-04-25T22:00:00.000000001+02:00', window_end: '2026-04-25T20:00:00.000000002Z'})),
      signerFor('shadow_delta'),
    ),
  )
})

test('floats are refused: by decoding for typed fields, by canonicalisation anywhere else', () => {
  refusesToSign('contract_drift', {...payloadOf('contract_drift'), missed_windows: 1.5}, /cannot unmarshal number 1\.5 into Go struct field ContractDriftPayload\.missed_windows of type uint64/)
  refusesToSign('opportunity_missing', {...payloadOf('opportunity_missing'), current_opportunity_rate: 0.05}, /cannot unmarshal number into Go struct field OpportunityMissingPayload\.current_opportunity_rate of type string/)
  const tree = parseEvidenceReceiptValue(envelopeTree('proxy_decision', {...payloadOf('proxy_decision'), ratio: new JsonNumber('0.5')}))
  assert.throws(() => evidencePreimage(tree), (e: unknown) => {
    assert.ok(e instanceof CanonicalizationError)
    assert.equal(e.message, 'float not allowed in canonicalization; use decimal string')
    return true
  })
  assert.throws(() => evidencePreimage(envelopeTree('proxy_decision', {...payloadOf('proxy_decision'), n: new JsonNumber('1e3')})), CanonicalizationError)
})

test('checkEvidencePayload on raw text: trailing tokens, empty, null', () => {
  const s = EVIDENCE_PAYLOAD_SCHEMAS.proxy_decision
  const good = JSON.stringify(payloadOf('proxy_decision'))
  assert.equal(checkEvidencePayload(s, good, 'verify'), undefined)
  assert.equal(
    checkEvidencePayload(s, good + ' {}', 'verify'),
    'payload missing required field: action_type (unmarshal: strict decode: trailing tokens after JSON value)',
  )
  assert.equal(checkEvidencePayload(s, '', 'verify'), 'payload missing required field: action_type (unmarshal: empty or null payload)')
  assert.equal(checkEvidencePayload(s, ' null\n', 'verify'), 'payload missing required field: action_type (unmarshal: empty or null payload)')
  assert.match(checkEvidencePayload(s, '{"target":"a","target":"b"}', 'verify') ?? '', /strict decode: duplicate key "target"/)
})
