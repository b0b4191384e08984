import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fixedClock, parseJson, type JsonObject, type JsonValue} from '../../src/plugins/canonical/index.js'
import {buildInfoUnavailableDigests, contractHash, loadCompileManifest, loadContract, verifyCanonicalSignature} from '../../src/plugins/contracts/index.js'
import {compileContract, parseCompileFixture, renderReview, reviewInputFromCandidate} from '../../src/plugins/learn/index.js'
import {repoPath, readVector, vectorPath} from '../helpers/vectors.js'

const HARNESS_PUBLIC_KEY = Buffer.from('3e60a846b80a5152a2e32fac4cadb3e9a661eee41558a8c84f5d00a827671380', 'hex')
const BUILD = {pipelockVersion: 'test', pipelockBuildSha: 'test', goVersion: 'test', moduleDigestRoot: 'test', compileConfigHash: 'test'}

async function compileVector() {
  const fx = parseCompileFixture(readVector('replay-corpus', 'harness-compile-fixture.json'), 'harness-compile-fixture.json', BUILD)
  return compileContract([{name: vectorPath('replay-corpus', 'corpus.jsonl')}], fx.config, {
    clock: fixedClock(fx.clock as string),
    signer: fx.signer,
    moduleDigests: buildInfoUnavailableDigests(),
    ...(fx.inputRefs ? {inputRefs: fx.inputRefs} : {}),
  })
}

// The reference harness's stabilisation (replay-corpus README): placeholders for the Go build
// digests, every object key sorted, 2-space indent, trailing newline.
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeys(o[k])]))
  }
  return v
}

function stabilise(manifestJson: string): Record<string, unknown> {
  const doc = JSON.parse(manifestJson) as {body: Record<string, unknown>; signature: string}
  assert.match(String(doc.body.module_digest_root), /^sha256:[0-9a-f]{64}$/)
  const digests = doc.body.module_digests as Record<string, string>
  assert.ok(Object.keys(digests).length > 0)
  for (const v of Object.values(digests)) assert.match(v, /^sha256:[0-9a-f]{64}$/)
  doc.body.module_digest_root = 'sha256:HARNESS-PLACEHOLDER'
  doc.body.module_digests = {'harness-stable-placeholder': 'sha256:HARNESS-PLACEHOLDER'}
  return sortKeys(doc) as Record<string, unknown>
}

test('replay corpus: contract.yaml is byte-identical to the reference', async () => {
  const r = await compileVector()
  assert.equal(r.yaml, readVector('replay-corpus', 'contract.yaml'))
  assert.equal(r.contractHash, 'sha256:85f31ee0b7f306773f68dbb648d9240aee86b09a0ca1f30cc1561025c7fcf533')
  assert.equal(r.stats.eventsIngested, 33)
  assert.equal(r.stats.malformed, 4)
  assert.equal(r.stats.rules, 26)
  assert.deepEqual(r.stats.confidence, {stable: 0, brittle: 5, never_confirmed: 21})
})

test('replay corpus: stabilised manifest equals the reference except its Go signature; ours verifies', async () => {
  const r = await compileVector()
  const ours = stabilise(r.manifestJson)
  const want = JSON.parse(readVector('replay-corpus', 'contract.manifest.json')) as Record<string, unknown>
  assert.equal(JSON.stringify(ours.body, null, 2), JSON.stringify(want.body, null, 2))
  assert.deepEqual(Object.keys(ours), Object.keys(want))
  // Byte layout of the stabilised document, signature aside.
  const withTheirSig = {...ours, signature: want.signature}
  assert.equal(JSON.stringify(withTheirSig, null, 2) + '\n', readVector('replay-corpus', 'contract.manifest.json'))
  // The unstabilised manifest loads strictly, validates and verifies with the harness key.
  const m = loadCompileManifest(r.manifestJson, 'contract.manifest.json')
  assert.ok(verifyCanonicalSignature(m.body, m.signature, HARNESS_PUBLIC_KEY))
  // Q12: the manifest's module_digest_root is this build's, not the contract's pinned value.
  assert.notEqual(m.body.get('module_digest_root'), 'sha256:harness-module-digest-root')
})

test('replay corpus: the reference contract loads strictly, rehashes and verifies', () => {
  const env = loadContract(readVector('replay-corpus', 'contract.yaml'), vectorPath('replay-corpus', 'contract.yaml'))
  assert.equal(contractHash(env.body), 'sha256:85f31ee0b7f306773f68dbb648d9240aee86b09a0ca1f30cc1561025c7fcf533')
  assert.equal(env.body.get('contract_hash'), 'sha256:85f31ee0b7f306773f68dbb648d9240aee86b09a0ca1f30cc1561025c7fcf533')
  assert.ok(verifyCanonicalSignature(env.body, env.signature, HARNESS_PUBLIC_KEY))
  const sel = env.body.get('selector') as JsonObject
  assert.equal(sel.get('selector_id'), 'sha256:8a84d67d26714ae2faf746dd8c90076f0351a48b5dc411c3ba650dbf74b0269d')
  const win = env.body.get('observation_window') as JsonObject
  assert.equal(win.get('observation_window_root'), 'sha256:31e0dfe2271b5c55d12dbb17001e0e09104980d5b6d8feb585d2df150397a42d')
})

