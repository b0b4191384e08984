import {test} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {canonicalize, fixedClock} from '../../../src/plugins/canonical/index.js'
import {
  buildRoster,
  encodePublicKeyText,
  generateKeyFile,
  loadRoster,
  parseIncludeSpec,
  rosterBodyTree,
  type BuildRosterOptions,
} from '../../../src/plugins/signing/index.js'
import {seeded, test1, TEST1_FP} from './test-keys.js'

const clock = fixedClock('2026-04-02T10:00:00.5Z')

function setup() {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-build-'))
  const root = path.join(dir, 'root.json')
  const rcpt = path.join(dir, 'rcpt.json')
  const compile = path.join(dir, 'compile.json')
  const pub = path.join(dir, 'ops.pub')
  generateKeyFile({purpose: 'roster-root', out: root, id: 'root-1', clock, keyPair: test1()})
  generateKeyFile({purpose: 'receipt-signing', out: rcpt, id: 'rcpt-file-id', clock, keyPair: seeded(1)})
  generateKeyFile({purpose: 'contract-compile-signing', out: compile, clock, keyPair: seeded(2)})
  writeFileSync(pub, encodePublicKeyText(seeded(3).publicKey))
  const out = path.join(dir, 'roster.json')
  const opts = (patch: Partial<BuildRosterOptions> = {}): BuildRosterOptions => ({
    rootKeyPath: root,
    includes: [`id=receipts,key=${rcpt},purpose=receipt-signing`],
    out,
    clock,
    ...patch,
  })
  return {dir, root, rcpt, compile, pub, out, opts}
}

test('build: body order, root first with principal root, valid_from = now (seconds), signed, 0600', () => {
  const s = setup()
  const r = buildRoster(
    s.opts({
      includes: [
        ` id=receipts , key=${s.rcpt} , purpose=receipt-signing ,, `,
        `id=ops-alice,key=${s.pub},purpose=contract-activation-signing,role=alice`,
        `id=compile,key=${s.compile},purpose=contract-compile-signing,status=revoked`,
      ],
    }),
  )
  assert.equal(r.keys, 4)
  assert.equal(r.rootSignedBy, 'root-1')
  assert.equal(r.rootFingerprint, TEST1_FP)
  assert.equal(r.dataClassRoot, 'internal')
  assert.equal(statSync(s.out).mode & 0o777, 0o600)
  const text = readFileSync(s.out, 'utf8')
  assert.ok(text.startsWith('{\n  "body": {\n    "schema_version": 1,\n    "roster_signed_by": "root-1",\n    "keys": [\n      {\n        "key_id": "root-1",'))
  assert.ok(text.endsWith('  "signature": "' + r.signature + '"\n}\n'))
  const loaded = loadRoster(s.out, TEST1_FP)
  const keys = loaded.body.keys
  assert.deepEqual(keys.map((k) => [k.keyId, k.keyPurpose, k.status, k.principal, k.validFrom, k.validUntil]), [
    ['root-1', 'roster-root', 'root', 'root', '2026-04-02T10:00:00Z', null],
    ['receipts', 'receipt-signing', 'active', '', '2026-04-02T10:00:00Z', null],
    ['ops-alice', 'contract-activation-signing', 'active', 'alice', '2026-04-02T10:00:00Z', null],
    ['compile', 'contract-compile-signing', 'revoked', '', '2026-04-02T10:00:00Z', null],
  ])
  assert.equal(
    canonicalize(rosterBodyTree(loaded.body)).slice(0, 60),
    '{"data_class_root":"internal","keys":[{"key_id":"root-1","ke',
  )
})

test('include spec parsing', () => {
  assert.deepEqual(parseIncludeSpec('id=a, key=/k ,purpose=receipt-signing,role=r', 0), {id: 'a', key: '/k', purpose: 'receipt-signing', status: '', role: 'r'})
  const p = (raw: string, msg: string): void => assert.throws(() => parseIncludeSpec(raw, 2), {message: `--include[2] ${JSON.stringify(raw)}: ${msg}`})
  p('id=a,oops', 'expected key=value, got "oops"')
  p('id=a,id=b', 'duplicate key "id"')
  p('id=a,color=red', 'unknown key "color" (allowed: id, key, purpose, status, role)')
  p('key=/k,purpose=x', 'missing required field id')
  p('id=a,purpose=x', 'missing required field key')
  p('id=a,key=/k', 'missing required field purpose')
  p('id=a,key=/k,purpose=', 'missing required field purpose')
})

