import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {keyPairFromGoPrivateKey} from '../../src/plugins/signing/index.js'
import {baseArgs, cli, entry, makeLab, promoteArgs, snapshot, writeCandidate, writeRoster, type Lab} from './learn-promote-harness.js'

// Issue 10 item 9: the contract store remembers its activation policy (minimum distinct
// principals, ratified-only) from its first promote or `learn store init`, refuses weaker
// promotes and rollbacks before writing anything, and changes it only with the quorum it demands.

const ENV = ['--environment-id', 'prod', '--tenant', 'acme', '--deployment-id', 'eu-1']
const DUAL = ['--dual-control-from', 'ops-bob']

function refusedUnchanged(store: string, args: string[], message: RegExp): void {
  const before = snapshot(store)
  const r = cli(args)
  assert.equal(r.code, 1, r.stdout + r.stderr)
  assert.match(r.stderr, message)
  assert.deepEqual(snapshot(store), before, 'the store is unchanged')
}

/** A fresh lab with two signed candidates. */
function twoCandidates(): {lab: Lab; c1: {file: string}; c2: {file: string}} {
  const lab = makeLab()
  return {lab, c1: writeCandidate(lab, 'c1', 0), c2: writeCandidate(lab, 'c2', 1)}
}

/** A --production dual-control promote of `file` (the store's first); the manifest it made. */
function promoteDual(lab: Lab, file: string): string {
  const r = cli(promoteArgs(lab, file, [...ENV, ...DUAL, '--production']))
  assert.equal(r.code, 0, r.stderr)
  return /manifest (sha256:[0-9a-f]{64})/.exec(r.stdout)![1]!
}

describe('store policy from the first promote: dual control sticks', () => {
  const {lab, c1, c2} = twoCandidates()
  let g1 = ''

  it('a --production dual-control first promote records minimum_signatures 2', () => {
    g1 = promoteDual(lab, c1.file)
    const policy = JSON.parse(readFileSync(path.join(lab.store, 'policy.json'), 'utf8')) as {body: Record<string, unknown>; signatures: unknown[]}
    assert.equal(policy.body.minimum_signatures, 2)
    assert.equal(policy.body.ratified_only, false)
    assert.equal(policy.signatures.length, 2)
  })

  it('a single operator without --production is refused (promote and rollback), the store unchanged', () => {
    refusedUnchanged(lab.store, promoteArgs(lab, c2.file), /^contract store policy requires 2 distinct activation principals for a promote; got 1 \[STORE_POLICY_REFUSED\]; hint: /)
    refusedUnchanged(lab.store, ['learn', 'rollback', ...baseArgs(lab), '--to', g1], /^contract store policy requires 2 distinct activation principals for a rollback; got 1 \[STORE_POLICY_REFUSED\]; hint: /)
    // Two keys of one principal are still one principal.
    refusedUnchanged(lab.store, promoteArgs(lab, c2.file, ['--dual-control-from', 'ops-alice-2']), /got 1 \[STORE_POLICY_REFUSED\]; hint: /)
  })

  it('lowering the policy takes the current quorum; then a single operator may promote', () => {
    refusedUnchanged(lab.store, ['learn', 'store', 'policy', ...baseArgs(lab), '--minimum-signatures', '1'], /^contract store policy requires 2 distinct activation principals for a policy change; got 1 \[STORE_POLICY_REFUSED\]; hint: /)
    const ok = cli(['learn', 'store', 'policy', ...baseArgs(lab), ...DUAL, '--minimum-signatures', '1'])
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /^store policy: .*policy\.json minimum_signatures 1 ratified_only false\n$/)
    assert.equal(cli(promoteArgs(lab, c2.file)).code, 0)
  })

  it('an edited policy.json is refused (signatures no longer verify), not ignored', () => {
    const file = path.join(lab.store, 'policy.json')
    writeFileSync(file, readFileSync(file, 'utf8').replace('"ratified_only":false', '"ratified_only":true'))
    const r = cli(promoteArgs(lab, c2.file))
    assert.equal(r.code, 1)
    assert.match(r.stderr, /contract store: policy .*policy\.json: contract store: manifest signature invalid/)
  })
})

