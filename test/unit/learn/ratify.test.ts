import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {emitSignedYaml, fromPlain, type JsonObject, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {contractHash, loadContract, signCanonical, verifyCanonicalSignature} from '../../../src/plugins/contracts/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {
  applyDecisions,
  deterministicKey,
  isLowConfidence,
  lifecycleEnv,
  lowConfidenceGuard,
  parseDecision,
  ruleEvidenceBlock,
  runLearnRatify,
  type RatifyRequest,
} from '../../../src/plugins/learn/index.js'
import {verifyEvidence} from '../../../src/plugins/receipts/index.js'
import {generateAgentKeys, keyPairFromSeed, sha256} from '../../../src/plugins/signing/index.js'
import {repoPath} from '../../helpers/vectors.js'

const GOLDEN = repoPath('goldens', 'collapsing-paths', 'contract.yaml')
const GOLDEN_PAIR = keyPairFromSeed(sha256('pipelock-golden-deterministic-signer'))
const GOLDEN_KEY = GOLDEN_PAIR.publicKey.toString('hex')

function body(confidences: string[]): JsonObject {
  return fromPlain({rules: confidences.map((c, i) => ({rule_id: `r-${i}`, confidence: c}))}) as JsonObject
}

test('low confidence = anything but stable/brittle after trim and lower-case (§4.1, §10.9)', () => {
  for (const c of ['stable', 'brittle', ' STABLE ', 'Brittle']) assert.equal(isLowConfidence(c), false, c)
  for (const c of ['never_confirmed', 'refuted', '', '  ', 'stable-ish', 'ѕtable']) assert.equal(isLowConfidence(c), true, JSON.stringify(c))
})

test('guard: non-interactive refuses any low rule; interactive only all-low; --accept-low-confidence overrides', () => {
  const mixed = body(['stable', ' never_confirmed ', 'refuted'])
  assert.throws(() => lowConfidenceGuard(mixed, false, false), {
    message:
      'learn ratify: low-confidence rules require explicit override: refusing non-interactive enforce for r-1(confidence=never_confirmed), r-2(confidence=refuted); rerun with --interactive to review each rule or --accept-low-confidence to override',
  })
  lowConfidenceGuard(mixed, true, false)
  lowConfidenceGuard(mixed, false, true)
  assert.throws(() => lowConfidenceGuard(body(['', 'x']), true, false), {
    message:
      'learn ratify: low-confidence rules require explicit override: candidate has only low-confidence rules (r-0(confidence=), r-1(confidence=x)); rerun with --accept-low-confidence only after operator review',
  })
  lowConfidenceGuard(body(['stable']), false, false)
})

test('answers: e/enforce, c/capture/capture_only, r/reject; anything else (EOF too) refused', () => {
  assert.equal(parseDecision(' E '), 'enforce')
  assert.equal(parseDecision('Capture_Only'), 'capture_only')
  assert.equal(parseDecision('capture'), 'capture_only')
  assert.equal(parseDecision('reject'), 'reject')
  assert.throws(() => parseDecision('y'), {message: 'learn ratify: invalid decision "y" (want e, c or r; a repeats the previous answer from the second rule on)'})
  assert.throws(() => parseDecision(undefined), {message: 'learn ratify: invalid decision "" (want e, c or r; a repeats the previous answer from the second rule on)'})
  assert.throws(() => parseDecision('A'), {message: 'learn ratify: "a" repeats the previous answer, and there is none yet (want e, c or r)'})
})

test('evidence block: selector, what the rule allows, events/sessions, Wilson, confidence, data class', () => {
  const env = loadContract(readFileSync(GOLDEN, 'utf8'), GOLDEN)
  const rules = env.body.get('rules') as JsonObject[]
  const i = rules.findIndex((r) => r.get('rule_id') === 'r-01c41a03122de27ec8ee')
  assert.equal(
    ruleEvidenceBlock(env.body, i),
    [
      '',
      `Rule ${i + 1}/${rules.length}: r-01c41a03122de27ec8ee`,
      'selector: api.example.com (host data class public)',
      'allows: GET api.example.com /v1/users/*',
      'observations: 164 events across 4 sessions',
      'wilson: 0.807047',
      'confidence: brittle',
      'data_class: internal',
      'fp_risk: (none)',
      'rationale: {"data_class":"internal","summary":"Observed 164 events across 4 sessions; Wilson lower bound 0.807047 classified as brittle."}',
      'samples: (redacted)',
      '[e]nforce [c]apture-only [r]eject [a]s before for all remaining > ',
    ].join('\n'),
  )
  assert.ok(i > 0)
  assert.ok(ruleEvidenceBlock(env.body, 0).endsWith('\n[e]nforce [c]apture-only [r]eject > '), 'rule 1 has no previous answer to repeat')
  const empty = fromPlain({rules: [{rule_id: 'x', selector: {}, rationale: {}}]}) as JsonObject
  assert.match(ruleEvidenceBlock(empty, 0), /\nselector: \(none\)\nallows: \(nothing: empty selector\)\n.*\nrationale: \(none\)\n/s)
})

