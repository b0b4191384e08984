import {describe, it, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {systemClock} from '../../src/plugins/canonical/index.js'
import {generateKeyFile} from '../../src/plugins/signing/index.js'
import {repoPath, vectorPath} from '../helpers/vectors.js'

// End to end through the built CLI: keygen → key generate → roster build → verify → show.
// Every keystore lives in a temp dir (never the real home).

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function pipelock(args: string[], env: Record<string, string> = {}): Run {
  const home = mkdtempSync(path.join(tmpdir(), 'pl-e2e-home-'))
  const r = spawnSync(process.execPath, [repoPath('bin', 'run.js'), ...args], {
    encoding: 'utf8',
    env: {...process.env, HOME: home, PIPELOCK_HOME: path.join(home, '.pipelock'), NO_COLOR: '1', ...env},
  })
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

const mode = (p: string): number => statSync(p).mode & 0o777

describe('keygen → key generate → roster build → verify → show', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-e2e-'))
  const ks = path.join(dir, 'ks')
  const pub = path.join(ks, 'agents', 'ops-alice', 'id_ed25519.pub')
  const root = path.join(dir, 'root.json')
  const rcpt = path.join(dir, 'receipts.json')
  const out = path.join(dir, 'roster.json')
  let fp = ''
  let rootId = ''

  it('keygen: exact stdout, modes, refusal to overwrite', () => {
    const kg = pipelock(['keygen', 'ops-alice', '--keystore', ks])
    assert.equal(kg.code, 0, kg.stderr)
    assert.equal(kg.stdout, `Key pair generated for agent "ops-alice"\nPublic key: ${pub}\nShare with: pipelock trust ops-alice ${pub}\n`)
    assert.equal(mode(path.join(ks, 'agents', 'ops-alice', 'id_ed25519')), 0o600)
    assert.equal(mode(pub), 0o644)
    assert.equal(mode(path.join(ks, 'agents')), 0o750)
    // the command to share it is copied whole: a path with a space is quoted for the shell
    const spaced = path.join(dir, 'key store')
    const sp = pipelock(['keygen', 'ops-bob', '--keystore', spaced])
    assert.equal(sp.code, 0, sp.stderr)
    const spacedPub = path.join(spaced, 'agents', 'ops-bob', 'id_ed25519.pub')
    assert.equal(sp.stdout, `Key pair generated for agent "ops-bob"\nPublic key: ${spacedPub}\nShare with: pipelock trust ops-bob '${spacedPub}'\n`)
    const again = pipelock(['keygen', 'ops-alice', '--keystore', ks])
    assert.equal(again.code, 1)
    assert.equal(again.stdout, '')
    assert.equal(again.stderr, 'keys already exist for agent "ops-alice" (use --force to overwrite) [KEY_EXISTS]\n')
  })

  it('signing key generate: roster-root (4 lines) and receipt-signing (--json)', () => {
    const kr = pipelock(['signing', 'key', 'generate', '--purpose', 'roster-root', '--out', root])
    assert.equal(kr.code, 0, kr.stderr)
    const rootFile = JSON.parse(readFileSync(root, 'utf8')) as {key_id: string; public: string}
    const lines = kr.stdout.split('\n')
    assert.equal(lines.length, 5)
    assert.equal(lines[0], 'Generated roster-root keypair')
    assert.equal(lines[1], `  key_id:      ${rootFile.key_id}`)
    assert.match(lines[2] as string, /^  fingerprint: sha256:[0-9a-f]{64}$/)
    assert.equal(lines[3], `  out:         ${root}`)
    fp = (lines[2] as string).slice('  fingerprint: '.length)
    rootId = rootFile.key_id
    assert.equal(rootId, `roster-root-${fp.slice(7, 15)}`)
    assert.equal(mode(root), 0o600)
    const kj = pipelock(['signing', 'key', 'generate', '--purpose', 'receipt-signing', '--id', 'receipts-1', '--out', rcpt, '--json'])
    assert.equal(kj.code, 0, kj.stderr)
    const j = JSON.parse(kj.stdout) as {keyId: string; purpose: string; out: string}
    assert.deepEqual([j.keyId, j.purpose, j.out], ['receipts-1', 'receipt-signing', rcpt])
  })

  it('signing roster build: 6 lines, 0600', () => {
    const rb = pipelock([
      'signing', 'roster', 'build', '--root', root,
      '--include', `id=receipts-1,key=${rcpt},purpose=receipt-signing`,
      '--include', `id=ops-alice,key=${pub},purpose=contract-activation-signing,role=alice`,
      '--out', out,
    ])
    assert.equal(rb.code, 0, rb.stderr)
    assert.equal(
      rb.stdout,
      `Built signed roster\n  keys:                3\n  root_signed_by:      ${rootId}\n  root_fingerprint:    ${fp}\n  data_class_root:     internal\n  out:                 ${out}\n`,
    )
    assert.equal(mode(out), 0o600)
  })

  it('signing roster verify / show', () => {
    const rv = pipelock(['signing', 'roster', 'verify', '--path', out, '--root-fingerprint', fp])
    assert.equal(rv.code, 0, rv.stderr)
    assert.equal(rv.stdout, `roster verified: 3 keys, root_signed_by="${rootId}"\n`)
    const rs = pipelock(['signing', 'roster', 'show', '--path', out, '--root-fingerprint', fp])
    assert.equal(rs.code, 0, rs.stderr)
    const envText = readFileSync(out, 'utf8')
    const bodyText = envText.slice(envText.indexOf('"body": ') + 8, envText.indexOf(',\n  "signature"')).replace(/\n {2}/g, '\n')
    assert.equal(rs.stdout, bodyText + '\n')
  })

  it('verify / show with a wrong pin: one line, verify failed: / load failed: and the error, exit 1', () => {
    const bad = 'sha256:' + '0'.repeat(64)
    const err = `roster root key fingerprint does not match pinned: fingerprint mismatch: got ${fp}, want ${bad}`
    const rvBad = pipelock(['signing', 'roster', 'verify', '--path', out, '--root-fingerprint', bad])
    assert.equal(rvBad.code, 1)
    assert.equal(rvBad.stderr, `verify failed: ${err} [FINGERPRINT_INVALID]\n`)
    const rsBad = pipelock(['signing', 'roster', 'show', '--path', out, '--root-fingerprint', bad])
    assert.equal(rsBad.code, 1)
    assert.equal(rsBad.stderr, `load failed: ${err} [FINGERPRINT_INVALID]\n`)
  })
})

test('CLI refusals: exact stderr, exit 1', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-e2e-'))
  const rel = pipelock(['signing', 'roster', 'build', '--root', '/nope.json', '--include', 'id=a', '--out', 'roster.json'])
  assert.equal(rel.code, 1)
  // a relative --out is resolved against the working directory; the missing root key is what fails
  assert.equal(rel.stderr, 'load root key: open key file "/nope.json": no such file or directory [ROSTER_BUILD_REFUSED]\n')
  // --id must be a safe identifier; an empty one is refused, not replaced by the default
  const hint = 'a key id is 1 to 64 of A-Z a-z 0-9 . _ - (not "." and without "..")'
  const traversal = pipelock(['signing', 'key', 'generate', '--purpose', 'receipt-signing', '--id', '../../x', '--out', path.join(dir, 'k.json')])
  assert.deepEqual(traversal, {code: 2, stdout: '', stderr: `--id "../../x" is not a valid key id: it contains ".." (a path traversal sequence) [USAGE]; hint: ${hint}\n`})
  const empty = pipelock(['signing', 'key', 'generate', '--purpose', 'receipt-signing', '--id', '', '--out', path.join(dir, 'k.json')])
  assert.deepEqual(empty, {code: 2, stdout: '', stderr: '--id must not be empty [USAGE]; hint: leave --id out for the default <purpose>-<first 8 hex of the fingerprint>\n'})
  assert.equal(existsSync(path.join(dir, 'k.json')), false)
  const purpose = pipelock(['signing', 'key', 'generate', '--purpose', 'bogus', '--out', path.join(dir, 'k.json')])
  assert.equal(purpose.code, 1)
  assert.equal(purpose.stderr, 'unknown key_purpose: "bogus" [KEY_PURPOSE_INVALID]\n')
  const rcpt = path.join(dir, 'r.json')
  generateKeyFile({purpose: 'receipt-signing', out: rcpt, id: 'r1', clock: systemClock})
  const out = path.join(dir, 'roster.json')
  const wrongRoot = pipelock(['signing', 'roster', 'build', '--root', rcpt, '--include', `id=r1,key=${rcpt},purpose=receipt-signing`, '--out', out])
  assert.equal(wrongRoot.code, 1)
  assert.equal(wrongRoot.stdout, '')
  assert.equal(wrongRoot.stderr, 'load root key: key file purpose mismatch: file="receipt-signing" expected="roster-root" [ROSTER_BUILD_REFUSED]\n')
  const root = path.join(dir, 'root.json')
  generateKeyFile({purpose: 'roster-root', out: root, id: 'root', clock: systemClock})
  const disagree = pipelock(['signing', 'roster', 'build', '--root', root, '--include', `id=r1,key=${rcpt},purpose=contract-compile-signing`, '--out', out])
  assert.equal(disagree.code, 1)
  assert.equal(disagree.stderr, '--include id="r1": purpose flag "contract-compile-signing" disagrees with key file purpose "receipt-signing" [ROSTER_BUILD_REFUSED]\n')
  assert.equal(existsSync(out), false)
  // trust given a directory says so (the key file is inside it), and a missing file is not found
  const keys = path.join(dir, 'ks', 'agents')
  mkdirSync(keys, {recursive: true})
  const trustDir = pipelock(['trust', 'peer', keys, '--keystore', path.join(dir, 'ks')])
  assert.deepEqual(trustDir, {code: 1, stdout: '', stderr: `reading public key ${keys}: is a directory [FILE_UNREADABLE]; hint: name the public key file (id_ed25519.pub), not a directory\n`})
  const trustJson = pipelock(['trust', 'peer', keys, '--keystore', path.join(dir, 'ks'), '--json'])
  assert.deepEqual(JSON.parse(trustJson.stdout), {error: {code: 'FILE_UNREADABLE', message: `reading public key ${keys}: is a directory`, exit: 1, hint: 'name the public key file (id_ed25519.pub), not a directory'}})
  const trustMissing = pipelock(['trust', 'peer', path.join(keys, 'nope.pub'), '--keystore', path.join(dir, 'ks')])
  assert.deepEqual(trustMissing, {code: 1, stdout: '', stderr: `reading public key ${path.join(keys, 'nope.pub')}: no such file or directory [FILE_NOT_FOUND]\n`})
  const name = pipelock(['keygen', '../x', '--keystore', path.join(dir, 'ks')])
  assert.equal(name.code, 1)
  assert.equal(name.stderr, 'agent name "../x" contains path traversal sequence [AGENT_NAME_INVALID]\n')
  // a name of valid characters that is only too long: the reference's message, and a hint with the limit
  const long = 'a'.repeat(65)
  const tooLong = pipelock(['keygen', long, '--keystore', path.join(dir, 'ks')])
  assert.deepEqual(tooLong, {
    code: 1,
    stdout: '',
    stderr: `agent name "${long}" contains invalid characters (use "${'a'.repeat(64)}") [AGENT_NAME_INVALID]; hint: agent names are at most 64 characters; this one has 65\n`,
  })
})

