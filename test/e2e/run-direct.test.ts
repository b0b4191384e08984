/**
 * `pipelock run` with plain flags starts without oclif (src/cli/run-direct.ts, issue 18); the
 * same argument lists through oclif are the oracle. oclif is made to take `run` by a user plugin
 * file (`$PIPELOCK_DATA_DIR/package.json`, which oclif reads and the direct start therefore stands
 * back for); a module trace (test/fixtures/startup/module-trace.mjs) tells which way each child went.
 */
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, it} from 'node:test'
import {runCli, type CliResult} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'
import {rawHttp, startHttpUpstream, startProxy, tempDir} from './proxy-harness.js'

const PRELOAD = repoPath('test', 'fixtures', 'startup', 'module-trace.mjs')

/** Environment that makes oclif run the command (an empty user plugin file). */
function throughOclif(): NodeJS.ProcessEnv {
  const dir = tempDir('pipelock-data-')
  writeFileSync(path.join(dir, 'package.json'), '{}\n')
  return {PIPELOCK_DATA_DIR: dir}
}

/** The CLI run with a module trace; `way`: whether oclif ran it. */
function tracedCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): CliResult & {way: string} {
  const file = path.join(tempDir('pipelock-trace-'), 'modules.txt')
  const r = runCli(args, {env: {...env, NODE_OPTIONS: `--import=${JSON.stringify(PRELOAD)}`, MODULE_TRACE_FILE: file}, ...(cwd ? {cwd} : {})})
  const urls = readFileSync(file, 'utf8')
  // bin/run.js loads the direct entry (dist/run/direct.cjs, through src/cli/run-bundle.ts) for
  // every `run`; oclif (src/cli/oclif-bundle.ts, imported only by bin/run.js's oclif branch) only
  // when the direct start stood back.
  const way = urls.includes('/dist/src/cli/oclif-bundle.js') ? 'oclif' : urls.includes('/dist/src/cli/run-bundle.js') ? 'direct' : 'neither'
  return {...r, way}
}

describe('run without oclif: same output and exit status as through oclif', {timeout: 120_000}, () => {
  it('failures before listening', () => {
    const dir = tempDir()
    const bad = path.join(dir, 'bad.yaml')
    writeFileSync(bad, 'mode: sideways\n')
    const cases = [
      ['run', '--reverse-proxy'],
      ['run', '--reverse-upstream', 'http://127.0.0.1:1'],
      ['run', '--reverse-proxy', '--reverse-upstream', 'ftp://x'],
      ['run', '--capture-escrow-public-key', 'k'],
      ['run', '--capture-escrow-public-key', '00'.repeat(32)],
      ['run', '--capture-duration', '5m'],
      ['run', '--capture-output', dir, '--capture-duration', 'soon'],
      ['run', '--config', path.join(dir, 'missing.yaml')],
      ['run', '-c', 'bad.yaml', '--listen', '127.0.0.1:0'],
      ['run', '--mcp-listen', '127.0.0.1:0'],
    ]
    for (const args of cases) {
      const direct = tracedCli(args, {}, dir)
      const oclif = tracedCli(args, throughOclif(), dir)
      assert.equal(direct.way, 'direct', `${args.join(' ')}: ${direct.stderr}`)
      assert.equal(oclif.way, 'oclif', args.join(' '))
      assert.notEqual(direct.status, 0, args.join(' '))
      assert.deepEqual({status: direct.status, stdout: direct.stdout, stderr: direct.stderr}, {status: oclif.status, stdout: oclif.stdout, stderr: oclif.stderr}, args.join(' '))
    }
  })

  it('argument lists it does not read go to oclif: help and oclif\'s own errors', () => {
    for (const args of [['run', '--help'], ['run', '--preset', 'nope'], ['run', '--config', 'a.yaml', '--preset', 'strict'], ['run', '--listen']]) {
      const r = tracedCli(args)
      assert.equal(r.way, 'oclif', args.join(' '))
      assert.deepEqual(r, {...tracedCli(args, throughOclif()), way: 'oclif'}, args.join(' '))
    }
  })

  it('a start: the same banner and a proxied request either way', async () => {
    const upstream = await startHttpUpstream()
    try {
      const banners: string[] = []
      for (const env of [{}, throughOclif()]) {
        const proxy = await startProxy(['forward_proxy:', '  enabled: true', 'ssrf:', '  ip_allowlist: ["127.0.0.0/8"]'].join('\n') + '\n', {env})
        try {
          const r = await rawHttp(proxy.port, {path: `http://127.0.0.1:${upstream.port}/`})
          assert.equal(r.status, 200)
          banners.push(proxy.stderr().replaceAll(String(proxy.port), 'PORT').replaceAll(proxy.dir, 'DIR'))
        } finally {
          assert.equal(await proxy.stop(), 0)
        }
      }
      assert.match(banners[0]!, /Listen: 127\.0\.0\.1:PORT/)
      assert.equal(banners[0], banners[1])
    } finally {
      await upstream.close()
    }
  })
})
