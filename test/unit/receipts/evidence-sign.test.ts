import {test} from 'node:test'
import assert from 'node:assert/strict'
import {goJson, type JsonObject} from '../../../src/plugins/canonical/index.js'
import {AUTHORITY_MATRIX, KEY_PURPOSES, sha256Hex} from '../../../src/plugins/signing/index.js'
import {
  encodeEvidenceReceipt,
  evidenceCanonical,
  evidencePreimage,
  evidenceReceiptHash,
  EvidenceValidationError,
  nextChainLink,
  parseEvidenceReceipt,
  signEvidence,
  verifyEvidence,
} from '../../../src/plugins/receipts/evidence/index.js'
import {envelopeTree, forge, KEY, KEY_HEX, KINDS, payloadOf, signerFor, unsignedFor} from './evidence-fixtures.js'

// Producing v2 receipts: the authority matrix, Go's bytes, NFC/escaping in the preimage, chains.

test('authority matrix: a receipt-signing key cannot sign contract_promote_intent', () => {
  assert.throws(
    () => signEvidence(unsignedFor('contract_promote_intent'), {keyPair: KEY, keyId: 'rs', purpose: 'receipt-signing'}),
    (e: unknown) => {
      assert.ok(e instanceof EvidenceValidationError)
      assert.equal(e.code, 'KEY_PURPOSE_INVALID')
      assert.equal(
        e.message,
        'signature key_purpose does not match authority matrix: payload_kind="contract_promote_intent" required="contract-activation-signing" got="receipt-signing"',
      )
      return true
    },
  )
})

test('authority matrix: every kind refuses every other purpose when signing', () => {
  for (const kind of KINDS) {
    for (const purpose of KEY_PURPOSES) {
      const attempt = (): unknown => signEvidence(unsignedFor(kind), {keyPair: KEY, keyId: 'k', purpose})
      if (purpose === AUTHORITY_MATRIX[kind]) assert.doesNotThrow(attempt)
      else assert.throws(attempt, /does not match authority matrix/, `${kind} / ${purpose}`)
    }
  }
})

test('authority matrix is enforced on verification, whatever the caller expects', () => {
  // A cryptographically valid signature by a key whose proof claims the wrong purpose.
  const tree = envelopeTree('contract_promote_intent', payloadOf('contract_promote_intent'))
  ;(tree.get('signature') as JsonObject).set('key_purpose', 'receipt-signing')
  const forged = forge(tree)
  for (const expectedPurpose of [undefined, 'receipt-signing']) {
    const r = verifyEvidence(forged, {publicKey: KEY_HEX, expectedSignerKeyId: 'test-key-id', expectedPurpose})
    assert.equal(r.valid, false)
    assert.equal(r.signatureValid, true)
    assert.match(r.error ?? '', /^signature key_purpose does not match authority matrix: payload_kind="contract_promote_intent"/)
  }
  ;(tree.get('signature') as JsonObject).set('key_purpose', 'contract-activation-signing')
  assert.equal(verifyEvidence(forge(tree), {publicKey: KEY_HEX}).valid, true)
})

test('JSONL line: Go struct order, zero-valued omitempty dropped, payload in Go struct order', () => {
  const payload = payloadOf('contract_promote_intent')
  delete payload.target_generation // non-omitempty: Go emits 0
  const reversed = Object.fromEntries(Object.entries(payload).reverse())
  const signed = signEvidence(
    {
      ...unsignedFor('contract_promote_intent', reversed),
      principal: '',
      delegationChain: [],
      contractGeneration: 0,
      activeManifestHash: 'sha256:' + 'a'.repeat(64),
      selectorId: '',
    },
    signerFor('contract_promote_intent'),
  )
  const line = encodeEvidenceReceipt(signed)
  const sig = ((signed.get('signature') as JsonObject).get('signature') as string)
  assert.equal(
    line,
    '{"record_type":"evidence_receipt_v2","receipt_version":2,"payload_kind":"contract_promote_intent",' +
      '"event_id":"0190f5e2-7c1a-7000-8000-000000000001","timestamp":"2026-04-25T22:00:00.123456789Z","actor":"agent:test",' +
      `"signature":{"signer_key_id":"test-key-id","key_purpose":"contract-activation-signing","algorithm":"ed25519","signature":"${sig}"},` +
      '"chain_seq":0,"chain_prev_hash":"genesis","active_manifest_hash":"sha256:' + 'a'.repeat(64) + '",' +
      '"payload":{"target_manifest_hash":"sha256:' + 't'.repeat(64) + '","target_generation":0,"prior_manifest_hash":"sha256:' + 'p'.repeat(64) + '","intent_id":"intent-1"}}',
  )
  assert.equal(goJson(signed), line)
  assert.equal(verifyEvidence(line, {publicKey: KEY_HEX}).valid, true)
  assert.equal(evidenceReceiptHash(line), evidenceReceiptHash(signed))
  assert.equal(evidenceReceiptHash(signed), sha256Hex(evidenceCanonical(signed)))
})

test('maps are emitted sorted by UTF-8 bytes; optional payload fields omitted when empty', () => {
  const signed = signEvidence(
    unsignedFor('contract_ratified', {...payloadOf('contract_ratified'), ratification_decision_per_rule: {'\uffff': 'a', '😀': 'b', z: 'c'}}),
    signerFor('contract_ratified'),
  )
  assert.ok(encodeEvidenceReceipt(signed).includes('"ratification_decision_per_rule":{"z":"c","\uffff":"a","😀":"b"}'))
  const drift = payloadOf('contract_drift')
  drift.observation_summary = ''
  drift.missed_windows = 0
  const line = encodeEvidenceReceipt(signEvidence(unsignedFor('contract_drift', drift), signerFor('contract_drift')))
  assert.ok(!line.includes('observation_summary') && !line.includes('missed_windows'))
  assert.ok(line.includes('"opportunity_status":"missing"'))
})

