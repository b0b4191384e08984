import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {copyFileSync, mkdtempSync, readFileSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {canonicalBytes, fixedClock, goJson, systemClock, type JsonObject, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {activeManifestHash, manifestSelectorId, selectorSetHash} from '../../../src/plugins/contracts/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {formatSignature, loadRoster, signBytes, type Ed25519KeyPair} from '../../../src/plugins/signing/index.js'
import {
  decodeActiveManifest,
  fileTombstone,
  journalLine,
  latestAccepted,
  putHistoryContract,
  reloadStore,
  runPromote,
  runRollback,
  storeHashHex,
  validateEnvelope,
  withStoreLock,
  type LifecycleRequest,
} from '../../../src/plugins/store/index.js'
import {makeLab, snapshot, tombstoneYaml, writeCandidate, writeRoster, type Lab} from '../../e2e/learn-promote-harness.js'

// The store in-process: anti-rollback across restarts (§10.2), deterministic "latest" (§10.15),
// history under an earlier policy (§10.16), write-once, hash rules, the lock, the journal.

function req(lab: Lab, activation = 'ops-alice', extra: Partial<LifecycleRequest> = {}): LifecycleRequest {
  return {
    storeDir: lab.store,
    rosterPath: lab.roster,
    rosterRootFingerprint: lab.fp,
    activationKey: activation,
    keystore: lab.ks,
    clock: systemClock,
    newId: () => `id-${Math.random().toString(16).slice(2)}`,
    ...extra,
  }
}

const code = (c: string) => (e: unknown) => e instanceof PipelockError && e.code === c

function opts(lab: Lab) {
  return {roster: loadRoster(lab.roster, lab.fp), clock: systemClock}
}

function rewriteRoster(lab: Lab, change: (keys: Lab['rosterKeys']) => Lab['rosterKeys']): void {
  lab.rosterKeys = change(lab.rosterKeys.map((k) => ({...k})))
  lab.fp = writeRoster(lab.roster, lab.keys.get('roster-root') as Ed25519KeyPair, lab.rosterKeys)
}

describe('anti-rollback survives a restart (§10.2)', () => {
  const lab = makeLab()
  const g1 = runPromote({...req(lab, 'ops-alice', {environmentId: 'prod'}), candidate: writeCandidate(lab, 'a', 0).file, selector: 'shop-agent', allowUnenforced: true})
  runPromote({...req(lab), candidate: writeCandidate(lab, 'b', 1).file, selector: 'shop-agent', allowUnenforced: true})

  it('a fresh reload accepts the current generation', () => {
    const v = reloadStore(lab.store, opts(lab), {readOnly: true})
    assert.equal(v.generation, 2n)
  })

  it('a replayed, validly signed generation 1 is refused by a fresh (restarted) reader, nothing written', () => {
    const active = path.join(lab.store, 'active.json')
    const saved = readFileSync(active)
    copyFileSync(path.join(lab.store, 'manifests', `sha256-${g1.manifestHash.slice(7)}.json`), active)
    const before = snapshot(lab.store)
    assert.throws(() => reloadStore(lab.store, opts(lab), {readOnly: true}), (e: unknown) => code('STORE_REPLAY')(e) && /generation 1 .* highest accepted generation 2/.test((e as Error).message))
    assert.deepEqual(snapshot(lab.store), before)
    // A recording reload journals the rejection and changes nothing else.
    assert.throws(() => reloadStore(lab.store, opts(lab)), code('STORE_REPLAY'))
    const after = snapshot(lab.store)
    const journal = readFileSync(path.join(lab.store, '.activation_journal.jsonl'), 'utf8').trim().split('\n')
    assert.match(journal.at(-1) ?? '', /^\{"ts":"[^"]+","outcome":"rejected","reason":"contract store: active manifest generation 1 /)
    after.delete('.activation_journal.jsonl')
    before.delete('.activation_journal.jsonl')
    assert.deepEqual(after, before)
    writeFileSync(active, saved)
  })
})

describe('latest accepted is deterministic (§10.15)', () => {
  it('two chain-continuous manifests of one generation: the lower hash wins, every time', () => {
    const lab = makeLab()
    runPromote({...req(lab, 'ops-alice', {environmentId: 'prod'}), candidate: writeCandidate(lab, 'a', 0).file, selector: 'shop-agent', allowUnenforced: true})
    const g2 = runPromote({...req(lab), candidate: writeCandidate(lab, 'b', 1).file, selector: 'shop-agent', allowUnenforced: true})
    const env = decodeActiveManifest(readFileSync(path.join(lab.store, 'active.json')))
    const body: JsonObject = new Map(env.body)
    body.set('signed_at', '2026-11-01T00:00:00Z')
    const sig = new Map(env.signatures[0] as JsonObject)
    sig.set('signature', formatSignature(signBytes(lab.keys.get('ops-alice') as Ed25519KeyPair, canonicalBytes(body))))
    const twin = activeManifestHash(body)
    writeFileSync(path.join(lab.store, 'manifests', `sha256-${twin.slice(7)}.json`), goJson(new Map<string, JsonValue>([['body', body], ['signatures', [sig]]])) + '\n')
    const want = [twin, g2.manifestHash].sort()[0]
    for (let i = 0; i < 3; i++) assert.equal(latestAccepted(lab.store, opts(lab), 'baseline')?.hash, want)
  })
})

describe('history written under an earlier policy stays readable; adoption is strict (§10.16)', () => {
  it('revoking the activation key that signed generation 1 does not block the next promote or a rollback to it', () => {
    const lab = makeLab()
    const g1 = runPromote({...req(lab, 'ops-alice', {environmentId: 'prod'}), candidate: writeCandidate(lab, 'a', 0).file, selector: 'shop-agent', allowUnenforced: true})
    rewriteRoster(lab, (keys) => keys.map((k) => (k.keyId === 'ops-alice' ? {...k, status: 'revoked'} : k)))
    assert.throws(() => runPromote({...req(lab, 'ops-alice'), candidate: writeCandidate(lab, 'b', 1).file, selector: 'shop-agent', allowUnenforced: true}), /activation signer "ops-alice": key is revoked/)
    const g2 = runPromote({...req(lab, 'ops-bob'), candidate: writeCandidate(lab, 'b', 1).file, selector: 'shop-agent', allowUnenforced: true})
    assert.equal(g2.generation, 2)
    const rb = runRollback({...req(lab, 'ops-carol'), to: g1.manifestHash, allowUnenforced: true})
    assert.equal(rb.generation, 3)
    assert.equal(rb.targetHash, g1.manifestHash)
  })

  it('switching dual control on keeps single-signed history readable; the new manifest carries two principals', () => {
    const lab = makeLab()
    runPromote({...req(lab, 'ops-alice', {environmentId: 'prod'}), candidate: writeCandidate(lab, 'a', 0).file, selector: 'shop-agent', allowUnenforced: true})
    const g2 = runPromote({...req(lab, 'ops-alice', {dualControlFrom: 'ops-bob', production: true}), candidate: writeCandidate(lab, 'b', 1).file, selector: 'shop-agent', allowUnenforced: true})
    assert.deepEqual(g2.signerKeyIds, ['ops-alice', 'ops-bob'])
    const env = decodeActiveManifest(readFileSync(path.join(lab.store, 'active.json')))
    assert.deepEqual(env.signatures.map((s) => s.get('principal')), ['alice', 'bob'])
  })

  it('rollback to a manifest whose contract key was revoked since is refused (adoption is strict)', () => {
    const lab = makeLab()
    const g1 = runPromote({...req(lab, 'ops-alice', {environmentId: 'prod'}), candidate: writeCandidate(lab, 'a', 0).file, selector: 'shop-agent', allowUnenforced: true})
    runPromote({...req(lab), candidate: writeCandidate(lab, 'b', 1).file, selector: 'shop-agent', allowUnenforced: true})
    rewriteRoster(lab, (keys) => keys.map((k) => (k.keyId === 'ci-compile' ? {...k, status: 'revoked'} : k)))
    const before = snapshot(lab.store)
    assert.throws(
      () => runRollback({...req(lab), to: g1.manifestHash}),
      (e: unknown) => e instanceof PipelockError && e.message === 'learn rollback: load target manifest: contract store: contract signature invalid: key_id="ci-compile": key is revoked',
    )
    assert.deepEqual(snapshot(lab.store), before)
  })

  it('rollback to a tombstoned manifest is refused before any receipt', () => {
    const lab = makeLab()
    const a = writeCandidate(lab, 'a', 0)
    const g1 = runPromote({...req(lab, 'ops-alice', {environmentId: 'prod'}), candidate: a.file, selector: 'shop-agent', allowUnenforced: true})
    runPromote({...req(lab), candidate: writeCandidate(lab, 'b', 1).file, selector: 'shop-agent', allowUnenforced: true})
    fileTombstone(lab.store, tombstoneYaml(lab, a.hash), {roster: loadRoster(lab.roster, lab.fp), nowNanos: systemClock.nowNanos()})
    const before = snapshot(lab.store)
    assert.throws(() => runRollback({...req(lab), to: g1.manifestHash}), (e: unknown) => code('STORE_TOMBSTONED')(e) && (e as Error).message.startsWith('learn rollback: load target manifest: contract store: prior contract is tombstoned'))
    assert.deepEqual(snapshot(lab.store), before)
  })
})

describe('write-once, hash rules, tombstone filing', () => {
  it('hash rules name the problem', () => {
    assert.throws(() => storeHashHex('sha1:abc'), /hash "sha1:abc" missing "sha256:" prefix/)
    assert.throws(() => storeHashHex('sha256:abc'), /hash "sha256:abc" length 3, want 64 hex chars/)
    assert.throws(() => storeHashHex('sha256:' + 'A'.repeat(64)), /is not lowercase hex/)
    assert.throws(() => storeHashHex('sha256:../../../../etc/passwd' + 'a'.repeat(42)), /is not lowercase hex/)
  })

  it('putHistoryContract is idempotent for identical bytes and refuses different bytes under the same name', () => {
    const lab = makeLab()
    const a = writeCandidate(lab, 'a', 0)
    const first = putHistoryContract(lab.store, readFileSync(a.file), opts(lab))
    putHistoryContract(lab.store, readFileSync(a.file), opts(lab))
    const file = path.join(lab.store, 'history', `sha256-${first.hash.slice(7)}.yaml`)
    writeFileSync(file, readFileSync(file, 'utf8') + '# extra\n')
    assert.throws(() => putHistoryContract(lab.store, readFileSync(a.file), opts(lab)), /^PipelockError: contract store: write-once object already exists with different bytes: /)
  })

  it('fileTombstone: YAML in, canonical store JSON out, idempotent; bad signature refused', () => {
    const lab = makeLab()
    const a = writeCandidate(lab, 'a', 0)
    const o = {roster: loadRoster(lab.roster, lab.fp), nowNanos: systemClock.nowNanos()}
    const filed = fileTombstone(lab.store, tombstoneYaml(lab, a.hash), o)
    assert.equal(filed.file, path.join(lab.store, 'tombstones', `sha256-${a.hash.slice(7)}.json`))
    const stored = JSON.parse(readFileSync(filed.file, 'utf8')) as {body: {prior_contract_hash: string}}
    assert.equal(stored.body.prior_contract_hash, a.hash)
    fileTombstone(lab.store, tombstoneYaml(lab, a.hash), o)
    const b = writeCandidate(lab, 'b', 1)
    const bad = tombstoneYaml(lab, b.hash).replace(/ed25519:([0-9a-f])/, (_m, c: string) => `ed25519:${c === '0' ? '1' : '0'}`)
    assert.throws(() => fileTombstone(lab.store, bad, o), (e: unknown) => code('STORE_TOMBSTONE_INVALID')(e) && /tombstone signature invalid: key_id="ops-bob": signature does not verify/.test((e as Error).message))
    assert.throws(() => fileTombstone(lab.store, tombstoneYaml(lab, b.hash, 'receipt-signing'), o), /roster key_purpose "receipt-signing" is not "contract-activation-signing"/)
  })
})

describe('lock and journal', () => {
  it('a live holder makes others wait and give up; a dead holder\'s lock is broken once a second old', (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pl-lock-'))
    const lock = path.join(dir, '.lock')
    const old = new Date(Date.now() - 5_000)
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {stdio: 'ignore'})
    t.after(() => child.kill('SIGKILL'))
    writeFileSync(lock, String(child.pid))
    utimesSync(lock, old, old)
    assert.throws(() => withStoreLock(lock, () => 1, {timeoutMs: 60}), code('STORE_LOCKED'))
    // This process's own pid in a lock it did not take: an earlier process that had the same pid
    // (a container's fixed pid after a hard stop) left it; broken like a dead holder's.
    writeFileSync(lock, `${process.pid}\n`)
    utimesSync(lock, old, old)
    assert.equal(withStoreLock(lock, () => 7, {timeoutMs: 60}), 7)
    writeFileSync(lock, '999999999')
    // just written: it may be a lock taken since its pid was read, so it is waited for
    assert.throws(() => withStoreLock(lock, () => 1, {timeoutMs: 60}), code('STORE_LOCKED'))
    utimesSync(lock, old, old)
    assert.equal(withStoreLock(lock, () => 42, {timeoutMs: 60}), 42)
    assert.throws(() => readFileSync(lock), /ENOENT/)
  })

  it('the hint to remove a lock quotes a path a shell would split', (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pl-lock dir '))
    const lock = path.join(dir, '.lock')
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {stdio: 'ignore'})
    t.after(() => child.kill('SIGKILL'))
    writeFileSync(lock, String(child.pid))
    assert.throws(() => withStoreLock(lock, () => 1, {timeoutMs: 60}), (e: unknown) => {
      assert.ok(e instanceof PipelockError)
      assert.equal(e.hint, `if no pipelock process is using the store, remove '${lock}'`)
      return true
    })
  })

  it('journal lines: key order, omitted empties, Go time', () => {
    const clock = fixedClock('2026-11-22T04:00:00.500Z')
    assert.equal(journalLine(clock, {outcome: 'rejected', reason: 'contract store: x'}), '{"ts":"2026-11-22T04:00:00.5Z","outcome":"rejected","reason":"contract store: x"}')
    assert.equal(
      journalLine(clock, {outcome: 'accepted', manifestHash: 'sha256:m', generation: 2n, priorManifestHash: 'sha256:p', signerKeyIds: ['a', 'b']}),
      '{"ts":"2026-11-22T04:00:00.5Z","outcome":"accepted","manifest_hash":"sha256:m","generation":2,"prior_manifest_hash":"sha256:p","signer_key_ids":["a","b"]}',
    )
  })
})