describe('a deleted policy.json does not let one operator shed dual control', () => {
  const {lab, c1, c2} = twoCandidates()
  let g1 = ''

  it('with the policy file gone, promote and rollback are refused, the store unchanged', () => {
    g1 = promoteDual(lab, c1.file)
    rmSync(path.join(lab.store, 'policy.json'))
    const hint = /^learn promote: the contract store has accepted manifests but no policy \(.*policy\.json is missing\) \[STORE_POLICY_REFUSED\]; hint: restore it from a backup, or set it with learn store init signed by at least 2 distinct activation principals/
    refusedUnchanged(lab.store, promoteArgs(lab, c2.file), hint)
    // Signed by two principals, a promote is refused too: the policy is set by init, not by a promote.
    refusedUnchanged(lab.store, promoteArgs(lab, c2.file, DUAL), hint)
    refusedUnchanged(lab.store, ['learn', 'rollback', ...baseArgs(lab), '--to', g1], /^learn rollback: the contract store has accepted manifests but no policy/)
  })

  it('learn store init takes as many principals as the history carries; then the store runs again', () => {
    refusedUnchanged(lab.store, ['learn', 'store', 'init', ...baseArgs(lab), '--minimum-signatures', '1'], /^learn store init: the store has accepted manifests signed by up to 2 distinct activation principals; a policy for it must be signed by as many; got 1 \[STORE_POLICY_REFUSED\]/)
    const ok = cli(['learn', 'store', 'init', ...baseArgs(lab), ...DUAL, '--minimum-signatures', '2'])
    assert.equal(ok.code, 0, ok.stderr)
    refusedUnchanged(lab.store, promoteArgs(lab, c2.file), /^contract store policy requires 2 distinct activation principals for a promote; got 1 \[STORE_POLICY_REFUSED\]/)
    assert.equal(cli(promoteArgs(lab, c2.file, DUAL)).code, 0)
  })
})

