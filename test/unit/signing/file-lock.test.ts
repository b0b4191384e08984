import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {withFileUpdateLock} from '../../../src/plugins/signing/index.js'

test('withFileUpdateLock: a live holder makes it give up, and the hint quotes a lock path a shell would split', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-file lock '))
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {stdio: 'ignore'})
  t.after(() => {
    child.kill('SIGKILL')
    rmSync(dir, {recursive: true, force: true})
  })
  const file = path.join(dir, 'manifest.json')
  writeFileSync(`${file}.lock`, String(child.pid))
  assert.throws(() => withFileUpdateLock(file, () => 1, {timeoutMs: 60}), (e: unknown) => {
    assert.ok(e instanceof PipelockError)
    assert.equal(e.code, 'FILE_LOCKED')
    assert.equal(e.message, `${file} is being updated by pid ${child.pid} (lock ${file}.lock); gave up after 60 ms`)
    assert.equal(e.hint, `if no pipelock process is running, remove '${file}.lock'`)
    return true
  })
})
