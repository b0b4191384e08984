import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {encodeActionReceipt, encodeEvidenceReceipt, ReceiptChainBuilder, signEvidence} from '../../src/plugins/receipts/index.js'
import {action, K1, keyA} from '../helpers/receipt-fixtures.js'
import {runCli, type CliResult} from '../helpers/cli.js'

// Evidence whose v2 signatures were never checked (no key given) is not a pass anywhere: a
// contract_ratified receipt with its signature zeroed and its principal changed reads exactly as
// the honest one without a key — NO KEY GIVEN, `valid: false`, exit 3 — in verify-receipt (a
// .jsonl file and the same receipt as one .json), audit packet build and verify, and audit
// report; with the key the forgery fails and the honest receipt is valid. A v1-only chain
// without a key still passes with a note (the reference's behaviour: v1 receipts carry their key).

const dir = mkdtempSync(path.join(tmpdir(), 'pl-v2-unkeyed-'))
const NO_KEY = 'no key given: v2 signatures not checked; pass --key HEX|FILE, --key ID=HEX|FILE or --roster FILE --roster-root-fingerprint FP'
const SIG_FAILED = 'chain_seq 0: payload field has invalid enum value: signature verification failed'
const SIG_NOTE = 'note: the signature does not verify under the key given for signer receipt-signing: a different key signed it, or the receipt was altered after signing'

/** One learn-ratify-style receipt signed with the receipt key (K1), as its JSONL line. */
function ratified(): string {
  const rules = ['r-4b8d2bb637d6cae46446', 'r-5b1f132de700afa1b6b0']
  const contractHash = 'sha256:' + 'e4'.repeat(32)
  return encodeEvidenceReceipt(
    signEvidence(
      {
        payloadKind: 'contract_ratified',
        eventId: '01a222aa-59a5-7d91-b4bf-dfa190659dc6',
        timestamp: '2026-11-28T14:58:39.142042253Z',
        principal: 'ops-alice',
        actor: 'learn ratify',
        chainSeq: 0,
        chainPrevHash: '',
        contractHash,
        selectorId: 'sha256:' + '2b'.repeat(32),
        payload: {contract_hash: contractHash, ratifier_key_id: 'receipt-signing', ratified_rule_ids: rules, ratification_decision_per_rule: Object.fromEntries(rules.map((r) => [r, 'enforce']))},
      },
      {keyPair: keyA(), keyId: 'receipt-signing', purpose: 'receipt-signing'},
    ),
  )
}

/** The same receipt, forged: its signature zeroed and its principal changed. */
function forge(line: string): string {
  const r = JSON.parse(line)
  r.principal = 'ops-alice-FORGED'
  r.signature.signature = 'ed25519:' + '0'.repeat(128)
  return JSON.stringify(r)
}

const honestLine = ratified()
const forgedLine = forge(honestLine)
assert.notEqual(forgedLine, honestLine)

function write(name: string, line: string): string {
  const f = path.join(dir, name)
  writeFileSync(f, line + '\n')
  return f
}

const inputs = {
  honest: {jsonl: write('honest.jsonl', honestLine), json: write('honest.json', honestLine)},
  forged: {jsonl: write('forged.jsonl', forgedLine), json: write('forged.json', forgedLine)},
}

const keyed = (key: boolean): string[] => (key ? ['--key', K1] : [])
const json = (r: CliResult): Record<string, unknown> => JSON.parse(r.stdout) as Record<string, unknown>
const pick = (o: Record<string, unknown>, ...keys: string[]): Record<string, unknown> => Object.fromEntries(keys.map((k) => [k, o[k]]))
const verdictOf = (stdout: string): string => stdout.slice(0, stdout.indexOf('checks:\n'))