test('applyDecisions: rejected removed, states set, ratified ids sorted; all rejected refused', () => {
  const b = fromPlain({rules: [{rule_id: 'r-z', lifecycle_state: 'capture_only'}, {rule_id: 'r-a', lifecycle_state: 'capture_only'}, {rule_id: 'r-m'}]}) as JsonObject
  const a = applyDecisions(b, ['enforce', 'capture_only', 'reject'])
  assert.deepEqual(a.ratified, ['r-a', 'r-z'])
  assert.deepEqual(a.rejected, ['r-m'])
  assert.deepEqual((a.body.get('rules') as JsonObject[]).map((r) => [r.get('rule_id'), r.get('lifecycle_state')]), [['r-z', 'enforce'], ['r-a', 'capture_only']])
  assert.deepEqual(a.keptIndexes, [0, 1])
  assert.throws(() => applyDecisions(b, ['reject', 'reject', 'reject']), {message: 'learn ratify: all rules rejected; refusing to emit empty ratification'})
})

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), 'pipelock-ratify-'))
}

function request(dir: string, over: Partial<RatifyRequest> = {}): RatifyRequest {
  const candidate = path.join(dir, 'candidate.yaml')
  if (!existsSync(candidate)) writeFileSync(candidate, readFileSync(GOLDEN))
  return {candidate, out: path.join(dir, 'ratified.yaml'), keystore: path.join(dir, 'keystore'), contractKey: GOLDEN_KEY, interactive: false, acceptLowConfidence: true, env: lifecycleEnv(true), ...over}
}

function nothingWritten(dir: string): void {
  assert.equal(existsSync(path.join(dir, 'ratified.yaml')), false, 'no output')
  assert.equal(existsSync(path.join(dir, 'ratification-receipts.jsonl')), false, 'no receipt')
  assert.deepEqual(readFileSync(path.join(dir, 'candidate.yaml')), readFileSync(GOLDEN), 'candidate untouched')
}