test('keygen uses $PIPELOCK_HOME when no --keystore/--home is given', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-e2e-'))
  const r = pipelock(['keygen', 'bot', '--json'], {PIPELOCK_HOME: dir})
  assert.equal(r.code, 0, r.stderr)
  const j = JSON.parse(r.stdout) as {publicKeyPath: string}
  assert.equal(j.publicKeyPath, path.join(dir, 'agents', 'bot', 'id_ed25519.pub'))
})

test('signing recovery verify and transition verify on the golden documents', () => {
  const rec = pipelock([
    'signing', 'recovery', 'verify',
    '--path', vectorPath('contract', 'signing', 'valid_recovery_authorization.json'),
    '--pinned-fingerprint', 'sha256:39f713d0a644253f04529421b9f51b9b08979d08295959c4f3990ee617f5139f',
    '--recovery-pubkey', '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    '--now', '2026-04-26T13:10:00Z',
  ])
  assert.equal(rec.code, 0, rec.stderr)
  assert.equal(
    rec.stdout,
    'loaded recovery-root: fingerprint=sha256:39f713d0a644253f04529421b9f51b9b08979d08295959c4f3990ee617f5139f\n' +
      'recovery authorization verified: reason="roster root key compromised", expires_at=2026-04-26T13:30:00Z, operator="ops@example.com"\n' +
      'NOTE: target_roster_hash binding NOT verified (offline mode). Runtime callers MUST pass --expected-target-roster-hash.\n',
  )
  const tr = pipelock([
    'signing', 'transition', 'verify',
    '--path', vectorPath('contract', 'signing', 'valid_root_transition.json'),
    '--old-pubkey', 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    '--new-pubkey', '2756790e333460a65bde23c44cdb9eadcb144faca6d04de234104d2bdb0d884b',
  ])
  assert.equal(tr.code, 0, tr.stderr)
  assert.equal(
    tr.stdout,
    'loaded transition keys: old_fingerprint=sha256:21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9, new_fingerprint=sha256:82b554bd0ac856758d29d195d8a3c1d633086f8df6cd1b19318d15967ff66450\n' +
      'transition verified: kind=roster-root, old=sha256:21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9, new=sha256:82b554bd0ac856758d29d195d8a3c1d633086f8df6cd1b19318d15967ff66450, effective_at=2026-04-26T15:00:00Z\n',
  )
  // The same transition from key files: keygen's .pub format and a hex file both work; a file
  // that is neither is refused under the flag that named it.
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-e2e-'))
  const oldPub = path.join(dir, 'old-root.pub')
  writeFileSync(oldPub, `pipelock-ed25519-public-v1\n${Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex').toString('base64')}\n`)
  const newHex = path.join(dir, 'new-root.hex')
  writeFileSync(newHex, '2756790e333460a65bde23c44cdb9eadcb144faca6d04de234104d2bdb0d884b\n')
  const transition = vectorPath('contract', 'signing', 'valid_root_transition.json')
  const fromFiles = pipelock(['signing', 'transition', 'verify', '--path', transition, '--old-pubkey-file', oldPub, '--new-pubkey-file', newHex])
  assert.deepEqual(fromFiles, {code: 0, stdout: tr.stdout, stderr: ''})
  const junk = path.join(dir, 'junk.pub')
  writeFileSync(junk, 'pub\n')
  const bad = pipelock(['signing', 'transition', 'verify', '--path', transition, '--old-pubkey-file', junk, '--new-pubkey-file', newHex])
  assert.deepEqual(bad, {
    code: 1,
    stdout: '',
    stderr: `--old-pubkey-file ${junk}: invalid hex: encoding/hex: invalid byte: U+0070 'p' [KEY_INVALID]; hint: the key is expected as 64 hex characters or a pipelock-ed25519-public-v1 file (keygen's .pub)\n`,
  })

  const late = pipelock([
    'signing', 'recovery', 'verify',
    '--path', vectorPath('contract', 'signing', 'valid_recovery_authorization.json'),
    '--pinned-fingerprint', 'sha256:39f713d0a644253f04529421b9f51b9b08979d08295959c4f3990ee617f5139f',
    '--recovery-pubkey', '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    '--now', '2026-04-26T13:30:01Z',
  ])
  assert.equal(late.code, 1)
  assert.equal(late.stderr, 'verify failed: recovery authorization expired: expires_at 2026-04-26T13:30:00Z [RECOVERY_INVALID]\n')
})

