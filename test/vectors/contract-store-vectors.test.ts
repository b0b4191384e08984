import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {canonicalize, fixedClock, parseJson, type JsonObject} from '../../src/plugins/canonical/index.js'
import {
  activeManifestHash,
  activeManifestProblem,
  loadCompileManifest,
  manifestSelectorId,
  manifestSelectors,
  moduleDigestRoot,
  projectActiveManifest,
  projectTombstone,
  projectVerificationMetadata,
  selectorInputOf,
  selectorSetHash,
  tombstoneHash,
  tombstoneIndexRoot,
  tombstoneProblem,
  verificationMetadataProblem,
  verifyCanonicalSignature,
} from '../../src/plugins/contracts/index.js'
import {PipelockError} from '../../src/plugins/errors/index.js'
import {loadRoster} from '../../src/plugins/signing/index.js'
import {fileTombstone, storeHashHex, validateEnvelope} from '../../src/plugins/store/index.js'
import {readVector, vectorPath} from '../helpers/vectors.js'
import {snapshot} from '../e2e/learn-promote-harness.js'

// Golden recipes of the store's artifacts (learn-lifecycle §2.2–§2.4, vectors/contract/README.md,
// vectors/replay-corpus/README.md): selector ids, selector-set hash, manifest hash and preimage,
// tombstone hash, tombstone index root – and the reasons a store must refuse the golden files.

const TEST1 = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex')
const ROSTER_FP = 'sha256:21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9'
const GOLDEN_BODY =
  '{"environment":{"deployment_id":"test","id":"test","tenant":"test"},"generation":1,"history_root":"contracts/history/","manifest_kind":"activation_manifest","prior_manifest_hash":"sha256:0","schema_version":1,"selector_set_hash":"sha256:bdeb5d429a31788f69db8a97385d8668cd20c7060c5d1ecbed6254f756d8994f","selectors":[{"agent":"buster","contract_hash":"sha256:c1","selector_id":"sha256:e54212300fe30d664c6cfd5d3b2b641b8ae8bb5b30a344c701b91cc309d9ef4e"}],"signed_at":"2026-04-25T22:00:00Z"}'

test('valid_active_manifest.json: selector id, selector-set hash, manifest hash, preimage, signature', () => {
  const env = projectActiveManifest(parseJson(readVector('contract', 'golden', 'valid_active_manifest.json')))
  assert.equal(activeManifestProblem(env.body), undefined)
  const sel = manifestSelectors(env.body)[0] as JsonObject
  assert.equal(manifestSelectorId(selectorInputOf(sel)), 'sha256:e54212300fe30d664c6cfd5d3b2b641b8ae8bb5b30a344c701b91cc309d9ef4e')
  assert.equal(manifestSelectorId({agent: 'buster', contractHash: 'sha256:c1'}), sel.get('selector_id'))
  assert.equal(selectorSetHash([sel.get('selector_id') as string]), 'sha256:bdeb5d429a31788f69db8a97385d8668cd20c7060c5d1ecbed6254f756d8994f')
  assert.equal(selectorSetHash([]), 'sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945')
  assert.equal(canonicalize(env.body), GOLDEN_BODY)
  assert.equal(activeManifestHash(env.body), 'sha256:376ba6a50ff7ba67748e124bdc3e9ca905e95a1a3deeeb8e553829e9f2a764d4')
  assert.ok(verifyCanonicalSignature(env.body, (env.signatures[0] as JsonObject).get('signature') as string, TEST1))
})

test('valid_active_manifest.json: Validate() refuses a tampered selector id and set hash', () => {
  const env = projectActiveManifest(parseJson(readVector('contract', 'golden', 'valid_active_manifest.json')))
  const body: JsonObject = new Map(env.body)
  body.set('selector_set_hash', '')
  assert.equal(activeManifestProblem(body), 'manifest: selector_set_hash is required')
  body.set('selector_set_hash', 'sha256:' + '1'.repeat(64))
  assert.match(activeManifestProblem(body) ?? '', /^manifest: selector_set_hash does not match computed value: claimed=sha256:1{64} computed=sha256:bdeb5d42/)
  const sel: JsonObject = new Map(manifestSelectors(env.body)[0] as JsonObject)
  sel.set('agent', 'someone-else')
  body.set('selectors', [sel])
  assert.match(activeManifestProblem(body) ?? '', /^manifest: selector_id does not match computed value: claimed=sha256:e5421230/)
})