describe('verify-receipt: v2 receipts whose signatures were not checked are never valid', () => {
  for (const kind of ['honest', 'forged'] as const) {
    test(`${kind} receipt in a .jsonl file, without a key: NO KEY GIVEN, valid false, exit 3`, () => {
      const f = inputs[kind].jsonl
      const r = runCli(['verify-receipt', f])
      assert.deepEqual(r, {
        status: 3,
        stdout:
          `NO KEY GIVEN: ${f}\n` +
          '  Checked:      v2 receipt structure, authority matrix and chain links\n' +
          '  Not checked:  the signatures of 1 v2 receipt, and who signed anything (no key pinned)\n' +
          '  v2 receipts: 1; 1 unchained (signatures NOT checked: no key)\n' +
          '  v2 kinds:    contract_ratified 1\n' +
          '  Start:       2026-11-28T14:58:39Z\n' +
          '  End:         2026-11-28T14:58:39Z\n',
        stderr: `${NO_KEY}\nwarning: 1 v2 receipts are unchained (chain_seq 0, empty chain_prev_hash; the lifecycle commands write these): each verifies on its own, but nothing proves none was removed or reordered\n`,
      })
      const j = runCli(['verify-receipt', f, '--json'])
      assert.equal(j.status, 3)
      const v = json(j)
      assert.deepEqual(pick(v, 'kind', 'valid', 'verdict', 'signerPinned'), {kind: 'evidence_set', valid: false, verdict: 'self_consistent_only', signerPinned: false})
      assert.equal((v.evidenceReceipts as {signaturesChecked: boolean}).signaturesChecked, false)
    })

    test(`${kind} receipt as one .json file, without a key: the same answer (valid false, exit 3)`, () => {
      const j = runCli(['verify-receipt', inputs[kind].json, '--json'])
      assert.equal(j.status, 3)
      assert.deepEqual(pick(json(j), 'kind', 'valid'), {kind: 'evidence_receipt_v2', valid: false})
    })
  }

  test('with the key: the honest receipt is valid (exit 0), the forged one is broken (exit 1)', () => {
    const h = runCli(['verify-receipt', inputs.honest.jsonl, '--key', K1, '--json'])
    assert.equal(h.status, 0, h.stderr)
    assert.deepEqual(pick(json(h), 'valid', 'verdict', 'signerPinned'), {valid: true, verdict: 'valid', signerPinned: true})
    const f = inputs.forged.jsonl
    const r = runCli(['verify-receipt', f, '--key', K1])
    assert.deepEqual(r, {
      status: 1,
      stdout: `CHAIN BROKEN: ${f}\n  Error:    ${SIG_FAILED}\n  Line:     ${f}:1\n`,
      stderr: `chain verification failed at ${f}:1: ${SIG_FAILED}\n${SIG_NOTE}\n`,
    })
    const j = runCli(['verify-receipt', f, '--key', K1, '--json'])
    assert.equal(j.status, 1)
    assert.deepEqual(pick(json(j), 'valid', 'verdict'), {valid: false, verdict: 'invalid'})
    const one = runCli(['verify-receipt', inputs.forged.json, '--key', K1, '--json'])
    assert.equal(one.status, 1)
    assert.equal(json(one).valid, false)
  })
})

