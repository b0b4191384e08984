import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync, type SpawnSyncReturns} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {repoPath} from '../helpers/vectors.js'

// scripts/run-tests.mjs on a throw-away tree: the last line is the count line, and under
// CI=true a skipped test fails the run.

/** scripts/run-tests.mjs as a top-level runner on the throw-away tree `dir` (its package.json written here). */
function runnerIn(dir: string, ci: boolean): SpawnSyncReturns<string> {
  writeFileSync(path.join(dir, 'package.json'), '{"type": "module"}\n')
  const env: NodeJS.ProcessEnv = {...process.env, CI: ci ? 'true' : 'false'}
  delete env.NODE_TEST_CONTEXT // we are inside a test run; the nested runner must be a top-level one
  return spawnSync(process.execPath, [repoPath('scripts', 'run-tests.mjs')], {cwd: dir, env, encoding: 'utf8'})
}

function runOn(body: string, ci: boolean): {status: number | null; lines: string[]} {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-runtests-'))
  try {
    mkdirSync(path.join(dir, 'dist', 'test'), {recursive: true})
    mkdirSync(path.join(dir, 'test'), {recursive: true})
    writeFileSync(path.join(dir, 'dist', 'test', 'a.test.js'), body)
    writeFileSync(path.join(dir, 'test', 'a.test.ts'), '')
    const r = runnerIn(dir, ci)
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

test('run-tests: unit files share a process, each a suite of its own; one that changes the environment keeps its own process', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-runtests-'))
  try {
    const pids = path.join(dir, 'pids')
    mkdirSync(pids)
    const unit = path.join(dir, 'dist', 'test', 'unit')
    mkdirSync(unit, {recursive: true})
    mkdirSync(path.join(dir, 'test', 'unit'), {recursive: true})
    const files: Record<string, string> = {
      // A file-level hook belongs to its own file's tests only: it runs once, for a's one test.
      'a.test.js': `import {beforeEach, test} from 'node:test'\nimport {appendFileSync, writeFileSync} from 'node:fs'\nbeforeEach(() => appendFileSync(${JSON.stringify(path.join(pids, 'hooks'))}, 'x'))\ntest('a', () => { writeFileSync(${JSON.stringify(path.join(pids, 'a'))}, String(process.pid)) })\n`,
      'b.test.js': `import {test} from 'node:test'\nimport {writeFileSync} from 'node:fs'\ntest('b', () => { writeFileSync(${JSON.stringify(path.join(pids, 'b'))}, String(process.pid)) })\n`,
      'c.test.js': `import {test} from 'node:test'\nimport {writeFileSync} from 'node:fs'\nprocess.env.SOME_SETTING = '1'\ntest('c', () => { writeFileSync(${JSON.stringify(path.join(pids, 'c'))}, String(process.pid)) })\n`,
    }
    for (const [name, body] of Object.entries(files)) {
      writeFileSync(path.join(unit, name), body)
      // The runner reads the source for what a file changes; here the source is the same text.
      writeFileSync(path.join(dir, 'test', 'unit', name.replace(/\.js$/, '.ts')), body)
    }
    const r = runnerIn(dir, true)
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.equal(r.stdout.trimEnd().split('\n').at(-1), '3 passed, 0 failed')
    // Each file is reported as a suite named by its path.
    assert.match(r.stdout, /^✔ unit\/a\.test\.js \(/m)
    assert.match(r.stdout, /^✔ unit\/b\.test\.js \(/m)
    const pid = (n: string): string => readFileSync(path.join(pids, n), 'utf8')
    assert.equal(pid('a'), pid('b'))
    assert.notEqual(pid('c'), pid('a'))
    assert.equal(pid('hooks'), 'x')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('run-tests: end-to-end files share a process six at a time, never with unit files', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-runtests-'))
  try {
    const pids = path.join(dir, 'pids')
    mkdirSync(pids)
    const write = (folder: string, name: string): void => {
      const body = `import {test} from 'node:test'\nimport {writeFileSync} from 'node:fs'\ntest('${name}', () => { writeFileSync(${JSON.stringify(path.join(pids, name))}, String(process.pid)) })\n`
      mkdirSync(path.join(dir, 'dist', 'test', folder), {recursive: true})
      mkdirSync(path.join(dir, 'test', folder), {recursive: true})
      writeFileSync(path.join(dir, 'dist', 'test', folder, `${name}.test.js`), body)
      writeFileSync(path.join(dir, 'test', folder, `${name}.test.ts`), body)
    }
    for (const name of ['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7']) write('e2e', name)
    write('unit', 'u1')
    const r = runnerIn(dir, true)
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.equal(r.stdout.trimEnd().split('\n').at(-1), '8 passed, 0 failed')
    assert.match(r.stdout, /^✔ e2e\/e7\.test\.js \(/m)
    const pid = (n: string): string => readFileSync(path.join(pids, n), 'utf8')
    for (const n of ['e2', 'e3', 'e4', 'e5', 'e6']) assert.equal(pid(n), pid('e1'), n)
    assert.notEqual(pid('e7'), pid('e1'))
    assert.notEqual(pid('u1'), pid('e1'))
    assert.notEqual(pid('u1'), pid('e7'))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
