import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {verifyEvidence} from '../../src/plugins/receipts/index.js'
import {
  baseArgs,
  cli,
  cliAsync,
  fileTomb,
  tombstoneYaml,
  jsonl,
  makeLab,
  promoteArgs,
  snapshot,
  writeCandidate,
  writeRoster,
  type Lab,
} from './learn-promote-harness.js'
import {generateKeyPair} from '../../src/plugins/signing/index.js'

// learn promote / learn rollback through the built CLI (learn-lifecycle §6, §9), and the
// "bad input and attacks" list of the issue: each refusal names its own reason and leaves every
// byte of the store as it was.

const ENV = ['--environment-id', 'prod', '--tenant', 'acme', '--deployment-id', 'eu-1']

function verifyReceipts(lab: Lab, file: string): Array<Record<string, unknown>> {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')
  for (const line of lines) {
    const r = JSON.parse(line) as {signature: {signer_key_id: string}}
    const keyId = r.signature.signer_key_id
    const entry = lab.rosterKeys.find((k) => k.keyId === keyId)
    assert.ok(entry, `receipt signer ${keyId} is in the roster`)
    const v = verifyEvidence(line, {publicKey: entry.publicKeyHex, expectedSignerKeyId: keyId})
    assert.equal(v.valid, true, `${v.error ?? ''} in ${line}`)
  }
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>)
}

function manifestHashOf(stdout: string): string {
  const m = /manifest (sha256:[0-9a-f]{64})/.exec(stdout)
  assert.ok(m, stdout)
  return m[1] as string
}

