/**
 * Every command bin/run.js hands to oclif loads oclif from dist/run/oclif.cjs, one CommonJS file
 * compiled with the V8 code cache the build made (src/cli/oclif-bundle.ts, scripts/bundle-run.mjs),
 * and registered as @oclif/core: no file of @oclif/core is compiled from node_modules, so the
 * command classes, the help class, the hooks and oclif's plugins all share the bundle's one copy.
 * A preload (test/fixtures/startup/cjs-trace.cjs) records every CommonJS file a CLI process
 * compiles; the assertions are about which files, never how long anything took.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {describe, it} from 'node:test'
import {runCli, type CliResult} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'
import {tempDir} from './proxy-harness.js'

const BUNDLE = repoPath('dist', 'run', 'oclif.cjs')
const OCLIF_SOURCES = `${path.sep}node_modules${path.sep}@oclif${path.sep}core${path.sep}`

const TRACE = repoPath('test', 'fixtures', 'startup', 'cjs-trace.cjs')

/** `pipelock ARGS` with the trace preloaded (NODE_OPTIONS): its result and the CommonJS files it compiled. */
function traced(args: string[], cwd: string): CliResult & {compiled: string[]} {
  const trace = path.join(cwd, `trace-${args.join('-').replace(/[^\w-]/g, '_')}.txt`)
  writeFileSync(trace, '')
  const r = runCli(args, {cwd, env: {HOME: cwd, PIPELOCK_TEST_CJS_TRACE: trace, NODE_OPTIONS: `--require ${JSON.stringify(TRACE)}`}})
  return {...r, compiled: readFileSync(trace, 'utf8').split('\n').filter(Boolean)}
}

describe('oclif from its bundle', () => {
  const dir = tempDir('pipelock-oclif-bundle-')

  it('the code cache the build made is accepted under Node\'s default flags', () => {
    const loader = JSON.stringify(pathToFileURL(repoPath('dist', 'src', 'cli', 'run-bundle.js')).href)
    const script = `const {compileBundle} = await import(${loader}); const b = compileBundle(${JSON.stringify(BUNDLE)}, ${JSON.stringify(`${BUNDLE}.cache`)}); console.log(JSON.stringify([b.cacheOffered, b.cacheRejected]))`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {env: {...process.env, NODE_OPTIONS: ''}, encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), [true, false])
  })

  const cases: Array<{args: string[]; status: number; out: RegExp}> = [
    {args: ['generate', 'config', '--preset', 'strict'], status: 0, out: /^mode: strict$/m},
    {args: ['healthcheck', '--help'], status: 0, out: /^USAGE\n {2}\$ pipelock healthcheck/m},
    {args: ['help', 'learn'], status: 0, out: /^ {2}learn compile /m},
    {args: ['version'], status: 0, out: /^pipelock\/\d+\.\d+\.\d+ /},
    {args: ['autocomplete', 'script', 'bash'], status: 0, out: /pipelock/},
    // oclif's own error (an argument the command does not take), rendered by pipelock's handler.
    {args: ['healthcheck', 'a', 'b'], status: 2, out: /^$/},
    // A command that is not one: the command_not_found hook.
    {args: ['lern'], status: 127, out: /^$/},
  ]
  for (const c of cases) {
    it(`pipelock ${c.args.join(' ')}: runs as before, and no file of @oclif/core is compiled from node_modules`, () => {
      const r = traced(c.args, dir)
      assert.equal(r.status, c.status, r.stderr)
      assert.match(r.stdout, c.out)
      assert.deepEqual(r.compiled.filter((f) => f.includes(OCLIF_SOURCES)), [])
    })
  }

  it('the trace sees oclif when it is loaded from node_modules (the check above can fail)', () => {
    const trace = path.join(dir, 'trace-direct.txt')
    writeFileSync(trace, '')
    const r = spawnSync(process.execPath, ['-r', TRACE, '-e', "require('@oclif/core')"], {
      cwd: repoPath(),
      env: {...process.env, PIPELOCK_TEST_CJS_TRACE: trace, NODE_OPTIONS: ''},
      encoding: 'utf8',
    })
    assert.equal(r.status, 0, r.stderr)
    assert.ok(readFileSync(trace, 'utf8').split('\n').some((f) => f.includes(OCLIF_SOURCES)))
  })
})
