/**
 * The audit log's file on a disk that refuses writes (the failures injected into node:fs as the
 * kernel reports them): a chunk cut short leaves no part of itself, so the lines after the disk
 * frees up are whole JSON lines; the owner is told when writing stops and when it works again,
 * with the number of lines lost.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {AuditFile} from '../../../src/plugins/proxy/audit-file.js'
import type {WriteHealthChange} from '../../../src/plugins/recorder/index.js'
import {fillDisk} from '../../helpers/disk-faults.js'

const line = (n: number): string => JSON.stringify({level: 'info', event: 'allowed', n}) + '\n'

test('a chunk the disk cuts short is taken back; the file is written again once the disk takes bytes', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-audit-file-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const changes: WriteHealthChange[] = []
  const f = new AuditFile(path.join(dir, 'audit.jsonl'), (c) => changes.push(c))
  f.write(line(1))
  const restore = fillDisk(t)
  f.write(line(2) + line(3))
  f.write(line(4))
  assert.deepEqual([f.failing, f.writeFailures], [true, 3])
  restore()
  f.write(line(5))
  f.close()
  assert.deepEqual([f.failing, f.writeFailures], [false, 3])
  assert.deepEqual(changes, [
    {failing: true, error: 'ENOSPC: no space left on device, write', lost: 2},
    {failing: false, error: 'ENOSPC: no space left on device, write', lost: 3},
  ])
  const lines = readFileSync(path.join(dir, 'audit.jsonl'), 'utf8').trimEnd().split('\n')
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as {n: number}).n), [1, 5])
})
