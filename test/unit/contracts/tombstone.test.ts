import {test} from 'node:test'
import assert from 'node:assert/strict'
import {canonicalBytes, parseJson} from '../../../src/plugins/canonical/index.js'
import {projectTombstone, signTombstone, tombstoneBody, tombstoneHash, tombstoneProblem, verifyCanonicalSignature} from '../../../src/plugins/contracts/index.js'
import {keyPairFromSeed, sha256Hex} from '../../../src/plugins/signing/index.js'

// Tombstone schema (learn-lifecycle §2.3): body built in struct order, every field emitted,
// signature over canonical(body), hash over the whole envelope.

const KEY = keyPairFromSeed(Buffer.alloc(32, 7))
const H = 'sha256:' + 'b'.repeat(64)

test('tombstoneBody: struct order, defaults, Validate, sign and verify', () => {
  const body = tombstoneBody({priorContractHash: H, redactedAt: '2026-11-22T04:00:00Z', authorizationId: 'auth', signerKeyId: 'ops'})
  assert.deepEqual([...body.keys()], ['schema_version', 'tombstone', 'prior_contract_hash', 'redacted_at', 'redaction_authorization_id', 'signer_key_id', 'key_purpose', 'data_class_root'])
  assert.equal(body.get('data_class_root'), 'internal')
  const env = signTombstone(body, KEY)
  assert.ok(verifyCanonicalSignature(body, env.signature, KEY.publicKey))
  assert.equal(tombstoneHash(env), 'sha256:' + sha256Hex(canonicalBytes(env.tree)))
  assert.notEqual(tombstoneHash(env), 'sha256:' + sha256Hex(canonicalBytes(body)))
})

test('Validate(): version, flag, purpose, data class', () => {
  const base = {schema_version: 1, tombstone: true, prior_contract_hash: H, redacted_at: 'x', redaction_authorization_id: 'a', signer_key_id: 'k', key_purpose: 'contract-activation-signing', data_class_root: 'internal'}
  const v = (b: Record<string, unknown>): string | undefined => tombstoneProblem(projectTombstone(parseJson(JSON.stringify({body: b, signature: ''}))).body)
  assert.equal(v(base), undefined)
  assert.equal(v({...base, schema_version: 2}), 'unsupported tombstone schema_version; expected 1')
  assert.equal(v({...base, tombstone: false}), 'tombstone flag must be true')
  assert.equal(v({...base, key_purpose: 'contract-compile-signing'}), 'tombstone key_purpose must be "contract-activation-signing"')
  assert.match(v({...base, data_class_root: 'regulated'}) ?? '', /regulated is forbidden/)
  assert.throws(() => signTombstone(tombstoneBody({priorContractHash: H, redactedAt: 'x', authorizationId: 'a', signerKeyId: 'k', dataClassRoot: 'regulated'}), KEY), /regulated/)
  assert.throws(() => projectTombstone(parseJson(JSON.stringify({body: {...base, note: 'x'}, signature: ''}))), /unknown field in signed-artifact transport payload/)
})
