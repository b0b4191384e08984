import {test} from 'node:test'
import assert from 'node:assert/strict'
import {goJson, JsonNumber, type JsonObject, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {formatError} from '../../../src/plugins/errors/index.js'
import {
  encodeEvidenceReceipt,
  EvidenceParseError,
  EVIDENCE_NO_PUBLIC_KEY,
  parseEvidenceReceipt,
  signEvidence,
  verifyEvidence,
} from '../../../src/plugins/receipts/evidence/index.js'
import {envelopeTree, forge, KEY, KEY_HEX, OTHER_KEY, payloadOf, signerFor, unsignedFor} from './evidence-fixtures.js'

// Strict envelope parsing and the §9.5 verification order and texts.

const signedLine = (): string => encodeEvidenceReceipt(signEvidence(unsignedFor('proxy_decision'), signerFor('proxy_decision')))

function parseError(text: string): EvidenceParseError {
  try {
    parseEvidenceReceipt(text, {file: 'r.json'})
  } catch (e) {
    assert.ok(e instanceof EvidenceParseError, String(e))
    assert.equal(e.code, 'RECEIPT_PARSE')
    return e
  }
  assert.fail('expected a parse error')
}

test('unknown envelope and signature keys are refused, sorted, Python list form', () => {
  const line = signedLine()
  const withEnvelopeKeys = line.replace('{"record_type"', '{"zeta":1,"alpha":2,"record_type"')
  assert.equal(parseError(withEnvelopeKeys).message, "unknown envelope fields: ['alpha', 'zeta']")
  const withSigKey = line.replace('"signature":{"signer_key_id"', '"signature":{"public_key":"x","signer_key_id"')
  assert.equal(parseError(withSigKey).message, "unknown signature fields: ['public_key']")
  // Case variants are not the field (Go would match them case-insensitively; we refuse).
  assert.equal(parseError(line.replace('"event_id"', '"Event_ID"')).message, "unknown envelope fields: ['Event_ID']")
  const r = verifyEvidence(withEnvelopeKeys, {publicKey: KEY_HEX})
  assert.deepEqual([r.valid, r.signatureValid, r.error], [false, false, "unknown envelope fields: ['alpha', 'zeta']"])
})

test('duplicate keys (envelope and payload) and trailing tokens are refused', () => {
  const line = signedLine()
  const dup = parseError(line.replace('{"record_type":"evidence_receipt_v2"', '{"record_type":"evidence_receipt_v2","record_type":"x"'))
  assert.match(dup.message, /duplicate key "record_type"/)
  assert.match(parseError(line.replace('"action_type":"connect"', '"action_type":"connect","action_type":"x"')).message, /duplicate key "action_type"/)
  assert.match(parseError(line + ' {}').message, /trailing tokens after JSON value/)
})

test('trailing whitespace is fine; trailing tokens are not', () => {
  assert.doesNotThrow(() => parseEvidenceReceipt(signedLine() + '\n'))
  assert.match(parseError(signedLine() + '\n]').message, /trailing tokens after JSON value/)
})

test('wrong JSON types in the envelope', () => {
  const line = signedLine()
  const cases: [string, string, RegExp][] = [
    ['"receipt_version":2', '"receipt_version":"2"', /receipt_version: expected int64, got string/],
    ['"receipt_version":2', '"receipt_version":2.0', /receipt_version/],
    ['"chain_seq":0', '"chain_seq":-1', /chain_seq: -1 out of range for uint64/],
    ['"chain_seq":0', '"chain_seq":-0', /chain_seq: -0 out of range for uint64/],
    ['"chain_seq":0', '"chain_seq":"0"', /chain_seq: expected uint64, got string/],
    ['"event_id":"0190f5e2-7c1a-7000-8000-000000000001"', '"event_id":7', /event_id: expected string, got number/],
    ['"algorithm":"ed25519"', '"algorithm":true', /signature\.algorithm: expected string, got boolean/],
    ['"principal":"org:test"', '"principal":null', /principal: expected string, got null/],
    ['"principal":"org:test"', '"delegation_chain":[1]', /delegation_chain\[0\]: expected string, got number/],
    ['"timestamp":"2026-04-25T22:00:00.123456789Z"', '"timestamp":"yesterday"', /timestamp: parsing time "yesterday"/],
    ['"timestamp":"2026-04-25T22:00:00.123456789Z"', '"timestamp":1745618400', /timestamp: expected RFC 3339 time string, got number/],
  ]
  for (const [from, to, re] of cases) {
    const text = line.replace(from, to)
    assert.notEqual(text, line, from)
    assert.match(parseError(text).message, re)
    const r = verifyEvidence(text, {publicKey: KEY_HEX})
    assert.equal(r.valid, false)
    assert.match(r.error ?? '', re)
  }
  assert.match(parseError('[]').message, /expected a JSON object, got array/)
  const sigString = line.replace(/"signature":\{[^}]*\}/, '"signature":"ed25519:00"')
  assert.match(parseError(sigString).message, /signature: expected object, got string/)
})

