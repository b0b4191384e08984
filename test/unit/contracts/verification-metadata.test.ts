import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parseJson} from '../../../src/plugins/canonical/index.js'
import {projectVerificationMetadata, tombstoneIndexRoot, verificationMetadataProblem} from '../../../src/plugins/contracts/index.js'

// Verification metadata (learn-lifecycle §2.4): tombstone_index_root over the sorted, unique list.

const A = 'sha256:' + 'a'.repeat(64)
const B = 'sha256:' + 'b'.repeat(64)

function body(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    schema_version: 1,
    bundle_kind: 'public_proof_bundle',
    contract_hash: A,
    tombstone_index_root: tombstoneIndexRoot([B, A]),
    tombstone_hashes: [B, A],
    bundle_signed_at: '2026-11-22T00:00:00Z',
    signer_key_id: 'k',
    key_purpose: 'contract-activation-signing',
    data_class_root: 'public',
    ...extra,
  }
}

const v = (b: Record<string, unknown>): string | undefined => verificationMetadataProblem(projectVerificationMetadata(parseJson(JSON.stringify({body: b, signature: ''}))).body)

test('index root is order independent and checked', () => {
  assert.equal(v(body({})), undefined)
  assert.match(v(body({tombstone_index_root: tombstoneIndexRoot([A])})) ?? '', /tombstone_index_root does not match computed value/)
  assert.match(v(body({tombstone_hashes: [A, A], tombstone_index_root: ''})) ?? '', /duplicate tombstone hash/)
  assert.equal(v(body({tombstone_hashes: null, tombstone_index_root: tombstoneIndexRoot([])})), undefined)
})

test('kind, version, data class', () => {
  assert.match(v(body({bundle_kind: 'other'})) ?? '', /unknown bundle_kind/)
  assert.match(v(body({schema_version: 2})) ?? '', /unsupported schema_version/)
  assert.match(v(body({data_class_root: 'regulated'})) ?? '', /regulated is forbidden/)
})
