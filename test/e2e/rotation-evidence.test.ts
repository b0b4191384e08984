import {describe, test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'
import {rawHttp, startHttpUpstream, startProxy, tempDir, type Upstream} from './proxy-harness.js'
import {recorderConfig, seededKeys, writeKeyFiles} from './rotation-harness.js'

// Evidence that spans an endorsed receipt-key rotation (receipts.md §6.6, §10), through every
// command that verifies a chain: the endorsement `signing rotation endorse` leaves in the recorder
// directory is found there, --rotation-endorsement names one anywhere, and an audit packet built
// over the rotation verifies with the endorsement its verifier.txt was rendered with. Retention
// that expires the whole old segment leaves the endorsement behind: it then links the pinned
// original key to the key in force at the cut, and is no error.

const keys = seededKeys('pipelock-e2e-rotation-evidence-', ['a', 'b'] as const)
const hex = (k: keyof typeof keys) => keys[k].publicKey.toString('hex')

describe('evidence across an endorsed key rotation', () => {
  let up: Upstream
  let dir = ''
  let evidence = ''
  const keyFile = (k: string) => path.join(dir, `${k}.key`)
  const pubFile = (k: string) => path.join(dir, `${k}.pub`)
  const config = (k: string, extra: string[] = []) => recorderConfig(evidence, keyFile(k), ['  max_entries_per_file: 3', ...extra])
  const serve = async (k: string, opts: {extra?: string[]; env?: NodeJS.ProcessEnv} = {}) => {
    const proxy = await startProxy(config(k, opts.extra), {dir, ...(opts.env === undefined ? {} : {env: opts.env})})
    try {
      for (let i = 0; i < 2; i++) assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})).status, 200)
    } finally {
      assert.equal(await proxy.stop(), 0)
    }
  }
  const endorsement = () => path.join(evidence, 'rotation-1.json')
  /** A copy of the recorder directory as it stands, for a test that must not see later runs. */
  let rotated = ''

  before(async () => {
    up = await startHttpUpstream()
    dir = tempDir('pipelock-rotation-evidence-')
    evidence = path.join(dir, 'evidence')
    writeKeyFiles(keys, keyFile, pubFile)
    await serve('a')
    // Endorsed, not yet in force: an endorsement no boundary uses yet is no error in its directory.
    const e = runCli(['signing', 'rotation', 'endorse', '--dir', evidence, '--retiring-key', keyFile('a'), '--new-key', pubFile('b')])
    assert.equal(e.status, 0, e.stderr)
    const pending = runCli(['verify-receipt', '--chain', evidence, '--key', pubFile('a')])
    assert.equal(pending.status, 0, pending.stdout + pending.stderr)
    assert.match(pending.stdout, /^CHAIN VALID: /)
    assert.match(pending.stderr, new RegExp(`warning: rotation-1\\.json: rotation endorsement \\(key ${hex('a').slice(0, 16)}… to ${hex('b').slice(0, 16)}… after chain_seq 3\\) matches no key change in this evidence; not used\n`))
    // Named on the command line it must be used: the spec's error.
    const named = runCli(['verify-receipt', '--chain', evidence, '--key', pubFile('a'), '--rotation-endorsement', endorsement()])
    assert.equal(named.status, 1)
    assert.match(named.stdout, /Error: {4}unused rotation endorsement does not match a required boundary\n/)
    await serve('b')
    rotated = path.join(dir, 'rotated')
    cpSync(evidence, rotated, {recursive: true})
  })
  after(async () => {
    await up.close()
    rmSync(dir, {recursive: true, force: true})
  })

  test('verify-receipt and transcript-root find the endorsement in the recorder directory', () => {
    const found = runCli(['verify-receipt', '--chain', rotated, '--key', pubFile('a'), '--json'])
    assert.equal(found.status, 0, found.stdout + found.stderr)
    const report = JSON.parse(found.stdout)
    assert.equal(report.actionReceipts.count, 8)
    assert.deepEqual(report.warnings, [])
    // named as well as found: one endorsement, not two matching one boundary
    const both = runCli(['verify-receipt', rotated, '--key', pubFile('a'), '--rotation-endorsement', path.join(rotated, 'rotation-1.json')])
    assert.equal(both.status, 0, both.stdout + both.stderr)
    const root = runCli(['transcript-root', '--chain', rotated, '--key', pubFile('a')])
    assert.equal(root.status, 0, root.stderr)
    assert.equal(root.stdout.split('\n')[0], `Transcript Root: ${rotated} (session proxy)`)
    assert.match(root.stdout, /\n {2}Receipt count: 8\n/)

    // Taken out of the directory, the endorsement is missing at the boundary; named, it is found again.
    const aside = path.join(dir, 'aside')
    cpSync(rotated, aside, {recursive: true})
    renameSync(path.join(aside, 'rotation-1.json'), path.join(dir, 'rotation-aside.json'))
    const without = runCli(['transcript-root', '--chain', aside, '--key', pubFile('a')])
    assert.equal(without.status, 1)
    assert.match(without.stderr, /: seq 0: rotation endorsement does not match receipt boundary\n/)
    const given = runCli(['transcript-root', '--chain', aside, '--key', pubFile('a'), '--rotation-endorsement', path.join(dir, 'rotation-aside.json')])
    assert.equal(given.status, 0, given.stderr)

    // A damaged file in the directory is refused, named, as a named one is.
    const damaged = path.join(dir, 'damaged')
    cpSync(rotated, damaged, {recursive: true})
    const f = path.join(damaged, 'rotation-1.json')
    writeFileSync(f, readFileSync(f, 'utf8').replace(/"rotated_at": "[^"]+"/, '"rotated_at": "2030-01-01T00:00:00Z"'))
    const bad = runCli(['verify-receipt', '--chain', damaged, '--key', pubFile('a')])
    assert.equal(bad.status, 1)
    assert.equal(bad.stdout, `CHAIN BROKEN: ${damaged} (session proxy)\n  Error:    rotation-1.json: rotation endorsement signature verification failed\n`)
  })

  test('audit packet build and verify, and audit report, across the rotation', () => {
    const packet = path.join(dir, 'packet')
    const built = runCli(['audit', 'packet', 'build', '--chain', rotated, '--key', pubFile('a'), '--out', packet])
    assert.equal(built.status, 0, built.stdout + built.stderr)
    assert.equal(built.stdout, `audit packet: ${packet} (verifier verdict valid, 4 decisions)\n`)
    const p = JSON.parse(readFileSync(path.join(packet, 'packet.json'), 'utf8'))
    assert.equal(p.verifier.signer_key, hex('a'))
    assert.equal(p.verifier.receipt_count, 9)
    assert.deepEqual(readdirSync(packet).sort(), ['evidence.jsonl', 'packet.json', 'summary.md', 'verifier.txt'])
    // verifier.txt is what verify-receipt prints for evidence.jsonl with the endorsement
    const direct = runCli(['verify-receipt', 'evidence.jsonl', '--key', pubFile('a'), '--rotation-endorsement', path.join(rotated, 'rotation-1.json')], {cwd: packet})
    assert.equal(direct.status, 0, direct.stdout + direct.stderr)
    assert.equal(readFileSync(path.join(packet, 'verifier.txt'), 'utf8'), direct.stdout + direct.stderr)

    // verify needs the endorsement too: the packet cannot carry it (v0 has exactly four files)
    const ok = runCli(['audit', 'packet', 'verify', packet, '--key', pubFile('a'), '--rotation-endorsement', path.join(rotated, 'rotation-1.json')])
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
    assert.match(ok.stdout, new RegExp(`^PACKET VALID: ${packet} \\(verdict valid, 9 receipts\\)\n`))
    const missing = runCli(['audit', 'packet', 'verify', packet, '--key', pubFile('a')])
    assert.equal(missing.status, 1)
    assert.match(
      missing.stdout,
      /^ {2}evidence\.jsonl now verifies as "invalid", the packet records "valid": evidence\.jsonl:6: seq 0: rotation endorsement does not match receipt boundary \(the evidence changes receipt key here: pass the rotation endorsement it was built with, --rotation-endorsement FILE\)$/m,
    )

    const report = path.join(dir, 'report.html')
    const r = runCli(['audit', 'report', '--chain', rotated, '--key', pubFile('a'), '--out', report, '--json'])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.equal(JSON.parse(r.stdout).verdict, 'valid')
    // a .jsonl file names its endorsement
    const file = path.join(packet, 'evidence.jsonl')
    const named = runCli(['audit', 'report', '--chain', file, '--key', pubFile('a'), '--out', report, '--rotation-endorsement', path.join(rotated, 'rotation-1.json')])
    assert.equal(named.status, 0, named.stdout + named.stderr)
    const unnamed = runCli(['audit', 'report', '--chain', file, '--key', pubFile('a'), '--out', report])
    assert.equal(unnamed.status, 1)
    assert.equal(unnamed.stderr, `audit report: the evidence did not verify (verdict invalid): ${file}:6: seq 0: rotation endorsement does not match receipt boundary\n`)
  })

  test('retention expires the whole old segment: the endorsement left behind links the original key to the new one', async () => {
    // Three days later as the retention clock sees it: every closed file is past a 1-day cutoff.
    const later = new Date(Date.now() + 3 * 86_400_000).toISOString()
    await serve('b', {extra: ['  retention_days: 1'], env: {PIPELOCK_RETENTION_NOW: later}})
    const lines = readdirSync(evidence)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readFileSync(path.join(evidence, f), 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l))
    const signers = new Set(lines.filter((e) => e.type === 'action_receipt').map((e) => e.detail.signer_key))
    // no receipt of key A remains, nor the boundary; the endorsement stays
    assert.deepEqual([...signers], [hex('b')])
    assert.ok(!lines.some((e) => e.type === 'action_receipt' && e.detail.action_record.key_transition !== undefined))
    assert.ok(existsSync(endorsement()))

    const fromA = runCli(['verify-receipt', '--chain', evidence, '--key', pubFile('a')])
    assert.equal(fromA.status, 0, fromA.stdout + fromA.stderr)
    assert.match(fromA.stdout, /^CHAIN VALID: /)
    assert.match(fromA.stderr, new RegExp(`warning: the chains resume after a retention cut under key ${hex('b').slice(0, 16)}…, which the pinned key handed over to \\(rotation-1\\.json\\)\n`))
    // named, it is used the same way
    const namedA = runCli(['verify-receipt', '--chain', evidence, '--key', pubFile('a'), '--rotation-endorsement', endorsement()])
    assert.equal(namedA.status, 0, namedA.stdout + namedA.stderr)

    // Pinned to the new key, the endorsement links nothing: reported when found, refused when named (§6.6).
    const fromB = runCli(['verify-receipt', '--chain', evidence, '--key', pubFile('b')])
    assert.equal(fromB.status, 0, fromB.stdout + fromB.stderr)
    assert.match(fromB.stderr, /warning: rotation-1\.json: rotation endorsement \(key [0-9a-f]{16}… to [0-9a-f]{16}… after chain_seq 3\) matches no key change in this evidence; not used\n/)
    const namedB = runCli(['verify-receipt', '--chain', evidence, '--key', pubFile('b'), '--rotation-endorsement', endorsement()])
    assert.equal(namedB.status, 1)
    assert.match(namedB.stdout, /Error: {4}unused rotation endorsement does not match a required boundary\n/)

    const packet = path.join(dir, 'packet-after-retention')
    const built = runCli(['audit', 'packet', 'build', '--chain', evidence, '--key', pubFile('a'), '--out', packet])
    assert.equal(built.status, 0, built.stdout + built.stderr)
    const ok = runCli(['audit', 'packet', 'verify', packet, '--key', pubFile('a'), '--rotation-endorsement', endorsement()])
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
  })
})
