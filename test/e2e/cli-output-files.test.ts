import {test} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
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

test('generate config --output without --force never replaces a name that is taken, even by a link to nothing', () => {
  // A dangling link does not "exist" to a stat that follows it: only the create-exclusive link of
  // the staged file sees the name is taken. A rename would have replaced the link.
  const out = path.join(dir, 'taken.yaml')
  symlinkSync(path.join(dir, 'nowhere', 'pipelock.yaml'), out)
  const r = runCli(['generate', 'config', '--output', out])
  assert.equal(r.status, 1)
  assert.equal(r.stderr, `${out} already exists [FILE_EXISTS]; hint: pass --force to overwrite it\n`)
  assert.ok(lstatSync(out).isSymbolicLink())
  assert.equal(readlinkSync(out), path.join(dir, 'nowhere', 'pipelock.yaml'))
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('taken.yaml')), ['taken.yaml'])
  // A free name is written, 0600.
  const free = path.join(dir, 'free.yaml')
  const ok = runCli(['generate', 'config', '--output', free])
  assert.equal(ok.status, 0, ok.stderr)
  assert.match(readFileSync(free, 'utf8'), /^# /)
  assert.equal(statSync(free).mode & 0o777, 0o600)
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

test('audit packet build on a full disk leaves no partial packet; the retry builds it', () => {
  const out = path.join(dir, 'packet')
  // evidence.jsonl is about 10 KiB
  const r = runCli(['audit', 'packet', 'build', '--chain', recorder, '--out', out], {fileSizeLimitKiB: 4})
  assert.equal(r.status, 1)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, `audit packet build: writing ${out}: file too large; no packet was written [WRITE_FAILED]\n`)
  assert.deepEqual(readdirSync(out), [])

  const again = runCli(['audit', 'packet', 'build', '--chain', recorder, '--out', out])
  assert.equal(again.status, 0, again.stderr)
  assert.deepEqual(readdirSync(out).sort(), ['evidence.jsonl', 'packet.json', 'summary.md', 'verifier.txt'])
  assert.deepEqual(readFileSync(path.join(out, 'evidence.jsonl')), readFileSync(path.join(recorder, 'evidence-proxy-0.jsonl')))
  const verify = runCli(['audit', 'packet', 'verify', out])
  assert.equal(verify.status, 0, verify.stdout + verify.stderr)
})

test('audit packet build --out naming a file: one WRITE_FAILED line, also under --json', () => {
  const file = path.join(dir, 'not-a-dir')
  writeFileSync(file, 'x')
  const r = runCli(['audit', 'packet', 'build', '--chain', recorder, '--out', file])
  assert.equal(r.status, 1)
  assert.equal(r.stderr, `audit packet build: writing ${file}: not a directory; no packet was written [WRITE_FAILED]\n`)
  const j = runCli(['audit', 'packet', 'build', '--chain', recorder, '--out', file, '--json'])
  assert.equal(j.status, 1)
  assert.deepEqual(JSON.parse(j.stdout), {error: {code: 'WRITE_FAILED', message: `audit packet build: writing ${file}: not a directory; no packet was written`, exit: 1}})
})

test('a second audit packet build into a directory being written is refused, not interleaved', () => {
  const out = path.join(dir, 'claimed')
  const claim = path.join(out, '.packet-build')
  mkdirSync(claim, {recursive: true})
  const r = runCli(['audit', 'packet', 'build', '--chain', recorder, '--out', out])
  assert.equal(r.status, 1)
  assert.equal(r.stderr, `audit packet build: another build is writing ${out} (${claim} exists) [FILE_EXISTS]; hint: if no build is running, remove ${claim}\n`)
  assert.deepEqual(readdirSync(out), ['.packet-build'])
  assert.deepEqual(readdirSync(claim), [])
  // A path a shell would split is quoted in the hint, so the command can be pasted as it is.
  const spaced = path.join(dir, 'claimed out')
  const spacedClaim = path.join(spaced, '.packet-build')
  mkdirSync(spacedClaim, {recursive: true})
  const q = runCli(['audit', 'packet', 'build', '--chain', recorder, '--out', spaced])
  assert.equal(q.status, 1)
  assert.equal(q.stderr, `audit packet build: another build is writing ${spaced} (${spacedClaim} exists) [FILE_EXISTS]; hint: if no build is running, remove '${spacedClaim}'\n`)
})

test('audit packet build --out a directory that holds other files is refused (its verify would reject the packet); nothing is written', () => {
  const out = path.join(dir, 'used')
  mkdirSync(out)
  writeFileSync(path.join(out, 'notes.txt'), 'mine\n')
  const line = `audit packet build: --out ${out} is not empty (it holds notes.txt); a packet directory holds the packet's files and nothing else, so nothing was written`
  const r = runCli(['audit', 'packet', 'build', '--chain', recorder, '--out', out])
  assert.equal(r.status, 1)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, `${line} [FILE_EXISTS]; hint: choose a new or empty --out directory\n`)
  assert.deepEqual(readdirSync(out), ['notes.txt'])
  const j = runCli(['audit', 'packet', 'build', '--chain', recorder, '--out', out, '--json'])
  assert.equal(j.status, 1)
  assert.deepEqual(JSON.parse(j.stdout), {error: {code: 'FILE_EXISTS', message: line, exit: 1, hint: 'choose a new or empty --out directory'}})
  // many files: the first three are named
  for (const f of ['a.txt', 'b.txt', 'c.txt']) writeFileSync(path.join(out, f), '')
  const many = runCli(['audit', 'packet', 'build', '--chain', recorder, '--out', out])
  assert.equal(many.stderr.split('\n')[0], `audit packet build: --out ${out} is not empty (it holds a.txt, b.txt, c.txt, and 1 more); a packet directory holds the packet's files and nothing else, so nothing was written [FILE_EXISTS]; hint: choose a new or empty --out directory`)
  assert.deepEqual(readdirSync(out).sort(), ['a.txt', 'b.txt', 'c.txt', 'notes.txt'])
  // an empty directory is built into, and the packet verifies
  const empty = path.join(dir, 'empty')
  mkdirSync(empty)
  assert.equal(runCli(['audit', 'packet', 'build', '--chain', recorder, '--out', empty]).status, 0)
  const verify = runCli(['audit', 'packet', 'verify', empty])
  assert.equal(verify.status, 0, verify.stdout + verify.stderr)
})

