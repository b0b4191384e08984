/**
 * operations.md §8.2 / §10.2 [beyond]: an allowlist edit with a change note and SIGHUP writes a
 * `config_change` audit event with the `add` entry, both hashes and the operator's note; an edit
 * made while stopped is recorded at the next start (`trigger: startup`) with `--change-note`.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, it} from 'node:test'
import {encodePrivateKeyText, encodePublicKeyText, goPrivateKey, keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {startProxy, tempDir, until} from './proxy-harness.js'

const key = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-config-change-key').digest())

const base = (allow: string[], dir: string): string => [
  `api_allowlist: [${allow.join(', ')}]`,
  'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(dir, 'evidence'))}`,
  `  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`,
].join('\n') + '\n'

const changeEvents = (out: string): Array<Record<string, unknown>> =>
  out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'config_change')

describe('policy-change trail', {timeout: 60_000}, () => {
  it('SIGHUP after an allowlist edit: config_change with the diff, hashes and the change note', async () => {
    const dir = tempDir('pipelock-change-')
    writeFileSync(path.join(dir, 'receipt.key'), encodePrivateKeyText(goPrivateKey(key)), {mode: 0o600})
    writeFileSync(path.join(dir, 'receipt.pub'), encodePublicKeyText(key.publicKey))
    const proxy = await startProxy(base(['a.example'], dir), {dir})
    try {
      assert.equal(changeEvents(proxy.stdout()).length, 0, 'a first start has nothing to compare with')
      const cfg = path.join(dir, 'pipelock.yaml')
      writeFileSync(cfg, base(['a.example', 'b.example'], dir))
      const sha = createHash('sha256').update(readFileSync(cfg)).digest('hex')
      writeFileSync(`${cfg}.change`, JSON.stringify({operator: 'didericis', justification: 'billing agent needs b.example', change_id: 'CHG-7', file_sha256: sha}))
      proxy.proc.kill('SIGHUP')
      assert.ok(await until(async () => changeEvents(proxy.stdout()).length > 0, 5000), proxy.stderr())
      const ev = changeEvents(proxy.stdout())[0]!
      assert.equal(ev.trigger, 'sighup')
      assert.equal(ev.outcome, 'applied')
      assert.equal(ev.level, 'warn')
      assert.deepEqual(ev.changes, [{path: 'api_allowlist', op: 'add', new: 'b.example'}])
      assert.equal(ev.new_file_sha256, sha)
      assert.notEqual(ev.prior_policy_hash, ev.new_policy_hash)
      assert.match(String(ev.new_policy_hash), /^sha256:[0-9a-f]{64}$/)
      assert.equal(ev.operator, 'didericis')
      assert.equal(ev.justification, 'billing agent needs b.example')
      assert.equal(ev.change_id, 'CHG-7')
      assert.ok(existsSync(`${cfg}.change.applied`), 'the note is consumed')
    } finally {
      assert.equal(await proxy.stop(), 0)
    }
    // Edited while stopped: recorded at the next start, with --change-note.
    writeFileSync(path.join(dir, 'pipelock.yaml'), base(['b.example'], dir))
    const again = await startProxy(base(['b.example'], dir), {dir, args: ['--change-note', 'drop a.example after the migration']})
    try {
      const ev = changeEvents(again.stdout())
      assert.equal(ev.length, 1)
      assert.equal(ev[0]!.trigger, 'startup')
      assert.deepEqual(ev[0]!.changes, [{path: 'api_allowlist', op: 'remove', old: 'a.example'}])
      assert.equal(ev[0]!.justification, 'drop a.example after the migration')
    } finally {
      assert.equal(await again.stop(), 0)
    }
    // With a signing key each change is also a signed EvidenceReceipt v2 `config_change` in the
    // recorder's v2 chain, continued across the restart; verify-receipt accepts the chain.
    const evidence = path.join(dir, 'evidence')
    const lines = readdirSync(evidence).filter((f) => f.endsWith('.jsonl')).sort().flatMap((f) => readFileSync(path.join(evidence, f), 'utf8').trim().split('\n'))
    const receipts = lines.map((l) => JSON.parse(l) as {type: string; event_kind?: string; detail?: Record<string, unknown>}).filter((e) => e.type === 'evidence_receipt')
    const kinds = receipts.map((e) => (e.detail as {payload_kind: string}).payload_kind)
    assert.deepEqual(kinds, ['config_change', 'config_change'])
    const first = receipts[0]!.detail as {actor: string; chain_seq: number; payload: Record<string, unknown>}
    assert.equal(first.actor, 'didericis')
    assert.equal(first.payload.trigger, 'sighup')
    assert.deepEqual(first.payload.changed_paths, ['api_allowlist'])
    assert.equal((receipts[1]!.detail as {chain_seq: number}).chain_seq, 1)
    const r = runCli(['verify-receipt', '--chain', evidence, '--key', path.join(dir, 'receipt.pub'), '--json'])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.equal(JSON.parse(r.stdout).valid, true)
  })
})
