import {test} from 'node:test'
import assert from 'node:assert/strict'
import {canonicalize, fixedClock, parseJson} from '../../src/plugins/canonical/index.js'
import {
  authorizeSignerForPayload,
  decodeRosterEnvelope,
  fingerprint,
  loadRoster,
  resolveKey,
  rosterBodyTree,
  verifyBytes,
  verifyFingerprint,
  type LoadedRoster,
} from '../../src/plugins/signing/index.js'
import {readVector, vectorPath} from '../helpers/vectors.js'
import {TEST1_FP, TEST1_PUB, TEST2_FP, TEST2_PUB} from '../unit/signing/test-keys.js'

const at = (iso: string): bigint => fixedClock(iso).nowNanos()
const rosterPath = (): string => vectorPath('contract', 'golden', 'valid_key_roster.json')
const load = (): LoadedRoster => loadRoster(rosterPath(), TEST1_FP)

// learn-lifecycle.md §2.5: the golden canonical body, quoted byte for byte.
const GOLDEN_BODY =
  '{"data_class_root":"internal","keys":[{"key_id":"roster-root-test","key_purpose":"roster-root","public_key_hex":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","status":"root","valid_from":"2026-04-01T00:00:00Z","valid_until":null},{"key_id":"receipt-signing-test","key_purpose":"receipt-signing","public_key_hex":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","status":"active","valid_from":"2026-04-01T00:00:00Z","valid_until":null}],"roster_signed_by":"roster-root-test","schema_version":1}'

test('Ed25519 smoke: RFC 8032 test 1 over the empty message', () => {
  const v = parseJson(readVector('contract', 'golden', 'ed25519_test_keys.json')) as Map<string, string>
  const pub = Buffer.from(v.get('public_key_hex') as string, 'hex')
  const sig = Buffer.from(v.get('signature_hex') as string, 'hex')
  assert.equal(v.get('message'), '')
  assert.equal(verifyBytes(pub, Buffer.alloc(0), sig), true)
  assert.equal(verifyBytes(pub, Buffer.from('x'), sig), false)
})

test('fingerprints of the vector keys (§8.2 examples)', () => {
  assert.equal(fingerprint(Buffer.from(TEST1_PUB, 'hex')), TEST1_FP)
  assert.equal(fingerprint(Buffer.from(TEST2_PUB, 'hex')), TEST2_FP)
  verifyFingerprint(Buffer.from(TEST1_PUB, 'hex'), TEST1_FP.toUpperCase().replace('SHA256', 'sha256'))
})

test('golden roster: projection canonicalises to the quoted body', () => {
  const {body} = decodeRosterEnvelope(parseJson(readVector('contract', 'golden', 'valid_key_roster.json')))
  assert.equal(canonicalize(rosterBodyTree(body)), GOLDEN_BODY)
})

test('golden roster loads with the test-1 pin', () => {
  const r = load()
  assert.equal(r.rootKeyId, 'roster-root-test')
  assert.equal(r.body.keys.length, 2)
  assert.equal(r.pinnedFingerprint, TEST1_FP)
  assert.equal(r.sourcePath, rosterPath())
})

test('golden roster: any other well-formed pin, or a malformed pin → the pin sentinel', () => {
  for (const pin of [TEST2_FP, 'sha256:' + '0'.repeat(64), 'sha256:zz', 'nope', '', 'md5:' + 'a'.repeat(64)]) {
    assert.throws(() => loadRoster(rosterPath(), pin), (e: Error) => e.message.startsWith('roster root key fingerprint does not match pinned: '), pin)
  }
})

test('golden roster: resolveKey at the listed times', () => {
  const r = load()
  assert.equal(resolveKey(r, 'receipt-signing-test', at('2026-04-25T22:00:00Z')).keyPurpose, 'receipt-signing')
  assert.equal(resolveKey(r, 'receipt-signing-test', at('2026-04-01T00:00:00Z')).status, 'active') // now == valid_from
  assert.throws(() => resolveKey(r, 'receipt-signing-test', at('2026-03-31T23:59:59Z')), {message: 'key is not yet valid'})
  assert.throws(() => resolveKey(r, 'roster-root-test', at('2026-04-25T22:00:00Z')), {message: 'key is not active'})
  assert.throws(() => resolveKey(r, 'test-key', at('2026-04-25T22:00:00Z')), {message: 'key_id not in roster: "test-key"'})
})

test('golden roster: authority matrix for receipt-signing-test', () => {
  const r = load()
  const now = at('2026-04-25T22:00:00Z')
  for (const kind of ['proxy_decision', 'shadow_delta', 'contract_promote_committed', 'contract_ratified']) {
    assert.equal(authorizeSignerForPayload(r, kind, 'receipt-signing-test', now).keyId, 'receipt-signing-test')
  }
  assert.throws(() => authorizeSignerForPayload(r, 'contract_promote_intent', 'receipt-signing-test', now), {
    message:
      'signature key_purpose does not match authority matrix: payload_kind="contract_promote_intent" required="contract-activation-signing" got="receipt-signing"',
  })
  assert.throws(() => authorizeSignerForPayload(r, 'contract_redaction_request', 'receipt-signing-test', now), /^PipelockError: signature key_purpose does not match authority matrix: payload_kind="contract_redaction_request"/)
  assert.throws(() => authorizeSignerForPayload(r, 'no_such_kind', 'receipt-signing-test', now), {message: 'unknown payload_kind'})
})
