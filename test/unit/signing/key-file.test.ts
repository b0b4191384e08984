import {test} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fixedClock} from '../../../src/plugins/canonical/index.js'
import {encodeKeyFile, encodePublicKeyText, generateKeyFile, loadKeyFile} from '../../../src/plugins/signing/index.js'
import {seeded, test1, TEST1_FP, TEST1_PUB} from './test-keys.js'

const clock = fixedClock('2026-04-01T12:34:56.789Z')
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'pl-kf-'))

function write(dir: string, name: string, text: string, mode = 0o600): string {
  const p = path.join(dir, name)
  writeFileSync(p, text)
  chmodSync(p, mode)
  return p
}

test('generateKeyFile: exact file bytes, 0600, default id from the fingerprint', () => {
  const dir = tmp()
  const out = path.join(dir, 'root.json')
  const r = generateKeyFile({purpose: 'roster-root', out, clock, keyPair: test1()})
  assert.equal(r.keyId, 'roster-root-21fe31df')
  assert.equal(r.fingerprint, TEST1_FP)
  assert.equal(r.createdAt, '2026-04-01T12:34:56Z')
  assert.equal(statSync(out).mode & 0o777, 0o600)
  const seedHex = test1().seed.toString('hex')
  assert.equal(
    readFileSync(out, 'utf8'),
    `{\n  "schema_version": 1,\n  "purpose": "roster-root",\n  "key_id": "roster-root-21fe31df",\n  "public": "${TEST1_PUB}",\n  "private": "${seedHex}${TEST1_PUB}",\n  "created_at": "2026-04-01T12:34:56Z"\n}\n`,
  )
  const k = loadKeyFile(out, 'roster-root')
  assert.equal(k.keyId, 'roster-root-21fe31df')
  assert.equal(k.publicKeyHex, TEST1_PUB)
})

test('generateKeyFile refusals in order: purpose, relative --out, existing --out', () => {
  const dir = tmp()
  const out = path.join(dir, 'k.json')
  assert.throws(() => generateKeyFile({purpose: 'nope', out: 'rel.json', clock}), {message: 'unknown key_purpose: "nope"'})
  assert.throws(() => generateKeyFile({purpose: 'receipt-signing', out: 'rel.json', clock}), {message: '--out must be absolute, got "rel.json"'})
  generateKeyFile({purpose: 'receipt-signing', out, id: 'r1', clock})
  assert.throws(() => generateKeyFile({purpose: 'receipt-signing', out, clock}), {message: `output file "${out}" already exists (use --force to overwrite)`})
  assert.equal(generateKeyFile({purpose: 'receipt-signing', out, id: 'r2', force: true, clock}).keyId, 'r2')
})

test('generateKeyFile --id: an unsafe or empty id is a usage error and nothing is written', () => {
  const dir = tmp()
  const out = path.join(dir, 'k.json')
  const rule = 'a key id is 1 to 64 of A-Z a-z 0-9 . _ - (not "." and without "..")'
  const cases: Array<[string, string]> = [
    ['../../x', '--id "../../x" is not a valid key id: it contains ".." (a path traversal sequence)'],
    ['a..b', '--id "a..b" is not a valid key id: it contains ".." (a path traversal sequence)'],
    ['.', '--id "." is not a valid key id: it is "."'],
    ['a/b', '--id "a/b" is not a valid key id: it contains characters other than A-Z a-z 0-9 . _ -'],
    ['a\nb', '--id "a\\nb" is not a valid key id: it contains characters other than A-Z a-z 0-9 . _ -'],
    ['k'.repeat(65), `--id "${'k'.repeat(65)}" is not a valid key id: it is 65 characters long (at most 64)`],
  ]
  for (const [id, message] of cases) {
    assert.throws(() => generateKeyFile({purpose: 'receipt-signing', out, id, clock}), {code: 'USAGE', message, hint: rule}, id)
  }
  assert.throws(() => generateKeyFile({purpose: 'receipt-signing', out, id: '', clock}), {
    code: 'USAGE',
    message: '--id must not be empty',
    hint: 'leave --id out for the default <purpose>-<first 8 hex of the fingerprint>',
  })
  assert.equal(existsSync(out), false)
  for (const id of ['a', 'A-b_c.d', 'k'.repeat(64), 'receipts-1']) {
    assert.equal(generateKeyFile({purpose: 'receipt-signing', out, id, force: true, clock}).keyId, id)
  }
})

test('loadKeyFile gate: every §8.4 refusal', () => {
  const dir = tmp()
  const good = encodeKeyFile('receipt-signing', 'r1', test1(), '2026-04-01T00:00:00Z')
  const obj = JSON.parse(good) as Record<string, unknown>
  const variant = (patch: Record<string, unknown>): string => JSON.stringify({...obj, ...patch}, null, 2)
  const sub = path.join(dir, 'adir')
  mkdirSync(sub, {mode: 0o700})
  assert.throws(() => loadKeyFile(sub), {message: `key file "${sub}" is not a regular file (mode=drwx------)`})
  const loose = write(dir, 'loose.json', good, 0o644)
  assert.throws(() => loadKeyFile(loose), {message: `private key ${loose} has permissions 0644, want 0600 or 0640 (run: chmod 640 ${loose})`})
  // A public key (0644 by design) is named for what it is before the permission check.
  const pub = write(dir, 'id_ed25519.pub', encodePublicKeyText(test1().publicKey), 0o644)
  assert.throws(() => loadKeyFile(pub, 'roster-root'), {
    message: `key file "${pub}" is a pipelock-ed25519-public-v1 key (the format of keygen's agent keys), not a JSON deployment key file with purpose roster-root (create one with pipelock signing key generate --purpose roster-root --out FILE)`,
  })
  const big = write(dir, 'big.json', good + ' '.repeat(16384))
  assert.throws(() => loadKeyFile(big), {message: `key file exceeds size cap: got ${Buffer.byteLength(good) + 16384} bytes, max 16384`})
  assert.throws(() => loadKeyFile(write(dir, 't.json', good + '{}')), {message: 'trailing JSON after key file object'})
  assert.throws(() => loadKeyFile(write(dir, 'u.json', variant({extra: 1}))), {message: 'decode key file: json: unknown field "extra"'})
  assert.throws(() => loadKeyFile(write(dir, 's.json', variant({schema_version: 2}))), {message: 'unsupported key file schema_version 2 (expected 1)'})
  assert.throws(() => loadKeyFile(write(dir, 'p.json', variant({purpose: 'x'}))), {message: 'invalid key file purpose: unknown key_purpose: "x"'})
  assert.throws(() => loadKeyFile(write(dir, 'ok.json', good), 'roster-root'), {
    message: 'key file purpose mismatch: file="receipt-signing" expected="roster-root"',
  })
  assert.throws(() => loadKeyFile(write(dir, 'pub.json', variant({public: 'abcd'}))), {message: 'public key has wrong size: got 2, want 32'})
  assert.throws(() => loadKeyFile(write(dir, 'priv.json', variant({private: TEST1_PUB}))), {message: 'private key has wrong size: got 32, want 64'})
  const other = seeded(7)
  assert.throws(() => loadKeyFile(write(dir, 'mm.json', variant({public: other.publicKey.toString('hex')}))), {message: 'private key does not match public key'})
  const badHalf = test1().seed.toString('hex') + other.publicKey.toString('hex')
  assert.throws(() => loadKeyFile(write(dir, 'mm2.json', variant({private: badHalf}))), {message: 'private key does not match public key'})
  assert.equal(loadKeyFile(write(dir, 'g640.json', good, 0o640)).keyId, 'r1')
})
