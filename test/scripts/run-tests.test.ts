import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {repoPath} from '../helpers/vectors.js'

// scripts/run-tests.mjs on a throw-away tree: the last line is the count line, and under
// CI=true a skipped test fails the run.

function runOn(body: string, ci: boolean): {status: number | null; lines: string[]} {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-runtests-'))
  try {
    mkdirSync(path.join(dir, 'dist', 'test'), {recursive: true})
    mkdirSync(path.join(dir, 'test'), {recursive: true})
    writeFileSync(path.join(dir, 'dist', 'test', 'a.test.js'), body)
    writeFileSync(path.join(dir, 'test', 'a.test.ts'), '')
    writeFileSync(path.join(dir, 'package.json'), '{"type": "module"}\n')
    const env: NodeJS.ProcessEnv = {...process.env, CI: ci ? 'true' : 'false'}
    delete env.NODE_TEST_CONTEXT // we are inside a test run; the nested runner must be a top-level one
    const r = spawnSync(process.execPath, [repoPath('scripts', 'run-tests.mjs')], {cwd: dir, env, encoding: 'utf8'})
    return {status: r.status, lines: r.stdout.trimEnd().split('\n')}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

const PASS_AND_SKIP = `import {test, describe} from 'node:test'
describe('s', () => { test('one', () => {}); test('two', () => {}) })
test('skipped', {skip: 'no tool'}, () => {})
`

test('run-tests: counts end the output; a skip is named and allowed outside CI', () => {
  const r = runOn(PASS_AND_SKIP, false)
  assert.equal(r.status, 0)
  assert.deepEqual(r.lines.slice(-3), ['skipped: skipped (no tool)', '1 skipped, 0 todo', '2 passed, 0 failed'])
})

test('run-tests: under CI=true a skipped test fails the run', () => {
  const r = runOn(PASS_AND_SKIP, true)
  assert.equal(r.status, 1)
  assert.deepEqual(r.lines.slice(-2), ['1 skipped, 0 todo (CI=true: a test that did not run fails the run)', '2 passed, 0 failed'])
})

test('run-tests: a failing test fails the run and is counted', () => {
  const r = runOn(`import {test} from 'node:test'\ntest('ok', () => {})\ntest('bad', () => { throw new Error('x') })\n`, true)
  assert.equal(r.status, 1)
  assert.equal(r.lines.at(-1), '1 passed, 1 failed')
})
