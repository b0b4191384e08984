import {before, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'
import {relink} from '../helpers/entry-relink.js'
import {repoPath, vectorPath} from '../helpers/vectors.js'

// --require-signed-checkpoints: entries no verified checkpoint signature covers are a warning by
// default (the reference verdict), a failure with the flag, in verify-receipt, audit report and
// audit packet verify. The evidence is the docs' sample chain (docs/receipts.md runs the same).

const dir = mkdtempSync(path.join(tmpdir(), 'pl-signed-checkpoints-'))
const signedDir = path.join(dir, 'signed')
const unsignedDir = path.join(dir, 'unsigned')
const signed = path.join(signedDir, 'evidence-proxy-0.jsonl')
const unsigned = path.join(unsignedDir, 'evidence-proxy-0.jsonl')
const key = path.join(signedDir, 'signer.pub')
const rewritten = path.join(dir, 'rewritten.jsonl')

function sample(out: string, ...extra: string[]): void {
  const r = spawnSync(process.execPath, [repoPath('scripts', 'make-sample-chain.mjs'), out, ...extra], {encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
}

before(() => {
  sample(signedDir)
  sample(unsignedDir, '--unsigned-checkpoints')
  // What the flag is for: the checkpoint's signature stripped, an entry's metadata rewritten
  // (its time and summary are outside every receipt signature) and the entry chain relinked.
  const lines = readFileSync(signed, 'utf8').trimEnd().split('\n')
  lines[7] = (lines[7] as string).replace(/"signature":"[0-9a-f]{128}"/, '"signature":""')
  lines[1] = (lines[1] as string).replace('"ts":"2026-11-22T09:00:01Z"', '"ts":"2026-11-22T10:30:00Z"')
  relink(lines, 0)
  writeFileSync(rewritten, lines.join('\n') + '\n')
})

const broken = (file: string, n: number): string =>
  `CHAIN BROKEN: ${file}\n` +
  `  Error:    no verified checkpoint signature covers any of the ${n} entries (entry seq 0-${n - 1}): nothing but the entry chain, which has no key, shows they were not rewritten (--require-signed-checkpoints)\n` +
  `  Line:     ${file}:1\n`

test('without the flag, a chain whose checkpoint signature was stripped and whose entry metadata was rewritten is still CHAIN VALID (the reference verdict), with warnings', () => {
  const r = runCli(['verify-receipt', rewritten, '--key', key])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^CHAIN VALID: /)
  assert.match(r.stderr, /no verified checkpoint signature covers any of the 8 entries/)
})

test('--require-signed-checkpoints: the same chain is CHAIN BROKEN, exit 1, at the first entry no signature covers', () => {
  const r = runCli(['verify-receipt', rewritten, '--key', key, '--require-signed-checkpoints'])
  assert.equal(r.status, 1, r.stderr)
  assert.equal(r.stdout, broken(rewritten, 8))
  const j = runCli(['verify-receipt', unsigned, '--key', key, '--require-signed-checkpoints', '--json'])
  assert.equal(j.status, 1)
  const report = JSON.parse(j.stdout)
  assert.equal(report.valid, false)
  assert.equal(report.verdict, 'invalid')
  assert.equal(report.failure.file, unsigned)
  assert.equal(report.failure.line, 1)
})

test('--require-signed-checkpoints passes a chain that ends with its verified signed checkpoint', () => {
  const r = runCli(['verify-receipt', signed, '--key', key, '--require-signed-checkpoints'])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^CHAIN VALID: /)
  const d = runCli(['verify-receipt', '--chain', signedDir, '--key', key, '--require-signed-checkpoints'])
  assert.equal(d.status, 0, d.stderr)
})

test('--require-signed-checkpoints on one receipt is a usage error: it has no recorder entries', () => {
  const r = runCli(['verify-receipt', vectorPath('receipts', 'valid-single.json'), '--require-signed-checkpoints'])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /^--require-signed-checkpoints applies to a chain \(a \.jsonl file or a recorder directory\), not to the single receipt .*valid-single\.json \[USAGE\]/)
})

test('audit report --require-signed-checkpoints: verdict invalid and exit 1 where the default passes', () => {
  const plain = runCli(['audit', 'report', '--chain', unsignedDir, '--key', key, '--out', path.join(dir, 'plain.html')])
  assert.equal(plain.status, 0, plain.stderr)
  const r = runCli(['audit', 'report', '--chain', unsignedDir, '--key', key, '--out', path.join(dir, 'strict.html'), '--require-signed-checkpoints'])
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stdout, /\(verdict invalid, /)
  assert.match(r.stderr, /^audit report: the evidence did not verify \(verdict invalid\): evidence-proxy-0\.jsonl:1: no verified checkpoint signature covers any of the 8 entries/)
})

test('audit packet verify --require-signed-checkpoints fails a packet over evidence no checkpoint signature covers', () => {
  const packet = path.join(dir, 'packet')
  const built = runCli(['audit', 'packet', 'build', '--chain', unsignedDir, '--key', key, '--out', packet])
  assert.equal(built.status, 0, built.stderr)
  assert.equal(runCli(['audit', 'packet', 'verify', packet, '--key', key]).status, 0)
  const r = runCli(['audit', 'packet', 'verify', packet, '--key', key, '--require-signed-checkpoints'])
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stdout, /^PACKET INVALID: .*\n  evidence\.jsonl now verifies as "invalid", the packet records "valid": no verified checkpoint signature covers any of the 8 entries .*\(--require-signed-checkpoints\)\n/)
})
