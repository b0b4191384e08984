import {describe, test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {verifyBytes} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {rawHttp, startHttpUpstream, startProxy, tempDir, type Upstream} from './proxy-harness.js'
import {recorderConfig, seededKeys, writeKeyFiles} from './rotation-harness.js'

// Rotating the flight recorder's receipt key with pipelock alone (receipts.md §6.6, §10): run
// with key A, endorse key B with A (`signing rotation endorse`), run with B; the chain then
// verifies from the pinned key A across the endorsed boundary, and only there.

const keys = seededKeys('pipelock-e2e-rotation-key-', ['a', 'b', 'c'] as const)
const hex = (k: keyof typeof keys) => keys[k].publicKey.toString('hex')

describe('pipelock run: receipt key rotation', () => {
  let up: Upstream
  let dir = ''
  let evidence = ''
  const keyFile = (k: string) => path.join(dir, `${k}.key`)
  const pubFile = (k: string) => path.join(dir, `${k}.pub`)
  const config = (k: string) => recorderConfig(evidence, keyFile(k))
  /** A run that must refuse to start: its one-line reason. */
  const refusedRun = (k: string) => {
    const cfg = path.join(dir, `refused-${k}.yaml`)
    writeFileSync(cfg, config(k))
    const r = runCli(['run', '--config', cfg, '--listen', '127.0.0.1:0'])
    assert.notEqual(r.status, 0, r.stderr)
    return r.stderr
  }
  const serve = async (k: string, check?: (stderr: string) => void) => {
    const proxy = await startProxy(config(k), {dir})
    try {
      check?.(proxy.stderr())
      assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})).status, 200)
      assert.equal((await rawHttp(proxy.port, {method: 'POST', path: `http://127.0.0.1:${up.port}/items`, body: '{}'})).status, 200)
    } finally {
      assert.equal(await proxy.stop(), 0)
    }
  }
  const verify = (...extra: string[]) => runCli(['verify-receipt', '--chain', evidence, '--key', pubFile('a'), ...extra])
  const endorsement = () => path.join(evidence, 'rotation-1.json')

  before(async () => {
    up = await startHttpUpstream()
    dir = tempDir('pipelock-rotation-')
    evidence = path.join(dir, 'evidence')
    writeKeyFiles(keys, keyFile, pubFile)
  })
  after(async () => {
    await up.close()
    rmSync(dir, {recursive: true, force: true})
  })

  test('run A, endorse B, run B: verifies from A across the boundary, and only with the endorsement', async () => {
    await serve('a')

    // Key B before any endorsement: refused, and the refusal names the command that fixes it.
    const before = refusedRun('b')
    assert.match(before, new RegExp(`is signed by key ${hex('a')}, not by this signing key ${hex('b')}, and no rotation endorsement`))
    assert.match(before, /pipelock signing rotation endorse --dir /)

    // Only the key that signed the tail may endorse.
    const wrong = runCli(['signing', 'rotation', 'endorse', '--dir', evidence, '--retiring-key', keyFile('c'), '--new-key', pubFile('b')])
    assert.equal(wrong.status, 1)
    assert.match(wrong.stderr, /is not signed by the retiring key .*\[RECEIPT_KEY_MISMATCH\]/)

    const r = runCli(['signing', 'rotation', 'endorse', '--dir', evidence, '--retiring-key', keyFile('a'), '--new-key', pubFile('b'), '--json'])
    assert.equal(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.equal(out.file, endorsement())
    assert.equal(out.prior_signer_key, hex('a'))
    assert.equal(out.new_signer_key, hex('b'))
    // per run: session_open, two requests, session_close → the tail is chain_seq 3
    assert.equal(out.prior_final_seq, '3')
    assert.equal(statSync(endorsement()).mode & 0o777, 0o600)
    const written = JSON.parse(readFileSync(endorsement(), 'utf8'))
    assert.deepEqual(Object.keys(written), ['version', 'session_id', 'prior_signer_key', 'prior_final_seq', 'prior_tail_hash', 'new_signer_key', 'rotated_at', 'endorsement'])

    // A second endorsement of the same boundary is refused (two would make the boundary ambiguous).
    const again = runCli(['signing', 'rotation', 'endorse', '--dir', evidence, '--retiring-key', keyFile('a'), '--new-key', keyFile('b')])
    assert.equal(again.status, 1)
    assert.match(again.stderr, /rotation-1\.json already endorses this rotation .*\[FILE_EXISTS\]/)

    // The endorsement names B: key C is still refused, saying why.
    assert.match(refusedRun('c'), new RegExp(`rotation-1\\.json: authorises key ${hex('b').slice(0, 16)}…, not this key ${hex('c').slice(0, 16)}….*\\[ENDORSEMENT_INVALID\\]`))

    // A tampered endorsement authorises nothing.
    const original = readFileSync(endorsement(), 'utf8')
    writeFileSync(endorsement(), original.replace(/"rotated_at": "[^"]+"/, '"rotated_at": "2030-01-01T00:00:00Z"'), {mode: 0o600})
    assert.match(refusedRun('b'), /rotation-1\.json: rotation endorsement signature verification failed.*\[ENDORSEMENT_INVALID\]/)
    const tampered = verify('--rotation-endorsement', endorsement())
    assert.equal(tampered.status, 1)
    assert.match(tampered.stdout + tampered.stderr, /rotation endorsement signature verification failed/)
    writeFileSync(endorsement(), original, {mode: 0o600})

    await serve('b', (stderr) => assert.match(stderr, new RegExp(`rotated from key ${hex('a').slice(0, 16)}…, endorsed by .*rotation-1\\.json`)))
    // A later restart with B continues B's segment.
    await serve('b')

    const ok = verify('--rotation-endorsement', endorsement(), '--json')
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
    const report = JSON.parse(ok.stdout)
    assert.equal(report.valid, true)
    assert.equal(report.actionReceipts.count, 12)
    assert.equal(report.actionReceipts.runs, 3)
    // the last segment: two runs of four receipts
    assert.equal(report.actionReceipts.finalSeq, '7')
    // B's first run records the policy change (the signing key path) in a v2 receipt signed by B:
    // it verifies under the key the endorsement hands over to.
    assert.deepEqual(report.counts.byPayloadKind, {config_change: 1})
    assert.equal(report.evidenceReceipts.valid, true)
    assert.equal(report.evidenceReceipts.signaturesChecked, true)
    // Checkpoints are signed by the recorder key in force: A's run by A, B's runs by B (receipts.md §7.3).
    assert.equal(report.entries.signedCheckpoints, 3)

    const text = verify('--rotation-endorsement', endorsement())
    assert.equal(text.status, 0, text.stderr)
    assert.match(text.stdout, /^CHAIN VALID: /)

    // The rotated segment starts with a restart session_open at chain_seq 0 carrying key_transition.
    const lines = readFileSync(path.join(evidence, 'evidence-proxy-0.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    const receipts = lines.filter((e) => e.type === 'action_receipt').map((e) => e.detail)
    const first = receipts[4]
    assert.equal(first.signer_key, hex('b'))
    assert.equal(first.action_record.chain_seq, 0)
    assert.equal(first.action_record.session_control.kind, 'session_open')
    assert.deepEqual(first.action_record.key_transition, {prior_signer_key: hex('a'), prior_chain_seq: 3, prior_chain_hash: written.prior_tail_hash})
    assert.equal(first.action_record.chain_prev_hash, written.prior_tail_hash)
    const checkpoints = lines.filter((e) => e.type === 'checkpoint').map((e) => e.detail.signature)
    const signedBy = (sig: string, prev: string, k: keyof typeof keys) => verifyBytes(keys[k].publicKey, Buffer.from(prev, 'ascii'), Buffer.from(sig, 'hex'))
    const prevs = lines.filter((e) => e.type === 'checkpoint').map((e) => e.prev_hash as string)
    assert.deepEqual(checkpoints.map((sig, i) => (signedBy(sig, prevs[i]!, 'a') ? 'a' : signedBy(sig, prevs[i]!, 'b') ? 'b' : '?')), ['a', 'b', 'b'])

    // The endorsement in the recorder directory is found without naming it.
    const found = verify()
    assert.equal(found.status, 0, found.stdout + found.stderr)
    assert.match(found.stdout, /^CHAIN VALID: /)

    // Without the endorsement (neither in the directory nor named) the chain breaks at the boundary.
    const aside = path.join(dir, 'rotation-1.aside.json')
    renameSync(endorsement(), aside)
    const without = verify()
    assert.equal(without.status, 1)
    assert.match(without.stdout, /Error: {4}seq 0: rotation endorsement does not match receipt boundary/)
    renameSync(aside, endorsement())

    // The evidence set check takes the endorsement too and checks each checkpoint under its run's key.
    const audit = runCli(['integrity', 'verify', evidence, '--key', pubFile('a'), '--rotation-endorsement', endorsement()])
    assert.equal(audit.status, 0, audit.stdout + audit.stderr)
  })
})
