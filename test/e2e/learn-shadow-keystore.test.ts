import {test} from 'node:test'
import assert from 'node:assert/strict'
import {copyFileSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

// The learn-and-lock guide's shadow step as a user types it: no --contract-key, relative paths.
// The keystore public key of the contract's signer verifies it (never unverified), and a
// compiled candidate — every rule capture_only — is shadowed with a warning that it judges nothing.

const CORPUS = repoPath('goldens', 'multi-session', 'input')

function warning(hash: string): string {
  return `WARNING: learn shadow: contract ${hash} has no rule in state enforce (learn compile writes every rule capture_only), so it judged no replayed request and this report shows no contract decision; ratify it (learn ratify) and shadow the ratified contract to see what enforcing it would block\n`
}

test('learn shadow without --contract-key: the keystore key of the signer verifies; a compiled candidate warns that it judges nothing', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-shadow-ks-'))
  const home = path.join(dir, 'home')
  const run = (args: string[]): ReturnType<typeof runCli> => runCli(args, {cwd: dir, env: {PIPELOCK_HOME: home}})
  try {
    for (const id of ['ci-compile', 'receipt-signing', 'someone-else']) assert.equal(run(['keygen', id]).status, 0)
    const c = run(['learn', 'compile', '--agent', 'shop-agent', '--input', `${CORPUS}/*/*.jsonl`, '--compile-key-agent', 'ci-compile', '--output', 'candidate.yaml'])
    assert.equal(c.status, 0, c.stderr)
    const shadow = ['learn', 'shadow', '--sessions', CORPUS, '--duration', '87600h']

    // The compiled candidate: verified with the keystore's ci-compile key, replayed, and a warning.
    const a = run([...shadow, '--contract', 'candidate.yaml', '--out', 'before.md', '--json'])
    assert.equal(a.status, 0, a.stderr)
    const before = JSON.parse(a.stdout) as {contract_hash: string; warnings: string[]; report: {replayed: number; rules: unknown[]}}
    assert.ok(before.report.replayed > 0)
    assert.deepEqual(before.report.rules, [])
    assert.deepEqual(before.warnings, [warning(before.contract_hash).slice('WARNING: '.length, -1)])
    assert.equal(a.stderr.split('\n')[0] + '\n', warning(before.contract_hash))

    // Ratified: the contract judges the replay, no warning.
    const r = run(['learn', 'ratify', '--candidate', 'candidate.yaml', '--out', 'ratified.yaml', '--accept-low-confidence'])
    assert.equal(r.status, 0, r.stderr)
    const b = run([...shadow, '--contract', 'ratified.yaml', '--json'])
    assert.equal(b.status, 0, b.stderr)
    const after = JSON.parse(b.stdout) as {warnings: string[]; report: {rules: unknown[]}}
    assert.deepEqual(after.warnings, [])
    assert.ok(after.report.rules.length > 0)
    assert.ok(!b.stderr.includes('WARNING'), b.stderr)

    // The keystore key must verify: another key under the signer's name is refused, naming the file.
    const pub = path.join(home, 'agents', 'ci-compile', 'id_ed25519.pub')
    copyFileSync(path.join(home, 'agents', 'someone-else', 'id_ed25519.pub'), pub)
    const bad = run([...shadow, '--contract', 'ratified.yaml'])
    assert.equal(bad.status, 1)
    assert.equal(bad.stdout, '')
    assert.equal(
      bad.stderr,
      `learn shadow: verify contract: signature does not verify [CONTRACT_SIGNATURE_INVALID]; hint: checked with the keystore public key of signer_key_id "ci-compile" (${pub}); pass the compile public key with --contract-key to check against another\n`,
    )

    // A keystore without the signer's key: the reference's refusal, with what is missing.
    const empty = path.join(dir, 'empty-ks')
    const none = run([...shadow, '--contract', 'ratified.yaml', '--keystore', empty])
    assert.equal(none.status, 1)
    assert.equal(
      none.stderr,
      'learn shadow: --contract-key is required for --contract (or use --allow-unsigned-contract-for-diagnostics) [SHADOW_INPUT_INVALID]; ' +
        `hint: the keystore holds no public key for the contract's signer_key_id "ci-compile" (reading public key ${path.join(empty, 'agents', 'ci-compile', 'id_ed25519.pub')}: no such file or directory): pass the compile public key with --contract-key, or --keystore DIR that holds it\n`,
    )
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
