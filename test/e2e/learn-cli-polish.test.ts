import {test} from 'node:test'
import assert from 'node:assert/strict'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {JsonObject} from '../../src/plugins/canonical/index.js'
import {loadContract} from '../../src/plugins/contracts/index.js'
import {keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

const GOLDEN_PUB = keyPairFromSeed(sha256('pipelock-golden-deterministic-signer')).publicKey.toString('hex')

// learn commands as a new user meets them: the missing key says how to make one, and a shadow
// replay of nothing fails unless --allow-empty.

test('learn compile without the agent key: one line with the keygen command to run', () => {
  const ks = mkdtempSync(path.join(os.tmpdir(), 'pipelock-ks-'))
  try {
    const r = runCli(['learn', 'compile', '--agent', 'wiki-agent', '--input', 'input/*/*.jsonl', '--keystore', ks, '--output', path.join(ks, 'out.yaml')], {cwd: repoPath('goldens', 'tail-block')})
    assert.equal(r.status, 1)
    assert.equal(r.stderr, `private key containment check: ${ks}/agents/wiki-agent/id_ed25519: no such file or directory [FILE_NOT_FOUND]; hint: create the agent's key pair with: pipelock keygen wiki-agent --keystore ${ks}\n`)
  } finally {
    rmSync(ks, {recursive: true, force: true})
  }
})

test('the keygen command in the hint is one shell word per path: a keystore with a space is quoted', () => {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'pipelock-ks-'))
  const ks = path.join(parent, "agent's keys")
  mkdirSync(ks)
  try {
    const r = runCli(['learn', 'compile', '--agent', 'wiki-agent', '--input', 'input/*/*.jsonl', '--keystore', ks, '--output', path.join(parent, 'out.yaml')], {cwd: repoPath('goldens', 'tail-block')})
    assert.equal(r.status, 1)
    assert.equal(r.stderr, `private key containment check: ${ks}/agents/wiki-agent/id_ed25519: no such file or directory [FILE_NOT_FOUND]; hint: create the agent's key pair with: pipelock keygen wiki-agent --keystore '${parent}/agent'"'"'s keys'\n`)
  } finally {
    rmSync(parent, {recursive: true, force: true})
  }
})

test('learn shadow replaying 0 records exits 1; --allow-empty accepts it', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-empty-'))
  try {
    const sessions = path.join(dir, 'sessions')
    mkdirSync(sessions)
    const args = ['learn', 'shadow', '--contract', repoPath('goldens', 'tail-block', 'contract.yaml'), '--allow-unsigned-contract-for-diagnostics', '--sessions', sessions, '--deterministic']
    const r = runCli(args)
    assert.equal(r.status, 1)
    assert.equal(r.stderr.split('\n').at(-2), `learn shadow: replayed 0 records from ${sessions} [SHADOW_EMPTY]; hint: check --sessions/--agent, or pass --allow-empty to accept an empty replay`)
    const j = runCli([...args, '--json'])
    assert.equal(j.status, 1)
    assert.equal((JSON.parse(j.stdout) as {error: {code: string}}).error.code, 'SHADOW_EMPTY')
    // The refusal writes nothing (its reports would read as a passed gate).
    const md = path.join(dir, 'e.md')
    const js = path.join(dir, 'e.json')
    assert.equal(runCli([...args, '--out', md, '--out-json', js]).status, 1)
    assert.ok(!existsSync(md) && !existsSync(js), 'no report written')
    const ok = runCli([...args, '--allow-empty', '--out', md])
    assert.equal(ok.status, 0, ok.stderr)
    assert.ok(existsSync(md))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('learn ratify --interactive: "a" applies the previous answer to every remaining rule', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-ratify-a-'))
  try {
    const c = path.join(dir, 'contract.yaml')
    copyFileSync(repoPath('goldens', 'multi-hour', 'contract.yaml'), c)
    const n = (loadContract(readFileSync(c, 'utf8'), c).body.get('rules') as JsonObject[]).length
    const out = path.join(dir, 'ratified.yaml')
    const r = runCli(['learn', 'ratify', '--candidate', c, '--contract-key', GOLDEN_PUB, '--interactive', '--deterministic', '--out', out], {input: 'r\nc\na\n'})
    assert.equal(r.status, 0, r.stderr)
    // rule 3 is answered "a"; rules 4..n show their evidence and the applied decision
    assert.equal(r.stdout.split(' (applied to the remaining rules)\n').length - 1, n - 3)
    const states = (loadContract(readFileSync(out, 'utf8'), out).body.get('rules') as JsonObject[]).map((x) => x.get('lifecycle_state'))
    assert.deepEqual(states, Array(n - 1).fill('capture_only'))
    assert.ok(r.stdout.endsWith(`\nratify: ${n - 1} rules ratified (0 enforce, ${n - 1} capture-only), 1 rejected, written to ${out}\n`), r.stdout)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('learn commands refuse an output that is one of their inputs (the capture, the contract, the candidate, a report compared): USAGE, nothing written', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-out-in-'))
  try {
    const c = path.join(dir, 'contract.yaml')
    copyFileSync(repoPath('goldens', 'multi-hour', 'contract.yaml'), c)
    const sessions = path.join(dir, 'corpus.jsonl')
    writeFileSync(sessions, '')
    const before = readFileSync(c, 'utf8')
    const shadow = ['learn', 'shadow', '--contract', c, '--allow-unsigned-contract-for-diagnostics', '--sessions', sessions, '--deterministic', '--allow-empty']
    const cases: Array<[string[], string]> = [
      [[...shadow, '--out-json', sessions], `--out-json ${sessions} is the input --sessions ${sessions}`],
      [[...shadow, '--out', c], `--out ${c} is the input --contract ${c}`],
      [[...shadow, '--out', path.join(dir, 'r.md'), '--out-json', path.join(dir, 'r.md')], `--out and --out-json name the same file ${path.join(dir, 'r.md')}`],
      [['learn', 'review', c, '--out', c], `--out ${c} is the input CANDIDATE ${c}`],
      [['learn', 'ratify', '--candidate', c, '--receipt-out', c, '--deterministic'], `--receipt-out ${c} is the input --candidate ${c}`],
    ]
    for (const [args, said] of cases) {
      const r = runCli(args)
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.ok(r.stderr.includes(`${said}`) && r.stderr.includes('nothing was written [USAGE]'), r.stderr)
      assert.equal(readFileSync(c, 'utf8'), before)
      assert.equal(readFileSync(sessions, 'utf8'), '')
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
