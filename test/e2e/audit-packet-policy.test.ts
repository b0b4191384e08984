import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {recordRun, steppingClock} from '../helpers/recorder-fixture.js'
import {encodePublicKeyText, keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'

// The packet's policy.policy_hashes is every hash that signed at least one receipt
// (vectors/audit-packet/v0.schema.json), not only those of the decisions: a second run under
// a looser config that decided nothing still shows in the packet.

test('audit packet build: policy_hashes holds the hash of a run that decided nothing, and packet verify agrees', async () => {
  const key = keyPairFromSeed(sha256('pipelock-audit-packet-policy-test'))
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-audit-packet-policy-'))
  const evidence = path.join(dir, 'evidence')
  const pubFile = path.join(dir, 'receipt.pub')
  writeFileSync(pubFile, encodePublicKeyText(key.publicKey))
  const clock = steppingClock(1_790_000_000_000_000_000n, 1_000_000_000n)
  const enforcing = 'sha256:' + '11'.repeat(32)
  const audit = 'sha256:' + '22'.repeat(32)
  await recordRun({dir: evidence, key, clock, run: 1, policyHash: enforcing, decisions: [{method: 'GET', target: 'https://api.example.com/x', transport: 'fetch', verdict: 'allow'}]})
  // the second run only opens and closes (session_control receipts)
  await recordRun({dir: evidence, key, clock, run: 2, policyHash: audit, decisions: []})

  const out = path.join(dir, 'packet')
  const b = runCli(['audit', 'packet', 'build', '--chain', evidence, '--key', pubFile, '--out', out])
  assert.equal(b.status, 0, b.stderr)
  const packet = JSON.parse(readFileSync(path.join(out, 'packet.json'), 'utf8'))
  assert.deepEqual(packet.policy.policy_hashes, [enforcing, audit])
  assert.equal(packet.summary.receipt_count, 1)
  const v = runCli(['audit', 'packet', 'verify', out, '--key', pubFile])
  assert.equal(v.status, 0, v.stdout + v.stderr)
  assert.match(v.stdout, /^PACKET VALID: /)
})