test('preimage: NFC-normalised strings and keys, Go HTML-safe escaping; JSONL keeps the original text', () => {
  const target = 'e\u0301x <a&b> \u2028'
  const signed = signEvidence(
    unsignedFor('proxy_decision', {...payloadOf('proxy_decision'), target, rule_id: 'Ame\u0301lie'}),
    signerFor('proxy_decision'),
  )
  const preimage = evidencePreimage(signed)
  assert.ok(preimage.includes('"target":"\u00e9x \\u003ca\\u0026b\\u003e \\u2028"'), preimage)
  assert.ok(preimage.includes('"rule_id":"Am\u00e9lie"'))
  assert.ok(!preimage.includes('e\u0301'))
  const line = encodeEvidenceReceipt(signed)
  assert.ok(line.includes('"target":"e\u0301x \\u003ca\\u0026b\\u003e \\u2028"'), line)
  assert.equal(verifyEvidence(line, {publicKey: KEY_HEX}).valid, true)
  // The NFC form of the same receipt has the same preimage, so the same signature verifies.
  const composed = line.replace('e\u0301x', '\u00e9x')
  assert.notEqual(composed, line)
  assert.equal(verifyEvidence(composed, {publicKey: KEY_HEX}).valid, true)
  // `<` spelled as an escape in the input is the same string.
  assert.equal(verifyEvidence(line.replace('\\u003ca', '<a'), {publicKey: KEY_HEX}).valid, true)
})

test('keys that collide after NFC cannot be signed', () => {
  assert.throws(
    () =>
      signEvidence(
        unsignedFor('contract_ratified', {...payloadOf('contract_ratified'), ratification_decision_per_rule: {'\u00e9': 'a', 'e\u0301': 'b'}}),
        signerFor('contract_ratified'),
      ),
    (e: unknown) => e instanceof EvidenceValidationError && e.code === 'CANONICAL_INVALID' && /duplicate key after NFC/.test(e.message),
  )
})

test('timestamp is re-rendered the Go way before signing', () => {
  const signed = signEvidence({...unsignedFor('proxy_decision'), timestamp: '2026-04-25T22:00:00.500000+00:00'}, signerFor('proxy_decision'))
  assert.equal(signed.get('timestamp'), '2026-04-25T22:00:00.5Z')
  const offset = signEvidence({...unsignedFor('proxy_decision'), timestamp: '2026-04-26T00:00:00.120+02:00'}, signerFor('proxy_decision'))
  assert.equal(offset.get('timestamp'), '2026-04-26T00:00:00.12+02:00')
  assert.throws(() => signEvidence({...unsignedFor('proxy_decision'), timestamp: '2026-04-25'}, signerFor('proxy_decision')), EvidenceValidationError)
  assert.throws(
    () => signEvidence({...unsignedFor('proxy_decision'), timestamp: '0001-01-01T00:00:00Z'}, signerFor('proxy_decision')),
    /payload missing required field: timestamp/,
  )
  assert.throws(() => signEvidence({...unsignedFor('proxy_decision'), eventId: ''}, signerFor('proxy_decision')), /payload missing required field: event_id/)
  assert.throws(() => signEvidence(unsignedFor('proxy_decision'), {...signerFor('proxy_decision'), keyId: ''}), /signature\.signer_key_id/)
  assert.throws(() => signEvidence({...unsignedFor('proxy_decision'), payloadKind: 'nope'}, signerFor('proxy_decision')), /unknown payload_kind for v2 receipt: "nope"/)
  assert.throws(() => signEvidence({...unsignedFor('proxy_decision'), chainSeq: -1}, signerFor('proxy_decision')), /out of range for uint64/)
  assert.throws(() => signEvidence({...unsignedFor('proxy_decision'), chainSeq: 2n ** 63n}, signerFor('proxy_decision')), /float not allowed in canonicalization/)
})

test('signing is deterministic (Ed25519) and does not depend on payload key order', () => {
  const a = signEvidence(unsignedFor('shadow_delta'), signerFor('shadow_delta'))
  const reordered = Object.fromEntries(Object.entries(payloadOf('shadow_delta')).reverse())
  const b = signEvidence(unsignedFor('shadow_delta', reordered), signerFor('shadow_delta'))
  assert.equal(goJson(a), goJson(b))
})

test('nextChainLink: genesis at seq 0, then seq + 1 and the previous v2 receipt hash', () => {
  assert.deepEqual(nextChainLink(undefined), {chainSeq: 0n, chainPrevHash: 'genesis'})
  const lines: string[] = []
  let previous: string | undefined
  for (let i = 0; i < 3; i++) {
    const link = nextChainLink(previous)
    const signed = signEvidence({...unsignedFor('proxy_decision'), ...link, eventId: `ev-${i}`}, signerFor('proxy_decision'))
    previous = encodeEvidenceReceipt(signed)
    lines.push(previous)
  }
  const parsed = lines.map((l) => parseEvidenceReceipt(l))
  assert.deepEqual(parsed.map((p) => p.chainSeq), [0n, 1n, 2n])
  assert.equal(parsed[0]?.chainPrevHash, 'genesis')
  assert.equal(parsed[1]?.chainPrevHash, evidenceReceiptHash(lines[0] as string))
  assert.equal(parsed[2]?.chainPrevHash, evidenceReceiptHash(lines[1] as string))
  for (const l of lines) assert.equal(verifyEvidence(l, {publicKey: KEY_HEX}).valid, true)
})