test('parse errors carry file and line (pretty-printed input)', () => {
  const pretty = JSON.stringify(JSON.parse(signedLine()), null, 2).replace('"chain_seq": 0', '"chain_seq": "zero"')
  const e = parseError(pretty)
  const line = pretty.split('\n').findIndex((l) => l.includes('"chain_seq"')) + 1
  assert.equal(formatError(e), `r.json:${line}: invalid evidence receipt: chain_seq: expected uint64, got string`)
  const bad = parseError('{\n  "record_type": "evidence_receipt_v2",\n  "record_type": 1\n}')
  assert.equal(bad.location?.line, 3)
})

test('verifyEvidence never throws on garbage', () => {
  for (const input of ['', ' ', 'null', '[]', '"x"', '{', '{"a":1}', '\u0000', '{"payload":1e999}', '{"signature":{"signature":"ed25519:zz"}}']) {
    const r = verifyEvidence(input, {publicKey: KEY_HEX})
    assert.equal(r.valid, false, input)
    assert.equal(r.signatureValid, false, input)
    assert.equal(typeof r.error, 'string', input)
  }
  assert.equal(verifyEvidence('{}', {publicKey: KEY_HEX}).error, 'unsupported record_type for v2 verifier: got ""')
})

// §9.5 steps 1–13, each on a receipt that is otherwise fine and cryptographically signed.
test('§9.5 order and texts', () => {
  const p = payloadOf('proxy_decision')
  const say = (overrides: Record<string, JsonValue | undefined>, kind = 'proxy_decision', payload: unknown = p): string | undefined =>
    verifyEvidence(forge(envelopeTree(kind, payload, overrides)), {publicKey: KEY_HEX}).error
  const proof = (patch: Record<string, string>): JsonObject => {
    const base = envelopeTree('proxy_decision', p).get('signature') as JsonObject
    return new Map([...base, ...Object.entries(patch)])
  }
  assert.equal(say({}), undefined)
  assert.equal(say({record_type: 'action_receipt_v1'}), 'unsupported record_type for v2 verifier: got "action_receipt_v1"')
  assert.equal(say({record_type: undefined}), 'unsupported record_type for v2 verifier: got ""')
  assert.equal(say({record_type: 'x\n"'}), 'unsupported record_type for v2 verifier: got "x\\n\\""')
  assert.equal(say({receipt_version: new JsonNumber('1')}), 'EvidenceReceipt requires receipt_version=2: got 1')
  assert.equal(say({receipt_version: undefined}), 'EvidenceReceipt requires receipt_version=2: got 0')
  assert.equal(say({event_id: ''}), 'payload missing required field: event_id')
  assert.equal(say({timestamp: undefined}), 'payload missing required field: timestamp')
  assert.equal(say({timestamp: '0001-01-01T00:00:00Z'}), 'payload missing required field: timestamp')
  assert.equal(say({timestamp: '0001-01-01T01:00:00+01:00'}), 'payload missing required field: timestamp')
  assert.equal(say({payload_kind: 'proxy_decisions'}), 'unknown payload_kind for v2 receipt: "proxy_decisions"')
  assert.equal(say({}, 'proxy_decision', {...p, target: ''}), 'payload missing required field: target')
  assert.equal(say({signature: proof({signer_key_id: ''})}), 'payload missing required field: signature.signer_key_id')
  assert.equal(say({signature: proof({key_purpose: ''})}), 'payload missing required field: signature.key_purpose')
  assert.equal(
    say({signature: proof({key_purpose: 'contract-activation-signing'})}),
    'signature key_purpose does not match authority matrix: payload_kind="proxy_decision" required="receipt-signing" got="contract-activation-signing"',
  )
  assert.equal(say({signature: proof({algorithm: 'ED25519'})}), 'payload field has invalid enum value: signature.algorithm="ED25519"')
  // Order: an earlier failure hides a later one.
  assert.equal(say({event_id: '', signature: proof({algorithm: 'rsa'})}), 'payload missing required field: event_id')

  // Signature text checks (not forged: the forged signature would overwrite them).
  const sig = (s: string): string | undefined =>
    verifyEvidence(envelopeTree('proxy_decision', p, {signature: proof({signature: s})}), {publicKey: KEY_HEX}).error
  assert.equal(sig('ed25519' + '0'.repeat(128)), 'payload field has invalid enum value: signature.signature prefix')
  assert.equal(sig('ed25519:' + 'g'.repeat(128)), "payload field has invalid enum value: signature.signature hex: encoding/hex: invalid byte: U+0067 'g'")
  assert.equal(sig('ed25519:' + '0'.repeat(127)), 'payload field has invalid enum value: signature.signature hex: encoding/hex: odd length hex string')
  assert.equal(sig('ed25519:' + '00'.repeat(63)), 'payload field has invalid enum value: signature.signature length=63')
})