test('git install-hooks on a full disk: the old hook is kept whole under --force, no hook is left half-written without it', () => {
  const repo = path.join(dir, 'repo')
  const hooks = path.join(repo, '.git', 'hooks')
  mkdirSync(hooks, {recursive: true})
  const hook = path.join(hooks, 'pre-push')
  // nothing may be written at all: the hook is a few hundred bytes
  const fresh = runCli(['git', 'install-hooks'], {cwd: repo, fileSizeLimitKiB: 0})
  assert.equal(fresh.status, 1)
  assert.equal(fresh.stdout, '')
  assert.equal(fresh.stderr, `writing ${hook}: file too large; nothing was written [WRITE_FAILED]\n`)
  assert.deepEqual(readdirSync(hooks), [], 'no empty hook that would refuse the retry')

  writeFileSync(hook, '#!/bin/sh\nexec my-previous-check\n', {mode: 0o755})
  const r = runCli(['git', 'install-hooks', '--force'], {cwd: repo, fileSizeLimitKiB: 0})
  assert.equal(r.status, 1)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, `writing ${hook}: file too large; nothing was written [WRITE_FAILED]\n`)
  assert.equal(readFileSync(hook, 'utf8'), '#!/bin/sh\nexec my-previous-check\n')
  assert.deepEqual(readdirSync(hooks), ['pre-push'])

  const again = runCli(['git', 'install-hooks', '--force'], {cwd: repo})
  assert.equal(again.status, 0, again.stderr)
  assert.equal(again.stdout, `Installed pre-push hook at ${hook}\n`)
  assert.equal(statSync(hook).mode & 0o777, 0o755)
  assert.match(readFileSync(hook, 'utf8'), /^exec 'pipelock' git scan-push -- "\$1" "\$2"$/m)
})

test('keygen where <agent>.pub cannot be written (a directory) writes neither key: the private key is never replaced alone', () => {
  const ks = path.join(dir, 'keystore')
  const agentDir = path.join(ks, 'agents', 'bob')
  const pub = path.join(agentDir, 'id_ed25519.pub')
  const priv = path.join(agentDir, 'id_ed25519')
  mkdirSync(pub, {recursive: true})
  const line = `writing ${pub}: is a directory; nothing was written [WRITE_FAILED]; hint: move ${pub} out of the way, then run keygen again\n`
  const fresh = runCli(['keygen', 'bob', '--keystore', ks])
  assert.equal(fresh.status, 1)
  assert.equal(fresh.stdout, '')
  assert.equal(fresh.stderr, line)
  assert.deepEqual(readdirSync(agentDir), ['id_ed25519.pub'])

  // an existing pair whose .pub became a directory: --force keeps the private key as it was
  rmSync(pub, {recursive: true})
  assert.equal(runCli(['keygen', 'bob', '--keystore', ks]).status, 0)
  const before = readFileSync(priv)
  rmSync(pub)
  mkdirSync(pub)
  const forced = runCli(['keygen', 'bob', '--keystore', ks, '--force', '--json'])
  assert.equal(forced.status, 1)
  assert.deepEqual(JSON.parse(forced.stdout), {error: {code: 'WRITE_FAILED', message: `writing ${pub}: is a directory; nothing was written`, exit: 1, hint: `move ${pub} out of the way, then run keygen again`}})
  assert.deepEqual(readFileSync(priv), before)
  assert.deepEqual(readdirSync(agentDir).sort(), ['id_ed25519', 'id_ed25519.pub'])
})

test('escrow keygen --out-private on a full disk leaves no key file, so the retry writes the key', () => {
  const key = path.join(dir, 'escrow.key')
  const r = runCli(['escrow', 'keygen', '--out-private', key], {fileSizeLimitKiB: 0})
  assert.equal(r.status, 1)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, `${key}: file too large; nothing was written [WRITE_FAILED]\n`)
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('escrow.key')), [])

  const again = runCli(['escrow', 'keygen', '--out-private', key])
  assert.equal(again.status, 0, again.stderr)
  assert.match(again.stdout, /^public: [0-9a-f]{64}\n$/)
  assert.match(readFileSync(key, 'utf8'), /^[0-9a-f]{64}\n$/)
  assert.equal(statSync(key).mode & 0o777, 0o600)
  const third = runCli(['escrow', 'keygen', '--out-private', key])
  assert.equal(third.status, 1)
  assert.equal(third.stderr, `${key} already exists [FILE_EXISTS]\n`)
})
