import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {keyPairFromGoPrivateKey} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {baseArgs, cli, entry, makeLab, promoteArgs, snapshot, writeCandidate, writeRoster, type Lab} from './learn-promote-harness.js'

// Issue 10 item 9: the contract store remembers its activation policy (minimum distinct
// principals, ratified-only) from its first promote or `learn store init`, refuses weaker
// promotes and rollbacks before writing anything, and changes it only with the quorum it demands.
// In a ratified-only store a ratification counts only when a person signed it: a receipt-signing
// key with a principal in the roster, not the automation key.

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

describe('a later --production promote raises the store policy: dual control sticks', () => {
  const lab = makeLab()
  const [c1, c2, c3, c4] = [0, 1, 2, 3].map((v) => writeCandidate(lab, `c${v + 1}`, v))
  const policyPath = path.join(lab.store, 'policy.json')
  const readPolicy = () => JSON.parse(readFileSync(policyPath, 'utf8')) as {body: Record<string, unknown>; signatures: {key_id: string}[]}
  let g1 = ''

  it('the first promote by one operator sets minimum_signatures 1', () => {
    const r = cli(promoteArgs(lab, c1!.file, ENV))
    assert.equal(r.code, 0, r.stderr)
    g1 = /manifest (sha256:[0-9a-f]{64})/.exec(r.stdout)![1]!
    assert.equal(readPolicy().body.minimum_signatures, 1)
  })

  it('a --production dual-control promote raises it to 2, signed by both principals, and says so', () => {
    const r = cli(promoteArgs(lab, c2!.file, [...DUAL, '--production']))
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^promote: manifest sha256:[0-9a-f]{64} generation 2 active\n/)
    assert.equal(
      r.stdout.split('\n')[1],
      `store policy: ${policyPath} minimum_signatures 2 ratified_only false (raised by this --production promote; lower it only with learn store policy)`,
    )
    assert.equal(r.stdout.split('\n').length, 3)
    const p = readPolicy()
    assert.equal(p.body.minimum_signatures, 2)
    assert.equal(p.body.ratified_only, false)
    assert.deepEqual(p.signatures.map((s) => s.key_id), ['ops-alice', 'ops-bob'])
  })

  it('then one operator alone is refused, promote and rollback, with or without --production; the store unchanged', () => {
    const carol = baseArgs(lab, 'ops-carol')
    const promote = ['learn', 'promote', ...carol, '--candidate', c3!.file, '--selector', 'shop-agent', '--allow-unenforced']
    refusedUnchanged(lab.store, promote, /^contract store policy requires 2 distinct activation principals for a promote; got 1 \[STORE_POLICY_REFUSED\]; hint: /)
    refusedUnchanged(lab.store, ['learn', 'rollback', ...carol, '--to', g1], /^contract store policy requires 2 distinct activation principals for a rollback; got 1 \[STORE_POLICY_REFUSED\]; hint: /)
    refusedUnchanged(lab.store, [...promote, '--production'], /^activation dual control requirement not met: --dual-control-from is required in --production \[STORE_DUAL_CONTROL\]/)
    refusedUnchanged(lab.store, ['learn', 'rollback', ...carol, '--to', g1, '--production'], /^activation dual control requirement not met: --dual-control-from is required in --production \[STORE_DUAL_CONTROL\]/)
  })

  it('a --production promote under a policy that already demands 2 leaves policy.json as it is', () => {
    const before = readFileSync(policyPath)
    const r = cli(['learn', 'promote', ...baseArgs(lab, 'ops-bob'), '--dual-control-from', 'ops-carol', '--production', '--candidate', c4!.file, '--selector', 'shop-agent', '--allow-unenforced'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^promote: manifest sha256:[0-9a-f]{64} generation 3 active\n$/)
    assert.deepEqual(readFileSync(policyPath), before)
  })
})

