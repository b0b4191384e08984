/**
 * `pipelock run`'s oclif-free start is one CommonJS bundle compiled with the V8 code cache that
 * `npm run build` made for it (src/cli/run-bundle.ts, issue 18). The cache only saves compile
 * time: accepted, rejected by V8 (other flags), or not offered (made from another text), the
 * bundle behaves the same. Each case runs in a node of its own, as V8's flags are per process.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {after, describe, it} from 'node:test'
import {repoPath} from '../../helpers/vectors.js'
import {tempDir} from '../../e2e/proxy-harness.js'

const DIRECT = repoPath('dist', 'run', 'direct.cjs')

interface Outcome {
  offered: boolean
  rejected: boolean | undefined
  status: number | null
  stdout: string
  stderr: string
}

/**
 * A node (with `nodeArgs`) that compiles `bundle` with `cache`, evaluates it and runs
 * `runDirect(args)` as bin/run.js would; the script prints what happened to the cache on fd 3.
 */
function start(bundle: string, cache: string, args: string[], nodeArgs: string[] = []): Outcome {
  const loader = JSON.stringify(pathToFileURL(repoPath('dist', 'src', 'cli', 'run-bundle.js')).href)
  const script = [
    `import {writeSync} from 'node:fs'`,
    `const {compileBundle} = await import(${loader})`,
    `const b = compileBundle(${JSON.stringify(bundle)}, ${JSON.stringify(cache)})`,
    `writeSync(3, JSON.stringify({offered: b.cacheOffered, rejected: b.cacheRejected ?? null}))`,
    `const run = b.evaluate().runDirect(${JSON.stringify(args)})`,
    `if (run === undefined) process.exitCode = 99; else await run`,
  ].join('\n')
  const r = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], {
    cwd: tempDir('pipelock-cache-'),
    env: {...process.env, NO_COLOR: '1', NODE_OPTIONS: ''},
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  })
  const cacheState = JSON.parse(String(r.output[3])) as {offered: boolean; rejected: boolean | null}
  return {offered: cacheState.offered, rejected: cacheState.rejected ?? undefined, status: r.status, stdout: r.stdout, stderr: r.stderr}
}

describe('run bundle code cache (issue 18)', () => {
  const dir = tempDir('pipelock-bundle-')
  const missing = path.join(dir, 'missing.yaml')
  const bad = path.join(dir, 'bad.yaml')
  writeFileSync(bad, 'mode: sideways\n')
  const starts = [['--config', missing], ['--config', bad], ['--reverse-proxy']]

  it('the cache the build made is accepted under Node\'s default flags', () => {
    const r = start(DIRECT, DIRECT + '.cache', ['--config', missing])
    assert.deepEqual([r.offered, r.rejected], [true, false], r.stderr)
  })

  it('accepted, rejected by V8 (another flag set) or not offered: the same output and exit status', () => {
    // A cache whose header names another text: never offered to V8.
    const otherCache = path.join(dir, 'other.cache')
    const cache = readFileSync(DIRECT + '.cache')
    writeFileSync(otherCache, Buffer.concat([Buffer.alloc(32), cache.subarray(32)]))
    for (const args of starts) {
      const accepted = start(DIRECT, DIRECT + '.cache', args)
      const rejected = start(DIRECT, DIRECT + '.cache', args, ['--no-turbofan'])
      const other = start(DIRECT, otherCache, args)
      const none = start(DIRECT, path.join(dir, 'none.cache'), args)
      assert.deepEqual([accepted.offered, accepted.rejected], [true, false], accepted.stderr)
      assert.deepEqual([rejected.offered, rejected.rejected], [true, true], rejected.stderr)
      assert.deepEqual([other.offered, other.rejected, none.offered], [false, undefined, false])
      assert.notEqual(accepted.status, 0, accepted.stderr)
      assert.match(accepted.stderr, /\[(CONFIG_INVALID|FILE_NOT_FOUND|USAGE)\]/)
      for (const r of [rejected, other, none]) {
        assert.deepEqual([r.status, r.stdout, r.stderr], [accepted.status, accepted.stdout, accepted.stderr], args.join(' '))
      }
    }
  })

  it('a cache is offered only for the exact text it was made from', () => {
    // Same length, one byte changed (V8 itself compares only the length): not offered. The copy
    // sits at the bundle's depth in dist/, as the bundle finds package.json relative to itself.
    const copyDir = mkdtempSync(repoPath('dist', 'run-cache-test-'))
    after(() => rmSync(copyDir, {recursive: true, force: true}))
    const copy = path.join(copyDir, 'direct.cjs')
    copyFileSync(DIRECT, copy)
    const text = readFileSync(copy, 'latin1')
    const at = text.lastIndexOf('"use strict"')
    writeFileSync(copy, text.slice(0, at) + "'use strict'" + text.slice(at + 12), 'latin1')
    const r = start(copy, DIRECT + '.cache', ['--config', missing])
    assert.deepEqual([r.offered, r.rejected], [false, undefined])
    assert.match(r.stderr, /\[(CONFIG_INVALID|FILE_NOT_FOUND)\]/)
  })
})
