import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

// forget, split and pin through the CLI: exact stdout (§9.2), audit line key order (§9.3), exit 0
// for no-ops, exit 1 with one line for refusals.

const GOLDEN_PUB = keyPairFromSeed(sha256('pipelock-golden-deterministic-signer')).publicKey.toString('hex')
const RULE = 'r-01c41a03122de27ec8ee'

function setup(): {dir: string; c: string} {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-edit-'))
  const c = path.join(dir, 'candidate.yaml')
  writeFileSync(c, readFileSync(repoPath('goldens', 'collapsing-paths', 'contract.yaml')))
  return {dir, c}
}

test('split then pin on a signed envelope: exact stdout and audit lines, no-ops exit 0', () => {
  const {dir, c} = setup()
  try {
    // An index the rule does not collapse: the refusal names the indices it does (counted from 1).
    const wrong = runCli(['learn', 'split', '--candidate', c, '--rule', RULE, '--index', '2', '--contract-key', GOLDEN_PUB, '--deterministic'])
    assert.equal(wrong.status, 1)
    assert.equal(
      wrong.stderr,
      `learn split: learn: collapsed segment not found: index=2 [RULE_NOT_FOUND]; hint: rule ${RULE} collapses segment 3 (/v1/users/*); --index counts path segments from 1, or give 0 (the default) for every collapsed segment\n`,
    )
    const s = runCli(['learn', 'split', '--candidate', c, '--rule', RULE, '--index', '3', '--contract-key', GOLDEN_PUB, '--deterministic'])
    assert.equal(s.status, 0, s.stderr)
    assert.equal(s.stdout, `split: rule ${RULE}, 1 segments demoted, written to ${c}\n`)
    // The demoted segment stood for many ids: it keeps its "*", which the gate now reads literally.
    assert.equal(s.stderr, `WARNING: learn split: rule ${RULE} path /v1/users/*: segment 3 had no single value to return to (it stood for 54 distinct values); its "*" is now a literal asterisk, so the path matches no request with a real value there\n` +
      JSON.stringify({event: 'learn_split', candidate: c, dest: c, rule: RULE, index: 3, segments_changed: 1, noop: false}) + '\n')
    // The re-signed envelope is trusted with the deterministic compile key from now on.
    const again = runCli(['learn', 'split', '--candidate', c, '--rule', RULE, '--deterministic'])
    assert.equal(again.status, 0, again.stderr)
    assert.equal(again.stdout, `split: rule ${RULE}, no collapsed segments to demote, written to ${c}\n`)
    assert.equal(again.stderr, JSON.stringify({event: 'learn_split', candidate: c, dest: c, rule: RULE, noop: true}) + '\n')
    const out = path.join(dir, 'pinned.yaml')
    const p = runCli(['learn', 'pin', '--candidate', c, '--rule', RULE, '--segment', 'core', '--deterministic', '--out', out])
    assert.equal(p.status, 0, p.stderr)
    assert.equal(p.stdout, `pin: rule ${RULE}, segment "core" pinned, written to ${out}\n`)
    assert.equal(p.stderr, JSON.stringify({event: 'learn_pin', candidate: c, dest: out, rule: RULE, segment: 'core', segments_changed: 1, noop: false}) + '\n')
    const noop = runCli(['learn', 'pin', '--candidate', out, '--rule', RULE, '--segment', 'core', '--deterministic'])
    assert.equal(noop.status, 0)
    assert.equal(noop.stdout, `pin: rule ${RULE}, segment "core" already pinned, no-op (written to ${out})\n`)
    const bad = runCli(['learn', 'pin', '--candidate', out, '--rule', RULE, '--segment', '*', '--deterministic'])
    assert.equal(bad.status, 1)
    assert.equal(bad.stderr, 'learn pin: learn: invalid segment literal: segment contains "*" [SEGMENT_INVALID]\n')
    const missing = runCli(['learn', 'split', '--candidate', out, '--rule', RULE, '--index', '9', '--deterministic'])
    assert.equal(missing.status, 1)
    assert.equal(missing.stderr, `learn split: learn: collapsed segment not found: index=9 [RULE_NOT_FOUND]; hint: rule ${RULE} has no collapsed segment left to split\n`)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('pin on a rule with no normalised path: the no-op line, and a warning that nothing was pinned', () => {
  const {dir, c} = setup()
  try {
    const plain = 'r-66b7bb2f093061109020' // /v1/teams/core: a literal path, no normalization block
    const out = path.join(dir, 'pinned.yaml')
    const r = runCli(['learn', 'pin', '--candidate', c, '--rule', plain, '--segment', 'core', '--contract-key', GOLDEN_PUB, '--deterministic', '--out', out])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, `pin: rule ${plain} has no normalised path, segment "core" not pinned, no-op (written to ${out})\n`)
    assert.equal(r.stderr,
      `WARNING: learn pin: rule ${plain} has no normalised path (no normalization block: compile collapsed nothing there), so nothing was pinned; pins apply to paths whose segments compile may collapse\n` +
      JSON.stringify({event: 'learn_pin', candidate: c, dest: out, rule: plain, segment: 'core', noop: true}) + '\n')
    assert.deepEqual(readFileSync(out), readFileSync(c), 'a no-op writes the input unchanged')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('forget through the CLI: exact stdout and audit; refusals write nothing', () => {
  const {dir, c} = setup()
  try {
    const bad = runCli(['learn', 'forget', '--candidate', c, '--rule-id', 'r-none', '--reason', 'pii', '--contract-key', GOLDEN_PUB, '--deterministic'])
    assert.equal(bad.status, 1)
    assert.equal(bad.stderr, 'learn: rule not found in candidate: "r-none" [RULE_NOT_FOUND]\n')
    assert.equal(existsSync(path.join(dir, 'tombstones')), false)
    // The guide's form, without an activation key: the hint says what signs and how to name it.
    const keyless = runCli(['learn', 'forget', '--candidate', c, '--rule-id', RULE, '--reason', 'TICKET-1', '--contract-key', GOLDEN_PUB])
    assert.equal(keyless.status, 1)
    assert.equal(
      keyless.stderr,
      'learn lifecycle: signer key id is required [KEY_INVALID]; hint: learn forget signs the tombstone and its contract_redaction_request receipt with an activation key (roster purpose contract-activation-signing): pass --activation-key with a keystore key id or a key file from signing key generate\n',
    )
    assert.equal(existsSync(path.join(dir, 'tombstones')), false)
    const r = runCli(['learn', 'forget', '--candidate', c, '--rule-id', RULE, '--reason', 'pii', '--contract-key', GOLDEN_PUB, '--deterministic'])
    assert.equal(r.status, 0, r.stderr)
    const dest = path.join(dir, 'candidate.forgotten.yaml')
    const tomb = path.join(dir, 'tombstones', 'sha256-db5fd4d3acfdb32b86b5e24c356f85dc8ecdf48b9568030cbad20b2448ac63bb.tombstone.yaml')
    assert.equal(r.stdout, `forget: rule ${RULE} removed, candidate written to ${dest}, tombstone written to ${tomb}\n`)
    assert.equal(
      r.stderr,
      JSON.stringify({event: 'learn_forget', candidate: c, dest, rule: RULE, signer_key_id: 'deterministic-contract-activation', output: path.join(dir, 'redaction-receipts.jsonl'), receipts_emitted: 1, tombstone: tomb, noop: false}) + '\n',
    )
    assert.ok(existsSync(tomb))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('learn diff through the CLI: markdown on stdout, audit on stderr', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-diff-'))
  try {
    // tail-block: the strict ratification leaves the `_other` families without path rules
    const a = repoPath('goldens', 'tail-block', 'shadow.json')
    const b = repoPath('goldens', 'tail-block', 'shadow-strict.json')
    const r = runCli(['learn', 'diff', a, b])
    assert.equal(r.status, 0, r.stderr)
    assert.ok(r.stdout.startsWith('# Shadow Diff\n\n- first_contract_hash: `sha256:'))
    assert.ok(r.stdout.includes('- new_blocks_delta: +21\n- quarantine_delta: +0\n'), r.stdout)
    assert.equal(r.stderr, JSON.stringify({event: 'learn_diff', candidate: a, inputs: [a, b], noop: false}) + '\n')
    const one = runCli(['learn', 'diff', a])
    assert.equal(one.status, 2) // a usage error (docs/errors.md)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