describe('ValidateEnvelope: order and fail-closed signatures (§5.4)', () => {
  const lab = makeLab()
  const g1 = runPromote({...req(lab, 'ops-alice', {environmentId: 'prod'}), candidate: writeCandidate(lab, 'a', 0).file, selector: 'shop-agent', allowUnenforced: true})
  const raw = readFileSync(path.join(lab.store, 'active.json'))
  const env = decodeActiveManifest(raw)
  const o = () => ({...opts(lab), checkTombstones: true, policy: 'strict' as const})
  const sign = (id: string, body: JsonObject, principal: string): JsonObject =>
    new Map<string, JsonValue>([
      ['key_id', id],
      ['principal', principal],
      ['key_purpose', 'contract-activation-signing'],
      ['algorithm', 'ed25519'],
      ['signature', formatSignature(signBytes(lab.keys.get(id) as Ed25519KeyPair, canonicalBytes(body)))],
    ])
  const bytes = (body: JsonObject, sigs: JsonObject[]): Buffer => Buffer.from(goJson(new Map<string, JsonValue>([['body', body], ['signatures', sigs]])))

  it('accepts the promoted manifest; environment, generation and CAS refusals name themselves', () => {
    assert.equal(validateEnvelope(lab.store, raw, o()).hash, g1.manifestHash)
    assert.throws(() => validateEnvelope(lab.store, raw, {...o(), environment: {id: 'staging', tenant: '', deploymentId: ''}}), (e: unknown) => e instanceof PipelockError && e.message === 'contract store: manifest environment mismatch: got {id:"prod" tenant:"" deployment_id:""} want {id:"staging" tenant:"" deployment_id:""}')
    assert.throws(() => validateEnvelope(lab.store, raw, {...o(), previousGeneration: 1n}), /manifest generation is not monotonic: got 1, previous 1/)
    assert.throws(() => validateEnvelope(lab.store, raw, {...o(), previousHash: 'sha256:other'}), /prior manifest hash mismatch: got "sha256:genesis", want "sha256:other"/)
  })

  it('one bad signature rejects the manifest even next to a good one', () => {
    const bad = sign('ops-bob', env.body, 'bob')
    bad.set('signature', 'ed25519:' + '0'.repeat(128))
    assert.throws(() => validateEnvelope(lab.store, bytes(env.body, [...env.signatures, bad]), o()), (e: unknown) => code('STORE_SIGNATURE_INVALID')(e) && (e as Error).message === 'contract store: manifest signature invalid: key_id="ops-bob": signature does not verify')
  })

  it('a claimed principal must match the roster; two keys of one principal are one signer', () => {
    assert.throws(() => validateEnvelope(lab.store, bytes(env.body, [sign('ops-bob', env.body, 'mallory')]), o()), /key_id="ops-bob": principal mismatch: manifest "mallory" roster "bob"/)
    const twoAlice = bytes(env.body, [sign('ops-alice', env.body, 'alice'), sign('ops-alice-2', env.body, 'alice')])
    assert.throws(() => validateEnvelope(lab.store, twoAlice, {...o(), minimumSignatures: 2}), (e: unknown) => code('STORE_DUAL_CONTROL')(e) && /got 1 valid distinct signatures, want 2/.test((e as Error).message))
    const aliceBob = bytes(env.body, [sign('ops-alice', env.body, 'alice'), sign('ops-bob', env.body, '')])
    assert.deepEqual(validateEnvelope(lab.store, aliceBob, {...o(), minimumSignatures: 2}).signerKeyIds, ['ops-alice', 'ops-bob'])
  })

  it('a selector pointing at a contract missing from history/ is refused', () => {
    const body: JsonObject = new Map(env.body)
    const sel = new Map((body.get('selectors') as JsonObject[])[0] as JsonObject)
    const missing = 'sha256:' + 'c'.repeat(64)
    sel.set('contract_hash', missing)
    sel.set('selector_id', manifestSelectorId({agent: 'shop-agent', contractHash: missing}))
    body.set('selectors', [sel])
    body.set('selector_set_hash', selectorSetHash([sel.get('selector_id') as string]))
    assert.throws(() => validateEnvelope(lab.store, bytes(body, [sign('ops-alice', body, 'alice')]), o()), (e: unknown) => code('STORE_HISTORY_INVALID')(e) && (e as Error).message.startsWith(`contract store: contract history invalid: read ${missing}: open `))
  })

  it('--production needs three active operator principals in the roster', () => {
    rewriteRoster(lab, (keys) => keys.map((k) => (k.keyId === 'ops-carol' ? {...k, status: 'revoked'} : k)))
    assert.throws(
      () => runPromote({...req(lab, 'ops-alice', {dualControlFrom: 'ops-bob', production: true}), candidate: writeCandidate(lab, 'b', 1).file, selector: 'shop-agent', allowUnenforced: true}),
      /^PipelockError: production activation requires at least three active operator authorities: got 2 active principals, want 3$/,
    )
  })
})
