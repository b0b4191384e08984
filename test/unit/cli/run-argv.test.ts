/**
 * `pipelock run` starts without oclif when its arguments are plain (src/cli/run-argv.ts,
 * src/cli/run-direct.ts; issue 18). oclif's own parser, through the command class, is the oracle:
 * wherever the direct parser answers, its answer is oclif's, for a few thousand generated argument
 * lists; everything else is handed to oclif whole.
 */
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, it} from 'node:test'
import {Command, Config} from '@oclif/core'
import {parseRunArgv, RUN_FLAG_SPEC} from '../../../src/cli/run-argv.js'
import {oclifUserPluginsFile, runDirect} from '../../../src/cli/run-direct.js'
import Run from '../../../src/commands/run.js'
import {tempDir} from '../../e2e/proxy-harness.js'
import {repoPath} from '../../helpers/vectors.js'

type OclifFlag = {type: string; char?: string; options?: readonly string[]; exclusive?: readonly string[]; multiple?: boolean; default?: unknown; allowNo?: boolean}

/** oclif's parse of `args` for `run`, exactly as the command does it (BaseCommand#parse resolves paths). */
async function oclifParse(config: Config, args: string[]): Promise<{flags: Record<string, unknown>; argv: unknown[]} | Error> {
  const Ctor = Run as unknown as new (argv: string[], config: Config) => Command & {id: string; parse: (c: unknown) => Promise<{flags: Record<string, unknown>; argv: unknown[]}>}
  const cmd = new Ctor(args, config)
  cmd.id = 'run' // as oclif sets it when it loads the command (path resolution is per command id)
  try {
    const r = await cmd.parse(Run)
    return {flags: r.flags, argv: r.argv}
  } catch (err) {
    return err as Error
  }
}

