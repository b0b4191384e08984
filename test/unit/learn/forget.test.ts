import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parseStrictYaml, type JsonObject} from '../../../src/plugins/canonical/index.js'
import {contractHash, loadContract, projectTombstone, tombstoneHash, verifyCanonicalSignature} from '../../../src/plugins/contracts/index.js'
import {deterministicKey, lifecycleEnv, runLearnForget, type ForgetRequest} from '../../../src/plugins/learn/index.js'
import {verifyEvidence} from '../../../src/plugins/receipts/index.js'
import {keyPairFromSeed, sha256, verifyBytes} from '../../../src/plugins/signing/index.js'
import {canonicalBytes} from '../../../src/plugins/canonical/index.js'
import {repoPath} from '../../helpers/vectors.js'

const GOLDEN = repoPath('goldens', 'collapsing-paths', 'contract.yaml')
const GOLDEN_KEY = keyPairFromSeed(sha256('pipelock-golden-deterministic-signer')).publicKey.toString('hex')
const RULE = 'r-01c41a03122de27ec8ee'

function setup(): {dir: string; req: (over?: Partial<ForgetRequest>) => ForgetRequest} {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-forget-'))
  const candidate = path.join(dir, 'candidate.yaml')
  writeFileSync(candidate, readFileSync(GOLDEN))
  return {dir, req: (over = {}) => ({candidate, ruleId: RULE, reason: ' pii ', keystore: path.join(dir, 'ks'), contractKey: GOLDEN_KEY, env: lifecycleEnv(true), ...over})}
}

test('forget: rule removed, prior_contract_hash set, re-signed, signed tombstone and redaction receipt', () => {
  const {dir, req} = setup()
  try {
    const prior = loadContract(readFileSync(GOLDEN, 'utf8'), GOLDEN).body.get('contract_hash') as string
    const r = runLearnForget(req())
    assert.equal(r.dest, path.join(dir, 'candidate.forgotten.yaml'))
    assert.equal(r.tombstone, path.join(dir, 'tombstones', `${prior.replace(':', '-')}.tombstone.yaml`))
    const env = loadContract(readFileSync(r.dest, 'utf8'), r.dest)
    assert.equal(env.body.get('prior_contract_hash'), prior)
    assert.equal(env.body.get('contract_hash'), contractHash(env.body))
    assert.ok(!(env.body.get('rules') as JsonObject[]).some((x) => x.get('rule_id') === RULE))
    assert.equal((env.body.get('rules') as JsonObject[]).length, 17)
    assert.ok(verifyCanonicalSignature(env.body, env.signature, deterministicKey('forgetCompile').keyPair.publicKey))
    const tomb = projectTombstone(parseStrictYaml(readFileSync(r.tombstone, 'utf8')))
    assert.equal(tomb.body.get('prior_contract_hash'), prior)
    assert.equal(tomb.body.get('redacted_at'), '2026-04-30T12:00:00Z')
    assert.equal(tomb.body.get('redaction_authorization_id'), 'redaction-deterministic')
    const activation = deterministicKey('forgetActivation').keyPair
    assert.ok(verifyBytes(activation.publicKey, canonicalBytes(tomb.body), Buffer.from(tomb.signature.slice(8), 'hex')))
    const line = readFileSync(r.receiptFile, 'utf8').trim()
    assert.equal(verifyEvidence(line, {publicKey: activation.publicKey}).valid, true)
    const payload = JSON.parse(line).payload
    assert.deepEqual(payload, {target_contract_hash: prior, request_kind: 'local_erasure_tombstone', reason_class: 'pii', authorization_id: 'redaction-deterministic', tombstone_hash: tombstoneHash(tomb)})
    assert.deepEqual(readFileSync(path.join(dir, 'candidate.yaml')), readFileSync(GOLDEN), 'the original is never modified')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('forget refusals write nothing', () => {
  const {dir, req} = setup()
  try {
    assert.throws(() => runLearnForget(req({ruleId: ' '})), {message: 'learn: rule not found in candidate: --rule-id is required'})
    assert.throws(() => runLearnForget(req({reason: ''})), {message: 'learn forget: --reason is required'})
    assert.throws(() => runLearnForget(req({ruleId: 'r-none'})), {message: 'learn: rule not found in candidate: "r-none"'})
    assert.throws(() => runLearnForget(req({env: lifecycleEnv(false)})), {message: 'learn lifecycle: signer key id is required'})
    assert.deepEqual(
      ['candidate.forgotten.yaml', 'tombstones', 'redaction-receipts.jsonl'].filter((f) => existsSync(path.join(dir, f))),
      [],
    )
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
