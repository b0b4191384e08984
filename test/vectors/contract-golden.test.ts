import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync} from 'node:fs'
import type {JsonObject} from '../../src/plugins/canonical/index.js'
import {contractHash, loadCompileManifest, loadContract, moduleDigestRoot, verifyCanonicalSignature} from '../../src/plugins/contracts/index.js'
import {PipelockError} from '../../src/plugins/errors/index.js'
import {readVector, vectorPath} from '../helpers/vectors.js'

const TEST1_PUBLIC = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex')

test('valid_contract.json: strict decode, validate, signature; claimed hash is not the computed one', () => {
  const env = loadContract(readVector('contract', 'golden', 'valid_contract.json'), vectorPath('contract', 'golden', 'valid_contract.json'))
  assert.ok(verifyCanonicalSignature(env.body, env.signature, TEST1_PUBLIC))
  assert.equal(env.body.get('contract_hash'), 'sha256:636f6e7472616374')
  assert.equal(contractHash(env.body), 'sha256:5d8d2f262f9b60b7b7c91649008f3e6681a17d70173185c7ca077156f1e45dc5')
  // A tampered body no longer verifies.
  const tampered: JsonObject = new Map(env.body)
  tampered.set('signer_key_id', 'someone-else')
  assert.equal(verifyCanonicalSignature(tampered, env.signature, TEST1_PUBLIC), false)
})

test('valid_compile_manifest.json: module_digest_root recomputes, signature verifies, no settings key', () => {
  const env = loadCompileManifest(readVector('contract', 'golden', 'valid_compile_manifest.json'), vectorPath('contract', 'golden', 'valid_compile_manifest.json'))
  assert.equal(moduleDigestRoot(env.body.get('module_digests') as JsonObject), 'sha256:420b0c21d529c660ef95ddb5686e20bf16371f27803c77bdd676977d94deeb72')
  assert.ok(!env.body.has('settings'))
  assert.ok(verifyCanonicalSignature(env.body, env.signature, TEST1_PUBLIC))
})

const EXPECTED: Record<string, RegExp> = {
  'duplicate_key.yaml': /yaml: duplicate key/,
  'yaml_alias.yaml': /anchors and aliases forbidden/,
  'yaml_anchor.yaml': /anchors and aliases forbidden/,
  'yaml_custom_tag.yaml': /custom tags forbidden/,
  'yaml_longform_tag.yaml': /custom tags forbidden/,
  'yaml_merge_key.yaml': /merge keys forbidden/,
  'yaml_multi_doc.yaml': /multi-document streams forbidden/,
}

test('contract/invalid: every file is refused by the contract loader for its own reason, with a line', () => {
  const files = readdirSync(vectorPath('contract', 'invalid')).sort()
  assert.deepEqual(files, Object.keys(EXPECTED).sort())
  for (const f of files) {
    const file = vectorPath('contract', 'invalid', f)
    assert.throws(
      () => loadContract(readVector('contract', 'invalid', f), file),
      (e: unknown) => {
        assert.ok(e instanceof PipelockError, f)
        assert.equal(e.code, 'CONTRACT_INVALID')
        assert.match(e.message, EXPECTED[f] as RegExp, f)
        assert.equal(e.location?.file, file)
        assert.equal(typeof e.location?.line, 'number', `${f} error carries a line`)
        return true
      },
    )
  }
})

test('unknown fields are refused at every typed depth', () => {
  const text = readVector('contract', 'golden', 'valid_contract.json')
  const withTop = text.replace('"schema_version": 1,', '"schema_version": 1, "surprise": true,')
  assert.throws(() => loadContract(withTop, 'x.json'), /unknown field in signed-artifact transport payload: ContractEnvelope\.body\.surprise/)
  const withNested = text.replace('"fidelity": "medium",', '"fidelity": "medium", "extra": 1,')
  assert.throws(() => loadContract(withNested, 'x.json'), /unknown field.*defaults\.extra/)
  // Free-form maps accept anything.
  const freeForm = text.replace('"confidence": {}', '"confidence": {"anything": 1}')
  assert.doesNotThrow(() => loadContract(freeForm, 'x.json'))
})
