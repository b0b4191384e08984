import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Config} from '@oclif/core'
import {runCli} from '../../helpers/cli.js'
import {repoPath} from '../../helpers/vectors.js'

// `pipelock --version` is answered in bin/run.js before oclif loads (start-up, issue 18); the
// text must stay exactly what oclif prints, and every other spelling still goes through oclif.

test('--version prints oclif’s user agent line without loading oclif', async () => {
  const config = await Config.load(repoPath())
  const r = runCli(['--version'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, config.userAgent + '\n')
  assert.equal(r.stderr, '')
})

test('with any further argument oclif itself answers --version, with the same line', async () => {
  const config = await Config.load(repoPath())
  const r = runCli(['--version', 'extra'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, config.userAgent + '\n')
})
