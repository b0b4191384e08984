import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {test} from 'node:test'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

// A failure is one line on stderr, with nothing of a damaged input file's raw bytes in it:
// roster verify / show said it twice (the first copy unsanitised), and JSON parse errors quoted
// the file's text.

const PIN = 'sha256:' + '0'.repeat(64)
const NOTE = 'note: runtime proxy verification reads trusted keys from pipelock.yaml mediation_envelope.verify_inbound.trust_list; this trust store is for operator workflows until runtime trust-store loading is added.\n'
// binary: a letter, then bytes that are not UTF-8, then an escape sequence
const BINARY = Buffer.from([0x5a, 0xff, 0xfe, 0x5d, 0x40, 0x2c, 0x3d, 0x9f, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x0a])

test('signing roster verify / show: one line per failure, control characters shown as ?, a directory is FILE_UNREADABLE', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-error-lines-'))
  const esc = path.join(dir, 'esc.json')
  writeFileSync(esc, '\u001b[31mRED')
  const verify = runCli(['signing', 'roster', 'verify', '--path', esc, '--root-fingerprint', PIN])
  assert.equal(verify.status, 1)
  assert.equal(verify.stdout, '')
  assert.equal(verify.stderr, "verify failed: roster decode failed: unexpected '?' where a JSON value should start at line 1, column 1 [ROSTER_INVALID]\n")

  const sub = path.join(dir, 'roster.json')
  mkdirSync(sub)
  const show = runCli(['signing', 'roster', 'show', '--path', sub, '--root-fingerprint', PIN])
  assert.equal(show.status, 1)
  assert.equal(show.stderr, `load failed: roster read failed: open ${sub}: is a directory [FILE_UNREADABLE]\n`)
  const missing = runCli(['signing', 'roster', 'verify', '--path', path.join(dir, 'none.json'), '--root-fingerprint', PIN])
  assert.equal(missing.stderr, `verify failed: roster read failed: open ${path.join(dir, 'none.json')}: no such file or directory [FILE_NOT_FOUND]\n`)

  const fifo = path.join(dir, 'fifo.json')
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0)
  const r = spawnSync(process.execPath, [repoPath('bin', 'run.js'), 'signing', 'roster', 'verify', '--path', fifo, '--root-fingerprint', PIN], {encoding: 'utf8', timeout: 20_000, input: ''})
  assert.equal(r.error, undefined, 'roster verify hung on a FIFO')
  assert.equal(r.status, 1)
  assert.equal(r.stderr, `verify failed: roster ${fifo} is not a regular file (it is a FIFO) [PATH_UNSAFE]; hint: name a regular file; a FIFO, socket or device is never read\n`)
})

test('envelope trust, learn diff and learn compile --input name a binary file as not JSON without echoing its bytes', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-error-lines-'))
  const bin = path.join(dir, 'bin.json')
  writeFileSync(bin, BINARY)
  const list = runCli(['envelope', 'trust', 'list', '--store', bin])
  assert.equal(list.status, 2)
  assert.equal(list.stderr, `trust store ${bin}: Unexpected token 'Z', not valid JSON [ENVELOPE_TRUST_INVALID]\n`)
  const add = runCli(['envelope', 'trust', 'add', 'a.example', '--key', 'ab'.repeat(32), '--store', bin])
  assert.equal(add.status, 2)
  assert.equal(add.stderr, NOTE + `trust store ${bin}: Unexpected token 'Z', not valid JSON [ENVELOPE_TRUST_INVALID]\n`)

  const diff = runCli(['learn', 'diff', bin, bin])
  assert.equal(diff.status, 1)
  assert.equal(diff.stderr, `${bin}: learn diff: decode report: Unexpected token 'Z', not valid JSON [SHADOW_INPUT_INVALID]\n`)

  const capture = path.join(dir, 'bin.jsonl')
  writeFileSync(capture, Buffer.concat([Buffer.from([0xff, 0x3c]), BINARY]))
  const ks = path.join(dir, 'ks')
  assert.equal(runCli(['keygen', 'a1', '--keystore', ks]).status, 0)
  const compile = runCli(['learn', 'compile', '--input', capture, '--agent', 'a1', '--keystore', ks, '--output', path.join(dir, 'c.yaml')])
  assert.equal(compile.status, 1)
  assert.equal(
    compile.stderr.split('\n')[0],
    `${capture}:1: not a recorder entry: not JSON: Unexpected token U+FFFD (bytes that are not UTF-8), not valid JSON [CAPTURE_LINE_INVALID]; hint: capture files must hold one hash-chained JSON entry per line, as learn observe writes them`,
  )
  for (const r of [list, add, diff, compile]) assert.doesNotMatch(r.stderr, /[\ufffd\u001b]/)
})
