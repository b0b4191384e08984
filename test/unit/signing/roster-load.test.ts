import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fixedClock, goJsonIndent, type JsonObject, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {
  formatSignature,
  loadRoster,
  resolveKey,
  rosterBodyTree,
  rosterSigningBytes,
  signBytes,
  type Ed25519KeyPair,
  type KeyRoster,
} from '../../../src/plugins/signing/index.js'
import {seeded, test1, TEST1_FP, TEST1_PUB} from './test-keys.js'

const at = (iso: string): bigint => fixedClock(iso).nowNanos()

function baseBody(): KeyRoster {
  return {
    schemaVersion: 1,
    rosterSignedBy: 'root',
    dataClassRoot: 'internal',
    keys: [
      {keyId: 'root', keyPurpose: 'roster-root', publicKeyHex: TEST1_PUB, validFrom: '2026-04-01T00:00:00Z', validUntil: null, status: 'root', principal: 'root'},
      {keyId: 'rcpt', keyPurpose: 'receipt-signing', publicKeyHex: seeded(1).publicKey.toString('hex'), validFrom: '2026-04-01T00:00:00Z', validUntil: '2026-05-01T00:00:00Z', status: 'active', principal: ''},
      {keyId: 'old', keyPurpose: 'receipt-signing', publicKeyHex: seeded(2).publicKey.toString('hex'), validFrom: '2026-04-01T00:00:00Z', validUntil: null, status: 'revoked', principal: ''},
      {keyId: 'ops', keyPurpose: 'contract-activation-signing', publicKeyHex: seeded(3).publicKey.toString('hex'), validFrom: 'yesterday', validUntil: 'soon', status: 'active', principal: 'alice'},
    ],
  }
}

function write(body: KeyRoster, opts: {signer?: Ed25519KeyPair; signature?: string; ext?: string; mutate?: (env: JsonObject) => void} = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-roster-'))
  const sig = opts.signature ?? formatSignature(signBytes(opts.signer ?? test1(), rosterSigningBytes(body)))
  const env: JsonObject = new Map<string, JsonValue>([
    ['body', rosterBodyTree(body)],
    ['signature', sig],
  ])
  opts.mutate?.(env)
  const file = path.join(dir, `roster${opts.ext ?? '.json'}`)
  writeFileSync(file, goJsonIndent(env, '', '  ') + '\n')
  return file
}

const fails = (file: string, message: string | RegExp, pin = TEST1_FP): void => {
  assert.throws(() => loadRoster(file, pin), {message})
}

test('a well-formed roster loads; YAML rosters too (JSON is YAML)', () => {
  const body = baseBody()
  assert.equal(loadRoster(write(body), TEST1_FP).body.keys.length, 4)
  assert.equal(loadRoster(write(body, {ext: '.YAML'}), TEST1_FP).rootKeyId, 'root')
  assert.equal(loadRoster(write(body, {ext: '.yml'}), TEST1_FP).rootKeyId, 'root')
})

test('steps 1–2: read, extension, decode', () => {
  fails('/nonexistent/roster.json', /^roster read failed: /)
  fails(write(baseBody(), {ext: '.txt'}), 'unsupported roster file extension: ".txt"')
  fails(write(baseBody(), {mutate: (e) => e.set('extra', true)}), 'roster decode failed: unknown field in signed-artifact transport payload: roster.extra')
  fails(
    write(baseBody(), {mutate: (e) => (e.get('body') as JsonObject).set('schema_version', '1')}),
    /^roster decode failed: roster\.body\.schema_version: expected int64/,
  )
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-roster-'))
  const y = path.join(dir, 'r.yaml')
  writeFileSync(y, 'body: &b {}\nsignature: x\n')
  fails(y, 'roster decode failed: yaml: anchors and aliases forbidden in signed artifacts')
  const empty = path.join(dir, 'e.json')
  writeFileSync(empty, ' \n')
  fails(empty, 'roster decode failed: empty or null payload')
})