test('caller pins, key checks and the signature itself come last', () => {
  const signed = signEvidence(unsignedFor('proxy_decision'), signerFor('proxy_decision'))
  const v = (opts: Parameters<typeof verifyEvidence>[1]): ReturnType<typeof verifyEvidence> => verifyEvidence(signed, opts)
  assert.equal(v({publicKey: KEY_HEX}).valid, true)
  assert.equal(v({publicKey: KEY_HEX, expectedSignerKeyId: ''}).error, 'payload missing required field: expected signer_key_id')
  assert.equal(v({publicKey: KEY_HEX, expectedSignerKeyId: 'someone-else'}).error, 'payload field has invalid enum value: signer_key_id')
  const purpose = v({publicKey: KEY_HEX, expectedPurpose: 'contract-activation-signing'})
  assert.match(purpose.error ?? '', /key_purpose/)
  assert.equal(purpose.signatureValid, true)
  assert.equal(v({}).error, EVIDENCE_NO_PUBLIC_KEY)
  assert.equal(v({publicKey: ''}).error, EVIDENCE_NO_PUBLIC_KEY)
  assert.equal(v({publicKey: Buffer.alloc(0)}).error, EVIDENCE_NO_PUBLIC_KEY)
  assert.equal(v({publicKey: KEY_HEX.slice(2)}).error, 'payload field has invalid enum value: signature public key length=31')
  assert.equal(v({publicKey: Buffer.alloc(33)}).error, 'payload field has invalid enum value: signature public key length=33')
  assert.match(v({publicKey: 'zz'}).error ?? '', /signature public key hex: encoding\/hex: invalid byte/)
  const other = v({publicKey: OTHER_KEY.publicKey})
  assert.deepEqual([other.valid, other.signatureValid, other.error], [false, false, 'payload field has invalid enum value: signature verification failed'])
  assert.equal(v({publicKey: `  ${KEY_HEX}\n`}).valid, true)
})

test('result carries what verify-receipt prints', () => {
  const signed = signEvidence({...unsignedFor('proxy_decision'), chainSeq: 7n, chainPrevHash: 'ab'.repeat(32)}, signerFor('proxy_decision'))
  const r = verifyEvidence(goJson(signed), {publicKey: KEY.publicKey})
  assert.equal(r.valid, true)
  assert.equal(r.payloadKind, 'proxy_decision')
  assert.equal(r.eventId, '0190f5e2-7c1a-7000-8000-000000000001')
  assert.equal(r.signerKeyId, 'test-key-id')
  assert.equal(r.keyPurpose, 'receipt-signing')
  assert.equal(r.chainSeq, '7')
  assert.equal(r.chainPrevHash, 'ab'.repeat(32))
  assert.equal(r.timestamp, '2026-04-25T22:00:00.123456789Z')
  assert.match(r.receiptHash ?? '', /^[0-9a-f]{64}$/)
})

test('uint64 chain_seq beyond 2^53 survives parsing without a JS number round trip', () => {
  const big = 9007199254740993n
  const signed = signEvidence({...unsignedFor('proxy_decision'), chainSeq: big}, signerFor('proxy_decision'))
  const line = encodeEvidenceReceipt(signed)
  assert.ok(line.includes('"chain_seq":9007199254740993,'))
  const r = verifyEvidence(line, {publicKey: KEY_HEX})
  assert.equal(r.valid, true)
  assert.equal(r.chainSeq, '9007199254740993')
})