describe('learn store init --ratified-only: an un-ratified candidate cannot be promoted', () => {
  const lab = makeLab()
  const c1 = writeCandidate(lab, 'c1', 0)

  it('init writes the policy; a second init is refused', () => {
    const r = cli(['learn', 'store', 'init', ...baseArgs(lab), '--minimum-signatures', '1', '--ratified-only'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /minimum_signatures 1 ratified_only true/)
    refusedUnchanged(lab.store, ['learn', 'store', 'init', ...baseArgs(lab), '--minimum-signatures', '1'], /^learn store init: the store already has a policy/)
  })

  it('an init demanding 2 principals must be signed by 2', () => {
    const other = makeLab()
    const r = cli(['learn', 'store', 'init', ...baseArgs(other), '--minimum-signatures', '2'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /must be signed by as many; got 1/)
  })

  it('the compiled (un-ratified) candidate is refused before anything is written', () => {
    refusedUnchanged(lab.store, promoteArgs(lab, c1.file, ENV), /^contract store policy accepts ratified contracts only: no verified contract_ratified receipt for sha256:[0-9a-f]{64}/)
  })

  it('after learn ratify (receipt next to the candidate) the same contract is promoted', () => {
    const out = path.join(lab.dir, 'ratified', 'c1.yaml')
    const rat = cli(['learn', 'ratify', '--candidate', c1.file, '--out', out, '--keystore', lab.ks, '--accept-low-confidence'])
    assert.equal(rat.code, 0, rat.stderr)
    // A receipt file that does not prove this contract (another dir) does not count.
    refusedUnchanged(lab.store, promoteArgs(lab, out, [...ENV, '--ratification-receipts', path.join(lab.dir, 'nothing.jsonl')]), /accepts ratified contracts only/)
    const r = cli(promoteArgs(lab, out, ENV))
    assert.equal(r.code, 0, r.stderr)
  })

  it('a receipt signed by a key the roster does not authorise does not count', () => {
    const forged = path.join(lab.dir, 'forged.jsonl')
    // ops-mallory is in the keystore, not in the roster.
    const rat = cli(['learn', 'ratify', '--candidate', writeCandidate(lab, 'c3', 2).file, '--out', path.join(lab.dir, 'ratified', 'c3.yaml'), '--keystore', lab.ks, '--receipt-key-agent', 'ops-mallory', '--receipt-out', forged, '--accept-low-confidence'])
    assert.equal(rat.code, 0, rat.stderr)
    refusedUnchanged(lab.store, promoteArgs(lab, path.join(lab.dir, 'ratified', 'c3.yaml'), ['--ratification-receipts', forged]), /accepts ratified contracts only/)
  })
})

describe('ratified-only set after un-ratified promotes: a rollback re-activates only ratified contracts', () => {
  const lab = makeLab()
  const c1 = writeCandidate(lab, 'c1', 0)
  const c2 = writeCandidate(lab, 'c2', 1)
  const manifest = (r: {code: number | null; stdout: string; stderr: string}): string => {
    assert.equal(r.code, 0, r.stderr)
    return /manifest (sha256:[0-9a-f]{64})/.exec(r.stdout)![1]!
  }
  let g1 = ''
  let g2 = ''

  it('setup: the compiled c1, then c2 ratified, then the policy turns ratified-only', () => {
    g1 = manifest(cli(promoteArgs(lab, c1.file, ENV)))
    const out = path.join(lab.dir, 'ratified', 'c2.yaml')
    const rat = cli(['learn', 'ratify', '--candidate', c2.file, '--out', out, '--keystore', lab.ks, '--accept-low-confidence'])
    assert.equal(rat.code, 0, rat.stderr)
    g2 = manifest(cli(promoteArgs(lab, out)))
    const p = cli(['learn', 'store', 'policy', ...baseArgs(lab), '--minimum-signatures', '1', '--ratified-only'])
    assert.equal(p.code, 0, p.stderr)
  })

  it('a rollback to the un-ratified generation is refused before anything is written', () => {
    const receipts = path.join(lab.store, 'ratification-receipts.jsonl')
    const before = snapshot(lab.store)
    const r = cli(['learn', 'rollback', ...baseArgs(lab), '--to', g1])
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.ok(r.stderr.startsWith(`contract store policy accepts ratified contracts only: no verified contract_ratified receipt for ${c1.hash} in ${receipts} [STORE_POLICY_REFUSED]`), r.stderr)
    assert.deepEqual(snapshot(lab.store), before, 'the store is unchanged')
  })

  it('a rollback to the ratified generation finds the receipt promote kept in the store', () => {
    const r = cli(['learn', 'rollback', ...baseArgs(lab), '--to', g2])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /reactivated as generation 3\n$/)
  })
})

describe('an activation key made by signing key generate (the user guide\'s setup) signs promotes', () => {
  const lab = makeLab()
  const c1 = writeCandidate(lab, 'c1', 0)
  const c2 = writeCandidate(lab, 'c2', 1)
  const file = path.join(lab.ks, 'activation.json')

  it('by its key_id among the keystore\'s key files, and by its path', () => {
    const gen = cli(['signing', 'key', 'generate', '--purpose', 'contract-activation-signing', '--out', file, '--id', 'activation-primary'])
    assert.equal(gen.code, 0, gen.stderr)
    const key = JSON.parse(readFileSync(file, 'utf8')) as {private: string}
    const kp = keyPairFromGoPrivateKey(Buffer.from(key.private, 'hex'))
    lab.fp = writeRoster(lab.roster, lab.keys.get('roster-root')!, [...lab.rosterKeys, entry('activation-primary', 'contract-activation-signing', kp, {principal: 'operator'})])
    const byId = cli(['learn', 'promote', ...baseArgs(lab, 'activation-primary'), '--candidate', c1.file, '--selector', 'shop-agent', ...ENV])
    assert.equal(byId.code, 0, byId.stderr)
    assert.match(byId.stdout, /^promote: manifest sha256:[0-9a-f]{64} generation 1 active/)
    const byPath = cli(['learn', 'promote', ...baseArgs(lab, file), '--candidate', c2.file, '--selector', 'shop-agent'])
    assert.equal(byPath.code, 0, byPath.stderr)
    // A key id found nowhere still says where it was looked for.
    const none = cli(['learn', 'promote', ...baseArgs(lab, 'nobody-here'), '--candidate', c2.file, '--selector', 'shop-agent'])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /^learn lifecycle: activation signer "nobody-here": private key containment check: .*agents\/nobody-here\/id_ed25519: no such file or directory \[FILE_NOT_FOUND\]/)
  })
})
