import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {JsonObject} from '../../../src/plugins/canonical/index.js'
import {contractHash, loadContract, verifyCanonicalSignature} from '../../../src/plugins/contracts/index.js'
import {deterministicKey, lifecycleEnv, runLearnSplit, segmentLiteralProblem, splitMessage, type SplitRequest} from '../../../src/plugins/learn/index.js'
import {keyPairFromSeed, sha256} from '../../../src/plugins/signing/index.js'
import {repoPath} from '../../helpers/vectors.js'
import {BARE} from './split-fixtures.js'


const GOLDEN = repoPath('goldens', 'collapsing-paths', 'contract.yaml')
const GOLDEN_KEY = keyPairFromSeed(sha256('pipelock-golden-deterministic-signer')).publicKey.toString('hex')

function setup(text: string): {dir: string; req: (over?: Partial<SplitRequest>) => SplitRequest} {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-split-'))
  const candidate = path.join(dir, 'candidate.yaml')
  writeFileSync(candidate, text)
  return {dir, req: (over = {}) => ({candidate, rule: 'r-users', index: 0, keystore: path.join(dir, 'ks'), env: lifecycleEnv(true), ...over})}
}

test('split a bare body: demote one index, reason operator_split, value rebuilt, comments kept, no signature', () => {
  const {dir, req} = setup(BARE)
  try {
    const r = runLearnSplit(req({index: 2}))
    assert.equal(splitMessage(r), `split: rule r-users, 1 segments demoted, written to ${path.join(dir, 'candidate.yaml')}`)
    assert.equal(r.layout, 'bare')
    const out = readFileSync(path.join(dir, 'candidate.yaml'), 'utf8')
    assert.ok(out.startsWith('# hand-edited candidate\n'))
    assert.ok(out.includes('# collapsed twice'))
    assert.ok(out.includes('value: /repos/*/*'), 'index 2 has no literal: still a wildcard position')
    assert.match(out, /retained_segments:\n\s+- \{ index: 1, value: repos, reason: low_entropy_literal_segment \}\n\s+- \{\s*index: 2,\s*distinct_values: 87,\s*event_count: 412,\s*reason: operator_split\s*\}/)
    assert.match(out, /collapsed_segments:\n\s+- \{\s*index: 3,/)
    // nothing left at index 2: a positive index that matches nothing is an error; 0 = all (index 3)
    assert.throws(() => runLearnSplit(req({index: 2})), {message: 'learn split: learn: collapsed segment not found: index=2'})
    assert.equal(runLearnSplit(req()).changed, 1)
    const noop = runLearnSplit(req())
    assert.equal(splitMessage(noop), `split: rule r-users, no collapsed segments to demote, written to ${path.join(dir, 'candidate.yaml')}`)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('split rebuilds literal positions from retained segments with values', () => {
  const text = BARE.replace('{index: 2, distinct_values: 87', '{index: 2, value: acme, distinct_values: 87')
  const {dir, req} = setup(text)
  try {
    runLearnSplit(req({index: 2}))
    assert.ok(readFileSync(path.join(dir, 'candidate.yaml'), 'utf8').includes('value: /repos/acme/*'))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('split refusals: rule not found, no rules sequence, invalid literal (fail closed before mutating), symlink', () => {
  const {dir, req} = setup(BARE)
  try {
    assert.throws(() => runLearnSplit(req({rule: 'r-none'})), {message: 'learn split: learn: rule not found in candidate: "r-none"'})
    writeFileSync(path.join(dir, 'norules.yaml'), 'schema_version: 1\n')
    assert.throws(() => runLearnSplit(req({candidate: path.join(dir, 'norules.yaml')})), {message: 'learn split: learn: invalid candidate file: candidate has no rules sequence'})
    writeFileSync(path.join(dir, 'list.yaml'), '- a\n')
    assert.throws(() => runLearnSplit(req({candidate: path.join(dir, 'list.yaml')})), {message: 'learn split: learn: invalid candidate file: candidate has no top-level mapping'})
    const bad = BARE.replace('value: repos,', 'value: "re/pos",')
    writeFileSync(path.join(dir, 'bad.yaml'), bad)
    assert.throws(() => runLearnSplit(req({candidate: path.join(dir, 'bad.yaml')})), {message: 'learn split: learn: invalid segment literal: segment contains "/" (path 0, retained_segments[0])'})
    assert.equal(readFileSync(path.join(dir, 'bad.yaml'), 'utf8'), bad)
    symlinkSync(path.join(dir, 'candidate.yaml'), path.join(dir, 'link.yaml'))
    assert.throws(() => runLearnSplit(req({candidate: path.join(dir, 'link.yaml')})), {message: `learn split: learn: invalid candidate file: candidate must not be a symlink: ${path.join(dir, 'link.yaml')}`})
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('segment literal grammar', () => {
  assert.equal(segmentLiteralProblem('ok-1.2_~'), undefined)
  assert.equal(segmentLiteralProblem(''), 'segment is empty')
  assert.equal(segmentLiteralProblem('a'.repeat(257)), 'segment longer than 256 bytes')
  assert.equal(segmentLiteralProblem('a\tb'), 'segment contains a control byte')
  for (const c of ['*', '?', '[', ']', '/']) assert.equal(segmentLiteralProblem(`a${c}`), `segment contains ${JSON.stringify(c)}`)
})

test('split a signed envelope (§10.5): verified first, then re-signed with a recomputed hash', () => {
  const {dir, req} = setup(readFileSync(GOLDEN, 'utf8'))
  try {
    const out = path.join(dir, 'split.yaml')
    const r = runLearnSplit(req({rule: 'r-01c41a03122de27ec8ee', contractKey: GOLDEN_KEY, out}))
    assert.equal(r.layout, 'envelope')
    assert.equal(r.changed, 1)
    const env = loadContract(readFileSync(out, 'utf8'), out)
    assert.equal(env.body.get('contract_hash'), contractHash(env.body))
    assert.equal(env.body.get('contract_hash'), r.contractHash)
    assert.ok(verifyCanonicalSignature(env.body, env.signature, deterministicKey('compile').keyPair.publicKey))
    const rule = (env.body.get('rules') as JsonObject[]).find((x) => x.get('rule_id') === 'r-01c41a03122de27ec8ee') as JsonObject
    const norm = ((rule.get('selector') as JsonObject).get('paths') as JsonObject[])[0]?.get('normalization') as JsonObject
    assert.deepEqual(norm.get('collapsed_segments'), [])
    assert.equal(((norm.get('retained_segments') as JsonObject[])[2] as JsonObject).get('reason'), 'operator_split')
    assert.deepEqual(readFileSync(path.join(dir, 'candidate.yaml')), readFileSync(GOLDEN), 'input untouched with --out')
    // A tampered envelope is refused before any edit.
    writeFileSync(path.join(dir, 'candidate.yaml'), readFileSync(GOLDEN, 'utf8').replace('value: /v1/teams/core', 'value: /v1/teams/corf'))
    assert.throws(() => runLearnSplit(req({rule: 'r-01c41a03122de27ec8ee', contractKey: GOLDEN_KEY, out: path.join(dir, 'x.yaml')})), /^PipelockError: learn split: verify candidate: contract_hash/)
    assert.equal(existsSync(path.join(dir, 'x.yaml')), false)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
