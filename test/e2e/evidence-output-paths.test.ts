import {before, test} from 'node:test'
import assert from 'node:assert/strict'
import {copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {recordRun, steppingClock} from '../helpers/recorder-fixture.js'
import {encodePublicKeyText, keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'

// audit report and audit packet build never write over the evidence they read, nor into its
// directory: an output path that is an input (by real path or hard link) or lies inside the
// recorder directory is a usage error (exit 2) and nothing is written.

const key = keyPairFromSeed(sha256('pipelock-evidence-output-paths'))
const dir = mkdtempSync(path.join(tmpdir(), 'pl-evidence-out-'))
const evidence = path.join(dir, 'evidence')
const recorderFile = path.join(evidence, 'evidence-proxy-0.jsonl')
const pubFile = path.join(dir, 'receipt.pub')
let original = ''
let listing: string[] = []

before(async () => {
  writeFileSync(pubFile, encodePublicKeyText(key.publicKey))
  await recordRun({dir: evidence, key, clock: steppingClock(1_790_000_000_000_000_000n, 1_000_000_000n), run: 1, decisions: [{method: 'GET', target: 'https://pastebin.com/raw/x', transport: 'forward', verdict: 'block', layer: 'blocklist', pattern: 'domain_blocklist'}]})
  original = readFileSync(recorderFile, 'utf8')
  listing = readdirSync(evidence).sort()
})

/** The evidence as it was, and the refusal: exit 2, the USAGE line naming both paths. */
function assertRefused(r: {status: number | null; stdout: string; stderr: string}, out: string, what: RegExp): void {
  assert.equal(r.status, 2, r.stderr)
  assert.equal(r.stdout, '')
  assert.match(r.stderr, what)
  assert.match(r.stderr, /nothing was written \[USAGE\]/)
  assert.ok(r.stderr.includes(out), r.stderr)
  assert.equal(readFileSync(recorderFile, 'utf8'), original)
  assert.deepEqual(readdirSync(evidence).sort(), listing)
}

test('audit report --out naming a recorder file of the --chain directory is refused, the file untouched', () => {
  const r = runCli(['audit', 'report', '--chain', evidence, '--key', pubFile, '--out', recorderFile])
  assertRefused(r, recorderFile, /^--out .* lies inside the input --chain /)
})

test('audit report --out anywhere inside the --chain directory (a new file, or through a symbolic link) is refused', () => {
  assertRefused(runCli(['audit', 'report', '--chain', evidence, '--key', pubFile, '--out', path.join(evidence, 'report.html')]), 'report.html', /lies inside the input --chain/)
  const link = path.join(dir, 'via-link')
  symlinkSync(evidence, link)
  assertRefused(runCli(['audit', 'report', '--chain', evidence, '--key', pubFile, '--out', path.join(link, 'report.html')]), 'report.html', /lies inside the input --chain/)
})

test('audit report --chain FILE --out FILE, and --out a hard link of it, are refused', () => {
  const copy = path.join(dir, 'copy.jsonl')
  copyFileSync(recorderFile, copy)
  const before = readFileSync(copy, 'utf8')
  const same = runCli(['audit', 'report', '--chain', copy, '--key', pubFile, '--out', copy])
  assert.equal(same.status, 2, same.stderr)
  assert.match(same.stderr, /^--out .*copy\.jsonl is the input --chain .*copy\.jsonl: writing it would replace or add to what is read; nothing was written \[USAGE\]; hint: give --out a path outside the evidence directory that is none of the input files\n$/)
  const hard = path.join(dir, 'hard.jsonl')
  linkSync(copy, hard)
  const linked = runCli(['audit', 'report', '--chain', copy, '--key', pubFile, '--out', hard])
  assert.equal(linked.status, 2, linked.stderr)
  assert.match(linked.stderr, /^--out .*hard\.jsonl is the input --chain /)
  assert.equal(readFileSync(copy, 'utf8'), before)
})

test('audit report --blocks-jsonl over a recorder file or the key file is refused', () => {
  const r = runCli(['audit', 'report', '--chain', evidence, '--key', pubFile, '--out', path.join(dir, 'r.html'), '--blocks-jsonl', recorderFile])
  assertRefused(r, recorderFile, /^--blocks-jsonl .* lies inside the input --chain /)
  assert.equal(existsSync(path.join(dir, 'r.html')), false)
  const k = runCli(['audit', 'report', '--chain', evidence, '--key', pubFile, '--out', path.join(dir, 'r.html'), '--blocks-jsonl', pubFile])
  assert.equal(k.status, 2, k.stderr)
  assert.match(k.stderr, /^--blocks-jsonl .*receipt\.pub is the input --key /)
})

test('audit report beside the evidence is still written, and replaces an earlier report (as the other report outputs do)', () => {
  const html = path.join(dir, 'beside.html')
  writeFileSync(html, 'old report')
  const r = runCli(['audit', 'report', '--chain', evidence, '--key', pubFile, '--out', html])
  assert.equal(r.status, 0, r.stderr)
  assert.match(readFileSync(html, 'utf8'), /^<!doctype html>/i)
})

test('audit packet build --out the recorder directory, or a directory inside it, is refused and nothing is written', () => {
  assertRefused(runCli(['audit', 'packet', 'build', '--chain', evidence, '--key', pubFile, '--out', evidence]), evidence, /^--out .* is the input --chain /)
  assertRefused(runCli(['audit', 'packet', 'build', '--chain', evidence, '--key', pubFile, '--out', path.join(evidence, 'packet')]), 'packet', /^--out .* lies inside the input --chain /)
})

test('audit packet build --chain OUT/evidence.jsonl --out OUT is refused (the packet would replace its input)', () => {
  const out = path.join(dir, 'packet-over-input')
  mkdirSync(out)
  const input = path.join(out, 'evidence.jsonl')
  copyFileSync(recorderFile, input)
  const r = runCli(['audit', 'packet', 'build', '--chain', input, '--key', pubFile, '--out', out])
  assert.equal(r.status, 2, r.stderr)
  assert.match(r.stderr, /^--out .*evidence\.jsonl is the input --chain /)
  assert.deepEqual(readdirSync(out), ['evidence.jsonl'])
  // beside the evidence directory it is built as before
  const ok = runCli(['audit', 'packet', 'build', '--chain', evidence, '--key', pubFile, '--out', path.join(dir, 'packet')])
  assert.equal(ok.status, 0, ok.stderr)
})
