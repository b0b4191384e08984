import {test} from 'node:test'
import assert from 'node:assert/strict'
import {canonicalize, parseJson, ShapeError} from '../../../src/plugins/canonical/index.js'
import {
  activeManifestHash,
  activeManifestProblem,
  manifestSelector,
  manifestSelectorId,
  projectActiveManifest,
  selectorSetHash,
} from '../../../src/plugins/contracts/index.js'

// Active manifest schema (learn-lifecycle §2.2): selector-id recipe per selector kind, strict
// decoding, projection (omit-if-empty, Go time), Validate() messages.

const H = 'sha256:' + 'a'.repeat(64)

function envelope(body: Record<string, unknown>): string {
  return JSON.stringify({body, signatures: []})
}

const BODY = {
  schema_version: 1,
  manifest_kind: 'activation_manifest',
  generation: 3,
  prior_manifest_hash: H,
  selector_set_hash: '',
  environment: {id: 'prod', tenant: '', deployment_id: ''},
  selectors: [{selector_id: manifestSelectorId({agent: 'a', contractHash: H}), agent: 'a', contract_hash: H}],
  history_root: 'sha256:' + '0'.repeat(64),
  signed_at: '2026-11-22T04:00:00.500+00:00',
}
BODY.selector_set_hash = selectorSetHash([BODY.selectors[0]?.selector_id as string])

test('selector ids: agent, glob and default each hash only their present keys', () => {
  assert.equal(manifestSelectorId({agent: 'a', contractHash: H}), 'sha256:' + sha(`{"agent":"a","contract_hash":"${H}"}`))
  assert.equal(manifestSelectorId({agentGlob: 'shop-*', contractHash: H}), 'sha256:' + sha(`{"agent_glob":"shop-*","contract_hash":"${H}"}`))
  assert.equal(manifestSelectorId({default: true, contractHash: H}), 'sha256:' + sha(`{"contract_hash":"${H}","default":true}`))
  assert.equal(manifestSelectorId({agent: '', default: false, contractHash: H}), 'sha256:' + sha(`{"contract_hash":"${H}"}`))
  const sel = manifestSelector({agentGlob: 'shop-*', contractHash: H})
  assert.deepEqual([...sel.keys()], ['selector_id', 'agent_glob', 'contract_hash'])
})

test('selector_set_hash sorts the ids', () => {
  assert.equal(selectorSetHash(['sha256:b', 'sha256:a']), selectorSetHash(['sha256:a', 'sha256:b']))
  assert.equal(selectorSetHash(['sha256:a', 'sha256:b']), 'sha256:' + sha('["sha256:a","sha256:b"]'))
})

test('projection: Go time re-rendered, rollback_target omitted when empty, struct order kept', () => {
  const env = projectActiveManifest(parseJson(envelope(BODY)))
  assert.equal(activeManifestProblem(env.body), undefined)
  assert.equal(env.body.get('signed_at'), '2026-11-22T04:00:00.5Z')
  assert.ok(!env.body.has('rollback_target'))
  assert.deepEqual([...env.body.keys()].slice(0, 3), ['schema_version', 'manifest_kind', 'generation'])
  // the +00:00 and Z spellings are one manifest
  const z = projectActiveManifest(parseJson(envelope({...BODY, signed_at: '2026-11-22T04:00:00.5Z'})))
  assert.equal(activeManifestHash(z.body), activeManifestHash(env.body))
  assert.match(canonicalize(env.body), /"signed_at":"2026-11-22T04:00:00.5Z"/)
})

test('strict decode: unknown fields (any depth), case-variant keys and duplicate keys are refused', () => {
  assert.throws(() => projectActiveManifest(parseJson(envelope({...BODY, extra: 1}))), (e: unknown) => e instanceof ShapeError && /unknown field in signed-artifact transport payload: .*extra/.test(e.message))
  const {generation, ...rest} = BODY
  assert.throws(() => projectActiveManifest(parseJson(envelope({...rest, Generation: generation}))), /unknown field in signed-artifact transport payload: .*Generation/)
  assert.throws(() => projectActiveManifest(parseJson(envelope({...BODY, environment: {...BODY.environment, region: 'x'}}))), /unknown field .*region/)
  assert.throws(() => parseJson('{"body":{},"body":{}}'), /duplicate/)
  assert.throws(() => projectActiveManifest(parseJson(envelope({...BODY, generation: '3'}))), ShapeError)
  assert.throws(() => projectActiveManifest(parseJson(envelope({...BODY, generation: -1}))), ShapeError)
})

test('Validate(): schema version, kind, duplicate selector ids', () => {
  const v = (b: Record<string, unknown>): string | undefined => activeManifestProblem(projectActiveManifest(parseJson(envelope(b))).body)
  assert.equal(v({...BODY, schema_version: 2}), 'manifest: unsupported schema_version: got 2, want 1')
  assert.equal(v({...BODY, manifest_kind: 'contract'}), 'manifest: unknown manifest_kind')
  assert.equal(v({...BODY, selectors: [BODY.selectors[0], BODY.selectors[0]]}), 'manifest: duplicate selector_id in manifest')
})

function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex')
}
import {createHash} from 'node:crypto'
