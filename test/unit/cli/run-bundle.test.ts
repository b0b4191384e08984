/**
 * Every command is loaded from its bundle (scripts/bundle-run.mjs → dist/run; `run` since issue
 * 18): the manifest points oclif there, and each bundled command must be the command tsc built —
 * same flags, args, texts and examples — and hold no second copy of oclif (the command class
 * extends the one bin/run.js loads, so oclif's error and exit handling apply to it).
 */
import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {pathToFileURL} from 'node:url'
import {describe, it} from 'node:test'
import {Command} from '@oclif/core'
import {repoPath} from '../../helpers/vectors.js'

type CommandClass = typeof Command & {
  flags: Record<string, {type: string; description?: string; options?: readonly string[]; default?: unknown}>
  args: Record<string, {description?: string; required?: boolean}>
}

interface ManifestCommand {
  relativePath: string[]
  isESM: boolean
}

const manifest = (): Record<string, ManifestCommand> =>
  (JSON.parse(readFileSync(repoPath('oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}).commands

const load = async (...file: string[]): Promise<CommandClass> =>
  (await import(pathToFileURL(repoPath(...file)).href) as {default: CommandClass}).default

describe('command bundles', () => {
  it('the manifest sends oclif to a bundle for every command', () => {
    const commands = manifest()
    assert.ok(Object.keys(commands).length > 70, 'every command is in the manifest')
    assert.deepEqual(commands.run!.relativePath, ['dist', 'run', 'run.js'])
    assert.deepEqual(commands['learn:compile']!.relativePath, ['dist', 'run', 'commands', 'learn', 'compile.js'])
    for (const [id, c] of Object.entries(commands)) {
      if (id !== 'run') assert.deepEqual(c.relativePath.slice(0, 3), ['dist', 'run', 'commands'], id)
      assert.equal(c.isESM, true, id)
      assert.ok(existsSync(repoPath(...c.relativePath)), `${id}: ${c.relativePath.join('/')}`)
    }
  })

  it('each bundled command is the command tsc built, on the one oclif', async () => {
    for (const [id, c] of Object.entries(manifest())) {
      const bundled = await load(...c.relativePath)
      const built = await load('dist', 'src', 'commands', ...(id === 'run' ? ['run.js'] : c.relativePath.slice(3)))
      assert.notEqual(bundled, built, id)
      assert.ok(bundled.prototype instanceof Command, `${id} extends the @oclif/core Command of node_modules`)
      for (const k of ['summary', 'description', 'examples', 'strict', 'hidden', 'aliases'] as const) assert.deepEqual(bundled[k], built[k], `${id} ${k}`)
      const flags = (k: CommandClass): unknown => Object.entries(k.flags ?? {}).map(([name, f]) => [name, f.type, f.description, f.options, typeof f.default === 'function' ? 'fn' : f.default])
      assert.deepEqual(flags(bundled), flags(built), `${id} flags`)
      const args = (k: CommandClass): unknown => Object.entries(k.args ?? {}).map(([name, a]) => [name, a.description, a.required])
      assert.deepEqual(args(bundled), args(built), `${id} args`)
    }
  })

  it('every bundled file is ASCII, so V8 holds its source as one-byte text', () => {
    // One `‘` in a regular expression once made V8 hold the stdio wrap's 292 KB entry chunk as
    // two-byte text (scripts/bundle-run.mjs escapes the sources and checks every chunk).
    const files = (readdirSync(repoPath('dist', 'run'), {recursive: true}) as string[]).filter((f) => /\.(c?js)$/.test(f))
    assert.ok(files.length > 100, `${files.length} bundled files`)
    for (const f of files) assert.doesNotMatch(readFileSync(repoPath('dist', 'run', f), 'latin1'), /[^\x00-\x7f]/, f)
  })
})