test('a key of the wrong kind is named for what it is, with the file to pass instead', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-e2e-'))
  const ks = path.join(dir, 'ks')
  assert.equal(pipelock(['keygen', 'agent1', '--keystore', ks]).code, 0)
  const priv = path.join(ks, 'agents', 'agent1', 'id_ed25519')
  const pub = `${priv}.pub`
  const json = path.join(dir, 'sk1')
  generateKeyFile({purpose: 'receipt-signing', out: json, id: 'r1', clock: systemClock})

  // The public half (0644) where a private key belongs: no chmod advice for a public key.
  const endorse = pipelock(['signing', 'rotation', 'endorse', '--dir', dir, '--retiring-key', pub, '--new-key', pub])
  assert.deepEqual(endorse, {
    code: 1,
    stdout: '',
    stderr: `--retiring-key: ${pub} is a public key (pipelock-ed25519-public-v1), not a private key: pass the private key file (keygen writes it beside the .pub, as id_ed25519) [KEY_INVALID]\n`,
  })

  // A private key or a JSON key file where a public key belongs: the reference's message, and a
  // hint naming what was found (never the key itself).
  const format = 'invalid public key format (expected pipelock-ed25519-public-v1 header) [KEY_INVALID]; hint: '
  const privHint = 'found a private key (pipelock-ed25519-private-v1) where a public key is expected: pass its public half, the .pub file keygen wrote beside it'
  const jsonHint = "found a JSON deployment key file (pipelock signing key generate) where a public key is expected: pass a pipelock-ed25519-public-v1 file (keygen's id_ed25519.pub)"
  assert.deepEqual(pipelock(['trust', 'peer2', priv, '--keystore', ks]), {code: 1, stdout: '', stderr: `${format}${privHint}\n`})
  assert.deepEqual(pipelock(['trust', 'peer2', json, '--keystore', ks]), {code: 1, stdout: '', stderr: `${format}${jsonHint}\n`})
  const receipt = path.join(dir, 'r.json')
  writeFileSync(receipt, '{}')
  const vr = pipelock(['verify-receipt', receipt, '--key', json])
  assert.equal(vr.code, 1)
  assert.equal(vr.stderr, `loading public key: invalid public key: ${format}${jsonHint}, or the key file's "public" value (64 hex)\n`)
  const vrPriv = pipelock(['verify-receipt', receipt, '--key', priv])
  assert.equal(vrPriv.stderr, `loading public key: invalid public key: ${format}${privHint}\n`)
  assert.doesNotMatch(vr.stderr + vrPriv.stderr, new RegExp(JSON.parse(readFileSync(json, 'utf8')).private.slice(0, 16)))
})
