import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {makeDirs} from '../../../src/plugins/signing/index.js'

test('makeDirs: every missing level made with the mode; an existing directory is fine', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'pl-make-dirs-'))
  try {
    const deep = path.join(root, 'a', 'b', 'c')
    makeDirs(deep, 0o750)
    for (const d of [path.join(root, 'a'), path.join(root, 'a', 'b'), deep]) assert.equal(statSync(d).mode & 0o777, 0o750 & ~process.umask())
    makeDirs(deep, 0o700)
    assert.equal(statSync(deep).mode & 0o777, 0o750 & ~process.umask(), 'an existing directory is left as it is')
    // A file in the way: the error of the level that failed, not a loop.
    writeFileSync(path.join(root, 'f'), '')
    assert.throws(() => makeDirs(path.join(root, 'f', 'x'), 0o750), {code: 'ENOTDIR'})
  } finally {
    rmSync(root, {recursive: true, force: true})
  }
})

test('makeDirs under /proc fails at once (Node\'s recursive mkdirSync spins there forever)', () => {
  // In a child with a time limit: a regression would loop without ever yielding to a test timeout.
  const module = new URL('../../../src/plugins/signing/index.js', import.meta.url).href
  const code = `import(${JSON.stringify(module)}).then((m) => { try { m.makeDirs('/proc/pipelock-nope/x', 0o750) } catch (e) { console.log(e.code) } })`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {encoding: 'utf8', timeout: 10_000})
  assert.equal(r.signal, null, 'makeDirs did not return')
  assert.equal(r.stdout, 'ENOENT\n', r.stderr)
})
