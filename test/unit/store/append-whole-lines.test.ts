import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

// The store's journal and receipt files and learn's receipt files are appended line by line; a
// disk that fills mid-write must not leave a cut line their readers cannot decode. Each append
// runs in a child under a 1 KiB file size limit (`ulimit -f 1`, SIGXFSZ ignored so the write
// fails with EFBIG), after 900 bytes already in the file: the first 124 bytes of a 500-byte line
// would fit.

const moduleUrl = (rel: string): string => new URL(rel, import.meta.url).href

function appendUnderLimit(file: string, call: string): {status: number | null; stderr: string} {
  const script = `const m = await import(process.env.MOD); ${call}`
  const r = spawnSync('bash', ['-c', `trap '' XFSZ; ulimit -f 1; exec "$@"`, 'append', process.execPath, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: {...process.env, FILE: file, MOD: process.env.MOD_URL},
  })
  return {status: r.status, stderr: r.stderr}
}

for (const [name, rel, call] of [
  ['store appendLine (journal, lifecycle receipts, policy)', '../../../src/plugins/store/fs-io.js', `m.appendLine(process.env.FILE, 'x'.repeat(499))`],
  ['learn appendReceiptLines (candidate receipts)', '../../../src/plugins/learn/candidate-commit.js', `m.appendReceiptLines(process.env.FILE, ['y'.repeat(499)])`],
] as const) {
  test(`${name}: a line the disk cuts short is not left in the file`, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-append-'))
    try {
      const file = path.join(dir, 'lines.jsonl')
      const before = '{"n":1}\n'.padStart(900, ' ')
      writeFileSync(file, before, {mode: 0o600})
      process.env.MOD_URL = moduleUrl(rel)
      const r = appendUnderLimit(file, call)
      assert.notEqual(r.status, 0)
      assert.match(r.stderr, /EFBIG/)
      assert.equal(readFileSync(file, 'utf8'), before)
    } finally {
      delete process.env.MOD_URL
      rmSync(dir, {recursive: true, force: true})
    }
  })
}