describe('learn promote and rollback', () => {
  const lab = makeLab()
  const receipts = path.join(lab.store, 'activation-receipts.jsonl')
  const journal = path.join(lab.store, '.activation_journal.jsonl')
  const c1 = writeCandidate(lab, 'c1', 0)
  const c2 = writeCandidate(lab, 'c2', 1)
  let g1 = ''
  let g2 = ''

  it('first promote stages the candidate, writes generation 1, two receipts and a journal line', () => {
    const r = cli(promoteArgs(lab, c1.file, ENV))
    assert.equal(r.code, 0, r.stderr)
    g1 = manifestHashOf(r.stdout)
    assert.equal(r.stdout, `promote: manifest ${g1} generation 1 active\n`)
    assert.equal(
      r.stderr,
      `{"event":"learn_promote","candidate":"${c1.file}","signer_key_id":"ops-alice","output":"${receipts}","manifest":"${g1}","receipts_emitted":2,"noop":false}\n` +
        `WARNING: learn promote: contract ${c1.hash} enforces 0 of its 3 rules (none is ratified to enforce): the agent is not locked (any host the scanner allows stays reachable)\n`,
    )
    const hex = c1.hash.slice('sha256:'.length)
    assert.equal(readFileSync(path.join(lab.store, 'history', `sha256-${hex}.yaml`), 'utf8'), readFileSync(c1.file, 'utf8').trim() + '\n')
    const active = JSON.parse(readFileSync(path.join(lab.store, 'active.json'), 'utf8')) as {body: Record<string, unknown>}
    assert.equal(active.body.generation, 1)
    assert.equal(active.body.prior_manifest_hash, 'sha256:genesis')
    assert.deepEqual(active.body.environment, {id: 'prod', tenant: 'acme', deployment_id: 'eu-1'})
    assert.equal(readFileSync(path.join(lab.store, 'manifests', `sha256-${g1.slice(7)}.json`), 'utf8'), readFileSync(path.join(lab.store, 'active.json'), 'utf8'))
    const rs = verifyReceipts(lab, receipts)
    assert.deepEqual(rs.map((x) => x.payload_kind), ['contract_promote_intent', 'contract_promote_committed'])
    assert.equal((rs[1]?.payload as Record<string, unknown>).validation_outcome, 'accepted')
    const j = jsonl(journal)
    assert.equal(j.length, 1)
    assert.deepEqual(Object.keys(j[0] ?? {}), ['ts', 'outcome', 'manifest_hash', 'generation', 'prior_manifest_hash', 'signer_key_ids'])
    assert.equal(j[0]?.manifest_hash, g1)
  })

  it('second promote inherits the environment, chains to generation 1, --json result', () => {
    const r = cli(promoteArgs(lab, c2.file, ['--json']))
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout) as {generation: number; priorManifestHash: string; manifestHash: string; contractHash: string; outcome: string}
    assert.equal(out.outcome, 'accepted')
    assert.equal(out.generation, 2)
    assert.equal(out.priorManifestHash, g1)
    assert.equal(out.contractHash, c2.hash)
    g2 = out.manifestHash
  })

  it('rollback to a hash that was never accepted is a usage error naming the input, before any receipt', () => {
    const before = snapshot(lab.store)
    const r = cli(['learn', 'rollback', ...baseArgs(lab), '--to', 'sha256:' + 'f'.repeat(64), '--json'])
    assert.equal(r.code, 2)
    // --json: the error is one JSON object on stdout (docs/errors.md), nothing on stderr
    assert.equal(r.stderr, '')
    const e = (JSON.parse(r.stdout) as {error: {code: string; message: string; exit: number; hint: string}}).error
    assert.deepEqual(e, {
      code: 'USAGE',
      message: `learn rollback: --to sha256:${'f'.repeat(64)} names no accepted manifest in ${lab.store}`,
      exit: 2,
      hint: `list the accepted manifests with: pipelock learn store history --store ${lab.store}`,
    })
    assert.deepEqual(snapshot(lab.store), before)
  })

  it('rollback with a --contract-store that does not exist says the store is missing (not that --to is wrong), and creates nothing', () => {
    const missing = path.join(lab.dir, 'no-such-store')
    const args = ['learn', 'rollback', ...baseArgs(lab).map((a) => (a === lab.store ? missing : a)), '--to', g2]
    const r = cli(args)
    assert.equal(r.code, 1)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr, `learn rollback: contract store ${missing} does not exist, so there is no generation to roll back to [STORE_INVALID]; hint: pass the --contract-store that learn promote wrote to\n`)
    const j = cli([...args, '--json'])
    assert.equal(j.code, 1)
    assert.equal((JSON.parse(j.stdout) as {error: {code: string}}).error.code, 'STORE_INVALID')
    assert.ok(!existsSync(missing))
  })

  it('rollback --to with a malformed hash, or a contract hash, is a usage error with a hint to learn store history', () => {
    const before = snapshot(lab.store)
    const hint = `hint: list the accepted manifests with: pipelock learn store history --store ${lab.store}`
    const short = cli(['learn', 'rollback', ...baseArgs(lab), '--to', '473c3c4e'])
    assert.equal(short.code, 2)
    assert.equal(short.stderr, `learn rollback: --to takes an accepted manifest hash (sha256: and 64 lowercase hex digits), not "473c3c4e" [USAGE]; ${hint}\n`)
    const contract = cli(['learn', 'rollback', ...baseArgs(lab), '--to', c1.hash])
    assert.equal(contract.code, 2)
    assert.equal(
      contract.stderr,
      `learn rollback: --to ${c1.hash} is a contract hash, not a manifest hash: rollback re-activates a generation (an accepted manifest) [USAGE]; ${hint} (each generation's "manifest" line)\n`,
    )
    assert.deepEqual(snapshot(lab.store), before)
  })

  it('environment flags that differ from the accepted tuple are refused', () => {
    const before = snapshot(lab.store)
    const r = cli(promoteArgs(lab, c1.file, ['--environment-id', 'staging']))
    assert.equal(r.code, 1)
    assert.equal(r.stderr, 'learn lifecycle: environment does not match accepted manifest [LIFECYCLE_REFUSED]; hint: omit the environment flags to inherit the accepted tuple\n')
    assert.deepEqual(snapshot(lab.store), before)
  })

  it('--contract: a typo, an absent contract, or a mismatch with --candidate is refused before any receipt', () => {
    const before = snapshot(lab.store)
    const typo = cli(['learn', 'promote', ...baseArgs(lab), '--contract', 'sha256:' + 'Z'.repeat(64), '--selector', 'shop-agent'])
    assert.equal(typo.code, 1)
    assert.equal(typo.stderr, `learn promote: --contract takes a contract hash (sha256:<64 hex>), not "sha256:${'Z'.repeat(64)}" [LIFECYCLE_REFUSED]; hint: a contract hash is sha256: and 64 lowercase hex digits\n`)
    // a contract file where the hash goes: the flag that takes it is named
    const file = cli(['learn', 'promote', ...baseArgs(lab), '--contract', 'agent.yaml', '--selector', 'shop-agent'])
    assert.equal(file.code, 1)
    assert.equal(file.stderr, 'learn promote: --contract takes a contract hash (sha256:<64 hex>), not "agent.yaml" [LIFECYCLE_REFUSED]; hint: to promote a contract file, pass it with --candidate FILE\n')
    const absent = cli(['learn', 'promote', ...baseArgs(lab), '--contract', 'sha256:' + 'e'.repeat(64), '--selector', 'shop-agent'])
    assert.equal(absent.code, 1)
    // A hash no promote staged is not a damaged store: promote says how a contract gets into history/.
    assert.equal(
      absent.stderr,
      `learn promote: contract sha256:${'e'.repeat(64)} is not in the contract store (${lab.store}/history/sha256-${'e'.repeat(64)}.yaml does not exist) [LIFECYCLE_REFUSED]; ` +
        'hint: pass the ratified contract file with --candidate FILE: promote verifies it and stages it into history/; --contract alone re-activates a contract an earlier promote staged\n',
    )
    const mismatch = cli([...promoteArgs(lab, c1.file), '--contract', c2.hash])
    assert.equal(mismatch.code, 1)
    assert.equal(mismatch.stderr, `learn promote: --contract ${c2.hash} does not match the candidate's contract_hash ${c1.hash} [LIFECYCLE_REFUSED]\n`)
    assert.deepEqual(snapshot(lab.store), before)
  })

  it('rollback to generation 1 mints generation 3 with rollback_target', () => {
    // The fixture contracts enforce no rule, so the rollback is told to accept that (and warns).
    const r = cli(['learn', 'rollback', ...baseArgs(lab), '--to', g1, '--allow-unenforced'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `rollback: manifest ${g1} reactivated as generation 3\n`)
    const [auditLine, warning] = r.stderr.split('\n')
    assert.match(warning as string, /^WARNING: learn rollback: contract sha256:[0-9a-f]{64} enforces 0 of its \d+ rules/)
    const audit = JSON.parse(auditLine as string) as {event: string; manifest: string}
    assert.equal(audit.event, 'learn_rollback')
    const active = JSON.parse(readFileSync(path.join(lab.store, 'active.json'), 'utf8')) as {body: Record<string, unknown>}
    assert.equal(active.body.generation, 3)
    assert.equal(active.body.prior_manifest_hash, g2)
    assert.equal(active.body.rollback_target, g1)
    const last = jsonl(journal).at(-1)
    assert.equal(last?.manifest_hash, audit.manifest)
    assert.equal(last?.generation, 3)
    const rs = verifyReceipts(lab, receipts)
    assert.deepEqual(rs.slice(-2).map((x) => x.payload_kind), ['contract_rollback_authorized', 'contract_rollback_committed'])
  })

  it('--contract alone promotes a contract already in history/ (generation 4)', () => {
    const r = cli(['learn', 'promote', ...baseArgs(lab), '--contract', c2.hash, '--selector', 'shop-*', '--allow-unenforced'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^promote: manifest sha256:[0-9a-f]{64} generation 4 active\n$/)
    assert.doesNotMatch(r.stderr, /"candidate"/)
    const active = JSON.parse(readFileSync(path.join(lab.store, 'active.json'), 'utf8')) as {body: {selectors: Array<Record<string, unknown>>}}
    assert.deepEqual(Object.keys(active.body.selectors[0] ?? {}), ['selector_id', 'agent_glob', 'contract_hash'])
    // generation 3 re-activated c1 for shop-agent: a manifest holds one selector, so its
    // selector is gone, but shop-* selects shop-agent: it still has a contract, nothing to warn
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('WARNING') && !l.includes('enforces 0')).join('\n'), '')
  })

  it('a promote for another agent names the selectors it replaces (--json: replacedSelectors); the same selector again replaces none', () => {
    const r = cli(['learn', 'promote', ...baseArgs(lab), '--contract', c1.hash, '--selector', 'billing', '--json', '--allow-unenforced'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual((JSON.parse(r.stdout) as {replacedSelectors: string[]}).replacedSelectors, [`agent_glob shop-* (contract ${c2.hash})`])
    assert.match(r.stderr, /^WARNING: learn promote: generation 5 holds only the selector for billing; no longer active: agent_glob shop-\* \(contract sha256:/m)
    const again = cli(['learn', 'promote', ...baseArgs(lab), '--contract', c2.hash, '--selector', 'billing', '--json', '--allow-unenforced'])
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual((JSON.parse(again.stdout) as {replacedSelectors: string[]}).replacedSelectors, [])
    assert.doesNotMatch(again.stderr, /no longer active/)
  })

  it('a glob or default that still selects the dropped agent is not reported; a dropped default or glob is', () => {
    const json = (args: string[]): {out: {replacedSelectors: string[]}; stderr: string} => {
      const r = cli(['learn', 'promote', ...baseArgs(lab), ...args, '--json', '--allow-unenforced'])
      assert.equal(r.code, 0, r.stderr)
      return {out: JSON.parse(r.stdout) as {replacedSelectors: string[]}, stderr: r.stderr}
    }
    // billing (generation 6) → default: every agent, billing included, still has a contract
    const toDefault = json(['--contract', c1.hash, '--selector', 'default'])
    assert.deepEqual(toDefault.out.replacedSelectors, [])
    assert.doesNotMatch(toDefault.stderr, /no longer active/)
    // default → bill*: agents outside the glob lose theirs
    const toGlob = json(['--contract', c1.hash, '--selector', 'bill*'])
    assert.deepEqual(toGlob.out.replacedSelectors, [`default (contract ${c1.hash})`])
    assert.match(toGlob.stderr, /^WARNING: learn promote: generation 8 holds only the selector for bill\*; no longer active: default \(contract sha256:/m)
    // bill* → billing: a narrower selector, the rest of the glob is dropped
    const toAgent = json(['--contract', c1.hash, '--selector', 'billing'])
    assert.deepEqual(toAgent.out.replacedSelectors, [`agent_glob bill* (contract ${c1.hash})`])
    assert.doesNotMatch(toAgent.stderr, /already active/)
    // the same contract for the same selector again: allowed, and said
    const again = json(['--contract', c1.hash, '--selector', 'billing'])
    assert.match(again.stderr, new RegExp(`^WARNING: learn promote: contract ${c1.hash} was already active for agent billing \\(generation 9\\); generation 10 activates it again$`, 'm'))
  })
})

describe('bad input and attacks: refused with their own reason, the store unchanged', () => {
  const lab = makeLab()
  const c1 = writeCandidate(lab, 'c1', 0)
  const c2 = writeCandidate(lab, 'c2', 1)
  let g1 = ''

  function refused(args: string[], stderr: string | RegExp): void {
    const before = snapshot(lab.store)
    const r = cli(args)
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.stdout, '')
    if (typeof stderr === 'string') assert.equal(r.stderr, stderr)
    else assert.match(r.stderr, stderr)
    assert.deepEqual(snapshot(lab.store), before, 'store bytes changed')
  }

  it('a first promote without --environment-id says how to name the environment', () => {
    refused(
      promoteArgs(lab, c1.file),
      "learn lifecycle: --environment-id is required without an accepted manifest [LIFECYCLE_REFUSED]; hint: the first promote into a store names its environment: add --environment-id ID (and --tenant / --deployment-id if you use them); pipelock run's learn_lock.environment must name the same tuple\n",
    )
  })

  it('a root fingerprint pinned without its sha256: prefix says which form it takes', () => {
    const args = promoteArgs(lab, c1.file, ENV)
    args[args.indexOf('--roster-root-fingerprint') + 1] = lab.fp.slice('sha256:'.length)
    refused(
      args,
      'learn lifecycle: load roster: roster root key fingerprint does not match pinned: malformed fingerprint: missing algorithm prefix [FINGERPRINT_INVALID]; hint: give the roster root fingerprint as sha256:<64 hex>, as signing key generate and signing roster build print it\n',
    )
  })

  it('setup: generation 1 accepted', () => {
    const r = cli(promoteArgs(lab, c1.file, ENV))
    assert.equal(r.code, 0, r.stderr)
    g1 = manifestHashOf(r.stdout)
  })

  it('tampered candidate (one byte changed)', () => {
    const text = readFileSync(c2.file, 'utf8')
    const i = text.indexOf('display_name: ') + 'display_name: '.length + 1
    const tampered = path.join(lab.dir, 'tampered.yaml')
    writeFileSync(tampered, text.slice(0, i) + (text[i] === 'x' ? 'y' : 'x') + text.slice(i + 1))
    refused(promoteArgs(lab, tampered), /^learn promote: --candidate \S*tampered\.yaml: contract_hash "sha256:[0-9a-f]{64}" does not match computed "sha256:[0-9a-f]{64}" \[CANDIDATE_INVALID\]; hint: the candidate was modified after signing, or is not a signed contract; recompile and ratify it \(the contract store was not touched\)\n$/)
    // not a contract at all: the same words, a decode detail
    writeFileSync(tampered, '\u0000\u0001 not yaml {')
    refused(promoteArgs(lab, tampered), /^learn promote: --candidate \S*tampered\.yaml: does not decode as a contract: .* \[CANDIDATE_INVALID\]; hint: the candidate was modified after signing/)
    // the same byte changed in the signature instead: the hash holds, the signature does not
    const sig = text.lastIndexOf('ed25519:') + 'ed25519:'.length
    writeFileSync(tampered, text.slice(0, sig) + (text[sig] === '0' ? '1' : '0') + text.slice(sig + 1))
    refused(promoteArgs(lab, tampered), 'contract store: contract signature invalid: key_id="ci-compile": signature does not verify [STORE_SIGNATURE_INVALID]\n')
  })

  it('candidate signed by a key the roster does not hold for compile', () => {
    const foreign = writeCandidate(lab, 'foreign', 2, 'ops-bob')
    refused(
      promoteArgs(lab, foreign.file),
      'contract store: contract signature invalid: key_id="ops-bob": roster key_purpose "contract-activation-signing" is not "contract-compile-signing" [STORE_SIGNATURE_INVALID]\n',
    )
  })

  it('wrong key purpose for the activation signer', () => {
    refused(
      ['learn', 'promote', ...baseArgs(lab, 'receipt-signing'), '--candidate', c2.file, '--selector', 'shop-agent'],
      'learn lifecycle: activation signer "receipt-signing": signature key_purpose does not match authority matrix: payload_kind="contract_promote_intent" required="contract-activation-signing" got="receipt-signing" [KEY_NOT_AUTHORIZED]\n',
    )
  })

  it('activation key not in the roster', () => {
    refused(
      ['learn', 'promote', ...baseArgs(lab, 'ops-mallory'), '--candidate', c2.file, '--selector', 'shop-agent'],
      'learn lifecycle: activation signer "ops-mallory": key_id not in roster: "ops-mallory" [KEY_NOT_AUTHORIZED]\n',
    )
  })

  it('revoked activation key', () => {
    refused(['learn', 'promote', ...baseArgs(lab, 'ops-revoked'), '--candidate', c2.file, '--selector', 'shop-agent'], 'learn lifecycle: activation signer "ops-revoked": key is revoked [KEY_NOT_AUTHORIZED]\n')
  })

  it('expired activation key', () => {
    refused(['learn', 'promote', ...baseArgs(lab, 'ops-expired'), '--candidate', c2.file, '--selector', 'shop-agent'], 'learn lifecycle: activation signer "ops-expired": key is expired [KEY_NOT_AUTHORIZED]\n')
  })

  it('activation key without a principal cannot satisfy the store', () => {
    refused(
      ['learn', 'promote', ...baseArgs(lab, 'ops-nobody'), '--candidate', c2.file, '--selector', 'shop-agent'],
      'activation dual control requirement not met: got 0 distinct activation principals, want 1 [STORE_DUAL_CONTROL]; hint: activation keys need a roster principal (role= at roster build); dual control needs two different principals\n',
    )
  })

  it('roster pinned to another root', () => {
    const other = path.join(lab.dir, 'other-roster.json')
    const otherFp = writeRoster(other, generateKeyPair(), lab.rosterKeys)
    const args = promoteArgs(lab, c2.file)
    args[args.indexOf('--roster-root-fingerprint') + 1] = otherFp
    refused(args, /^learn lifecycle: load roster: roster root key fingerprint does not match pinned: fingerprint mismatch: got sha256:[0-9a-f]{64}, want sha256:[0-9a-f]{64} \[FINGERPRINT_INVALID\]\n$/)
  })

  it('dual control: two keys of one principal count once; --production needs --dual-control-from', () => {
    refused([...promoteArgs(lab, c2.file), '--dual-control-from', 'ops-alice-2'], /^activation dual control requirement not met: got 1 distinct activation principals, want 2 \[STORE_DUAL_CONTROL\]; hint: /)
    refused([...promoteArgs(lab, c2.file), '--production'], 'activation dual control requirement not met: --dual-control-from is required in --production [STORE_DUAL_CONTROL]\n')
  })

  it('a tombstone that does not parse blocks the contract (fail closed)', () => {
    const file = path.join(lab.store, 'tombstones', `sha256-${c2.hash.slice(7)}.json`)
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, '{"body": {"schema_version": 1,')
    refused(promoteArgs(lab, c2.file), new RegExp(`^contract store: tombstone decode failed: ${escape(file)}: .+\\n$`))
    rmSync(file)
  })

  it('symlinked active.json', () => {
    const active = path.join(lab.store, 'active.json')
    const real = path.join(lab.dir, 'active-real.json')
    copyFileSync(active, real)
    rmSync(active)
    symlinkSync(real, active)
    refused(promoteArgs(lab, c2.file), `contract store: active manifest ${active} must be a regular file [STORE_INVALID]\n`)
    rmSync(active)
    copyFileSync(real, active)
  })

  it('two promotes racing on the same prior hash (two processes): exactly one wins', async () => {
    // The test holds the store lock while both processes start, so both read the same baseline
    // (generation 1), pass the lock-free pre-flight and write their intent receipts, then queue on
    // the lock. Releasing it lets them race for the swap for real.
    const lock = path.join(lab.store, '.lock')
    const receiptsFile = path.join(lab.store, 'activation-receipts.jsonl')
    const intents = (): number => jsonl(receiptsFile).filter((x) => x.payload_kind === 'contract_promote_intent').length
    const intents0 = intents()
    writeFileSync(lock, String(process.pid), {flag: 'wx'})
    const c3 = writeCandidate(lab, 'c3', 2)
    const racing = Promise.all([cliAsync(promoteArgs(lab, c2.file, ['--json'])), cliAsync(promoteArgs(lab, c3.file, ['--json']))])
    for (let i = 0; i < 300 && intents() < intents0 + 2; i++) await new Promise((r) => setTimeout(r, 50))
    assert.equal(intents(), intents0 + 2, 'both intents written before the swap')
    rmSync(lock)
    const [a, b] = await racing
    assert.deepEqual([a.code, b.code].sort(), [0, 1], `${a.stderr}\n${b.stderr}`)
    const loser = a.code === 1 ? a : b
    const winner = JSON.parse((a.code === 0 ? a : b).stdout) as {generation: number; priorManifestHash: string; manifestHash: string}
    assert.equal(winner.generation, 2)
    assert.equal(winner.priorManifestHash, g1)
    // --json: the loser's error is a JSON object on stdout (docs/errors.md)
    assert.equal(loser.stderr, '')
    assert.deepEqual(JSON.parse(loser.stdout), {error: {code: 'STORE_CAS_MISMATCH', message: 'contract store: manifest generation is not monotonic: got 2, previous 2', exit: 1}})
    const active = JSON.parse(readFileSync(path.join(lab.store, 'active.json'), 'utf8')) as {body: {generation: number; prior_manifest_hash: string}}
    assert.equal(active.body.generation, 2)
    assert.equal(active.body.prior_manifest_hash, g1)
    // only the winner's contract was staged into history/
    const staged = [c2.hash, c3.hash].filter((h) => snapshot(lab.store).has(`history/sha256-${h.slice(7)}.yaml`))
    assert.equal(staged.length, 1)
    const j = jsonl(path.join(lab.store, '.activation_journal.jsonl'))
    assert.deepEqual(j.map((x) => x.outcome).slice(-2).sort(), ['accepted', 'rejected'])
    assert.equal(j.find((x) => x.outcome === 'accepted' && x.generation === 2)?.manifest_hash, winner.manifestHash)
    const committed = verifyReceipts(lab, receiptsFile).filter((x) => x.payload_kind === 'contract_promote_committed')
    assert.deepEqual(committed.map((x) => (x.payload as {validation_outcome: string}).validation_outcome).slice(-2).sort(), ['accepted', 'rejected'])
  })

  it('replayed older manifest: active.json reset to generation 1 is refused', () => {
    const active = path.join(lab.store, 'active.json')
    const current = readFileSync(active)
    copyFileSync(path.join(lab.store, 'manifests', `sha256-${g1.slice(7)}.json`), active)
    refused(promoteArgs(lab, c1.file), /^contract store: current active manifest generation 1 \(sha256:[0-9a-f]{64}\) is not above the highest accepted generation 2 \(sha256:[0-9a-f]{64}\): refusing a replayed older manifest \[STORE_REPLAY\]; hint: restore active.json from manifests\/sha256-[0-9a-f]{64}\.json or promote a new generation\n$/)
    writeFileSync(active, current)
  })

  it('a tombstoned contract: the denial is recorded (intent, rejected committed receipt, journal) and nothing else changes', () => {
    const j0 = jsonl(path.join(lab.store, '.activation_journal.jsonl')).length
    const r0 = jsonl(path.join(lab.store, 'activation-receipts.jsonl')).length
    const state = (): Map<string, string> => {
      const s = snapshot(lab.store)
      s.delete('.activation_journal.jsonl')
      s.delete('activation-receipts.jsonl')
      return s
    }
    const before = state()
    const tomb = path.join(lab.dir, 'tomb.yaml')
    writeFileSync(tomb, tombstoneYaml(lab, c1.hash))
    const filed = fileTomb(lab, tomb)
    assert.ok(filed)
    const before2 = state()
    assert.equal(before2.size, before.size + 1)
    const r = cli(promoteArgs(lab, c1.file))
    assert.equal(r.code, 1)
    assert.match(r.stderr, new RegExp(`^contract store: prior contract is tombstoned and cannot be re-promoted: selector_id="sha256:[0-9a-f]{64}" contract_hash=${c1.hash} redacted_at="2026-11-01T00:00:00Z" authorization="auth-1" signer_key_id="ops-bob" \\[STORE_TOMBSTONED\\]\\n$`))
    assert.deepEqual(state(), before2)
    const j = jsonl(path.join(lab.store, '.activation_journal.jsonl'))
    assert.equal(j.length, j0 + 1)
    assert.equal(j.at(-1)?.outcome, 'rejected')
    const rs = verifyReceipts(lab, path.join(lab.store, 'activation-receipts.jsonl'))
    assert.equal(rs.length, r0 + 2)
    assert.equal((rs.at(-1)?.payload as {validation_outcome: string}).validation_outcome, 'rejected')
  })
})

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