/** A small seeded generator (mulberry32), so a failure names an argument list that comes back. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const TOKENS = [
  '--config', '-c', '--config=p.yaml', '-cp.yaml', '-c=p.yaml', 'p.yaml', '/etc/pipelock.yaml', '../x.yaml',
  '--preset', '--preset=balanced', 'balanced', 'strict', 'hostile-model', 'nope', '--preset=nope',
  '--mode', '-m', 'audit', '--mode=balanced', '--listen', '-l', '127.0.0.1:0', '--listen=:8888', ':0',
  '--mcp-listen', '--mcp-upstream', 'http://127.0.0.1:1/mcp', '--reverse-proxy', '--reverse-proxy=true', '--no-reverse-proxy',
  '--reverse-upstream', 'http://127.0.0.1:3000', '--reverse-listen', '--capture-output', '/tmp/cap', 'cap',
  '--capture-duration', '2h', '--capture-raw', '--change-note', 'a note', '--change-note=x=y', '--capture-escrow-public-key', 'k',
  '--', '-', '', '--help', '-h', '--version', '--json', '--unknown', '-x', '-5', '--listen=', '--=x', 'curl', '-lc',
]

describe('run without oclif: the argument parser', () => {
  it('knows the flags of the command class, with the properties that decide a parse', () => {
    const flags = (Run as unknown as {flags: Record<string, OclifFlag>}).flags
    assert.deepEqual(Object.keys(RUN_FLAG_SPEC).sort(), Object.keys(flags).sort())
    for (const [name, f] of Object.entries(flags)) {
      const spec = RUN_FLAG_SPEC[name]!
      assert.equal(f.type, spec.boolean ? 'boolean' : 'option', name)
      assert.equal(f.char, spec.char, name)
      assert.deepEqual(f.options, spec.options, name)
      assert.deepEqual(f.exclusive, spec.exclusive, name)
      // What the direct parser does not model must stay absent from the definitions.
      assert.ok(!f.multiple && !f.allowNo && f.default === undefined, `${name}: multiple, allowNo or a default`)
      for (const k of Object.keys(f)) assert.ok(['parse', 'char', 'description', 'exclusive', 'input', 'multiple', 'type', 'options', 'allowNo'].includes(k), `${name}: new flag property ${k}`)
    }
  })

  it('answers the plain forms, as oclif does', async () => {
    const config = await Config.load(repoPath())
    const cwd = process.cwd()
    const cases = [
      [],
      ['--config', 'p.yaml', '--listen', '127.0.0.1:0'],
      ['--config=p.yaml', '-l', ':0', '-m', 'audit'],
      ['-c', '/etc/pipelock.yaml'],
      ['--preset', 'balanced'],
      ['--preset=hostile-model', '--mode=strict'],
      ['--reverse-proxy', '--reverse-upstream', 'http://127.0.0.1:3000', '--reverse-listen', ':0'],
      ['--mcp-listen', '127.0.0.1:0', '--mcp-upstream', 'http://127.0.0.1:1/mcp'],
      ['--capture-output', 'cap', '--capture-duration', '2h', '--capture-raw', '--change-note', 'why=because'],
      ['--capture-escrow-public-key', 'k'],
    ]
    for (const args of cases) {
      const mine = parseRunArgv(args, cwd)
      assert.ok(mine !== undefined, `answered: ${JSON.stringify(args)}`)
      assert.deepEqual({flags: mine.flags, argv: []}, await oclifParse(config, args), JSON.stringify(args))
    }
  })

  it('agrees with oclif on every argument list it answers, and hands the rest to oclif', async () => {
    const config = await Config.load(repoPath())
    const cwd = process.cwd()
    const next = random(18)
    let answered = 0
    let declinedWhereOclifFails = 0
    for (let n = 0; n < 3000; n++) {
      const args = Array.from({length: Math.floor(next() * 6)}, () => TOKENS[Math.floor(next() * TOKENS.length)]!)
      const mine = parseRunArgv(args, cwd)
      const theirs = await oclifParse(config, args)
      if (mine === undefined) {
        if (theirs instanceof Error) declinedWhereOclifFails++
        continue
      }
      answered++
      assert.ok(!(theirs instanceof Error), `${JSON.stringify(args)}: oclif fails (${theirs instanceof Error ? theirs.message : ''}) where the direct parser answered`)
      assert.deepEqual({flags: mine.flags, argv: []}, theirs, JSON.stringify(args))
    }
    // The generator reaches both sides.
    assert.ok(answered > 200, `answered ${answered}`)
    assert.ok(declinedWhereOclifFails > 200, `declined ${declinedWhereOclifFails}`)
  })
})

describe('run without oclif: when it stands back', () => {
  it('names the user plugin file oclif reads', async () => {
    const saved = {HOME: process.env.HOME, XDG_DATA_HOME: process.env.XDG_DATA_HOME, PIPELOCK_DATA_DIR: process.env.PIPELOCK_DATA_DIR}
    const restore = (): void => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
    }
    try {
      for (const env of [{HOME: '/home/a'}, {HOME: '/home/a', XDG_DATA_HOME: '/xdg'}, {HOME: '/home/a', XDG_DATA_HOME: '/xdg', PIPELOCK_DATA_DIR: '/d'}, {HOME: '/home/a', PIPELOCK_DATA_DIR: ''}]) {
        restore()
        delete process.env.XDG_DATA_HOME
        delete process.env.PIPELOCK_DATA_DIR
        Object.assign(process.env, env)
        const config = await Config.load(repoPath())
        assert.equal(oclifUserPluginsFile(process.env, 'linux'), path.join(config.dataDir, 'package.json'), JSON.stringify(env))
      }
    } finally {
      restore()
    }
    assert.equal(oclifUserPluginsFile({}, 'win32'), undefined)
  })

  it('declines under oclif debugging, with a user plugin file, and for arguments it does not read', () => {
    const empty = tempDir('pipelock-data-')
    const base = {HOME: empty, PIPELOCK_DATA_DIR: empty}
    assert.equal(runDirect(['--unknown'], {...base}), undefined)
    assert.equal(runDirect(['--help'], {...base}), undefined)
    assert.equal(runDirect(['--preset', 'balanced'], {...base, DEBUG: '*'}), undefined)
    assert.equal(runDirect(['--preset', 'balanced'], {...base, PIPELOCK_DEBUG: '1'}), undefined)
    const withPlugins = path.join(empty, 'plugins')
    mkdirSync(withPlugins)
    writeFileSync(path.join(withPlugins, 'package.json'), '{}')
    assert.equal(runDirect(['--preset', 'balanced'], {...base, PIPELOCK_DATA_DIR: withPlugins}), undefined)
  })
})
