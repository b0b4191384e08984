import {describe, test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {createHash} from 'node:crypto'
import {keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {baseConfig, rawHttp, startHttpUpstream, startProxy, tempDir, writeReceiptKeys, type Upstream} from './proxy-harness.js'

// flight_recorder.raw_escrow through the built CLI (policy-extra.md §3.4–3.6): the evidence line
// carries the redacted target and a raw_ref; the sidecar it names holds the unredacted detail,
// sealed to the escrow key; `pipelock escrow decrypt` gives it back to the key holder only.

const AWS_KEY = ['AKIA', 'IOSFODNN7', 'REALKEY'].join('') // built at run time: not a literal credential
const key = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-escrow-key').digest())

describe('flight recorder raw_escrow', () => {
  let up: Upstream
  let dir = ''
  before(async () => {
    up = await startHttpUpstream()
    dir = tempDir('pipelock-escrow-')
    writeReceiptKeys(dir, key)
  })
  after(async () => {
    await up.close()
    rmSync(dir, {recursive: true, force: true})
  })

  test('keygen, sealed sidecars named by raw_ref, decrypt round trip, wrong key refused', async () => {
    const gen = runCli(['escrow', 'keygen', '--out-private', path.join(dir, 'escrow.key'), '--json'])
    assert.equal(gen.status, 0, gen.stderr)
    const {publicKey} = JSON.parse(gen.stdout)
    assert.match(publicKey, /^[0-9a-f]{64}$/)
    // Without --out-private the private half goes to stderr only, --json included.
    const loose = runCli(['escrow', 'keygen', '--json'])
    assert.equal(loose.status, 0, loose.stderr)
    assert.deepEqual(Object.keys(JSON.parse(loose.stdout)), ['publicKey'])
    assert.match(loose.stderr, /^WARNING: store this key offline\nprivate: [0-9a-f]{64}\n$/)
    assert.equal(readFileSync(path.join(dir, 'escrow.key'), 'utf8').trim().length, 64)
    const again = runCli(['escrow', 'keygen', '--out-private', path.join(dir, 'escrow.key')])
    assert.equal(again.status, 1)
    assert.equal(again.stderr.split('\n')[0], `${path.join(dir, 'escrow.key')} already exists [FILE_EXISTS]`)

    const evidence = path.join(dir, 'evidence')
    const cfg = baseConfig(
      [
        'ssrf:',
        '  ip_allowlist: ["127.0.0.1/32"]',
        'flight_recorder:',
        '  enabled: true',
        `  dir: ${JSON.stringify(evidence)}`,
        `  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`,
        '  raw_escrow: true',
        `  escrow_public_key: "${publicKey}"`,
      ].join('\n'),
    )
    const proxy = await startProxy(cfg, {dir})
    try {
      const blocked = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/upload?key=${AWS_KEY}`})
      assert.equal(blocked.headers['x-pipelock-block-reason'], 'dlp_match')
    } finally {
      assert.equal(await proxy.stop(), 0)
    }
    const files = readdirSync(evidence)
    const jsonl = files.filter((f) => f.endsWith('.jsonl'))
    const entries = jsonl.flatMap((f) => readFileSync(path.join(evidence, f), 'utf8').trim().split('\n')).map((l) => JSON.parse(l))
    // every entry but checkpoints names its sidecar; the secret is in no line and in no sidecar's bytes
    for (const e of entries) {
      if (e.type === 'checkpoint') assert.equal(e.raw_ref, undefined)
      else assert.equal(e.raw_ref, `evidence-proxy-${e.seq}.raw.enc`)
    }
    for (const f of files) assert.ok(!readFileSync(path.join(evidence, f)).includes(AWS_KEY), `${f} holds the secret in clear`)
    const block = entries.find((e) => e.type === 'action_receipt' && e.detail.action_record.verdict === 'block')
    assert.ok(!block.detail.action_record.target.includes(AWS_KEY))

    const sidecar = path.join(evidence, block.raw_ref)
    const dec = runCli(['escrow', 'decrypt', '--key', path.join(dir, 'escrow.key'), '--verify-entry', path.join(evidence, jsonl[0]!), sidecar, '--json'])
    assert.equal(dec.status, 0, dec.stderr)
    const r = JSON.parse(dec.stdout)
    assert.equal(r.publicKey, publicKey)
    const raw = JSON.parse(r.plaintext)
    assert.equal(raw.action_record.target, `http://127.0.0.1:${up.port}/upload?key=${AWS_KEY}`)
    assert.equal(r.binding.entrySeq, String(block.seq))
    assert.equal(r.binding.matches, false)

    // an entry that was not redacted: the plaintext is exactly the detail its hash covers
    const open = entries.find((e) => e.type === 'action_receipt')
    const plain = runCli(['escrow', 'decrypt', '--key', readFileSync(path.join(dir, 'escrow.key'), 'utf8').trim(), '--verify-entry', path.join(evidence, jsonl[0]!), path.join(evidence, open.raw_ref)])
    assert.equal(plain.status, 0, plain.stderr)
    assert.equal(plain.stderr, `escrow matches entry seq ${open.seq}\n`)
    assert.deepEqual(JSON.parse(plain.stdout), open.detail)

    // the chain with raw_ref in its hashes verifies
    const v = runCli(['verify-receipt', '--chain', evidence, '--key', path.join(dir, 'receipt.pub'), '--json'])
    assert.equal(v.status, 0, v.stdout + v.stderr)

    writeFileSync(path.join(dir, 'other.key'), 'ab'.repeat(32) + '\n', {mode: 0o600})
    const wrong = runCli(['escrow', 'decrypt', '--key', path.join(dir, 'other.key'), sidecar])
    assert.equal(wrong.status, 1)
    assert.equal(wrong.stderr.split('\n')[0], 'escrow decryption failed: authentication failed (wrong key or corrupted file) [ESCROW_DECRYPT_FAILED]')
    const badKey = runCli(['escrow', 'decrypt', '--key', 'xyz', sidecar])
    assert.equal(badKey.status, 1)
    assert.equal(badKey.stderr.split('\n')[0], '--key: xyz is neither 64 hex chars nor a readable file [FILE_NOT_FOUND]')
    // A mistyped key (a 0x prefix, a digit short) is never echoed, in text or JSON.
    const realKey = readFileSync(path.join(dir, 'escrow.key'), 'utf8').trim()
    for (const typo of [`0x${realKey}`, realKey.slice(0, -1)]) {
      for (const json of [[], ['--json']]) {
        const r = runCli(['escrow', 'decrypt', '--key', typo, ...json, sidecar])
        assert.equal(r.status, 1)
        assert.ok(!(r.stdout + r.stderr).includes(realKey.slice(2, 40)), r.stdout + r.stderr)
        if (json.length === 0) assert.equal(r.stderr.split('\n')[0], `--key: the value given (${typo.length} characters of hex, not shown: a key) is neither 64 hex chars nor a readable file [FILE_NOT_FOUND]`)
      }
    }
    // A directory is no key file (never a chmod hint for it).
    const keyDir = runCli(['escrow', 'decrypt', '--key', dir, sidecar])
    assert.equal(keyDir.status, 1)
    assert.match(keyDir.stderr.split('\n')[0]!, /^--key: .* is a directory \[FILE_UNREADABLE\]; hint: name the key file escrow keygen --out-private wrote, or give the 64 hex chars$/)
    writeFileSync(path.join(dir, 'junk.key'), 'not a key\n', {mode: 0o600})
    assert.equal(runCli(['escrow', 'decrypt', '--key', path.join(dir, 'junk.key'), sidecar]).stderr.split('\n')[0], `--key: ${path.join(dir, 'junk.key')} does not hold an escrow key (64 hex chars, 32 bytes) [KEY_INVALID]`)
    // A private key file readable by others is refused, as every private key file is.
    writeFileSync(path.join(dir, 'shared.key'), readFileSync(path.join(dir, 'escrow.key')), {mode: 0o644})
    chmodSync(path.join(dir, 'shared.key'), 0o644)
    const shared = runCli(['escrow', 'decrypt', '--key', path.join(dir, 'shared.key'), sidecar])
    assert.equal(shared.status, 1)
    assert.match(shared.stderr.split('\n')[0]!, /^private key .*shared\.key has permissions 0644, want 0600 or 0640 .*\[KEY_PERMISSIONS\]$/)
    // --out: a new file, 0600; an existing one (here 0644) is neither overwritten nor widened without --force.
    const existing = path.join(dir, 'notes.txt')
    writeFileSync(existing, 'keep\n', {mode: 0o644})
    chmodSync(existing, 0o644)
    const clobber = runCli(['escrow', 'decrypt', '--key', path.join(dir, 'escrow.key'), sidecar, '--out', existing])
    assert.equal(clobber.status, 1)
    assert.equal(clobber.stderr.split('\n')[0], `--out ${existing} already exists [FILE_EXISTS]; hint: choose a new file, or pass --force to replace it`)
    assert.equal(readFileSync(existing, 'utf8'), 'keep\n')
    const forced = runCli(['escrow', 'decrypt', '--key', path.join(dir, 'escrow.key'), sidecar, '--out', existing, '--force'])
    assert.equal(forced.status, 0, forced.stderr)
    assert.equal(statSync(existing).mode & 0o777, 0o600)
    assert.ok(readFileSync(existing, 'utf8').includes(AWS_KEY))
  })

  test('raw_escrow without a key is refused by check and run alike', () => {
    const sub = tempDir('pipelock-escrow-nokey-')
    try {
      const c = path.join(sub, 'c.yaml')
      writeFileSync(c, baseConfig(['flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(sub, 'ev'))}`, '  raw_escrow: true'].join('\n')))
      for (const args of [['check', '--config', c], ['run', '--config', c, '--listen', '127.0.0.1:0']]) {
        const r = runCli(args)
        assert.notEqual(r.status, 0, args[0])
        assert.match(r.stdout + r.stderr, /flight_recorder\.escrow_public_key.*is required when raw_escrow is enabled/, args[0])
      }
    } finally {
      rmSync(sub, {recursive: true, force: true})
    }
  })
})