describe('audit packet build and verify: no PACKET VALID and no exit 0 over unchecked v2 signatures', () => {
  for (const kind of ['honest', 'forged'] as const) {
    test(`${kind} receipt without a key: build writes the packet and exits 3; verify says NO KEY GIVEN, exit 3`, () => {
      const out = path.join(dir, `packet-${kind}-nokey`)
      const b = runCli(['audit', 'packet', 'build', '--chain', inputs[kind].jsonl, '--out', out])
      assert.deepEqual(b, {status: 3, stdout: `audit packet: ${out} (verifier verdict self_consistent_only, 0 decisions)\n`, stderr: `audit packet build: ${NO_KEY}\n`})
      const p = JSON.parse(readFileSync(path.join(out, 'packet.json'), 'utf8'))
      assert.deepEqual([p.verifier.verdict, p.verifier.trusted], ['self_consistent_only', false])

      const v = runCli(['audit', 'packet', 'verify', out])
      assert.equal(v.status, 3)
      assert.equal(
        verdictOf(v.stdout),
        `NO KEY GIVEN: ${out} (verdict self_consistent_only, 1 receipts)\n` +
          '  Not checked:  the signatures of the v2 receipts in evidence.jsonl, and who signed anything (no key given, none recorded)\n',
      )
      assert.doesNotMatch(v.stdout, /FAILED|not run/)
      assert.equal(v.stderr, `audit packet verify: ${NO_KEY}\n`)
      const j = runCli(['audit', 'packet', 'verify', out, '--json'])
      assert.equal(j.status, 3)
      assert.deepEqual(pick(json(j), 'valid', 'signaturesChecked', 'signerPinned', 'keySource', 'problems'), {valid: false, signaturesChecked: false, signerPinned: false, keySource: 'none', problems: []})
    })
  }

  test('the packets built without a key, verified with it: the honest one is valid now, the forged one fails', () => {
    const honest = path.join(dir, 'packet-honest-nokey')
    const h = runCli(['audit', 'packet', 'verify', honest, '--key', K1])
    assert.equal(h.status, 0, h.stdout + h.stderr)
    assert.equal(
      verdictOf(h.stdout),
      `PACKET VALID: ${honest} (verdict self_consistent_only, 1 receipts)\n` +
        '  note: the packet was built without a key (it records "self_consistent_only"); evidence.jsonl verifies as "valid" under the key given, which pins its signer now\n',
    )
    assert.equal(json(runCli(['audit', 'packet', 'verify', honest, '--key', K1, '--json'])).signaturesChecked, true)
    const forged = path.join(dir, 'packet-forged-nokey')
    const f = runCli(['audit', 'packet', 'verify', forged, '--key', K1])
    assert.equal(f.status, 1)
    assert.equal(verdictOf(f.stdout), `PACKET INVALID: ${forged}\n  evidence.jsonl now verifies as "invalid", the packet records "self_consistent_only": evidence.jsonl:1: ${SIG_FAILED}\n`)
  })

  test('with the key: the honest receipt builds a valid packet (exit 0); the forged one is recorded invalid (exit 1)', () => {
    const honest = path.join(dir, 'packet-honest-key')
    const b = runCli(['audit', 'packet', 'build', '--chain', inputs.honest.jsonl, '--key', K1, '--out', honest])
    assert.deepEqual(b, {status: 0, stdout: `audit packet: ${honest} (verifier verdict valid, 0 decisions)\n`, stderr: ''})
    const v = runCli(['audit', 'packet', 'verify', honest, '--key', K1])
    assert.deepEqual([v.status, verdictOf(v.stdout), v.stderr], [0, `PACKET VALID: ${honest} (verdict valid, 1 receipts)\n`, ''])

    const forged = path.join(dir, 'packet-forged-key')
    const fb = runCli(['audit', 'packet', 'build', '--chain', inputs.forged.jsonl, '--key', K1, '--out', forged])
    assert.deepEqual(fb, {
      status: 1,
      stdout: `audit packet: ${forged} (verifier verdict invalid, 0 decisions)\n`,
      stderr: `audit packet build: the evidence did not verify (verdict invalid): ${inputs.forged.jsonl}:1: ${SIG_FAILED}\n`,
    })
    for (const args of [[], ['--key', K1]]) {
      const fv = runCli(['audit', 'packet', 'verify', forged, ...args])
      assert.equal(fv.status, 1)
      assert.match(verdictOf(fv.stdout), new RegExp(`^PACKET RECORDS FAILED EVIDENCE: ${forged} \\(verdict invalid, 1 receipts\\)\\n {2}verifier verdict is "invalid": ${SIG_FAILED}\\n`))
    }
  })
})

