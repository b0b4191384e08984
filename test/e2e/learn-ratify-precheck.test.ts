import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {cli, makeLab, writeCandidate} from './learn-promote-harness.js'
import {spawnSync} from 'node:child_process'
import {repoPath} from '../helpers/vectors.js'

// Interactive ratify checks its signing keys before the first question: a missing receipt key
// must not surface only after the operator has answered every rule.

describe('interactive learn ratify with a signing key that cannot be loaded', () => {
  const lab = makeLab()
  const c = writeCandidate(lab, 'c', 0)
  const out = path.join(lab.dir, 'ratified.yaml')

  it('fails before the first prompt, naming the key, and writes nothing', () => {
    const args = ['learn', 'ratify', '--candidate', c.file, '--keystore', lab.ks, '--interactive', '--receipt-key-agent', 'no-such-key', '--out', out]
    const r = spawnSync(process.execPath, [repoPath('bin', 'run.js'), ...args], {encoding: 'utf8', input: 'e\n'.repeat(20), env: {...process.env, NO_COLOR: '1'}})
    assert.equal(r.status, 1)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /^load lifecycle signing key for "no-such-key": .*no such file/)
    assert.equal(existsSync(out), false)
  })

  it('with the receipt key present, the same candidate is ratified and written', () => {
    const r = cli(['learn', 'ratify', '--candidate', c.file, '--keystore', lab.ks, '--out', out, '--accept-low-confidence'])
    assert.equal(r.code, 0, r.stderr)
    assert.ok(existsSync(out))
  })
})
