import {test} from 'node:test'
import assert from 'node:assert/strict'
import {copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'
import {baseArgs, cli, makeLab, promoteArgs, snapshot, writeCandidate} from './learn-promote-harness.js'

// An output path under a regular file (`--out notes.txt/x.yaml`) cannot be written: every learn
// command says so in one WRITE_FAILED line naming the path and the file in the way — not a raw
// ENOTDIR, under --json not INTERNAL — and writes nothing.

const GOLDEN_PUB = keyPairFromSeed(sha256('pipelock-golden-deterministic-signer')).publicKey.toString('hex')

/** The one error line for `what PATH` when `file` stands where a directory would be. */
const under = (what: string, p: string, file: string): string =>
  `${what} ${p} cannot be written: ${file} is a file, not a directory [WRITE_FAILED]; hint: name a path in a directory, not under ${file}\n`

test('learn compile, review, diff, shadow, ratify, pin, split and forget: an output under a file is one WRITE_FAILED line, nothing written', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-out-under-file-'))
  try {
    const c = path.join(dir, 'contract.yaml')
    copyFileSync(repoPath('goldens', 'multi-hour', 'contract.yaml'), c)
    const file = path.join(dir, 'notes.txt')
    writeFileSync(file, 'notes\n')
    const out = path.join(file, 'out.yaml')
    const deep = path.join(file, 'sub', 'out.yaml')
    const rule = 'r-cccd1d2707b0f9d1031e'
    const sessions = path.join(dir, 'sessions')
    mkdirSync(sessions)
    const shadow = ['learn', 'shadow', '--contract', c, '--allow-unsigned-contract-for-diagnostics', '--sessions', sessions, '--deterministic', '--allow-empty']
    const signed = ['--candidate', c, '--contract-key', GOLDEN_PUB, '--deterministic']
    const fixture = repoPath('goldens', 'multi-hour', 'fixture.json')
    const cases: Array<[string[], string]> = [
      [['learn', 'compile', '--fixture', fixture, '--input', repoPath('goldens', 'multi-hour', 'input', '*', '*.jsonl'), '--out-dir', file], under('--out-dir', path.join(file, 'contract.yaml'), file)],
      [['learn', 'review', c, '--out', out], under('--out', out, file)],
      [['learn', 'diff', repoPath('goldens', 'multi-hour', 'shadow.json'), repoPath('goldens', 'multi-hour', 'shadow-strict.json'), '--out', out], under('learn diff: output', out, file)],
      [[...shadow, '--out', out], under('learn shadow: output', out, file)],
      // a file further up the path is the one named
      [[...shadow, '--out-json', deep], under('learn shadow: output', deep, file)],
      [['learn', 'ratify', ...signed, '--out', out], under('--out', out, file)],
      [['learn', 'ratify', ...signed, '--out', path.join(dir, 'ratified.yaml'), '--receipt-out', out], under('learn ratify: output', out, file)],
      [['learn', 'pin', ...signed, '--rule', rule, '--segment', 'v1', '--out', out], under('--out', out, file)],
      [['learn', 'split', ...signed, '--rule', rule, '--out', out], under('--out', out, file)],
      [['learn', 'forget', ...signed, '--rule-id', rule, '--reason', 'test', '--out', out], under('--out', out, file)],
      [['learn', 'forget', ...signed, '--rule-id', rule, '--reason', 'test', '--out', path.join(dir, 'f.yaml'), '--receipt-out', out], under('learn forget: output', out, file)],
      [['learn', 'forget', ...signed, '--rule-id', rule, '--reason', 'test', '--out', path.join(dir, 'f.yaml'), '--tombstone-dir', path.join(file, 'tombstones')], under('learn forget: --tombstone-dir', path.join(file, 'tombstones'), file)],
    ]
    for (const [args, line] of cases) {
      const r = runCli(args)
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`)
      assert.equal(r.stderr, line, args.join(' '))
      const j = runCli([...args, '--json'])
      assert.equal(j.status, 1, `${args.join(' ')} --json: ${j.stdout}${j.stderr}`)
      assert.equal(j.stderr, '')
      const {error} = JSON.parse(j.stdout) as {error: {code: string; message: string}}
      assert.equal(error.code, 'WRITE_FAILED')
      assert.equal(`${error.message} [WRITE_FAILED]`, line.slice(0, line.indexOf('; hint: ')))
      assert.deepEqual(readdirSync(dir).sort(), ['contract.yaml', 'notes.txt', 'sessions'], args.join(' '))
    }
    // a directory that is there is still written into
    const ok = runCli(['learn', 'review', c, '--out', path.join(dir, 'review.md')])
    assert.equal(ok.status, 0, ok.stderr)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('learn promote and rollback: a --receipt-out or --contract-store under a file is one WRITE_FAILED line, the store unchanged', () => {
  const lab = makeLab()
  try {
    const file = path.join(lab.dir, 'notes.txt')
    writeFileSync(file, 'notes\n')
    const receipts = path.join(file, 'receipts.jsonl')
    const first = writeCandidate(lab, 'first', 0)
    const store = path.join(file, 'store')
    const misplaced = cli([...promoteArgs(lab, first.file).map((a) => (a === lab.store ? store : a)), '--environment-id', 'prod'])
    assert.equal(misplaced.code, 1, misplaced.stderr)
    assert.equal(misplaced.stderr, under('learn lifecycle: --contract-store', store, file))

    const refused = cli([...promoteArgs(lab, first.file), '--environment-id', 'prod', '--receipt-out', receipts])
    assert.equal(refused.code, 1, refused.stderr)
    assert.equal(refused.stderr, under('learn lifecycle: --receipt-out', receipts, file))
    assert.equal(snapshot(lab.store).size, 0)

    const p1 = cli([...promoteArgs(lab, first.file), '--environment-id', 'prod', '--json'])
    assert.equal(p1.code, 0, p1.stderr)
    const target = (JSON.parse(p1.stdout) as {manifestHash: string}).manifestHash
    const p2 = cli(promoteArgs(lab, writeCandidate(lab, 'second', 1).file))
    assert.equal(p2.code, 0, p2.stderr)
    const before = snapshot(lab.store)
    const rollback = ['learn', 'rollback', ...baseArgs(lab), '--to', target, '--allow-unenforced', '--receipt-out', receipts]
    const r = cli(rollback)
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.stderr, under('learn lifecycle: --receipt-out', receipts, file))
    const j = cli([...rollback, '--json'])
    assert.equal(j.code, 1)
    assert.equal((JSON.parse(j.stdout) as {error: {code: string}}).error.code, 'WRITE_FAILED')
    assert.deepEqual(snapshot(lab.store), before)
  } finally {
    rmSync(lab.dir, {recursive: true, force: true})
  }
})
