/**
 * Issue 34: EvidenceReceipt v2 chains written by newer reference releases carry `crit`,
 * `canonicalization` and `policy_hash`. Built here with the project's own signer: the members
 * are signed like the others (a changed policy_hash breaks the signature), a receipt with an
 * unknown critical extension is "not verifiable by this version" (exit 4), naming it, while
 * the receipts around it verify and its chain link is still checked; an unknown member that
 * `crit` does not name is still refused (receipts.md §9.1).
 */
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, test} from 'node:test'
import {encodeEvidenceReceipt, nextChainLink, signEvidence, type UnsignedEvidenceReceipt} from '../../src/plugins/receipts/index.js'
import {keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'

const key = keyPairFromSeed(sha256('pipelock-newer-release-receipts'))
const pub = key.publicKey.toString('hex')
const dir = mkdtempSync(path.join(tmpdir(), 'pl-newer-v2-'))
const POLICY = 'sha256:' + 'cd'.repeat(32)

/** Five chained proxy_decision receipts; `extensions[i]` are receipt i's newer-release members. */
function chain(extensions: Array<ReadonlyArray<readonly [string, unknown]>>): string[] {
  const lines: string[] = []
  let prev: string | undefined
  extensions.forEach((ext, i) => {
    const link = nextChainLink(prev)
    const unsigned: UnsignedEvidenceReceipt = {
      payloadKind: 'proxy_decision',
      eventId: `01JNEWER0000000000000000${i.toString().padStart(2, '0')}`,
      timestamp: `2026-11-24T12:00:0${i}Z`,
      principal: 'org:test',
      actor: 'agent:test',
      chainSeq: link.chainSeq,
      chainPrevHash: link.chainPrevHash,
      payload: {action_type: 'read', target: `https://h${i}.example/`, verdict: 'allow', transport: 'fetch', policy_sources: ['scanner'], winning_source: 'scanner'},
      extensions: ext,
    }
    prev = encodeEvidenceReceipt(signEvidence(unsigned, {keyPair: key, keyId: 'receipt-signing', purpose: 'receipt-signing'}))
    lines.push(prev)
  })
  return lines
}

const NEWER: Array<ReadonlyArray<readonly [string, unknown]>> = [
  [],
  [['canonicalization', 'jcs-rfc8785'], ['policy_hash', POLICY]],
  [['crit', ['canonicalization', 'policy_hash']], ['canonicalization', 'jcs-rfc8785'], ['policy_hash', POLICY]],
  [['crit', ['x_attestation']], ['x_attestation', {level: 'tee', quote: 'abcd'}], ['policy_hash', POLICY]],
  [['policy_hash', POLICY]],
]

function write(name: string, lines: string[]): string {
  const f = path.join(dir, name)
  writeFileSync(f, lines.join('\n') + '\n')
  return f
}

describe('verify-receipt on v2 chains from newer releases', () => {
  test('understood members verify; an unknown critical extension is not verifiable by this version (exit 4), named', () => {
    const f = write('newer.jsonl', chain(NEWER))
    const r = runCli(['verify-receipt', f, '--key', pub])
    assert.equal(r.status, 4, r.stdout + r.stderr)
    assert.equal(
      r.stdout,
      `CHAIN NOT VERIFIABLE BY THIS VERSION: ${f}\n` +
        `  Not verified: 1 v2 receipt with an unknown critical extension ("x_attestation"); first ${f}:4\n` +
        '  Verified:     every other check, and the chain links through those receipts\n' +
        `  v2 receipts: 5; 5 in 1 chain, final seq 4, root ${/root ([0-9a-f]{64})/.exec(r.stdout)?.[1]}\n` +
        '  v2 kinds:    proxy_decision 5\n' +
        '  Decisions:   5 (allow 5)\n' +
        '  Start:       2026-11-24T12:00:00Z\n' +
        '  End:         2026-11-24T12:00:04Z\n',
    )
    assert.equal(r.stderr, `not verifiable by this version: ${f}:4: chain_seq 3: not verifiable by this version: unknown critical extension "x_attestation"; a newer pipelock verifies it\n`)
    const j = JSON.parse(runCli(['verify-receipt', f, '--key', pub, '--json']).stdout)
    assert.equal(j.verdict, 'not_verifiable')
    assert.equal(j.valid, false)
    assert.deepEqual(j.notVerifiable, {count: 1, extensions: ['x_attestation'], first: {message: 'chain_seq 3: not verifiable by this version: unknown critical extension "x_attestation"', file: f, line: 4}})
    assert.equal(j.evidenceReceipts.count, 5)
    assert.equal(j.evidenceReceipts.finalSeq, '4')
  })

  test('without the unknown extension the same newer chain is valid (exit 0)', () => {
    const f = write('understood.jsonl', chain(NEWER.filter((_, i) => i !== 3).concat([[]])))
    const r = runCli(['verify-receipt', f, '--key', pub])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /^CHAIN VALID: /)
  })

  test('the members are signed: a changed policy_hash or extension value is broken (exit 1), not unverifiable', () => {
    const lines = chain(NEWER)
    const tampered = write('tampered-policy.jsonl', lines.map((l, i) => (i === 1 ? l.replace(POLICY, 'sha256:' + 'ef'.repeat(32)) : l)))
    const r = runCli(['verify-receipt', tampered, '--key', pub])
    assert.equal(r.status, 1, r.stdout + r.stderr)
    assert.match(r.stdout, /^CHAIN BROKEN: .*\n {2}Error: {4}chain_seq 1: payload field has invalid enum value: signature verification failed\n/)
    // the unknown critical member is covered by the receipt hash the next receipt links to
    const relinked = write('tampered-ext.jsonl', lines.map((l, i) => (i === 3 ? l.replace('"quote":"abcd"', '"quote":"abce"') : l)))
    const x = runCli(['verify-receipt', relinked, '--key', pub])
    assert.equal(x.status, 1, x.stdout + x.stderr)
    assert.match(x.stdout, /^CHAIN BROKEN: .*\n {2}Error: {4}chain_seq 4: /)
  })

  test('an unknown member crit does not name is refused (§9.1); a malformed crit too', () => {
    // (our signer refuses to write these: a newer release's line, edited by hand)
    const plain = chain([[]])[0] as string
    const r = runCli(['verify-receipt', write('unknown.jsonl', [plain.replace('{', '{"x_other":1,')]), '--key', pub])
    assert.equal(r.status, 1)
    assert.match(r.stdout, /unknown envelope fields: \['x_other'\]/)
    const c = runCli(['verify-receipt', write('crit-payload.jsonl', [plain.replace('{', '{"crit":["payload"],')]), '--key', pub])
    assert.equal(c.status, 1)
    assert.match(c.stdout, /crit: "payload" is an envelope field, not an extension/)
  })

  test('transcript-root states no root over a receipt it cannot verify (exit 4): such a receipt may be anybody\'s', () => {
    // The last receipt, with an unknown critical extension, signed by a key nobody pinned: its
    // signature is not checked, so a root over it would vouch for a receipt anyone could append.
    const lines = chain(NEWER.slice(0, 3))
    const stranger = keyPairFromSeed(sha256('a stranger'))
    const link = nextChainLink(lines[2])
    lines.push(encodeEvidenceReceipt(signEvidence({
      payloadKind: 'proxy_decision', eventId: '01JNEWER000000000000000099', timestamp: '2026-11-24T12:00:09Z', chainSeq: link.chainSeq, chainPrevHash: link.chainPrevHash,
      payload: {action_type: 'read', target: 'https://innocent.example/', verdict: 'allow', transport: 'fetch', policy_sources: ['scanner'], winning_source: 'scanner'},
      extensions: [['crit', ['x_attestation']], ['x_attestation', {level: 'tee'}]],
    }, {keyPair: stranger, keyId: 'receipt-signing', purpose: 'receipt-signing'})))
    const f = write('appended.jsonl', lines)
    const r = runCli(['transcript-root', f, '--key', pub])
    assert.equal(r.status, 4, r.stdout + r.stderr)
    assert.equal(r.stdout, '')
    assert.equal(
      r.stderr,
      `not verifiable by this version: ${f}:4: chain_seq 3: not verifiable by this version: unknown critical extension "x_attestation"; no transcript root is stated over receipts this version cannot verify (a newer pipelock verifies them)\n`,
    )
  })

  test('a single receipt file with an unknown critical extension: exit 4, named', () => {
    const one = path.join(dir, 'one.json')
    writeFileSync(one, (chain(NEWER)[3] as string) + '\n')
    const r = runCli(['verify-receipt', one, '--key', pub])
    assert.equal(r.status, 4, r.stdout + r.stderr)
    assert.equal(r.stdout, `NOT VERIFIABLE BY THIS VERSION: ${one}: not verifiable by this version: unknown critical extension "x_attestation"\n`)
  })

  test('audit packet build and verify, and audit report: exit 4 on the same evidence, as verify-receipt', () => {
    const f = write('newer-audit.jsonl', chain(NEWER))
    const out = path.join(dir, 'packet-newer')
    const first = `chain_seq 3: not verifiable by this version: unknown critical extension "x_attestation"`
    const b = runCli(['audit', 'packet', 'build', '--chain', f, '--key', pub, '--out', out])
    assert.deepEqual(b, {
      status: 4,
      stdout: `audit packet: ${out} (verifier verdict error, 5 decisions)\n`,
      stderr: `audit packet build: the evidence is not verifiable by this version (verdict error): 1 receipt(s) not verifiable by this version (unknown critical extension x_attestation); the first: ${first}\n`,
    })
    const v = runCli(['audit', 'packet', 'verify', out, '--key', pub])
    assert.equal(v.status, 4, v.stdout + v.stderr)
    assert.equal(v.stderr, '')
    assert.equal(
      v.stdout.split('\n').slice(0, 2).join('\n'),
      `PACKET RECORDS FAILED EVIDENCE: ${out} (verdict error, 5 receipts)\n` +
        `  verifier verdict is "error": 1 receipt(s) not verifiable by this version (unknown critical extension x_attestation); the first: ${first}`,
    )
    // any other problem is a broken packet: exit 1, whatever the evidence needs
    writeFileSync(path.join(out, 'summary.md'), readFileSync(path.join(out, 'summary.md'), 'utf8') + 'edited\n')
    assert.equal(runCli(['audit', 'packet', 'verify', out, '--key', pub]).status, 1)
    const html = path.join(dir, 'newer.html')
    const r = runCli(['audit', 'report', '--chain', f, '--key', pub, '--out', html])
    assert.deepEqual(r, {
      status: 4,
      stdout: `audit report: ${html} (verdict not_verifiable, 5 decisions, 0 blocks)\n`,
      stderr: `audit report: the evidence did not verify (verdict not_verifiable): ${f}:4: ${first}; a newer pipelock verifies it\n`,
    })
  })
})