test('refusals 1–15 in table order, each with its message', () => {
  const s = setup()
  const r = (patch: Partial<BuildRosterOptions>, message: string): void => assert.throws(() => buildRoster(s.opts(patch)), {message})
  // 1 relative --out (wins over everything after it)
  r({out: 'roster.json', schemaVersion: 2}, '--out must be absolute, got "roster.json"')
  // 2 existing --out
  writeFileSync(s.out, 'x')
  r({schemaVersion: 2}, `output file "${s.out}" already exists (use --force to overwrite)`)
  // 3 schema version (with --force the existing file no longer matters)
  r({force: true, schemaVersion: 2, dataClass: 'bogus'}, '--schema-version 2 unsupported (expected 1)')
  // 4, 5 data class
  r({force: true, dataClass: 'bogus'}, 'invalid data_class: "bogus"')
  r({force: true, dataClass: 'regulated'}, '--data-class regulated is forbidden in signed artifacts')
  // 6 root key
  r({force: true, rootKeyPath: s.rcpt}, 'load root key: key file purpose mismatch: file="receipt-signing" expected="roster-root"')
  chmodSync(s.root, 0o644)
  r({force: true}, `load root key: private key ${s.root} has permissions 0644, want 0600 or 0640 (run: chmod 640 ${s.root})`)
  chmodSync(s.root, 0o600)
  // 7 no includes
  r({force: true, includes: []}, 'at least one --include is required')
  // 8 malformed include
  r({force: true, includes: ['id=a', 'garbage']}, '--include[0] "id=a": missing required field key')
  // 9 duplicate ids (against the root, and against another include)
  r({force: true, includes: [`id=root-1,key=${s.rcpt},purpose=receipt-signing`]}, 'duplicate --include id "root-1" (root takes id "root-1")')
  r(
    {force: true, includes: [`id=a,key=${s.rcpt},purpose=receipt-signing`, `id=a,key=${s.pub},purpose=receipt-signing`]},
    'duplicate --include id "a" (root takes id "root-1")',
  )
  // 10, 11 purpose
  r({force: true, includes: [`id=a,key=${s.rcpt},purpose=signing`]}, '--include id="a": unknown key_purpose: "signing"')
  r({force: true, includes: [`id=a,key=${s.root},purpose=roster-root`]}, '--include id="a": roster-root entries are auto-included from --root and must not be passed as --include')
  // 12 include key unreadable / malformed
  const missing = path.join(s.dir, 'missing.json')
  r({force: true, includes: [`id=a,key=${missing},purpose=receipt-signing`]}, `--include id="a": read public key "${missing}": no such file or directory`)
  r(
    {force: true, includes: [`id=a,key=d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a,purpose=receipt-signing`]},
    '--include id="a": read public key "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a": no such file or directory',
  )
  const badPub = path.join(s.dir, 'bad.pub')
  writeFileSync(badPub, 'hello')
  r(
    {force: true, includes: [`id=a,key=${badPub},purpose=receipt-signing`]},
    `--include id="a": decode agent keystore .pub file "${badPub}": invalid public key format (expected pipelock-ed25519-public-v1 header)`,
  )
  chmodSync(s.rcpt, 0o644)
  r(
    {force: true, includes: [`id=a,key=${s.rcpt},purpose=receipt-signing`]},
    `--include id="a": decode key file "${s.rcpt}": private key ${s.rcpt} has permissions 0644, want 0600 or 0640 (run: chmod 640 ${s.rcpt})`,
  )
  chmodSync(s.rcpt, 0o600)
  // 13 purpose flag vs key file
  r(
    {force: true, includes: [`id=a,key=${s.rcpt},purpose=contract-compile-signing`]},
    '--include id="a": purpose flag "contract-compile-signing" disagrees with key file purpose "receipt-signing"',
  )
  // 14, 15 status
  r({force: true, includes: [`id=a,key=${s.pub},purpose=receipt-signing,status=root`]}, '--include id="a": status=root is reserved for the auto-included root entry')
  r({force: true, includes: [`id=a,key=${s.pub},purpose=receipt-signing,status=paused`]}, '--include id="a": unknown status "paused" (allowed: active, revoked)')
  // nothing was written by any refusal
  assert.equal(readFileSync(s.out, 'utf8'), 'x')
})