describe('audit report: unchecked v2 signatures exit 3 with NO KEY GIVEN, never 0', () => {
  for (const kind of ['honest', 'forged'] as const) {
    for (const key of [false, true]) {
      const expected =
        !key
          ? {status: 3, verdict: 'self_consistent_only', valid: false, stderr: `audit report: ${NO_KEY}\n`, banner: 'NO KEY GIVEN'}
          : kind === 'honest'
            ? {status: 0, verdict: 'valid', valid: true, stderr: '', banner: 'VALID'}
            : {status: 1, verdict: 'invalid', valid: false, stderr: `audit report: the evidence did not verify (verdict invalid): ${path.join(dir, 'forged.jsonl')}:1: ${SIG_FAILED}\n`, banner: 'INVALID'}
      test(`${kind} receipt ${key ? 'with' : 'without'} a key: exit ${expected.status}, verdict ${expected.verdict}`, () => {
        const html = path.join(dir, `report-${kind}-${key ? 'key' : 'nokey'}.html`)
        const r = runCli(['audit', 'report', '--chain', inputs[kind].jsonl, ...keyed(key), '--out', html])
        assert.deepEqual(r, {status: expected.status, stdout: `audit report: ${html} (verdict ${expected.verdict}, 0 decisions, 0 blocks)\n`, stderr: expected.stderr})
        const page = readFileSync(html, 'utf8')
        assert.match(page, new RegExp(`data-verdict="${expected.verdict}"><h1>${expected.banner}</h1>`))
        if (!key) assert.match(page, /<p>The signatures of 1 v2 receipt\(s\) were NOT checked \(no key given\): their structure and chain links are consistent, but nothing proves who signed them or that they are unaltered\.<\/p>/)
        const j = runCli(['audit', 'report', '--chain', inputs[kind].jsonl, ...keyed(key), '--out', html, '--json'])
        assert.equal(j.status, expected.status)
        assert.deepEqual(pick(json(j), 'verdict', 'valid'), {verdict: expected.verdict, valid: expected.valid})
      })
    }
  }
})

describe('v1 receipts only, without a key: still a pass with a note (the reference checks them against the key each carries)', () => {
  const b = new ReceiptChainBuilder(keyA())
  const v1 = path.join(dir, 'v1-only.jsonl')
  writeFileSync(v1, [0, 1].map((i) => encodeActionReceipt(b.append(action(`v1-${i}`, `2026-11-28T15:00:0${i}Z`, 'read')))).join('\n') + '\n')

  test('verify-receipt: valid true, exit 0, the note on stderr', () => {
    const r = runCli(['verify-receipt', v1, '--json'])
    assert.equal(r.status, 0)
    assert.deepEqual(pick(json(r), 'valid', 'verdict', 'signerPinned'), {valid: true, verdict: 'self_consistent_only', signerPinned: false})
    assert.equal(r.stderr, 'note: signer not pinned (no --key): verified against the key embedded in the receipt; pass --key to pin the expected signer\n')
  })

  test('audit packet build and verify, and audit report: exit 0', () => {
    const out = path.join(dir, 'packet-v1-nokey')
    const pb = runCli(['audit', 'packet', 'build', '--chain', v1, '--out', out])
    assert.deepEqual(pb, {status: 0, stdout: `audit packet: ${out} (verifier verdict self_consistent_only, 2 decisions)\n`, stderr: ''})
    const pv = runCli(['audit', 'packet', 'verify', out])
    assert.equal(pv.status, 0, pv.stdout + pv.stderr)
    assert.match(verdictOf(pv.stdout), /^PACKET VALID: .* \(verdict self_consistent_only, 2 receipts\)\n {2}note: signer not pinned: /)
    const html = path.join(dir, 'report-v1-nokey.html')
    const rep = runCli(['audit', 'report', '--chain', v1, '--out', html])
    assert.deepEqual(rep, {status: 0, stdout: `audit report: ${html} (verdict self_consistent_only, 2 decisions, 0 blocks)\n`, stderr: ''})
    assert.match(readFileSync(html, 'utf8'), /<h1>SELF-CONSISTENT ONLY<\/h1>/)
  })
})
