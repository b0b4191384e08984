import {before, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {sealEscrow, x25519KeyPair} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

// What the evidence and escrow commands say when their input is not what they expect: stdin as
// `-`, a directory without recorder files, an empty chain, a key file given as --roster, an
// oversized receipt, a missing escrow file, --find of an absent id, --out-private -.

const dir = mkdtempSync(path.join(tmpdir(), 'pl-evidence-messages-'))
const sample = path.join(dir, 'sample')
const chain = path.join(sample, 'evidence-proxy-0.jsonl')
const key = path.join(sample, 'signer.pub')

before(() => {
  const r = spawnSync(process.execPath, [repoPath('scripts', 'make-sample-chain.mjs'), sample], {encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
})

test('verify-receipt - and transcript-root - read the chain from stdin, named -', () => {
  const input = readFileSync(chain, 'utf8')
  const v = runCli(['verify-receipt', '-', '--key', key], {input})
  assert.equal(v.status, 0, v.stderr)
  assert.match(v.stdout, /^CHAIN VALID: -\n {2}Receipts: {2}7\n/)
  const t = runCli(['transcript-root', '-', '--key', key], {input})
  assert.equal(t.status, 0, t.stderr)
  assert.match(t.stdout, /^Transcript Root: -\n {2}Session: {7}proxy\n/)
  // bounded as a receipt file is: 16 MiB
  const big = runCli(['verify-receipt', '-', '--key', key], {input: 'x'.repeat(16 * 1024 * 1024 + 1)})
  assert.equal(big.status, 1)
  assert.equal(big.stderr, 'reading chain: -: standard input is larger than the 16777216-byte limit [FILE_TOO_LARGE]; hint: pass the file itself (its size is not limited)\n')
})

test('a receipt file over the 16 MiB limit is FILE_TOO_LARGE, not FILE_UNREADABLE', () => {
  const big = path.join(dir, 'big.json')
  writeFileSync(big, 'a'.repeat(16 * 1024 * 1024 + 1))
  const r = runCli(['verify-receipt', big])
  assert.equal(r.status, 1)
  assert.equal(r.stderr, `reading receipt: ${big}: file is 16777217 bytes, larger than the 16777216-byte limit [FILE_TOO_LARGE]\n`)
})

test('transcript-root over an empty chain: the line carries its code', () => {
  const empty = path.join(dir, 'empty.jsonl')
  writeFileSync(empty, '')
  const r = runCli(['transcript-root', empty, '--key', key])
  assert.equal(r.status, 1)
  assert.equal(r.stderr, `no receipts found in ${empty} [CHAIN_EMPTY]\n`)
})

test('verify-receipt DIR without recorder files says which names it looked for, and what is there', () => {
  const v = path.join(dir, 'v')
  mkdirSync(v)
  copyFileSync(chain, path.join(v, 'run.jsonl'))
  const r = runCli(['verify-receipt', v, '--key', key])
  assert.equal(r.status, 1)
  assert.equal(r.stdout, `No receipts found in ${v} (session proxy)\n`)
  assert.equal(
    r.stderr,
    `no receipts in ${v} (session proxy)\n` +
      `note: looked for recorder files named evidence-proxy-<n>.jsonl (n the first entry seq) in ${v} and ${path.join(v, 'proxy')}, and found none; it holds other .jsonl files (run.jsonl): verify one as FILE, or pass --session ID if they are another session's recorder files\n`,
  )
})

test('verify-receipt --find of an id in no receipt: --json says why the exit status is 1, valid keeps its meaning', () => {
  const id = '01JH3KQ2V8ZQ6W4N0B1C5D7E9F'
  const r = runCli(['verify-receipt', chain, '--key', key, '--find', id, '--json'])
  assert.equal(r.status, 1)
  const j = JSON.parse(r.stdout)
  assert.equal(j.valid, true)
  assert.deepEqual(j.find, {id, found: false})
  assert.equal(j.error, `receipt ${id} not found (--find)`)
})

test('a key file given as --roster: the hint says it is a key file and what --roster expects', () => {
  const keyFile = path.join(dir, 'receipts.json')
  const g = runCli(['signing', 'key', 'generate', '--purpose', 'receipt-signing', '--out', keyFile])
  assert.equal(g.status, 0, g.stderr)
  const r = runCli(['verify-receipt', chain, '--roster', keyFile, '--roster-root-fingerprint', `sha256:${'0'.repeat(64)}`])
  assert.equal(r.status, 1)
  assert.match(r.stderr, /^roster decode failed: .* \[ROSTER_INVALID\]; hint: .*receipts\.json looks like a key file \(with a private key, key_id "[^"]+"\), not a key roster: --roster expects the signed roster that pipelock signing roster build writes/)
  assert.ok(r.stderr.endsWith('; a key file goes to --key\n'), r.stderr)
})

test('a key file given as the roster: the hint names the flags the command has (--path, --activation-key), not --roster/--key it lacks', () => {
  const keyFile = path.join(dir, 'ops.json')
  assert.equal(runCli(['signing', 'key', 'generate', '--purpose', 'contract-activation-signing', '--id', 'ops-a', '--out', keyFile]).status, 0)
  const fp = `sha256:${'0'.repeat(64)}`
  const what = `${keyFile} looks like a key file (with a private key, key_id "ops-a"), not a key roster`
  const built = '{"body":{…,"keys":[…]},"signature":…}'
  for (const [cmd, prefix] of [['verify', 'verify failed: '], ['show', 'load failed: ']] as const) {
    const r = runCli(['signing', 'roster', cmd, '--path', keyFile, '--root-fingerprint', fp])
    assert.equal(r.status, 1)
    assert.equal(
      r.stderr,
      `${prefix}roster decode failed: unknown field in signed-artifact transport payload: roster.created_at [ROSTER_INVALID]; hint: ${what}: --path expects the signed roster that pipelock signing roster build writes (${built}); a key file is listed in a roster with signing roster build --include id=…,key=FILE,purpose=…\n`,
    )
  }
  const p = runCli(['learn', 'promote', '--contract-store', path.join(dir, 'store'), '--roster', keyFile, '--roster-root-fingerprint', fp, '--candidate', keyFile, '--activation-key', 'ops-a', '--selector', 'agent'])
  assert.equal(p.status, 1)
  assert.ok(p.stderr.endsWith(`; hint: ${what}: --roster expects the signed roster that pipelock signing roster build writes (${built}); a key file goes to --activation-key\n`), p.stderr)
})

test('escrow decrypt of a missing file: FILE_NOT_FOUND in words, not ENOENT', () => {
  const missing = path.join(dir, 'nope.raw.enc')
  const r = runCli(['escrow', 'decrypt', '--key', '1'.repeat(64), missing])
  assert.equal(r.status, 1)
  assert.equal(r.stderr, `reading escrow file ${missing}: no such file or directory [FILE_NOT_FOUND]\n`)
})

test('escrow decrypt --verify-entry of a missing file or a directory: FILE_NOT_FOUND / FILE_UNREADABLE in words, before the decryption', () => {
  const kp = x25519KeyPair()
  const sidecar = path.join(dir, 'evidence-proxy-1.raw.enc')
  writeFileSync(sidecar, sealEscrow(Buffer.from('{"a":1}'), kp.publicKey))
  const k = kp.secretKey.toString('hex')
  const missing = path.join(dir, 'nope.jsonl')
  const r = runCli(['escrow', 'decrypt', '--key', k, '--verify-entry', missing, sidecar])
  assert.equal(r.status, 1)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, `reading --verify-entry ${missing}: no such file or directory [FILE_NOT_FOUND]\n`)
  const j = runCli(['escrow', 'decrypt', '--key', k, '--verify-entry', missing, sidecar, '--json'])
  assert.equal(j.status, 1)
  assert.deepEqual(JSON.parse(j.stdout), {error: {code: 'FILE_NOT_FOUND', message: `reading --verify-entry ${missing}: no such file or directory`, exit: 1}})
  const d = runCli(['escrow', 'decrypt', '--key', k, '--verify-entry', sample, sidecar])
  assert.equal(d.status, 1)
  assert.equal(d.stdout, '')
  assert.equal(d.stderr, `reading --verify-entry ${sample}: is a directory [FILE_UNREADABLE]; hint: name the evidence-<session>-<n>.jsonl file that holds the entry whose raw_ref names the sidecar\n`)
  // a readable file is searched as before
  const none = runCli(['escrow', 'decrypt', '--key', k, '--verify-entry', chain, sidecar])
  assert.equal(none.status, 1)
  assert.equal(none.stderr, `no entry in ${chain} has raw_ref "evidence-proxy-1.raw.enc" [RECORDER_ENTRY_INVALID]\n`)
})

test('escrow keygen --out-private - is refused: no file named -, no private key on stdout', () => {
  const cwd = mkdtempSync(path.join(dir, 'cwd-'))
  const r = runCli(['escrow', 'keygen', '--out-private', '-'], {cwd})
  assert.equal(r.status, 2)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, '--out-private -: the private key is never written to stdout [USAGE]; hint: name a file for it, or leave --out-private out to get it on stderr\n')
  assert.equal(existsSync(path.join(cwd, '-')), false)
})

test('audit --help names its subcommands first', () => {
  const r = runCli(['audit', '--help'])
  assert.equal(r.status, 0)
  assert.match(r.stdout, /^Scan a project directory and suggest a pipelock config; audit score, report and packet are subcommands \(below\)\n/)
  assert.match(r.stdout, /\n {2}Subcommands: audit score \(score a config's security posture\), audit report \(an\n/)
})