test('interactive ratify through an injected prompt: decisions applied, re-signed, receipt verifies', async () => {
  const dir = tmp()
  try {
    const shown: string[] = []
    const answers = ['e', 'c', 'r']
    const r = await runLearnRatify(request(dir, {interactive: true, acceptLowConfidence: false, prompt: async (block, i) => (shown.push(block), answers[i % 3])}))
    const env = loadContract(readFileSync(r.dest, 'utf8'), r.dest)
    const rules = env.body.get('rules') as JsonObject[]
    assert.equal(shown.length, 18)
    assert.ok(shown[0]?.startsWith('\nRule 1/18: '))
    assert.equal(rules.length, 12)
    assert.equal(r.rejectedRuleIds.length, 6)
    assert.deepEqual([...new Set(rules.map((x) => x.get('lifecycle_state')))].sort(), ['capture_only', 'enforce'])
    assert.equal(env.body.get('contract_hash'), contractHash(env.body))
    assert.equal(env.body.get('signer_key_id'), 'deterministic-contract-compile')
    assert.ok(verifyCanonicalSignature(env.body, env.signature, deterministicKey('ratifyCompile').keyPair.publicKey))
    const line = readFileSync(r.receiptFile, 'utf8').trim()
    const v = verifyEvidence(line, {publicKey: deterministicKey('ratifyReceipt').keyPair.publicKey, expectedSignerKeyId: 'deterministic-receipt-signing'})
    assert.equal(v.valid, true, v.error)
    const receipt = JSON.parse(line)
    assert.equal(receipt.payload_kind, 'contract_ratified')
    assert.equal(receipt.event_id, 'contract-ratified-deterministic')
    assert.equal(receipt.contract_hash, r.contractHash)
    assert.equal(receipt.actor, 'learn ratify')
    assert.deepEqual(receipt.payload.ratified_rule_ids, r.ratifiedRuleIds)
    assert.equal(Object.keys(receipt.payload.ratification_decision_per_rule).length, 18)
    assert.equal(receipt.contract_generation, undefined, '§10.11: no event_count in contract_generation')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('tampered candidate (one byte) is refused before anything is signed or written', async () => {
  const dir = tmp()
  try {
    const req = request(dir)
    const text = readFileSync(GOLDEN, 'utf8').replace('value: /v1/teams/core', 'value: /v1/teams/corf')
    writeFileSync(req.candidate, text)
    await assert.rejects(runLearnRatify(req), (e: unknown) => e instanceof PipelockError && e.code === 'CONTRACT_SIGNATURE_INVALID' && /learn ratify: verify candidate: contract_hash/.test(e.message))
    assert.equal(existsSync(path.join(dir, 'ratified.yaml')), false)
    assert.equal(existsSync(path.join(dir, 'ratification-receipts.jsonl')), false)
    // Same edit with the hash recomputed (an attacker without the key): the signature fails.
    const env = loadContract(text, req.candidate)
    env.body.set('contract_hash', contractHash(env.body))
    writeFileSync(req.candidate, emitSignedYaml(new Map<string, JsonValue>([['body', env.body], ['signature', env.signature]])))
    await assert.rejects(runLearnRatify(req), {message: 'learn ratify: verify candidate: signature does not verify for signer_key_id "golden-contract-compile"'})
    assert.equal(existsSync(path.join(dir, 'ratified.yaml')), false)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('wrong key purpose is refused even with a valid signature', async () => {
  const dir = tmp()
  try {
    const req = request(dir)
    const env = loadContract(readFileSync(GOLDEN, 'utf8'), GOLDEN)
    env.body.set('key_purpose', 'receipt-signing')
    env.body.set('contract_hash', contractHash(env.body))
    writeFileSync(req.candidate, emitSignedYaml(new Map<string, JsonValue>([['body', env.body], ['signature', signCanonical(env.body, GOLDEN_PAIR)]])))
    await assert.rejects(runLearnRatify(req), {message: 'learn ratify: verify candidate: key_purpose "receipt-signing" is not "contract-compile-signing"'})
    assert.equal(existsSync(path.join(dir, 'ratified.yaml')), false)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('refusals leave everything untouched: guard, bad answer, all rejected, relative --out', async () => {
  const dir = tmp()
  try {
    await assert.rejects(runLearnRatify(request(dir, {acceptLowConfidence: false})), (e: unknown) => e instanceof PipelockError && e.code === 'LOW_CONFIDENCE_REFUSED')
    nothingWritten(dir)
    await assert.rejects(runLearnRatify(request(dir, {interactive: true, prompt: async () => 'maybe'})), {message: 'learn ratify: invalid decision "maybe" (want e, c or r; a repeats the previous answer from the second rule on)'})
    nothingWritten(dir)
    await assert.rejects(runLearnRatify(request(dir, {interactive: true, prompt: async () => 'r'})), {message: 'learn ratify: all rules rejected; refusing to emit empty ratification'})
    nothingWritten(dir)
    await assert.rejects(runLearnRatify(request(dir, {out: 'ratified.yaml'})), {message: 'learn: invalid candidate file: --out must be absolute, got "ratified.yaml"'})
    nothingWritten(dir)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('keystore keys: candidate verified with the keystore public key of its signer, re-signed and receipted with keystore keys', async () => {
  const dir = tmp()
  try {
    const ks = path.join(dir, 'keystore')
    generateAgentKeys(ks, 'golden-contract-compile', {keyPair: GOLDEN_PAIR})
    generateAgentKeys(ks, 'receipt-signing')
    const r = await runLearnRatify(request(dir, {contractKey: undefined, env: lifecycleEnv(false)}))
    const env = loadContract(readFileSync(r.dest, 'utf8'), r.dest)
    assert.equal(env.body.get('signer_key_id'), 'golden-contract-compile')
    assert.ok(verifyCanonicalSignature(env.body, env.signature, GOLDEN_PAIR.publicKey))
    assert.equal(r.receiptKeyId, 'receipt-signing')
    assert.match(JSON.parse(readFileSync(r.receiptFile, 'utf8')).event_id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    // No key for the signer: refused with a hint to pass --contract-key.
    const other = tmp()
    try {
      await assert.rejects(runLearnRatify(request(other, {contractKey: undefined, env: lifecycleEnv(false)})), /learn ratify: verify candidate: no public key for signer_key_id "golden-contract-compile"/)
    } finally {
      rmSync(other, {recursive: true, force: true})
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
