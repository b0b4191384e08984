import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, symlinkSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {refuseSpecialFile} from '../../../src/plugins/signing/index.js'

// refuseSpecialFile stats, never opens: a FIFO is refused without blocking, a socket or device
// too; regular files (and links to them), directories and missing paths are left to the reader.

const refusal = (what: string, file: string, kind: string): PipelockError =>
  new PipelockError('PATH_UNSAFE', `${what} ${file} is not a regular file (it is ${kind})`, {hint: 'name a regular file; a FIFO, socket or device is never read'})

test('refuseSpecialFile refuses a FIFO, a socket and a character device, and lets everything else through', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-input-file-'))
  const fifo = path.join(dir, 'fifo')
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0)
  assert.throws(() => refuseSpecialFile(fifo, 'config'), (e: unknown) => {
    assert.ok(e instanceof PipelockError)
    assert.deepEqual({code: e.code, message: e.message, hint: e.hint}, {code: 'PATH_UNSAFE', message: `config ${fifo} is not a regular file (it is a FIFO)`, hint: refusal('', '', '').hint})
    return true
  })
  const link = path.join(dir, 'link-to-fifo')
  symlinkSync(fifo, link)
  assert.throws(() => refuseSpecialFile(link, 'roster'), {code: 'PATH_UNSAFE', message: refusal('roster', link, 'a FIFO').message})
  assert.throws(() => refuseSpecialFile('/dev/null', 'key file'), {code: 'PATH_UNSAFE', message: refusal('key file', '/dev/null', 'a character device').message})

  const sock = path.join(dir, 'sock')
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(sock, r))
  try {
    assert.throws(() => refuseSpecialFile(sock, '--file'), {code: 'PATH_UNSAFE', message: refusal('--file', sock, 'a socket').message})
  } finally {
    await new Promise<void>((r) => server.close(() => r()))
  }

  const file = path.join(dir, 'plain.yaml')
  writeFileSync(file, 'x: 1\n')
  symlinkSync(file, path.join(dir, 'link-to-file'))
  mkdirSync(path.join(dir, 'sub'))
  for (const ok of [file, path.join(dir, 'link-to-file'), path.join(dir, 'sub'), path.join(dir, 'missing'), '-']) {
    assert.doesNotThrow(() => refuseSpecialFile(ok, 'config'), ok)
  }
})
