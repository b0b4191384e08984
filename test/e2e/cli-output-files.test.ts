import {test} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

// Files the CLI is asked to write (--out, --output) are written whole or not at all: on a disk
// that stops taking bytes (a file size limit, as a full disk) the command says so in one line and
// the previous file, or the empty --out directory, is left as it was.

const dir = mkdtempSync(path.join(tmpdir(), 'pl-e2e-outfiles-'))
const recorder = path.join(dir, 'recorder')
cpSync(repoPath('test', 'fixtures', 'one-decision', 'expected', 'recorder'), recorder, {recursive: true})

test('generate config --output --force on a full disk: one WRITE_FAILED line, the old config kept whole', () => {
  const out = path.join(dir, 'pipelock.yaml')
  writeFileSync(out, 'mode: audit\n')
  // the strict preset is about 19 KiB: the limit cuts it
  const r = runCli(['generate', 'config', '--preset', 'strict', '--output', out, '--force'], {fileSizeLimitKiB: 4})
  assert.equal(r.status, 1)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, `writing ${out}: file too large; nothing was written [WRITE_FAILED]\n`)
  assert.equal(readFileSync(out, 'utf8'), 'mode: audit\n')
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('pipelock.yaml')), ['pipelock.yaml'])
})

test('audit report --out on a full disk keeps the previous report; --out a directory is one line', () => {
  const out = path.join(dir, 'report.html')
  writeFileSync(out, '<p>previous report</p>\n')
  const r = runCli(['audit', 'report', '--chain', recorder, '--out', out], {fileSizeLimitKiB: 2})
  assert.equal(r.status, 1)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, `writing ${out}: file too large; nothing was written [WRITE_FAILED]\n`)
  assert.equal(readFileSync(out, 'utf8'), '<p>previous report</p>\n')

  const asDir = path.join(dir, 'reports')
  mkdirSync(asDir)
  const d = runCli(['audit', 'report', '--chain', recorder, '--out', asDir, '--json'])
  assert.equal(d.status, 1)
  assert.equal(d.stderr, '')
  assert.deepEqual(JSON.parse(d.stdout), {error: {code: 'WRITE_FAILED', message: `writing ${asDir}: is a directory`, exit: 1, hint: 'name a file to write, not a directory'}})
})