test('steps 3–4: body validation under its sentinel', () => {
  const P = 'roster body validation failed: '
  const b1 = baseBody()
  b1.schemaVersion = 2
  fails(write(b1), P + 'unsupported key_roster schema_version; expected 1: got 2')
  const b2 = baseBody()
  b2.keys.push({...(b2.keys[1] as KeyRoster['keys'][number])})
  fails(write(b2), P + 'duplicate key_id in key_roster: "rcpt"')
  const b3 = baseBody()
  b3.rosterSignedBy = 'rcpt'
  fails(write(b3), P + 'roster_signed_by must reference a key with status=root: key_id "rcpt" not found with status "root"')
  const b4 = baseBody()
  b4.dataClassRoot = 'regulated'
  fails(write(b4), /^roster body validation failed: data_class_root regulated is forbidden/)
  const b5 = baseBody()
  ;(b5.keys[1] as KeyRoster['keys'][number]).status = 'paused'
  fails(write(b5), /^roster body validation failed: key has unknown status/)
  const b6 = baseBody()
  ;(b6.keys[1] as KeyRoster['keys'][number]).keyPurpose = 'misc'
  fails(write(b6), /^roster body validation failed: key has unknown key_purpose/)
  const b7 = baseBody()
  ;(b7.keys[1] as KeyRoster['keys'][number]).publicKeyHex = 'abcd'
  fails(write(b7), /^roster body validation failed: key has missing or malformed public_key_hex/)
})

test('step 5: signature format', () => {
  const P = 'roster signature format invalid: '
  fails(write(baseBody(), {signature: ''}), P + 'empty signature')
  fails(write(baseBody(), {signature: 'rsa:00'}), P + 'missing "ed25519:" prefix')
  fails(write(baseBody(), {signature: 'ed25519:abcd'}), P + 'hex length 4, want 128')
  fails(write(baseBody(), {signature: 'ed25519:' + 'zz'.repeat(64)}), P + "invalid hex: encoding/hex: invalid byte: U+007A 'z'")
})

test('steps 7–9: root purpose, pin, signature', () => {
  const b = baseBody()
  ;(b.keys[0] as KeyRoster['keys'][number]).keyPurpose = 'recovery-root'
  fails(write(b), 'roster root key has wrong key_purpose: got "recovery-root", want "roster-root"')
  fails(write(baseBody()), /^roster root key fingerprint does not match pinned: fingerprint mismatch/, 'sha256:' + '1'.repeat(64))
  fails(write(baseBody(), {signer: seeded(9)}), 'roster signature does not verify')
  // a second root-status key is allowed; only roster_signed_by's entry signs
  const two = baseBody()
  two.keys.push({keyId: 'root2', keyPurpose: 'roster-root', publicKeyHex: seeded(4).publicKey.toString('hex'), validFrom: '2026-04-01T00:00:00Z', validUntil: null, status: 'root', principal: ''})
  assert.equal(loadRoster(write(two), TEST1_FP).rootKeyId, 'root')
})

test('resolveKey: revoked, expired, window edges, unparsable times', () => {
  const r = loadRoster(write(baseBody()), TEST1_FP)
  assert.equal(resolveKey(r, 'rcpt', at('2026-05-01T00:00:00Z')).keyId, 'rcpt') // now == valid_until
  assert.throws(() => resolveKey(r, 'rcpt', at('2026-05-01T00:00:00.000000001Z')), {message: 'key is expired'})
  assert.throws(() => resolveKey(r, 'old', at('2026-04-10T00:00:00Z')), {message: 'key is revoked'})
  assert.throws(() => resolveKey(r, 'ops', at('2026-04-10T00:00:00Z')), /^PipelockError: key is not yet valid: invalid valid_from: /)
})

test('a hand-written block-style YAML roster: absent valid_until is null, absent principal omitted', () => {
  const body = baseBody()
  body.keys = body.keys.slice(0, 2)
  const rcpt = body.keys[1] as KeyRoster['keys'][number]
  rcpt.validUntil = null
  const sig = formatSignature(signBytes(test1(), rosterSigningBytes(body)))
  const yaml = [
    'body:',
    '    data_class_root: internal',
    '    keys:',
    '        - key_id: root',
    '          key_purpose: roster-root',
    `          public_key_hex: ${TEST1_PUB}`,
    '          principal: root',
    '          status: root',
    '          valid_from: "2026-04-01T00:00:00Z"',
    '          valid_until: null',
    '        - key_id: rcpt',
    '          key_purpose: receipt-signing',
    `          public_key_hex: "${rcpt.publicKeyHex}"`,
    '          status: active',
    '          valid_from: 2026-04-01T00:00:00Z',
    '    roster_signed_by: root',
    '    schema_version: 1',
    `signature: ${sig}`,
    '',
  ].join('\n')
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-roster-'))
  const file = path.join(dir, 'roster.yml')
  writeFileSync(file, yaml)
  const r = loadRoster(file, TEST1_FP)
  assert.equal(r.body.keys[1]?.validUntil, null)
  assert.equal(r.body.keys[1]?.principal, '')
  // a YAML integer where a string belongs is a type error, as in Go's typed decode
  writeFileSync(file, yaml.replace('roster_signed_by: root', 'roster_signed_by: 12'))
  fails(file, /^roster decode failed: roster\.body\.roster_signed_by: expected string/)
})
