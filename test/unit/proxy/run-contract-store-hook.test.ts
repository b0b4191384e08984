import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {startRun, type RunOptions} from '../../../src/plugins/proxy/index.js'
import {makeLab} from '../../e2e/learn-promote-harness.js'

// `run` decodes the contract store's contracts before it listens, where V8 runs on its
// interpreter alone (src/cli/v8-flags.ts): startRun calls `beforeContractStore` just before the
// store is read, and only when learn_lock is on, so the CLI gives the compilers back there (a
// 16 MB contract: 6.6 s to listen on the interpreter, 3.7 s with them).

async function start(config: string, calls: string[]): Promise<void> {
  const opts: RunOptions = {
    configFile: config,
    listen: '127.0.0.1:0',
    agentArgs: [],
    version: 'test',
    env: {HOME: path.dirname(config)},
    stderr: () => undefined,
    stdout: {write: () => true} as unknown as RunOptions['stdout'],
    beforeContractStore: () => calls.push('before contract store'),
  }
  const running = await startRun(opts)
  calls.push('listening')
  await running.stop()
}

describe('run: the hook before the contract store', () => {
  it('is called once, before the proxy listens, with learn_lock on', async () => {
    const lab = makeLab()
    const config = path.join(lab.dir, 'run.yaml')
    writeFileSync(
      config,
      `forward_proxy: {enabled: true}\nlearn_lock:\n  enabled: true\n  mode: live\n  store_dir: ${lab.store}\n  roster_path: ${lab.roster}\n  environment: {id: prod, tenant: "", deployment_id: ""}\n  pinned_root_fingerprint: ${lab.fp}\n`,
    )
    const calls: string[] = []
    await start(config, calls)
    assert.deepEqual(calls, ['before contract store', 'listening'])
  })

  it('is not called without learn_lock', async () => {
    const lab = makeLab()
    const config = path.join(lab.dir, 'plain.yaml')
    writeFileSync(config, 'forward_proxy: {enabled: true}\n')
    const calls: string[] = []
    await start(config, calls)
    assert.deepEqual(calls, ['listening'])
  })
})