describe('a later --production rollback raises the store policy too', () => {
  const {lab, c1, c2} = twoCandidates()
  const policyPath = path.join(lab.store, 'policy.json')

  it('rollback by two principals with --production: minimum_signatures 2; one operator is refused next', () => {
    const first = cli(promoteArgs(lab, c1.file, ENV))
    assert.equal(first.code, 0, first.stderr)
    const g1 = /manifest (sha256:[0-9a-f]{64})/.exec(first.stdout)![1]!
    assert.equal(cli(promoteArgs(lab, c2.file)).code, 0)
    const r = cli(['learn', 'rollback', ...baseArgs(lab), ...DUAL, '--production', '--to', g1, '--allow-unenforced'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      r.stdout,
      `rollback: manifest ${g1} reactivated as generation 3\nstore policy: ${policyPath} minimum_signatures 2 ratified_only false (raised by this --production rollback; lower it only with learn store policy)\n`,
    )
    refusedUnchanged(lab.store, promoteArgs(lab, c2.file), /^contract store policy requires 2 distinct activation principals for a promote; got 1 \[STORE_POLICY_REFUSED\]/)
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

  it('a relative --contract-store is the working directory\'s, as for promote', () => {
    const other = makeLab()
    const args = baseArgs(other).map((a) => (a === other.store ? path.relative(other.dir, other.store) : a))
    assert.ok(!path.isAbsolute(args[1]!))
    const r = runCli(['learn', 'store', 'init', ...args, '--minimum-signatures', '1'], {cwd: other.dir})
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, `store init: ${path.join(other.store, 'policy.json')} minimum_signatures 1 ratified_only false\n`)
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

  it('a ratification signed by the CI receipt-signing key (no principal) is refused; a person\'s ratification is accepted', () => {
    const out = path.join(lab.dir, 'ratified', 'c1.yaml')
    const receipts = path.join(lab.dir, 'ratified', 'ratification-receipts.jsonl')
    // The automation key signs a valid contract_ratified receipt: it proves no one decided.
    const ci = cli(['learn', 'ratify', '--candidate', c1.file, '--out', out, '--keystore', lab.ks, '--accept-low-confidence'])
    assert.equal(ci.code, 0, ci.stderr)
    const hash = /contract_hash: "?(sha256:[0-9a-f]{64})/.exec(readFileSync(out, 'utf8'))![1]!
    const before = snapshot(lab.store)
    const refused = cli(promoteArgs(lab, out, ENV))
    assert.equal(refused.code, 1, refused.stdout + refused.stderr)
    assert.equal(
      refused.stderr,
      `contract store policy accepts contracts ratified by a principal only: the contract_ratified receipt for ${hash} in ${receipts} is signed only by keys that cannot ratify here (no principal in the roster, or the key signing this operation's receipts): receipt-signing [STORE_POLICY_REFUSED]; hint: a person ratifies with their own receipt-signing key listed in the roster with role= (learn ratify --receipt-key-agent <their key>), then pass its receipts with --ratification-receipts\n`,
    )
    assert.deepEqual(snapshot(lab.store), before, 'the store is unchanged')
    // A receipt file that does not prove this contract (another dir) does not count.
    refusedUnchanged(lab.store, promoteArgs(lab, out, [...ENV, '--ratification-receipts', path.join(lab.dir, 'nothing.jsonl')]), /accepts ratified contracts only/)
    // A person's key (receipt-signing purpose, role=alice in the roster) ratifies the same contract.
    const person = cli(['learn', 'ratify', '--candidate', out, '--keystore', lab.ks, '--receipt-key-agent', 'ratifier-alice', '--accept-low-confidence'])
    assert.equal(person.code, 0, person.stderr)
    assert.equal(/contract_hash: "?(sha256:[0-9a-f]{64})/.exec(readFileSync(out, 'utf8'))![1], hash, 'ratifying again re-signs the same body')
    // The person's key is not a ratifier for an operation it signs itself (as the promote's receipt key).
    refusedUnchanged(lab.store, promoteArgs(lab, out, [...ENV, '--receipt-key-agent', 'ratifier-alice']), /is signed only by keys that cannot ratify here \(no principal in the roster, or the key signing this operation's receipts\): receipt-signing, ratifier-alice \[STORE_POLICY_REFUSED\]/)
    const r = cli(promoteArgs(lab, out, ENV))
    assert.equal(r.code, 0, r.stderr)
    // The store keeps the person's receipt, not the automation key's.
    const kept = readFileSync(path.join(lab.store, 'ratification-receipts.jsonl'), 'utf8').trim().split('\n')
    assert.equal(kept.length, 1)
    assert.equal((JSON.parse(kept[0]!) as {signature: {signer_key_id: string}}).signature.signer_key_id, 'ratifier-alice')
  })

  it('a receipt signed by a key the roster does not authorise does not count', () => {
    const forged = path.join(lab.dir, 'forged.jsonl')
    // ops-mallory is in the keystore, not in the roster.
    const rat = cli(['learn', 'ratify', '--candidate', writeCandidate(lab, 'c3', 2).file, '--out', path.join(lab.dir, 'ratified', 'c3.yaml'), '--keystore', lab.ks, '--receipt-key-agent', 'ops-mallory', '--receipt-out', forged, '--accept-low-confidence'])
    assert.equal(rat.code, 0, rat.stderr)
    refusedUnchanged(lab.store, promoteArgs(lab, path.join(lab.dir, 'ratified', 'c3.yaml'), ['--ratification-receipts', forged]), /accepts ratified contracts only/)
  })
})

describe('ratified-only set after un-ratified promotes: a rollback re-activates only contracts a person ratified', () => {
  const lab = makeLab()
  const c1 = writeCandidate(lab, 'c1', 0)
  const c2 = writeCandidate(lab, 'c2', 1)
  const c3 = writeCandidate(lab, 'c3', 2)
  const c4 = writeCandidate(lab, 'c4', 3)
  const manifest = (r: {code: number | null; stdout: string; stderr: string}): string => {
    assert.equal(r.code, 0, r.stderr)
    return /manifest (sha256:[0-9a-f]{64})/.exec(r.stdout)![1]!
  }
  const ratify = (file: string, name: string, key: string): {file: string; hash: string} => {
    const out = path.join(lab.dir, 'ratified', `${name}.yaml`)
    const rat = cli(['learn', 'ratify', '--candidate', file, '--out', out, '--keystore', lab.ks, '--receipt-key-agent', key, '--accept-low-confidence'])
    assert.equal(rat.code, 0, rat.stderr)
    return {file: out, hash: /contract_hash: "?(sha256:[0-9a-f]{64})/.exec(readFileSync(out, 'utf8'))![1]!}
  }
  let g1 = ''
  let g2 = ''
  let g3 = ''
  let byCi = ''

  it('setup: c1 compiled, c2 ratified by the CI key, c3 ratified by a person, c4 compiled; then ratified-only', () => {
    g1 = manifest(cli(promoteArgs(lab, c1.file, ENV)))
    // The first promote's ratification came from nowhere: the store does not turn ratified-only.
    assert.equal((JSON.parse(readFileSync(path.join(lab.store, 'policy.json'), 'utf8')) as {body: {ratified_only: boolean}}).body.ratified_only, false)
    const ci = ratify(c2.file, 'c2', 'receipt-signing')
    byCi = ci.hash
    g2 = manifest(cli(promoteArgs(lab, ci.file)))
    g3 = manifest(cli(promoteArgs(lab, ratify(c3.file, 'c3', 'ratifier-alice').file)))
    manifest(cli(promoteArgs(lab, c4.file)))
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

  it('a rollback to the generation only the CI key ratified is refused before anything is written', () => {
    const receipts = path.join(lab.store, 'ratification-receipts.jsonl')
    const before = snapshot(lab.store)
    const r = cli(['learn', 'rollback', ...baseArgs(lab), '--to', g2])
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.ok(r.stderr.startsWith(`contract store policy accepts contracts ratified by a principal only: the contract_ratified receipt for ${byCi} in ${receipts} is signed only by keys that cannot ratify here (no principal in the roster, or the key signing this operation's receipts): receipt-signing [STORE_POLICY_REFUSED]`), r.stderr)
    assert.deepEqual(snapshot(lab.store), before, 'the store is unchanged')
  })

  it('a rollback to the generation a person ratified finds the receipt promote kept in the store', () => {
    const r = cli(['learn', 'rollback', ...baseArgs(lab), '--to', g3])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /reactivated as generation 5\n$/)
  })

  it('a --production rollback raises the minimum and keeps ratified_only', () => {
    const r = cli(['learn', 'rollback', ...baseArgs(lab), ...DUAL, '--production', '--to', g3])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /reactivated as generation 6\nstore policy: .*policy\.json minimum_signatures 2 ratified_only true \(raised by this --production rollback; lower it only with learn store policy\)\n$/)
    const body = (JSON.parse(readFileSync(path.join(lab.store, 'policy.json'), 'utf8')) as {body: {minimum_signatures: number; ratified_only: boolean}}).body
    assert.deepEqual([body.minimum_signatures, body.ratified_only], [2, true])
  })
})

describe('the first promote of a contract a person ratified makes the store ratified-only', () => {
  const lab = makeLab()
  const c1 = writeCandidate(lab, 'c1', 0)

  it('ratified_only true in policy.json; a CI-ratified contract is refused next', () => {
    const out = path.join(lab.dir, 'ratified', 'c1.yaml')
    const rat = cli(['learn', 'ratify', '--candidate', c1.file, '--out', out, '--keystore', lab.ks, '--receipt-key-agent', 'ratifier-alice', '--accept-low-confidence'])
    assert.equal(rat.code, 0, rat.stderr)
    assert.equal(cli(promoteArgs(lab, out, ENV)).code, 0)
    assert.equal((JSON.parse(readFileSync(path.join(lab.store, 'policy.json'), 'utf8')) as {body: {ratified_only: boolean}}).body.ratified_only, true)
    const out2 = path.join(lab.dir, 'ratified2', 'c2.yaml')
    assert.equal(cli(['learn', 'ratify', '--candidate', writeCandidate(lab, 'c2', 1).file, '--out', out2, '--keystore', lab.ks, '--accept-low-confidence']).code, 0)
    refusedUnchanged(lab.store, promoteArgs(lab, out2), /^contract store policy accepts contracts ratified by a principal only: .*: receipt-signing \[STORE_POLICY_REFUSED\]/)
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
    const byId = cli(['learn', 'promote', ...baseArgs(lab, 'activation-primary'), '--candidate', c1.file, '--selector', 'shop-agent', ...ENV, '--allow-unenforced'])
    assert.equal(byId.code, 0, byId.stderr)
    assert.match(byId.stdout, /^promote: manifest sha256:[0-9a-f]{64} generation 1 active/)
    const byPath = cli(['learn', 'promote', ...baseArgs(lab, file), '--candidate', c2.file, '--selector', 'shop-agent', '--allow-unenforced'])
    assert.equal(byPath.code, 0, byPath.stderr)
    // A key id found nowhere still says where it was looked for.
    const none = cli(['learn', 'promote', ...baseArgs(lab, 'nobody-here'), '--candidate', c2.file, '--selector', 'shop-agent', '--allow-unenforced'])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /^learn lifecycle: activation signer "nobody-here": private key containment check: .*agents\/nobody-here\/id_ed25519: no such file or directory \[FILE_NOT_FOUND\]/)
  })
})
