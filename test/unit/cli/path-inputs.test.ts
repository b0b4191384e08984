import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {pathInputTable, resolvePathInputs} from '../../../src/cli/path-inputs.js'
import {repoPath} from '../../helpers/vectors.js'

test('path inputs: every flag and argument named in the table exists on its command', () => {
  const snap = JSON.parse(readFileSync(repoPath('test', 'snapshots', 'commands.json'), 'utf8')) as Record<string, {flags: Record<string, {type: string}>; args: Record<string, unknown>}>
  for (const [id, spec] of Object.entries(pathInputTable())) {
    const c = snap[id.replaceAll(':', ' ')]
    assert.ok(c, `${id} is a command`)
    for (const f of spec.flags) assert.equal(c.flags[f]?.type, 'option', `${id} --${f}`)
    for (const a of spec.args ?? []) assert.ok(a in c.args, `${id} ${a}`)
  }
})

test('path inputs: relative values resolve against the working directory; -, empty and other flags stay', () => {
  const flags: Record<string, unknown> = {candidate: 'a/b.yaml', out: '-', keystore: '', 'compile-key-agent': 'x/y'}
  const args: Record<string, unknown> = {}
  resolvePathInputs('learn:ratify', flags, args, '/work/here')
  assert.deepEqual(flags, {candidate: '/work/here/a/b.yaml', out: '-', keystore: '', 'compile-key-agent': 'x/y'})
  const rargs: Record<string, unknown> = {candidate: '../c.yaml'}
  resolvePathInputs('learn:review', {}, rargs, '/work/here')
  assert.deepEqual(rargs, {candidate: '/work/c.yaml'})
  const untouched: Record<string, unknown> = {config: 'p.yaml'}
  resolvePathInputs('session:list', untouched, {}, '/work/here')
  assert.deepEqual(untouched, {config: 'p.yaml'})
})

test('path inputs: --escrow-private-key is a key, never resolved as a path', () => {
  const key = 'ab'.repeat(32)
  for (const id of ['learn:compile', 'learn:shadow']) {
    const flags: Record<string, unknown> = {'escrow-private-key': key, config: 'c.yaml'}
    resolvePathInputs(id, flags, {}, '/work/here')
    assert.deepEqual(flags, {'escrow-private-key': key, config: '/work/here/c.yaml'}, id)
  }
})

test('path inputs: help never tells a user to give an absolute path where a relative one is resolved', () => {
  // The help is read from the oclif manifest the build writes: what `--help` prints.
  const manifest = JSON.parse(readFileSync(repoPath('oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, {flags: Record<string, {description?: string}>; args: Record<string, {description?: string}>}>
  }
  const lies: string[] = []
  for (const [id, spec] of Object.entries(pathInputTable())) {
    const c = manifest.commands[id]
    assert.ok(c, id)
    for (const f of spec.flags) if (/\babsolute\b/i.test(c.flags[f]?.description ?? '')) lies.push(`${id} --${f}: ${c.flags[f]?.description}`)
    for (const a of spec.args ?? []) if (/\babsolute\b/i.test(c.args[a]?.description ?? '')) lies.push(`${id} ${a}: ${c.args[a]?.description}`)
  }
  assert.deepEqual(lies, [])
})