test('replay corpus: the review reports the §19.3 figures', async () => {
  const r = await compileVector()
  assert.match(r.review, /^- Total events: 33$/m)
  assert.match(r.review, /^- Total rules: 26$/m)
  const dropped = [...r.review.matchAll(/opportunity dropped \((\d+\/\d+)\)/g)].map((m) => m[1])
  assert.deepEqual(dropped, ['2/23', '8/23', '2/8', '3/13', '6/33', '4/33', '1/4'])
  assert.match(r.review, /## Thin-Sample Badges\n\n- none\n/)
  assert.match(r.review, /## Tail Coverage\n\n- none\n$/)
  assert.match(r.review, /^- Unclassified action_class events 0\.00% \(0\/33\)$/m)
})

test('replay corpus: split into per-session files it compiles to the same contract (Q1 not reproduced)', async () => {
  const fx = parseCompileFixture(readVector('replay-corpus', 'harness-compile-fixture.json'), 'fixture', BUILD)
  // Re-chain each session's lines from genesis with the capture writer's hashing.
  const {entryHash, decodeEntry} = await import('../../src/plugins/capture/index.js')
  const lines = readVector('replay-corpus', 'corpus.jsonl').split('\n').filter((l) => l !== '')
  const bySession = new Map<string, string[]>()
  const prev = new Map<string, string>()
  for (const line of lines) {
    const e = decodeEntry(line)
    const prevHash = prev.get(e.sessionId) ?? 'genesis'
    const hash = entryHash({...e, prevHash})
    prev.set(e.sessionId, hash)
    const rewritten = line.replace(/"prev_hash":"[^"]*","hash":"[^"]*"\}$/, `"prev_hash":"${prevHash}","hash":"${hash}"}`)
    const list = bySession.get(e.sessionId) ?? []
    list.push(rewritten)
    bySession.set(e.sessionId, list)
  }
  const inputs = [...bySession.entries()].map(([s, l]) => ({name: `${s}.jsonl`, bytes: Buffer.from(l.join('\n') + '\n')}))
  assert.equal(inputs.length, 3)
  const r = await compileContract(inputs, fx.config, {clock: fixedClock(fx.clock as string), signer: fx.signer, moduleDigests: buildInfoUnavailableDigests()})
  assert.equal(r.yaml, readVector('replay-corpus', 'contract.yaml'))
})

test('CLI fixture form writes the three files; contract.yaml matches the vector', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-conformance-'))
  try {
    const out = path.join(dir, 'out')
    const res = spawnSync(
      process.execPath,
      [repoPath('bin', 'run.js'), 'learn', 'compile', '--fixture', vectorPath('replay-corpus', 'harness-compile-fixture.json'), '--input', vectorPath('replay-corpus', 'corpus.jsonl'), '--out-dir', out],
      {encoding: 'utf8'},
    )
    assert.equal(res.status, 0, res.stderr)
    assert.equal(res.stdout, `compile: 33 events, 26 rules, written to ${path.join(out, 'contract.yaml')}\n`)
    assert.equal(readFileSync(path.join(out, 'contract.yaml'), 'utf8'), readVector('replay-corpus', 'contract.yaml'))
    const manifest = readFileSync(path.join(out, 'contract.manifest.json'), 'utf8')
    const m = loadCompileManifest(manifest, 'contract.manifest.json')
    assert.ok(verifyCanonicalSignature(m.body, m.signature, HARNESS_PUBLIC_KEY))
    const body = parseJson(manifest) as Map<string, JsonValue>
    assert.ok(body.has('body'))
    assert.ok(readFileSync(path.join(out, 'review.md'), 'utf8').startsWith('# Candidate Contract Review\n'))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

// The reference publishes no review for this corpus (its review has the Q9 bug); this project's
// review is the byte-stable one, kept in goldens/reference-replay/ (UPDATE_GOLDENS=1 rewrites).
test('replay corpus: review.md and the learn review of the contract match the project goldens', async () => {
  const r = await compileVector()
  const env = loadContract(r.yaml, 'contract.yaml')
  const outputs: [string, string][] = [
    ['review.md', r.review],
    ['learn-review.md', renderReview(reviewInputFromCandidate(env.body))],
  ]
  for (const [name, text] of outputs) {
    const file = repoPath('goldens', 'reference-replay', name)
    if (process.env.UPDATE_GOLDENS === '1') {
      mkdirSync(path.dirname(file), {recursive: true})
      writeFileSync(file, text)
      continue
    }
    assert.ok(existsSync(file), `missing golden ${file} (after a deliberate change: UPDATE_GOLDENS=1 node scripts/run-tests.mjs golden replay-corpus)`)
    assert.equal(text, readFileSync(file, 'utf8'), name)
  }
})
