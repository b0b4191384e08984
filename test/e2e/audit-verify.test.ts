import {before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {encodeActionReceipt, evidencePreimageBytes, parseEvidenceReceipt, ReceiptChainBuilder} from '../../src/plugins/receipts/index.js'
import {formatSignature, keyPairFromSeed, loadAgentPrivateKey, sha256, signBytes} from '../../src/plugins/signing/index.js'
import {action, K1} from '../helpers/receipt-fixtures.js'
import {runCli, type CliResult} from '../helpers/cli.js'
import {relink} from '../helpers/entry-relink.js'
import {dropLine, swapLines, tamperLine, tearLastLine} from '../helpers/evidence-mutations.js'
import {readVector, repoPath} from '../helpers/vectors.js'

// verify-receipt on the files Pipelock's own lifecycle commands write (issue 11): the
// ratification and activation receipt logs (unchained v2 receipts) and a `learn shadow`
// recorder directory (a v2 chain inside recorder entries), each with a pinned roster or named
// keys, and damaged copies made by test/helpers/evidence-mutations.ts.

const GOLDEN_PUB = keyPairFromSeed(sha256('pipelock-golden-deterministic-signer')).publicKey.toString('hex')
const dir = mkdtempSync(path.join(tmpdir(), 'pl-audit-verify-'))
const ks = path.join(dir, 'ks')
const env = {HOME: path.join(dir, 'home'), PIPELOCK_HOME: path.join(dir, 'home', '.pipelock')}
const pub = (id: string): string => path.join(ks, 'agents', id, 'id_ed25519.pub')
const rosterFile = path.join(dir, 'roster.json')
const ratifyLog = path.join(dir, 'ratification-receipts.jsonl')
const store = path.join(dir, 'store')
const activationLog = path.join(store, 'activation-receipts.jsonl')
const rec = path.join(dir, 'rec')
let fp = ''

function cli(args: string[]): CliResult {
  return runCli(args, {env})
}

function ok(args: string[]): CliResult {
  const r = cli(args)
  assert.equal(r.status, 0, `${args.slice(0, 2).join(' ')}: ${r.stdout}${r.stderr}`)
  return r
}

const roster = (): string[] => ['--roster', rosterFile, '--roster-root-fingerprint', fp]
const verify = (...args: string[]): CliResult => cli(['verify-receipt', ...args])
const UNPROVEN_END = (seq: number, line: number): string =>
  `a new v2 chain starts at genesis here; the chain before it ends at chain_seq ${seq} (evidence-proxy-0.jsonl:${line}), and no verified checkpoint signature covers this point: a genesis names no earlier chain, so nothing proves no receipt after chain_seq ${seq} was removed`
const UNCHAINED = (n: number): string =>
  `warning: ${n} v2 receipts are unchained (chain_seq 0, empty chain_prev_hash; the lifecycle commands write these): each verifies on its own, but nothing proves none was removed or reordered\n`

before(() => {
  mkdirSync(env.HOME, {recursive: true})
  for (const id of ['ci-compile', 'receipt-signing', 'ops-alice']) ok(['keygen', id, '--keystore', ks])
  const root = ok(['signing', 'key', 'generate', '--purpose', 'roster-root', '--out', path.join(dir, 'root.json')])
  fp = (root.stdout.split('\n')[2] ?? '').replace('  fingerprint: ', '')
  ok([
    'signing', 'roster', 'build', '--root', path.join(dir, 'root.json'),
    '--include', `id=ci-compile,key=${pub('ci-compile')},purpose=contract-compile-signing`,
    '--include', `id=receipt-signing,key=${pub('receipt-signing')},purpose=receipt-signing`,
    '--include', `id=ops-alice,key=${pub('ops-alice')},purpose=contract-activation-signing,role=alice`,
    '--out', rosterFile,
  ])
  const candidate = path.join(dir, 'candidate.yaml')
  copyFileSync(repoPath('goldens', 'multi-session', 'contract.yaml'), candidate)
  const ratified = path.join(dir, 'ratified.yaml')
  ok(['learn', 'ratify', '--candidate', candidate, '--contract-key', GOLDEN_PUB, '--accept-low-confidence', '--keystore', ks, '--compile-key-agent', 'ci-compile', '--receipt-key-agent', 'receipt-signing', '--out', ratified])
  ok(['learn', 'shadow', '--contract', ratified, '--contract-key', pub('ci-compile'), '--sessions', repoPath('goldens', 'multi-session', 'input'), '--duration', '87600h', '--out', path.join(dir, 'shadow.md'), '--recorder-dir', rec, '--keystore', ks])
  ok(['learn', 'promote', '--contract-store', store, '--roster', rosterFile, '--roster-root-fingerprint', fp, '--keystore', ks, '--activation-key', 'ops-alice', '--candidate', ratified, '--selector', 'shop-agent', '--environment-id', 'prod'])
})

describe('verify-receipt on learn ratify / learn promote receipt logs', () => {
  test('ratification-receipts.jsonl verifies against the pinned roster, and with a named key', () => {
    for (const keys of [roster(), ['--key', `receipt-signing=${pub('receipt-signing')}`]]) {
      const r = verify(ratifyLog, ...keys)
      assert.equal(r.status, 0, r.stdout + r.stderr)
      assert.match(r.stdout, /^CHAIN VALID: .*ratification-receipts\.jsonl\n  v2 receipts: 1; 1 unchained\n  v2 kinds:    contract_ratified 1\n  Start: {7}\S+Z\n  End: {9}\S+Z\n$/)
      assert.equal(r.stderr, UNCHAINED(1))
    }
  })

  test('without a key it says so and what it checked (exit 3, nothing broken); with the wrong key it fails at line 1', () => {
    const none = verify(ratifyLog)
    assert.equal(none.status, 3)
    assert.match(none.stdout, /^NO KEY GIVEN: .*ratification-receipts\.jsonl\n  Checked: {6}v2 receipt structure, authority matrix and chain links\n  Not checked: {2}the signatures of 1 v2 receipt, and who signed anything \(no key pinned\)\n  v2 receipts: 1; 1 unchained \(signatures NOT checked: no key\)\n/)
    assert.doesNotMatch(none.stdout, /BROKEN/)
    assert.equal(none.stderr.split('\n')[0], 'no key given: v2 signatures not checked; pass --key HEX|FILE, --key ID=HEX|FILE or --roster FILE --roster-root-fingerprint FP')
    assert.equal(JSON.parse(verify(ratifyLog, '--json').stdout).verdict, 'self_consistent_only')
    const wrong = verify(ratifyLog, '--key', `receipt-signing=${pub('ops-alice')}`)
    assert.equal(wrong.status, 1)
    assert.match(wrong.stdout, /Error: {4}chain_seq 0: payload field has invalid enum value: signature verification failed\n  Line: {5}.*:1\n$/)
    // The reference's text stays (receipts.md §9.5); a note says what it means.
    assert.equal(
      wrong.stderr.split('\n')[1],
      'note: the signature does not verify under the key given for signer receipt-signing: a different key signed it, or the receipt was altered after signing',
    )
    const plain = verify(ratifyLog, '--key', pub('ops-alice'))
    assert.equal(plain.status, 1)
    assert.match(plain.stderr, /^chain verification failed at .*:1: chain_seq 0: payload field has invalid enum value: signature verification failed\nnote: the signature does not verify under the key given for signer receipt-signing: a different key signed it, or the receipt was altered after signing\n/)
    // Another failure of a v2 receipt gets no such note.
    const partial = verify(activationLog, '--key', `receipt-signing=${pub('receipt-signing')}`)
    assert.doesNotMatch(partial.stderr, /^note:/m)
  })

  test('an unnamed --key together with --roster is refused (exit 2): the roster would decide every v2 signer and the key go unchecked', () => {
    const want = '--key KEY cannot be combined with --roster: the roster decides every v2 signer, so the key would go unchecked; pass one of them, or name the key as --key ID=KEY [USAGE]\n'
    for (const [cmd, input] of [['verify-receipt', activationLog], ['verify-receipt', rec], ['transcript-root', rec]] as const) {
      const r = cli([cmd, input, ...roster(), '--key', pub('ci-compile')])
      assert.deepEqual(r, {status: 2, stdout: '', stderr: want}, `${cmd} ${input}`)
    }
    // A named key beside the roster is still accepted: it says which signer it pins.
    const named = verify(activationLog, ...roster(), '--key', `receipt-signing=${pub('receipt-signing')}`)
    assert.equal(named.status, 0, named.stdout + named.stderr)
    assert.equal(named.stderr, UNCHAINED(2))
  })

  test('a named --key that pins no receipt (a mistyped id beside the roster) is named in a warning, not silently replaced by the roster', () => {
    const unused = (id: string, roster: boolean): string =>
      `warning: --key ${id}=…: no receipt has signer_key_id "${id}" and none was signed by that key, so it pinned nothing${roster ? ' (the roster decided every signer)' : ''}; check the key id\n`
    // the roster still decides, so the verdict stands; the key given did nothing, and says so
    const typo = verify(activationLog, ...roster(), '--key', `receipt-signer=${pub('receipt-signing')}`)
    assert.equal(typo.status, 0, typo.stdout + typo.stderr)
    assert.equal(typo.stderr, UNCHAINED(2) + unused('receipt-signer', true))
    const j = JSON.parse(verify(activationLog, ...roster(), '--key', `receipt-signer=${pub('receipt-signing')}`, '--json').stdout)
    assert.deepEqual([j.verdict, j.unusedKeys], ['valid', ['receipt-signer']])
    assert.equal(JSON.parse(verify(activationLog, ...roster(), '--json').stdout).unusedKeys, undefined)
    // without a roster too: a named key beside the ones that pinned every receipt
    const extra = verify(ratifyLog, '--key', `receipt-signing=${pub('receipt-signing')}`, '--key', `ops-alice=${pub('ops-alice')}`)
    assert.equal(extra.status, 0, extra.stdout + extra.stderr)
    assert.equal(extra.stderr, UNCHAINED(1) + unused('ops-alice', false))
    // one receipt file: the same
    const single = path.join(dir, 'single-ratified.json')
    writeFileSync(single, (readFileSync(ratifyLog, 'utf8').split('\n')[0] ?? '') + '\n')
    const one = verify(single, ...roster(), '--key', `receipt-signer=${pub('receipt-signing')}`)
    assert.equal(one.status, 0, one.stdout + one.stderr)
    assert.match(one.stdout, /^OK: /)
    assert.equal(one.stderr, unused('receipt-signer', true))
    // audit packet build and verify say it too
    const packet = path.join(dir, 'packet-unused-key')
    const built = cli(['audit', 'packet', 'build', '--chain', activationLog, ...roster(), '--key', `receipt-signer=${pub('receipt-signing')}`, '--out', packet])
    assert.equal(built.status, 0, built.stdout + built.stderr)
    assert.equal(built.stderr, unused('receipt-signer', true))
    const checked = cli(['audit', 'packet', 'verify', packet, ...roster(), '--key', `receipt-signer=${pub('receipt-signing')}`])
    assert.equal(checked.status, 0, checked.stdout + checked.stderr)
    assert.match(checked.stdout, /^PACKET VALID: /)
    assert.equal(checked.stderr, unused('receipt-signer', true))
    assert.deepEqual(JSON.parse(cli(['audit', 'packet', 'verify', packet, ...roster(), '--key', `receipt-signer=${pub('receipt-signing')}`, '--json']).stdout).unusedKeys, ['receipt-signer'])
    const plain = cli(['audit', 'packet', 'verify', packet, ...roster()])
    assert.equal(plain.status, 0, plain.stdout + plain.stderr)
    assert.equal(plain.stderr, '')
    // audit report and transcript-root: the same warning, and unusedKeys in --json
    const html = path.join(dir, 'report-unused-key.html')
    const report = cli(['audit', 'report', '--chain', activationLog, ...roster(), '--key', `receipt-signer=${pub('receipt-signing')}`, '--out', html])
    assert.equal(report.status, 0, report.stdout + report.stderr)
    assert.equal(report.stdout, `audit report: ${html} (verdict valid, 0 decisions, 0 blocks)\n`)
    assert.equal(report.stderr, unused('receipt-signer', true))
    const reportJson = JSON.parse(cli(['audit', 'report', '--chain', activationLog, ...roster(), '--key', `receipt-signer=${pub('receipt-signing')}`, '--out', html, '--json']).stdout)
    assert.deepEqual([reportJson.verdict, reportJson.unusedKeys], ['valid', ['receipt-signer']])
    const reportPlain = cli(['audit', 'report', '--chain', activationLog, ...roster(), '--out', html, '--json'])
    assert.equal(reportPlain.stderr, '')
    assert.equal(JSON.parse(reportPlain.stdout).unusedKeys, undefined)
    const root = cli(['transcript-root', rec, ...roster(), '--key', `receipt-signer=${pub('receipt-signing')}`])
    assert.equal(root.status, 0, root.stdout + root.stderr)
    assert.match(root.stdout, /^Transcript Root \(v2 evidence chain\): /)
    assert.equal(root.stderr, unused('receipt-signer', true))
    const rootJson = JSON.parse(cli(['transcript-root', rec, ...roster(), '--key', `receipt-signer=${pub('receipt-signing')}`, '--json']).stdout)
    assert.deepEqual([rootJson.valid, rootJson.unusedKeys], [true, ['receipt-signer']])
    const rootPlain = cli(['transcript-root', rec, ...roster()])
    assert.equal(rootPlain.stderr, '')
    // no root stated (nothing chained): the warning still follows the reason
    const none = cli(['transcript-root', activationLog, ...roster(), '--key', `receipt-signer=${pub('receipt-signing')}`])
    assert.equal(none.status, 1)
    assert.equal(none.stderr, `no receipts found in ${activationLog} (2 unchained v2 receipts have no root) [CHAIN_EMPTY]\n` + unused('receipt-signer', true))
  })

  test('activation-receipts.jsonl: intent by the activation key, committed by the receipt key, both from the roster', () => {
    const r = verify(activationLog, ...roster(), '--json')
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const j = JSON.parse(r.stdout)
    assert.equal(j.verdict, 'valid')
    assert.deepEqual(j.counts.byPayloadKind, {contract_promote_committed: 1, contract_promote_intent: 1})
    assert.equal(j.evidenceReceipts.unchained, 2)
    // only the receipt key named: the intent's signer has no key
    const partial = verify(activationLog, '--key', `receipt-signing=${pub('receipt-signing')}`)
    assert.equal(partial.status, 1)
    assert.match(partial.stdout, /Error: {4}chain_seq 0: no key for signer_key_id "ops-alice": pass --key ops-alice=HEX or a roster\n/)
  })

  test('a roster pinned to another root fingerprint is refused before any receipt is read', () => {
    const r = verify(ratifyLog, '--roster', rosterFile, '--roster-root-fingerprint', 'sha256:' + '00'.repeat(32))
    assert.equal(r.status, 1)
    assert.match(r.stderr, /^roster root key fingerprint does not match pinned/)
  })

  test('the authority matrix is enforced per line: a receipt-signing payload signed by the activation key is refused', () => {
    // Re-sign the ratified receipt with ops-alice's key, claiming receipt-signing for it.
    const line = readFileSync(ratifyLog, 'utf8').trim()
    const seed = Buffer.from(readFileSync(path.join(ks, 'agents', 'ops-alice', 'id_ed25519'), 'utf8').split('\n')[1] as string, 'base64').subarray(0, 32)
    const alice = keyPairFromSeed(seed)
    const tree = JSON.parse(line)
    tree.signature.signer_key_id = 'ops-alice'
    const sig = signBytes(alice, evidencePreimageBytes(parseEvidenceReceipt(JSON.stringify(tree))))
    tree.signature.signature = formatSignature(sig)
    const forged = path.join(dir, 'forged.jsonl')
    writeFileSync(forged, readFileSync(ratifyLog, 'utf8') + JSON.stringify(tree) + '\n')
    const r = verify(forged, ...roster())
    assert.equal(r.status, 1)
    assert.match(r.stdout, /Error: {4}chain_seq 0: roster: signature key_purpose does not match authority matrix: payload_kind="contract_ratified" required="receipt-signing" got="contract-activation-signing"\n  Line: {5}.*forged\.jsonl:2\n/)
    // With the key named directly the signature verifies, so the declared purpose is all there is.
    tree.signature.key_purpose = 'contract-activation-signing'
    tree.signature.signature = formatSignature(signBytes(alice, evidencePreimageBytes(parseEvidenceReceipt(JSON.stringify(tree)))))
    writeFileSync(forged, JSON.stringify(tree) + '\n')
    const named = verify(forged, '--key', `ops-alice=${pub('ops-alice')}`)
    assert.equal(named.status, 1)
    assert.match(named.stdout, /signature key_purpose does not match authority matrix: payload_kind="contract_ratified" required="receipt-signing" got="contract-activation-signing"/)
  })

  test('a file mixing bare v1 and v2 receipts fails at the first line of the other kind', () => {
    const mixed = path.join(dir, 'mixed.jsonl')
    const v1 = JSON.stringify(JSON.parse(readVector('receipts', 'valid-single.json')))
    writeFileSync(mixed, readFileSync(ratifyLog, 'utf8') + v1 + '\n')
    const r = verify(mixed, ...roster())
    assert.equal(r.status, 1)
    assert.match(r.stdout, /Error: {4}mixed file: this line is a bare ActionReceipt v1 but .*mixed\.jsonl:1 is a bare EvidenceReceipt v2\n  Line: {5}.*mixed\.jsonl:2\n$/)
  })

  test('one v1 receipt against a roster or named keys is pinned to them: another signer fails, a roster signer is pinned', () => {
    const single = path.join(dir, 'single-v1.json')
    writeFileSync(single, readVector('receipts', 'valid-single.json'))
    const reason = `v1 signer ${K1} is not among the pinned keys`
    for (const keys of [roster(), ['--key', `receipt-signing=${pub('receipt-signing')}`]]) {
      const r = verify(single, ...keys)
      assert.equal(r.status, 1)
      assert.equal(r.stdout, `FAILED: ${single}: ${reason}\n`)
      assert.equal(r.stderr, `verification failed: ${reason}\n`)
    }
    const own = path.join(dir, 'single-v1-roster.json')
    const b = new ReceiptChainBuilder(loadAgentPrivateKey(ks, 'receipt-signing').keyPair)
    writeFileSync(own, encodeActionReceipt(b.append(action('roster-signed', new Date().toISOString().replace(/\.\d+Z$/, 'Z'), 'read'))) + '\n')
    const r = verify(own, ...roster(), '--json')
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.equal(r.stderr, '')
    assert.equal(JSON.parse(r.stdout).signerPinned, true)
  })

  test('a v1 receipt signed by a roster key outside its validity window fails, alone and in a chain', () => {
    const signer = loadAgentPrivateKey(ks, 'receipt-signing')
    const b = new ReceiptChainBuilder(signer.keyPair)
    // The roster was built today: its keys are valid from now, so a receipt of 2020 predates them.
    const early = encodeActionReceipt(b.append(action('before-roster', '2020-01-01T00:00:00Z', 'read')))
    const reason = `v1 signer ${signer.publicKeyHex} is roster key "receipt-signing", which the roster does not let sign at the receipt's timestamp 2020-01-01T00:00:00Z: key is not yet valid`
    const single = path.join(dir, 'single-v1-early.json')
    writeFileSync(single, early + '\n')
    const one = verify(single, ...roster())
    assert.equal(one.status, 1)
    assert.equal(one.stdout, `FAILED: ${single}: ${reason}\n`)
    const chain = path.join(dir, 'chain-v1-early.jsonl')
    writeFileSync(chain, early + '\n')
    const r = verify(chain, ...roster(), '--json')
    assert.equal(r.status, 1)
    const report = JSON.parse(r.stdout)
    assert.equal(report.verdict, 'invalid')
    assert.deepEqual(report.failure, {component: 'keys', message: `chain_seq 0: ${reason}`, file: chain, line: 1})
  })

  test('an unknown payload kind fails with its line number', () => {
    const bad = path.join(dir, 'unknown-kind.jsonl')
    tamperLine(ratifyLog, bad, 1, '"payload_kind":"contract_ratified"', '"payload_kind":"contract_blessed"')
    const r = verify(bad, ...roster())
    assert.equal(r.status, 1)
    assert.match(r.stdout, /Error: {4}chain_seq 0: (roster: unknown payload_kind|unknown payload_kind for v2 receipt: "contract_blessed")\n  Line: {5}.*unknown-kind\.jsonl:1\n/)
  })
})

describe('verify-receipt on a learn shadow recorder directory', () => {
  const file = (): string => path.join(rec, 'proxy', 'evidence-proxy-0.jsonl')

  test('the directory (with its proxy/ session subdirectory) verifies as one v2 chain in recorder entries', () => {
    assert.deepEqual(readdirSync(path.join(rec, 'proxy')), ['evidence-proxy-0.jsonl'])
    const r = verify(rec, ...roster())
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(
      r.stdout,
      new RegExp(`^CHAIN VALID: ${rec} \\(session proxy\\)\\n  Entries: {5}5 in 1 file, hash chain intact; 0 checkpoints \\(0 signed\\), 0 transcript roots\\n  v2 receipts: 5; 5 in 1 chain, final seq 4, root [0-9a-f]{64}\\n  v2 kinds: {4}shadow_delta 5\\n`),
    )
    assert.equal(r.stderr, '')
    const same = verify('--chain', rec, '--key', `receipt-signing=${pub('receipt-signing')}`, '--json')
    assert.equal(JSON.parse(same.stdout).evidenceReceipts.rootHash, /root ([0-9a-f]{64})/.exec(r.stdout)?.[1])
  })

  test('a tampered payload fails at its line with the receipt signature', () => {
    const d = path.join(dir, 'tampered')
    mkdirSync(d)
    tamperLine(file(), path.join(d, 'evidence-proxy-0.jsonl'), 3, '"original_verdict":"', '"original_verdict":"x')
    const r = verify(d, ...roster())
    assert.equal(r.status, 1)
    assert.match(r.stdout, /Error: {4}chain_seq 2: payload field has invalid enum value: signature verification failed\n  Line: {5}evidence-proxy-0\.jsonl:3\n$/)
  })

  test('reordered entries fail at the first moved line', () => {
    const d = path.join(dir, 'reordered')
    mkdirSync(d)
    swapLines(file(), path.join(d, 'evidence-proxy-0.jsonl'), 2, 3)
    const r = verify(d, ...roster())
    assert.equal(r.status, 1)
    // said to be out of order, with where the expected entry is: not "missing"
    assert.match(r.stdout, /\n {2}Error: {4}entries out of order: entry seq 2 where 1 was expected; entry seq 1 comes later, at evidence-proxy-0\.jsonl:3\n {2}Line: {5}evidence-proxy-0\.jsonl:2\n$/)
  })

  test('a removed entry is a gap at the line after it', () => {
    const d = path.join(dir, 'dropped')
    mkdirSync(d)
    dropLine(file(), path.join(d, 'evidence-proxy-0.jsonl'), 3)
    const r = verify(d, ...roster())
    assert.equal(r.status, 1)
    // the entry gap, which names what is gone, rather than the receipt seq gap it causes
    assert.match(r.stdout, /Error: {4}entry seq gap: expected 2, got 3 \(entry 2 is missing\)\n  Line: {5}evidence-proxy-0\.jsonl:3\n$/)
  })

  test('a torn last line (crash mid-write) is a warning; the same cut inside the file is a failure', () => {
    const d = path.join(dir, 'torn')
    mkdirSync(d)
    tearLastLine(file(), path.join(d, 'evidence-proxy-0.jsonl'), 200)
    const r = verify(d, ...roster())
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /v2 receipts: 4; 4 in 1 chain/)
    assert.equal(r.stderr, 'warning: evidence-proxy-0.jsonl:5: truncated last line (200 bytes, no newline, does not parse): an interrupted write, not evidence; ignored\n')
    const cut = readFileSync(path.join(d, 'evidence-proxy-0.jsonl'), 'utf8') + '\n' + readFileSync(file(), 'utf8').split('\n')[4] + '\n'
    writeFileSync(path.join(d, 'evidence-proxy-0.jsonl'), cut)
    const bad = verify(d, ...roster())
    assert.equal(bad.status, 1)
    assert.match(bad.stderr, /^extracting receipts: reading entries: evidence-proxy-0\.jsonl: line 5: parsing entry: /)
  })

  test('a second shadow run appends a second chain from genesis: valid, and said so', () => {
    const d = path.join(dir, 'two-runs')
    mkdirSync(path.join(d, 'proxy'), {recursive: true})
    copyFileSync(file(), path.join(d, 'proxy', 'evidence-proxy-0.jsonl'))
    ok(['learn', 'shadow', '--contract', path.join(dir, 'ratified.yaml'), '--contract-key', pub('ci-compile'), '--sessions', repoPath('goldens', 'multi-session', 'input'), '--duration', '87600h', '--out', path.join(dir, 'shadow2.md'), '--recorder-dir', d, '--keystore', ks])
    const r = verify(d, ...roster(), '--json')
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const j = JSON.parse(r.stdout)
    assert.equal(j.entries.count, 10)
    assert.equal(j.evidenceReceipts.chains, 2)
    assert.deepEqual(j.warnings, [
      {message: UNPROVEN_END(4, 5), file: 'evidence-proxy-0.jsonl', line: 6},
      {message: '2 v2 chains start at genesis in this input (one per emitter run)'},
    ])
    assert.equal(j.evidenceReceipts.unprovenChainEnds, 1)
  })

  test('the tail of the first chain cut and the entries after it rehashed: still no signature to break, and the output says which end is unproven', () => {
    const d = path.join(dir, 'two-runs-cut')
    mkdirSync(path.join(d, 'proxy'), {recursive: true})
    const f = path.join(d, 'proxy', 'evidence-proxy-0.jsonl')
    const lines = readFileSync(path.join(dir, 'two-runs', 'proxy', 'evidence-proxy-0.jsonl'), 'utf8').trimEnd().split('\n')
    assert.match(lines[4] as string, /"chain_seq":4,/)
    assert.match(lines[5] as string, /"chain_prev_hash":"genesis"/)
    lines.splice(4, 1)
    relink(lines, 4)
    writeFileSync(f, lines.join('\n') + '\n')
    const r = verify(d, ...roster())
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.equal(
      r.stderr,
      `warning: evidence-proxy-0.jsonl:5: ${UNPROVEN_END(3, 4)}\n` + 'warning: 2 v2 chains start at genesis in this input (one per emitter run)\n',
    )
  })
})
