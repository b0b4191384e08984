#!/usr/bin/env node
// Runs every compiled *.test.js under dist/test whose TypeScript source still exists
// (so a stale file in dist never runs), with node's test runner, and ends with one line of
// counts: `N passed, N failed` (skipped and todo tests are named on the line before it).
// Under CI=true a skipped or todo test fails the run: a check that did not run is not a pass.
// Usage: node scripts/run-tests.mjs [substring filter…]
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {spawnSync} from 'node:child_process'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = path.resolve('dist/test')
const filters = process.argv.slice(2)
const files = []
/** The TypeScript source a compiled test file was built from. */
const sourceOf = (file) => path.join('test', path.relative(root, file)).replace(/\.js$/, '.ts')
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (name.endsWith('.test.js')) {
      if (!existsSync(sourceOf(p))) continue
      // Filters match the path below dist/test, so a checkout whose own path holds the word selects nothing extra.
      if (filters.length === 0 || filters.some((f) => path.relative(root, p).includes(f))) files.push(p)
    }
  }
}
if (existsSync(root)) walk(root)
if (files.length === 0) {
  console.error(`no test files found under ${root}${filters.length ? ` matching ${filters.join(', ')}` : ''}`)
  process.exit(1)
}

const reporter = path.join(path.dirname(fileURLToPath(import.meta.url)), 'count-reporter.mjs')
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pipelock-tests-'))

// Test files share processes, GROUP_SIZE of a folder's files to one: node's runner starts a
// process per file, and each loads the modules it tests again (about a second of CPU for the
// proxy's). On the 2-core machine the 350 unit and vector files took 889 CPU seconds as separate
// processes and 618 grouped twelve to a group; 185 of them grouped 24 to a group took 72–76 CPU
// seconds in their own processes against 79–87 at twelve. An end-to-end file is mostly waiting on
// the processes it drives, but its own process still cost about 1 CPU second (node's start, the
// test harness and the modules it imports): 12 of them took 6.3–7.1 CPU seconds in their own
// processes three to a group and 4.5–4.9 six to a group. The sizes keep every group well inside
// the time limit below, which node applies to the group as to one file: at these sizes the
// longest group of either folder took under 4 minutes here, on a machine twice as slow under 8.
// In a group each file is one suite named by its path, so its file-level
// hooks stay its own and a failure names the file; a group's files run one after another, as the
// tests inside one file do. A file that changes what the process shares (the environment, the
// working directory, process listeners, exit code, umask, globals, mocks) keeps a process of its
// own: `sharesProcessState` reads its source for that. The end-to-end groups go first: they are
// the longest, and the short unit groups then fill the end of the run.
const GROUP_SIZE = {e2e: 6, unit: 24, vectors: 12}
const SHARED_STATE = [
  /process\.env(\.\w+|\[[^\]]+\])\s*=[^=]/, /delete\s+process\.env/, /Object\.assign\(\s*process\.env/,
  /process\.(chdir|umask|exitCode|on|once|off|addListener|removeListener|removeAllListeners|setUncaughtExceptionCaptureCallback)\b/,
  /globalThis\.\w+\s*=[^=]/, /\bmock\b[^\n]*from 'node:test'|from 'node:test'[^\n]*\bmock\b|\bmock\.(method|fn|timers|getter|setter|module)/,
]
const sharesProcessState = (source) => SHARED_STATE.some((re) => re.test(readFileSync(source, 'utf8')))
/** Each file's group: the folder below dist/test it is grouped with, or undefined when it runs alone (its source read once). */
const groupOf = new Map(files.map((file) => {
  const dir = path.relative(root, file).split(path.sep)[0]
  return [file, Object.hasOwn(GROUP_SIZE, dir) && !sharesProcessState(sourceOf(file)) ? dir : undefined]
}))
const solo = files.filter((f) => groupOf.get(f) === undefined)
const groupDir = path.join(tmp, 'groups')
mkdirSync(groupDir)
const groups = []
for (const dir of Object.keys(GROUP_SIZE)) {
  const pooled = files.filter((f) => groupOf.get(f) === dir)
  for (let i = 0; i < pooled.length; i += GROUP_SIZE[dir]) {
    const members = pooled.slice(i, i + GROUP_SIZE[dir])
    const file = path.join(groupDir, `group-${String(groups.length + 1).padStart(3, '0')}.test.mjs`)
    writeFileSync(file, [
      "import {describe} from 'node:test'",
      ...members.map((m) => `describe(${JSON.stringify(path.relative(root, m))}, async () => { await import(${JSON.stringify(pathToFileURL(m).href)}) })`),
    ].join('\n') + '\n')
    groups.push(file)
  }
}
const countsFile = path.join(tmp, 'counts.json')
// A hung test (a deadlock in native code once hung a whole CI run until its 90-minute limit)
// fails with its name instead. Node applies the limit to each test file's total as well: the
// slowest file takes about 90 s here and the slowest CI machine seen runs about twice as slow, so
// 10 minutes never cuts a file that is only slow, and a hung file leaves the run time to finish.
const TEST_TIMEOUT_MS = 600_000
// UPDATE_GOLDENS=1 rewrites goldens/ while other golden tests read it (the shadow goldens replay
// goldens/<corpus>/input and contract.yaml, which goldens.test.ts rewrites): the files then run
// one at a time, in path order, so every reader sees the rewritten bytes.
// Otherwise three files at a time: on the 2-core machine the suite took 1225 s at two, 1098 s at
// three and 1106 s at four (it is CPU-bound beyond three; the third lets a file that waits on
// timers or child processes leave its core to another). PIPELOCK_TEST_CONCURRENCY overrides it.
const concurrency = process.env.UPDATE_GOLDENS === '1' ? 1 : Number(process.env.PIPELOCK_TEST_CONCURRENCY || 3)
// The tests' temporary files go below this run's own folder (TMPDIR), removed at the end: a test
// that fails, or a proxy it kills, leaves nothing behind in the machine's /tmp. Modes as /tmp's:
// a test may hand a file to a process running as another user.
const testTmp = path.join(tmp, 'tmp')
mkdirSync(testTmp)
chmodSync(tmp, 0o755)
chmodSync(testTmp, 0o1777)
const r = spawnSync(process.execPath, [
  '--test', `--test-concurrency=${concurrency}`, `--test-timeout=${TEST_TIMEOUT_MS}`,
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  `--test-reporter=${reporter}`, `--test-reporter-destination=${countsFile}`,
  ...groups, ...solo,
], {stdio: 'inherit', env: {...process.env, TMPDIR: testTmp}})
let counts
try {
  counts = JSON.parse(readFileSync(countsFile, 'utf8'))
} catch {
  counts = undefined
}
rmSync(tmp, {recursive: true, force: true, maxRetries: 3})
if (counts === undefined) {
  console.log('test run did not finish: no counts were reported')
  process.exit(r.status || 1)
}
const notRun = counts.skipped + counts.todo
for (const name of counts.skippedNames) console.log(`skipped: ${name}`)
if (notRun > 0) console.log(`${counts.skipped} skipped, ${counts.todo} todo${process.env.CI === 'true' ? ' (CI=true: a test that did not run fails the run)' : ''}`)
console.log(`${counts.passed} passed, ${counts.failed} failed`)
const ok = r.status === 0 && counts.failed === 0 && !(process.env.CI === 'true' && notRun > 0)
process.exit(ok ? 0 : 1)
