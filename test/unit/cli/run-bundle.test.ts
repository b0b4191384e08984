/**
 * `pipelock run` is loaded from its bundle (scripts/bundle-run.mjs → dist/run, issue 18): the
 * manifest points oclif there, and the bundled command must be the command tsc built — same
 * flags, texts and examples — and hold no second copy of oclif (the command class extends the
 * one bin/run.js loads, so oclif's error and exit handling apply to it).
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {pathToFileURL} from 'node:url'
import {describe, it} from 'node:test'
import {Command} from '@oclif/core'
import {repoPath} from '../../helpers/vectors.js'

type CommandClass = typeof Command & {flags: Record<string, {type: string; description?: string; options?: readonly string[]}>}

describe('run bundle', () => {
  it('is the command tsc built, on the one oclif', async () => {
    const bundled = (await import(pathToFileURL(repoPath('dist', 'run', 'run.js')).href) as {default: CommandClass}).default
    const built = (await import(pathToFileURL(repoPath('dist', 'src', 'commands', 'run.js')).href) as {default: CommandClass}).default
    assert.notEqual(bundled, built)
    assert.ok(bundled.prototype instanceof Command, 'extends the @oclif/core Command of node_modules')
    for (const k of ['summary', 'description', 'examples', 'strict'] as const) assert.deepEqual(bundled[k], built[k], k)
    const shape = (c: CommandClass): unknown => Object.entries(c.flags).map(([name, f]) => [name, f.type, f.description, f.options])
    assert.deepEqual(shape(bundled), shape(built))
  })

  it('the manifest sends oclif to the bundle', () => {
    const manifest = JSON.parse(readFileSync(repoPath('oclif.manifest.json'), 'utf8')) as {commands: Record<string, {relativePath: string[]; isESM: boolean}>}
    assert.deepEqual(manifest.commands.run!.relativePath, ['dist', 'run', 'run.js'])
    assert.equal(manifest.commands.run!.isESM, true)
    assert.deepEqual(manifest.commands.keygen!.relativePath, ['dist', 'src', 'commands', 'keygen.js'])
  })
})