test('valid_active_manifest.json: a store refuses it (signer not in the golden roster; sha256:c1 is no store hash)', () => {
  const store = mkdtempSync(path.join(tmpdir(), 'pl-vec-store-'))
  const roster = loadRoster(vectorPath('contract', 'golden', 'valid_key_roster.json'), ROSTER_FP)
  const before = snapshot(store)
  assert.throws(
    () =>
      validateEnvelope(store, readVector('contract', 'golden', 'valid_active_manifest.json'), {
        roster,
        clock: fixedClock('2026-04-25T22:00:00Z'),
        checkTombstones: true,
        policy: 'strict',
      }),
    (e: unknown) => e instanceof PipelockError && e.code === 'STORE_SIGNATURE_INVALID' && e.message === 'contract store: manifest signature invalid: key_id="test-key": key_id not in roster: "test-key"',
  )
  assert.throws(() => storeHashHex('sha256:c1'), /^PipelockError: contract store: contract history invalid: hash "sha256:c1" length 2, want 64 hex chars$/)
  assert.deepEqual(snapshot(store), before)
})

test('replay corpus: manifest selector ids for promoting its contract', () => {
  const id = manifestSelectorId({agent: 'harness-agent', contractHash: 'sha256:85f31ee0b7f306773f68dbb648d9240aee86b09a0ca1f30cc1561025c7fcf533'})
  assert.equal(id, 'sha256:15698fa495429f95e7b2edc11716ee0a163aaad786a0a35047e043d39d96c2ff')
  assert.equal(selectorSetHash([id]), 'sha256:591534399a883439023f11db6b3225746bff3848842170fbd20e18cb7809e64d')
})

test('valid_tombstone.json: Validate, signature, tombstone hash over the whole envelope; a store refuses to file it', () => {
  const raw = readVector('contract', 'golden', 'valid_tombstone.json')
  const env = projectTombstone(parseJson(raw))
  assert.equal(tombstoneProblem(env.body), undefined)
  assert.ok(verifyCanonicalSignature(env.body, env.signature, TEST1))
  assert.equal(tombstoneHash(env), 'sha256:47b558be1f3c39f9fc3d45fc9db0fc9bfa0570cfc2c3634dd5aae32340f9c3d9')
  const flipped: JsonObject = new Map(env.body)
  flipped.set('tombstone', false)
  assert.equal(tombstoneProblem(flipped), 'tombstone flag must be true')
  flipped.set('tombstone', true)
  flipped.set('key_purpose', 'receipt-signing')
  assert.equal(tombstoneProblem(flipped), 'tombstone key_purpose must be "contract-activation-signing"')
  const store = mkdtempSync(path.join(tmpdir(), 'pl-vec-store-'))
  const before = snapshot(store)
  assert.throws(() => fileTombstone(store, raw), /tombstone prior_contract_hash invalid: contract store: contract history invalid: hash "sha256:prev-c" length 6, want 64 hex chars/)
  assert.deepEqual(snapshot(store), before)
})

test('valid_verification_metadata.json: empty tombstone index root, signature', () => {
  const env = projectVerificationMetadata(parseJson(readVector('contract', 'golden', 'valid_verification_metadata.json')))
  assert.equal(verificationMetadataProblem(env.body), undefined)
  assert.equal(tombstoneIndexRoot([]), 'sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945')
  assert.equal(env.body.get('tombstone_index_root'), tombstoneIndexRoot([]))
  assert.ok(verifyCanonicalSignature(env.body, env.signature, TEST1))
  assert.throws(() => tombstoneIndexRoot(['sha256:a', 'sha256:a']), /duplicate tombstone hash/)
  // order of the input list does not matter; the root is over the sorted list
  assert.equal(tombstoneIndexRoot(['sha256:b', 'sha256:a']), tombstoneIndexRoot(['sha256:a', 'sha256:b']))
})

test('valid_compile_manifest.json: module_digest_root recipe and signature', () => {
  const file = vectorPath('contract', 'golden', 'valid_compile_manifest.json')
  const env = loadCompileManifest(readVector('contract', 'golden', 'valid_compile_manifest.json'), file)
  assert.equal(moduleDigestRoot(env.body.get('module_digests') as JsonObject), 'sha256:420b0c21d529c660ef95ddb5686e20bf16371f27803c77bdd676977d94deeb72')
  assert.ok(verifyCanonicalSignature(env.body, env.signature, TEST1))
})
