import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

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
    const ok = runCli([...args, '--allow-empty'])
    assert.equal(ok.status, 0, ok.stderr)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
