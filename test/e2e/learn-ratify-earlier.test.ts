import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import path from 'node:path'
import type {JsonObject} from '../../src/plugins/canonical/index.js'
import {loadContract} from '../../src/plugins/contracts/index.js'
import {repoPath} from '../helpers/vectors.js'
import {cli, makeLab, writeCandidate} from './learn-promote-harness.js'

// Re-ratifying a contract non-interactively keeps the operator's earlier capture_only decisions;
// --redo-decisions makes every rule enforce again.

const states = (file: string): unknown[] => (loadContract(readFileSync(file, 'utf8'), file).body.get('rules') as JsonObject[]).map((r) => r.get('lifecycle_state'))

describe('learn ratify of a contract ratified before', () => {
  const lab = makeLab()
  const c = writeCandidate(lab, 'c', 1)
  const first = path.join(lab.dir, 'first.yaml')
  const again = path.join(lab.dir, 'again.yaml')
  const base = ['learn', 'ratify', '--keystore', lab.ks, '--accept-low-confidence']

  it('keeps capture_only decisions without --redo-decisions, and says so', () => {
    const n = states(c.file).length
    const answers = Array.from({length: n}, (_, i) => (i % 2 === 0 ? 'e' : 'c')).join('\n') + '\n'
    const r = spawnSync(process.execPath, [repoPath('bin', 'run.js'), ...base, '--candidate', c.file, '--interactive', '--out', first], {encoding: 'utf8', input: answers})
    assert.equal(r.status, 0, r.stderr)
    const decided = states(first)
    assert.deepEqual(decided, Array.from({length: n}, (_, i) => (i % 2 === 0 ? 'enforce' : 'capture_only')))
    const k = cli([...base, '--candidate', first, '--out', again])
    assert.equal(k.code, 0, k.stderr)
    assert.deepEqual(states(again), decided)
    const captured = Math.floor(n / 2)
    assert.ok(
      k.stderr.includes(`WARNING: learn ratify: the candidate was ratified before; kept its decisions (${captured} capture_only, ${n - captured} enforce); pass --redo-decisions to make every rule enforce\n`),
      k.stderr,
    )
  })

  it('--redo-decisions makes every rule enforce', () => {
    const redo = path.join(lab.dir, 'redo.yaml')
    const r = cli([...base, '--candidate', first, '--out', redo, '--redo-decisions'])
    assert.equal(r.code, 0, r.stderr)
    assert.ok(states(redo).every((s) => s === 'enforce'))
    assert.ok(!r.stderr.includes('ratified before'))
  })

  it('a compiled candidate (every rule capture_only) still becomes enforce throughout', () => {
    const out = path.join(lab.dir, 'compiled.yaml')
    const r = cli([...base, '--candidate', c.file, '--out', out])
    assert.equal(r.code, 0, r.stderr)
    assert.ok(states(out).every((s) => s === 'enforce'))
  })
})
