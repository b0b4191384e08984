import {before, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'
import {relink} from '../helpers/entry-relink.js'
import {repoPath, vectorPath} from '../helpers/vectors.js'
import {recordRun, steppingClock} from '../helpers/recorder-fixture.js'
import {encodePublicKeyText, keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'

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
  assert.match(r.stdout, /^PACKET INVALID: .*\n  evidence\.jsonl now verifies as "invalid", the packet records "valid": evidence\.jsonl:1: no verified checkpoint signature covers any of the 8 entries .*\(--require-signed-checkpoints\)\n/)
})

test('--require-signed-checkpoints names the file and line of the first entry after the last signed checkpoint: verify-receipt, audit packet verify (text and --json)', async () => {
  // a run killed after its first signed checkpoint, its files rotated every 4 entries: receipts
  // 0-2 and the checkpoint in the first file, the tail (receipts 3 and 4) in the second
  const rec = path.join(dir, 'killed')
  const recKey = keyPairFromSeed(sha256('pipelock-signed-checkpoints-tail'))
  const recPub = path.join(dir, 'killed.pub')
  writeFileSync(recPub, encodePublicKeyText(recKey.publicKey))
  const decisions = [0, 1, 2, 3].map((i) => ({method: 'GET', target: `https://h${i}.example/x`, transport: 'fetch', verdict: 'allow'}))
  await recordRun({dir: rec, key: recKey, clock: steppingClock(1_790_000_000_000_000_000n, 1_000_000_000n), run: 1, decisions, crash: true, maxEntriesPerFile: 4, checkpointInterval: 3})
  const tail = 'the last 2 entries (entry seq 4-5) come after the last signed checkpoint (entry seq 3): no signature covers them, so nothing shows they were not rewritten (a run that crashed or is still running leaves such a tail; a closed run ends with its checkpoint) (--require-signed-checkpoints)'
  const v = runCli(['verify-receipt', '--chain', rec, '--key', recPub, '--require-signed-checkpoints'])
  assert.equal(v.status, 1, v.stderr)
  assert.equal(v.stdout, `CHAIN BROKEN: ${rec} (session proxy)\n  Error:    ${tail}\n  Line:     evidence-proxy-4.jsonl:1\n`)
  // the packet holds one evidence.jsonl, the two files one after the other: the tail starts at its line 5
  const packet = path.join(dir, 'killed-packet')
  assert.equal(runCli(['audit', 'packet', 'build', '--chain', rec, '--key', recPub, '--out', packet]).status, 0)
  const r = runCli(['audit', 'packet', 'verify', packet, '--key', recPub, '--require-signed-checkpoints'])
  assert.equal(r.status, 1, r.stderr)
  assert.equal(r.stdout.split('\n').slice(0, 2).join('\n'), `PACKET INVALID: ${packet}\n  evidence.jsonl now verifies as "invalid", the packet records "valid": evidence.jsonl:5: ${tail}`)
  const j = runCli(['audit', 'packet', 'verify', packet, '--key', recPub, '--require-signed-checkpoints', '--json'])
  assert.equal(j.status, 1)
  const result = JSON.parse(j.stdout)
  assert.deepEqual(result.recomputed.failure, {component: 'entries', message: tail, file: 'evidence.jsonl', line: 5})
  // the fields it had are unchanged
  assert.equal(result.recomputed.verdict, 'invalid')
  assert.equal(result.recomputed.receiptCount, 5)
})
