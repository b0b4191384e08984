import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {emitSignedYaml, fromPlain, parseJson, type JsonObject, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {
  buildInfoUnavailableDigests,
  contractHash,
  contractProblem,
  decodeEnvelope,
  loadContract,
  manifestProblem,
  moduleDigestRoot,
  projectContractBody,
  settingsProblem,
  signCanonical,
  verifyCanonicalSignature,
} from '../../../src/plugins/contracts/index.js'
import {keyPairFromSeed, sha256} from '../../../src/plugins/signing/index.js'
import {repoPath} from '../../helpers/vectors.js'

const GOLDEN = repoPath('goldens', 'collapsing-paths', 'contract.yaml')

function body(overrides: Record<string, unknown> = {}): JsonObject {
  return projectContractBody(
    fromPlain({
      schema_version: 1,
      contract_kind: 'behavioral_contract',
      contract_hash: '',
      signer_key_id: 'k',
      key_purpose: 'contract-compile-signing',
      data_class_root: 'internal',
      field_data_classes: {},
      selector: {agent: 'a', selector_id: 'sha256:x'},
      observation_window: {start: '2026-01-01T00:00:00Z', end: '2026-01-01T01:00:00Z', event_count: 1, session_count: 1, observation_window_root: 'r'},
      compile: {},
      defaults: {fidelity: 'medium', confidence: {}, privacy: {default_data_class: 'internal', salt_epoch: 0, forbid_classes: ['regulated']}},
      rules: [],
      ...overrides,
    }),
  )
}

test('contract Validate (learn-lifecycle §2.1) messages', () => {
  assert.equal(contractProblem(body()), undefined)
  assert.equal(contractProblem(body({schema_version: 2})), 'contract: unsupported schema_version: got 2, want 1')
  assert.match(contractProblem(body({contract_kind: 'x'})) as string, /invalid contract_kind: got "x"/)
  const rule = {rule_id: 'r', display_name: 'd', rule_kind: 'http_destination', lifecycle_state: 'capture_only', confidence: 'stable', wilson_lower: '0.9', observation: {}, selector: {}, rationale: {}, recurring_support: {}, opportunity_health: {}}
  assert.equal(contractProblem(body({rules: [rule]})), undefined) // capture_only with no grades = full/full
  assert.match(contractProblem(body({rules: [{...rule, lifecycle_state: 'live'}]})) as string, /unsupported lifecycle_state: rules\[0\]/)
  assert.match(contractProblem(body({rules: [{...rule, lifecycle_state: 'enforce', rule_kind: 'dns'}]})) as string, /not enforceable/)
  assert.match(contractProblem(body({rules: [{...rule, lifecycle_state: 'enforce', required_capture_grade: 'full', observed_capture_grade: 'summary'}]})) as string, /invalid capture grade/)
  assert.match(contractProblem(body({field_data_classes: {x: 'regulated'}})) as string, /invalid data class/)
  assert.match(contractProblem(body({data_class_root: ''})) as string, /data class coverage: no data class for schema_version/)
})

test('contract hash and signature round-trip through the YAML emitter and strict loader', () => {
  const kp = keyPairFromSeed(sha256('unit'))
  const b = body()
  const hash = contractHash(b)
  b.set('contract_hash', hash)
  const sig = signCanonical(b, kp)
  const yaml = emitSignedYaml(new Map<string, JsonValue>([['body', b], ['signature', sig]]))
  const env = loadContract(yaml, 'c.yaml')
  assert.equal(contractHash(env.body), hash)
  assert.ok(verifyCanonicalSignature(env.body, env.signature, kp.publicKey))
  assert.equal(verifyCanonicalSignature(env.body, 'ed25519:00', kp.publicKey), false)
  // A project golden loads, rehashes to its own contract_hash.
  const g = loadContract(readFileSync(GOLDEN, 'utf8'), GOLDEN)
  assert.equal(contractHash(g.body), g.body.get('contract_hash'))
})

test('strict loading: empty, null, trailing tokens, type errors', () => {
  assert.throws(() => decodeEnvelope('', 'x.yaml'), /empty or null payload/)
  assert.throws(() => decodeEnvelope('null\n', 'x.json'), /empty or null payload/)
  assert.throws(() => decodeEnvelope('{"body":{}} x', 'x.json'), /trailing/)
  assert.throws(() => decodeEnvelope('body:\n    schema_version: "1"\nsignature: s\n', 'x.yaml'), /schema_version: expected int64, got string/)
})

test('manifest: module_digest_root, settings allowlist', () => {
  const digests = parseJson('{"github.com/luckyPipewrench/pipelock":"sha256:test"}') as JsonObject
  assert.equal(moduleDigestRoot(digests), 'sha256:420b0c21d529c660ef95ddb5686e20bf16371f27803c77bdd676977d94deeb72')
  assert.equal(moduleDigestRoot(buildInfoUnavailableDigests()), moduleDigestRoot(fromPlain({build_info_unavailable: 'sha256:' + sha256('build-info unavailable').toString('hex')}) as JsonObject))
  assert.equal(settingsProblem(fromPlain({confidence: {min_events: 1}, normalization: {}})), undefined)
  assert.match(settingsProblem(fromPlain({weird: {}})) as string, /settings key not allowed: weird/)
  assert.match(settingsProblem(fromPlain({privacy: {salt: 'x'}})) as string, /settings.privacy key not allowed: salt/)
  assert.match(settingsProblem(fromPlain({redaction: {salt_hash: {x: 1}}})) as string, /salt_hash key not allowed: x/)
  assert.match(settingsProblem(fromPlain({confidence: 1})) as string, /must be an object/)
  const m = fromPlain({module_digests: {a: 'sha256:b'}, module_digest_root: 'sha256:wrong'}) as JsonObject
  assert.match(manifestProblem(m) as string, /module_digest_root mismatch/)
})
