import {describe, test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync, copyFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'
import {vectorPath} from '../helpers/vectors.js'
import {encodeActionReceipt, encodeEvidenceReceipt, ReceiptChainBuilder, signActionReceipt, signEvidence} from '../../src/plugins/receipts/index.js'
import {fromPlain, uuidToUlid} from '../../src/plugins/canonical/index.js'
import {action, keyA} from '../helpers/receipt-fixtures.js'
import {fingerprint} from '../../src/plugins/signing/index.js'

const K1 = '4655a7e605c12ebb00a46037881c33c5bca5eb74b45a02e8e7261a7ff5a21678'
const K2 = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'
const UNPINNED = 'note: signer not pinned (no --key): verified against the key embedded in the receipt; pass --key to pin the expected signer\n'
const inVectors = (...args: string[]) => runCli(['verify-receipt', ...args], {cwd: vectorPath('receipts')})

describe('verify-receipt on the conformance vectors: exact output (receipts.md §11.1)', () => {
  test('valid-single.json', () => {
    const r = inVectors('valid-single.json')
    assert.equal(r.status, 0)
    const want = readFileSync(vectorPath('receipts', 'README.md'), 'utf8').split('```')[1]!.replace(/^\n/, '')
    assert.equal(r.stdout, want)
    assert.equal(r.stderr, UNPINNED)
  })

  test('valid-single.json pinned to K1, and to another key', () => {
    assert.equal(inVectors('valid-single.json', '--key', K1).stderr, '')
    const r = inVectors('valid-single.json', '--key', K2)
    assert.equal(r.status, 1)
    assert.equal(r.stdout, `FAILED: valid-single.json: signer_key ${K1} does not match expected key ${K2}\n`)
    assert.equal(r.stderr, `verification failed: signer_key ${K1} does not match expected key ${K2}\n`)
  })

  test('a key read from a file is named by its fingerprint and path in a mismatch, never by its contents', () => {
    // A private key in hex reads like a public one: whatever the file holds must not be echoed.
    const tmp = mkdtempSync(path.join(tmpdir(), 'pl-keyfile-'))
    const keyFile = path.join(tmp, 'escrow.key')
    writeFileSync(keyFile, `${K2}\n`)
    const name = `${fingerprint(Buffer.from(K2, 'hex'))} (the key in ${keyFile})`
    const single = inVectors('valid-single.json', '--key', keyFile)
    assert.deepEqual(single, {
      status: 1,
      stdout: `FAILED: valid-single.json: signer_key ${K1} does not match expected key ${name}\n`,
      stderr: `verification failed: signer_key ${K1} does not match expected key ${name}\n`,
    })
    const chain = inVectors('valid-chain.jsonl', '--key', keyFile)
    assert.deepEqual(chain, {
      status: 1,
      stdout: `CHAIN BROKEN: valid-chain.jsonl\n  Error:    seq 0: signature: signer_key ${K1} does not match expected key ${name}\n  Broke at: seq 0\n  Line:     valid-chain.jsonl:1\n`,
      stderr: `chain verification failed at seq 0: seq 0: signature: signer_key ${K1} does not match expected key ${name}\n`,
    })
    for (const args of [['verify-receipt', 'valid-chain.jsonl', '--key', keyFile, '--json'], ['verify-receipt', 'valid-single.json', '--key', keyFile, '--json'], ['transcript-root', 'valid-chain.jsonl', '--key', keyFile], ['transcript-root', 'valid-chain.jsonl', '--key', keyFile, '--json'], ['audit', 'packet', 'build', '--chain', 'valid-chain.jsonl', '--key', keyFile, '--out', path.join(tmp, 'packet')], ['audit', 'report', '--chain', 'valid-chain.jsonl', '--key', keyFile, '--out', path.join(tmp, 'report.html')]]) {
      const r = runCli(args, {cwd: vectorPath('receipts')})
      assert.equal(r.status, 1, args.join(' '))
      assert.ok((r.stdout + r.stderr).includes(name), `${args.join(' ')}: ${r.stdout}${r.stderr}`)
      assert.ok(!(r.stdout + r.stderr).includes(K2), `${args.join(' ')} echoed the key file: ${r.stdout}${r.stderr}`)
    }
    // What packet build and report wrote records the failure too: without the key file's contents.
    for (const f of [path.join('packet', 'packet.json'), path.join('packet', 'verifier.txt'), 'report.html']) assert.ok(!readFileSync(path.join(tmp, f), 'utf8').includes(K2), f)
    rmSync(tmp, {recursive: true, force: true})
  })

  test('invalid-signature.json', () => {
    const r = inVectors('invalid-signature.json')
    assert.deepEqual(r, {
      status: 1,
      stdout: 'FAILED: invalid-signature.json: signature verification failed\n',
      stderr: 'verification failed: signature verification failed\n',
    })
  })

  test('valid-chain.jsonl', () => {
    const r = inVectors('valid-chain.jsonl', '--key', K1)
    assert.deepEqual(r, {
      status: 0,
      stdout:
        'CHAIN VALID: valid-chain.jsonl\n' +
        '  Receipts:  5\n' +
        '  Final seq: 4\n' +
        '  Root hash: be904bd5ca82adc26c2969872c23925f22ff24e33faf44a1185b9ffc0e2c2b5a\n' +
        '  Start:     2026-04-15T12:00:00Z\n' +
        '  End:       2026-04-15T12:00:04Z\n',
      stderr: '',
    })
  })

  test('broken-chain.jsonl: the reference lines, byte for byte, then the file and line of the break', () => {
    const r = inVectors('broken-chain.jsonl')
    const want = readFileSync(vectorPath('receipts', 'README.md'), 'utf8').split('```')[5]!.replace(/^\n/, '')
    assert.ok(want.startsWith('CHAIN BROKEN: broken-chain.jsonl\n'), want)
    assert.deepEqual(r, {
      status: 1,
      stdout: `${want}  Line:     broken-chain.jsonl:4\n`,
      stderr: 'chain verification failed at seq 3: seq 3: chain_prev_hash mismatch\n',
    })
    // the same line as --json's failure.file and failure.line (unchanged fields)
    const j = JSON.parse(inVectors('broken-chain.jsonl', '--json').stdout)
    assert.deepEqual(j.failure, {component: 'action_receipts', message: 'seq 3: chain_prev_hash mismatch', file: 'broken-chain.jsonl', line: 4, brokenAtSeq: '3'})
  })

  test('broken-chain.jsonl in a recorder directory (--chain DIR): the line names the file in DIR', (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pl-broken-dir-'))
    t.after(() => rmSync(dir, {recursive: true, force: true}))
    copyFileSync(vectorPath('receipts', 'broken-chain.jsonl'), path.join(dir, 'evidence-conformance-session-0.jsonl'))
    const r = runCli(['verify-receipt', '--chain', dir, '--session', 'conformance-session'])
    assert.deepEqual(r, {
      status: 1,
      stdout: `CHAIN BROKEN: ${dir} (session conformance-session)\n  Error:    seq 3: chain_prev_hash mismatch\n  Broke at: seq 3\n  Line:     evidence-conformance-session-0.jsonl:4\n`,
      stderr: 'chain verification failed at seq 3: seq 3: chain_prev_hash mismatch\n',
    })
    const j = JSON.parse(runCli(['verify-receipt', '--chain', dir, '--session', 'conformance-session', '--json']).stdout)
    assert.deepEqual([j.failure.file, j.failure.line], ['evidence-conformance-session-0.jsonl', 4])
  })

  test('session rotation: valid with endorsement, broken without, refused for another session', () => {
    const dir = vectorPath('receipts', 'synthetic')
    const base = ['verify-receipt', 'synthetic-v1-session-rotation.jsonl', '--key', K1]
    const ok = runCli([...base, '--rotation-endorsement', 'synthetic-v1-session-rotation.endorsement.json'], {cwd: dir})
    assert.equal(ok.status, 0)
    assert.match(ok.stdout, /^CHAIN VALID: synthetic-v1-session-rotation.jsonl\n  Receipts:  6\n  Final seq: 2\n  Root hash: 70d537170ba0f5b7f9bb130ae8191bef9ce254104062234f19d043c2b232e285\n  Start:     2026-04-15T12:00:00Z\n  End:       2026-04-15T12:01:02Z\n$/)
    const no = runCli(base, {cwd: dir})
    assert.equal(no.status, 1)
    assert.match(no.stdout, /Error:    seq 0: rotation endorsement does not match receipt boundary\n  Broke at: seq 0\n  Line:     synthetic-v1-session-rotation.jsonl:\d+\n$/)
    const other = runCli([...base, '--session', 'other', '--rotation-endorsement', 'synthetic-v1-session-rotation.endorsement.json'], {cwd: dir})
    assert.equal(other.status, 1)
    assert.equal(other.stdout, "CHAIN BROKEN: synthetic-v1-session-rotation.jsonl\n  Error:    signed recorder session 'proxy' does not match endorsement session 'other'\n")
  })

  test('--session with a .jsonl file: the file must hold that session; with a single receipt it is refused', () => {
    assert.deepEqual(inVectors('valid-chain.jsonl', '--key', K1, '--session', 'proxy'), {
      status: 1,
      stdout: 'CHAIN BROKEN: valid-chain.jsonl\n  Error:    valid-chain.jsonl holds the entries of recorder session "conformance-session", not of --session "proxy"\n',
      stderr: 'chain verification failed: valid-chain.jsonl holds the entries of recorder session "conformance-session", not of --session "proxy"\n',
    })
    assert.deepEqual(inVectors('valid-chain.jsonl', '--key', K1, '--session', 'conformance-session'), inVectors('valid-chain.jsonl', '--key', K1))
    const one = inVectors('valid-single.json', '--key', K1, '--session', 'proxy')
    assert.deepEqual(one, {status: 2, stdout: '', stderr: '--session applies to a chain (a .jsonl file or a recorder directory), not to the single receipt valid-single.json [USAGE]\n'})
  })

  test('EvidenceReceipt v2: valid with K2, NO KEY GIVEN without a key, invalid with another key', () => {
    for (const f of ['valid-evidence-proxy-decision.json', 'valid_evidence_receipt_promote_committed.json', 'valid-evidence-shadow-delta.json']) {
      const ok = inVectors(f, '--key', K2)
      assert.equal(ok.status, 0, ok.stdout + ok.stderr)
      assert.match(ok.stdout, new RegExp(`^OK: ${f}\n  Record type:  evidence_receipt_v2\n`))
      // Without a key nothing is broken: the same verdict (NO KEY GIVEN, exit 3) as the receipt in a .jsonl file.
      const nokey = inVectors(f)
      assert.equal(nokey.status, 3, nokey.stdout + nokey.stderr)
      assert.match(nokey.stdout, new RegExp(`^NO KEY GIVEN: ${f}\n  Checked:      v2 receipt structure and authority matrix\n  Not checked:  its signature, and who signed it \\(no key pinned\\)\n  Record type:  evidence_receipt_v2\n`))
      assert.match(nokey.stdout, /\n  Signer key:   receipt-signing-test \(receipt-signing\), as the receipt claims\n/)
      const wrong = inVectors(f, '--key', K1)
      assert.equal(wrong.status, 1)
      assert.match(wrong.stdout, /signature verification failed/)
    }
  })

  test('EvidenceReceipt v2 without a key: one receipt reads as the same receipt in a chain file (NO KEY GIVEN, exit 3)', () => {
    const f = 'valid-evidence-proxy-decision.json'
    assert.deepEqual(inVectors(f), {
      status: 3,
      stdout:
        `NO KEY GIVEN: ${f}\n` +
        '  Checked:      v2 receipt structure and authority matrix\n' +
        '  Not checked:  its signature, and who signed it (no key pinned)\n' +
        '  Record type:  evidence_receipt_v2\n' +
        '  Payload kind: proxy_decision\n' +
        '  Event ID:     01F8MECHZX3TBDSZ7XRADM79XV\n' +
        '  Timestamp:    2026-04-25T22:00:00Z\n' +
        '  Signer key:   receipt-signing-test (receipt-signing), as the receipt claims\n' +
        '  Chain seq:    1\n' +
        '  Chain prev:   sha256:0\n' +
        '  Receipt hash: b36c02b601bebbf20a7661c5a51491befb823f365255995a7f928c20e418ebd4\n',
      stderr: 'no key given: the v2 signature was not checked; pass --key HEX|FILE, --key ID=HEX|FILE or --roster FILE --roster-root-fingerprint FP\n',
    })
    const j = inVectors(f, '--json')
    assert.equal(j.status, 3)
    assert.equal(JSON.parse(j.stdout).error, 'public_key_hex is required to verify EvidenceReceipt v2 signatures')
    // A key that is not the signer's is still a failure, not a missing key, and stderr says what the verifier's text means.
    assert.deepEqual(inVectors(f, '--key', K1), {
      status: 1,
      stdout: `FAILED: ${f}: payload field has invalid enum value: signature verification failed\n`,
      stderr: 'verification failed: payload field has invalid enum value: signature verification failed\n' +
        'note: the signature does not verify under the key given for signer receipt-signing-test: a different key signed it, or the receipt was altered after signing\n',
    })
  })

  test('EvidenceReceipt v2: --key ID=HEX pins the key of that signer_key_id only', () => {
    const f = 'valid-evidence-proxy-decision.json'
    const ok = inVectors(f, '--key', `receipt-signing-test=${K2}`)
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
    const other = inVectors(f, '--key', `someone-else=${K2}`)
    assert.equal(other.status, 1)
    assert.equal(other.stdout, `FAILED: ${f}: no key for signer_key_id "receipt-signing-test": pass --key receipt-signing-test=HEX or a roster\n`)
  })

  test('--json gives a typed result and the same exit status', () => {
    const r = inVectors('broken-chain.jsonl', '--json')
    assert.equal(r.status, 1)
    const j = JSON.parse(r.stdout)
    assert.equal(j.kind, 'evidence_set')
    assert.equal(j.valid, false)
    assert.equal(j.verdict, 'invalid')
    assert.deepEqual(j.failure, {component: 'action_receipts', message: 'seq 3: chain_prev_hash mismatch', file: 'broken-chain.jsonl', line: 4, brokenAtSeq: '3'})
    assert.equal(j.signerPinned, false)
    assert.equal(j.entries.valid, true)
    assert.equal(j.actionReceipts.count, 5)
    const s = JSON.parse(inVectors('valid-single.json', '--key', K1, '--json').stdout)
    assert.equal(s.valid, true)
    assert.equal(s.signerPinned, true)
    assert.equal(s.receiptHash, '9994a67b9cb324bae8d648b5baccd5d5403600b2bc5047a40d0355a610f2dc44')
  })

  test('a tampered copy of a chain fails at the edited receipt (the docs/receipts.md example)', (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pl-tamper-'))
    t.after(() => rmSync(dir, {recursive: true, force: true}))
    const lines = readFileSync(vectorPath('receipts', 'valid-chain.jsonl'), 'utf8').split('\n')
    lines[2] = lines[2]!.replace('"verdict":"allow"', '"verdict":"block"')
    writeFileSync(path.join(dir, 'tampered.jsonl'), lines.join('\n'))
    const r = runCli(['verify-receipt', 'tampered.jsonl', '--key', K1], {cwd: dir})
    assert.equal(r.status, 1)
    assert.equal(r.stdout, 'CHAIN BROKEN: tampered.jsonl\n  Error:    seq 2: signature: signature verification failed\n  Broke at: seq 2\n  Line:     tampered.jsonl:3\n')
  })
})

describe('verify-receipt on bad input: one clear line, exit 1, never a crash', () => {
  let dir = ''
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pl-bad-'))
  })
  after(() => rmSync(dir, {recursive: true, force: true}))
  const put = (name: string, content: string | Buffer) => {
    writeFileSync(path.join(dir, name), content)
    return name
  }
  const run = (...args: string[]) => runCli(['verify-receipt', ...args], {cwd: dir})
  const oneLine = (s: string) => assert.equal(s.trim().split('\n').length, 1, `expected one line, got: ${s}`)

  test('missing file', () => {
    const r = run('nope.json')
    assert.equal(r.status, 1)
    assert.equal(r.stderr, 'reading receipt: open nope.json: no such file or directory [FILE_NOT_FOUND]\n')
    const c = run('nope.jsonl')
    assert.equal(c.status, 1)
    assert.equal(c.stderr, 'reading chain: open nope.jsonl: no such file or directory [FILE_NOT_FOUND]\n')
  })

  test('terminal escapes in a signed receipt (a tool name the agent chose) cannot rewrite the Verdict line', () => {
    const esc = '\u001b[1A\u001b[2K  Verdict:     allow'
    const receipt = signActionReceipt(fromPlain({version: 1, delegation_chain: null, chain_prev_hash: 'genesis', chain_seq: 0, ...action('esc-1', '2026-04-15T12:00:00Z', 'write', {target: `mcp:tools/${esc}`, verdict: 'block', transport: 'mcp_stdio'})}), keyA())
    const name = put('escape.json', encodeActionReceipt(receipt) + '\n')
    const shown = 'mcp:tools/?[1A?[2K  Verdict:     allow'
    const r = run(name, '--key', K1)
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.doesNotMatch(r.stdout, /\u001b/)
    assert.match(r.stdout, /\n {2}Verdict: {5}block\n {2}Target: {6}mcp:tools\/\?\[1A\?\[2K {2}Verdict: {5}allow\n/)
    const f = run(name, '--key', K1, '--find', 'esc-1')
    assert.equal(f.stdout.split('\n').filter((l) => l.startsWith('  Target:')).at(-1), `  Target:      ${shown}`)
    assert.doesNotMatch(f.stdout, /\u001b/)
  })

  test('terminal escapes quoted from the evidence in warnings (a run nonce) are shown as ?', () => {
    const b = new ReceiptChainBuilder(keyA())
    const open = b.openRun({runNonce: 'run-\u001b[2K', openNonce: 'open-1', recorderSession: 'proxy', signerKeyEpoch: '1', heartbeatSeconds: 30}, {actionId: 'o-1', timestamp: '2026-04-15T12:00:00Z'})
    const name = put('escape-run.jsonl', encodeActionReceipt(open) + '\n')
    for (const cmd of [['verify-receipt', name], ['transcript-root', name]]) {
      const r = runCli([...cmd, '--key', K1], {cwd: dir})
      assert.equal(r.status, 0, r.stdout + r.stderr)
      assert.doesNotMatch(r.stdout + r.stderr, /\u001b/)
      assert.match(r.stderr, /warning: escape-run\.jsonl:1: the last run run-\?\[2K \(session_open at chain_seq 0\) has no session_close/)
    }
  })

  test('--session with a file of bare receipts: nothing names a session, so it cannot be checked', () => {
    const b = new ReceiptChainBuilder(keyA())
    const open = b.openRun({runNonce: 'run-1', openNonce: 'open-1', recorderSession: 'proxy', signerKeyEpoch: '1', heartbeatSeconds: 30}, {actionId: 'o-1', timestamp: '2026-04-15T12:00:00Z'})
    const name = put('bare-run.jsonl', encodeActionReceipt(open) + '\n')
    const r = run(name, '--key', K1, '--session', 'proxy')
    assert.equal(r.status, 1, r.stdout + r.stderr)
    assert.equal(r.stdout, 'CHAIN BROKEN: bare-run.jsonl\n  Error:    bare-run.jsonl holds bare v1 receipts, not recorder entries: nothing in it names a recorder session to check --session "proxy" against\n')
    assert.equal(run(name, '--key', K1).status, 0)
  })

  test('--rotation-endorsement with a single receipt is refused, not ignored', () => {
    copyFileSync(vectorPath('receipts', 'valid-single.json'), path.join(dir, 'one.json'))
    const r = run('one.json', '--rotation-endorsement', 'whatever.json')
    assert.equal(r.status, 2)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /^--rotation-endorsement applies to a chain \(a \.jsonl file or a recorder directory\), not to the single receipt one\.json \[USAGE\]/)
  })

  test('truncated receipt', () => {
    const r = run(put('trunc.json', '{"version":1,"action_record":{"version":1,'))
    assert.equal(r.status, 1)
    assert.equal(r.stdout, 'FAILED: trunc.json: unmarshal receipt: unexpected end of JSON input at line 1, column 43\n')
    assert.equal(r.stderr, 'parsing receipt: unmarshal receipt: unexpected end of JSON input at line 1, column 43\n')
  })

  test('a chain line that is not JSON is CHAIN BROKEN, naming file and line (the JSON position is the column in that line)', () => {
    put('notjson.jsonl', '\n{"v":1,\n')
    const r = run('notjson.jsonl')
    assert.equal(r.status, 1)
    const error = 'notjson.jsonl: line 2: parsing entry: unexpected end of JSON input at column 8'
    assert.equal(r.stdout, `CHAIN BROKEN: notjson.jsonl\n  Error:    ${error}\n  Line:     notjson.jsonl:2\n`)
    // the last line: nothing after it went unchecked, so nothing more is said
    assert.equal(r.stderr, `extracting receipts: reading entries: ${error}\n`)
    oneLine(r.stderr)
  })

  test('a line that does not parse in the middle of a recorder file: CHAIN BROKEN at its line, and no finding about the part never checked', () => {
    const chain = readFileSync(vectorPath('receipts', 'valid-chain.jsonl'), 'utf8').split('\n')
    chain[2] = (chain[2] as string).slice(0, 60)
    put('torn-mid.jsonl', chain.join('\n'))
    const r = run('torn-mid.jsonl', '--key', K1)
    assert.equal(r.status, 1)
    const error = 'torn-mid.jsonl: line 3: parsing entry: unexpected end of JSON input (unterminated string) at column 57'
    assert.equal(r.stdout, `CHAIN BROKEN: torn-mid.jsonl\n  Error:    ${error}\n  Line:     torn-mid.jsonl:3\n`)
    assert.equal(
      r.stderr,
      `extracting receipts: reading entries: ${error}\n` +
        'warning: torn-mid.jsonl:3: verification stopped at this line: the rest of torn-mid.jsonl was not checked, so nothing is said here of what it holds (receipts, checkpoints, a session_close)\n',
    )
    const j = JSON.parse(run('torn-mid.jsonl', '--key', K1, '--json').stdout)
    assert.equal(j.verdict, 'invalid')
    assert.deepEqual(j.failure, {component: 'lines', message: error, file: 'torn-mid.jsonl', line: 3, extraction: 'entry'})
    // nothing after the damage was checked: no part of the evidence is called valid
    assert.deepEqual([j.entries.valid, j.actionReceipts.valid, j.evidenceReceipts.valid], [false, false, false])
  })

  test('a huge line is refused without reading it whole', () => {
    put('huge.jsonl', '{"v":1,"pad":"' + 'x'.repeat(1024 * 1024 + 10) + '"}\n')
    const r = run('huge.jsonl')
    assert.equal(r.status, 1)
    assert.equal(r.stderr, 'extracting receipts: reading entries: huge.jsonl: line 1: line exceeds 1048576 bytes\n')
    assert.equal(r.stdout, 'CHAIN BROKEN: huge.jsonl\n  Error:    huge.jsonl: line 1: line exceeds 1048576 bytes\n  Line:     huge.jsonl:1\n')
  })

  test('an unknown record_type and an unsupported entry version', () => {
    put('rt.jsonl', '{"record_type":"mystery_v9"}\n')
    assert.equal(run('rt.jsonl').stderr, 'extracting receipts: reading entries: rt.jsonl: line 1: unknown record_type "mystery_v9"\n')
    put('v3.jsonl', '{"v":3,"ts":"2026-01-01T00:00:00Z"}\n')
    assert.equal(run('v3.jsonl').stderr, 'extracting receipts: reading entries: v3.jsonl: line 1: unsupported entry version 3 (accepted: 1, 2)\n')
    const single = run(put('rt.json', '{"record_type":"mystery_v9"}'))
    assert.equal(single.status, 1)
    assert.match(single.stdout, /unknown record_type "mystery_v9"/)
  })

  test('an action_receipt entry whose receipt does not parse aborts extraction', () => {
    put('badrec.jsonl', '{"v":1,"seq":7,"ts":"2026-01-01T00:00:00Z","type":"action_receipt","detail":{"version":1,"oops":true}}\n')
    const r = run('badrec.jsonl')
    assert.equal(r.status, 1)
    assert.equal(r.stderr, "extracting receipts: badrec.jsonl: line 1: unmarshal existing receipt at seq 7: unmarshal receipt: receipt carries unknown signed field(s): ['oops']\n")
    assert.equal(r.stdout, "CHAIN BROKEN: badrec.jsonl\n  Error:    badrec.jsonl: line 1: unmarshal existing receipt at seq 7: unmarshal receipt: receipt carries unknown signed field(s): ['oops']\n  Line:     badrec.jsonl:1\n")
  })

  test('an unparsable line after a chain break still aborts extraction (the whole file is read)', () => {
    const broken = readFileSync(vectorPath('receipts', 'broken-chain.jsonl'), 'utf8')
    put('late-garbage.jsonl', broken + 'not json\n')
    const r = run('late-garbage.jsonl')
    assert.equal(r.status, 1)
    const error = 'late-garbage.jsonl: line 6: parsing entry: invalid literal, expected null at column 1'
    assert.equal(r.stdout, `CHAIN BROKEN: late-garbage.jsonl\n  Error:    ${error}\n  Line:     late-garbage.jsonl:6\n`)
    assert.equal(r.stderr, `extracting receipts: reading entries: ${error}\n`)
  })

  test('an EvidenceReceipt v2 with an empty chain_prev_hash is shown as such', () => {
    const receipt = signEvidence(
      {
        payloadKind: 'proxy_decision',
        eventId: 'e-1',
        timestamp: '2026-11-22T09:00:00Z',
        chainSeq: 0,
        chainPrevHash: '',
        payload: {action_type: 'connect', target: 'example.com', verdict: 'allow', transport: 'forward', policy_sources: ['config'], winning_source: 'config'},
      },
      {keyPair: keyA(), keyId: 'receipt-key', purpose: 'receipt-signing'},
    )
    put('v2.json', encodeEvidenceReceipt(receipt))
    const r = run('v2.json', '--key', keyA().publicKey.toString('hex'))
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /\n  Chain seq:    0\n  Chain prev:   \(empty\)\n/)
  })

  test('no receipts', () => {
    put('empty.jsonl', '\n\n')
    const r = run('empty.jsonl')
    assert.deepEqual(r, {status: 1, stdout: 'No receipts found in empty.jsonl\n', stderr: 'no receipts in empty.jsonl\n'})
  })

  test('non-hex and wrong-length keys', () => {
    put('r.json', '{}')
    assert.equal(run('r.json', '--key', 'zz').stderr, 'loading public key: invalid public key: invalid public key format (expected pipelock-ed25519-public-v1 header) [KEY_INVALID]\n')
    assert.equal(run('r.json', '--key', 'abcd').stderr, 'loading public key: invalid public key length: got 2, want 32 [KEY_INVALID]\n')
    assert.equal(run('r.json', '--key', './missing.pub').stderr, 'loading public key: reading public key file ./missing.pub: file does not exist [FILE_NOT_FOUND]\n')
  })

  test('usage errors', () => {
    assert.equal(run().status, 2) // a usage error (docs/errors.md)
    assert.match(run().stderr, /accepts 1 arg\(s\), received 0/)
    mkdirSync(path.join(dir, 'd'), {recursive: true})
    assert.match(run('x.json', '--chain', 'd').stderr, /cannot pass a file argument together with --chain/)
  })

  test('--chain DIR reads evidence-<session>-<n>.jsonl in numeric order', () => {
    const cdir = path.join(dir, 'chain')
    mkdirSync(cdir, {recursive: true})
    const lines = readFileSync(vectorPath('receipts', 'valid-chain.jsonl'), 'utf8').trimEnd().split('\n')
    writeFileSync(path.join(cdir, 'evidence-conformance-session-0.jsonl'), lines.slice(0, 2).join('\n') + '\n')
    writeFileSync(path.join(cdir, 'evidence-conformance-session-2.jsonl'), lines.slice(2).join('\n') + '\n')
    copyFileSync(vectorPath('receipts', 'broken-chain.jsonl'), path.join(cdir, 'evidence-proxy-0.jsonl'))
    const r = run('--chain', 'chain', '--session', 'conformance-session', '--key', K1)
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /^CHAIN VALID: chain \(session conformance-session\)\n  Receipts:  5\n/)
    const p = run('--chain', 'chain', '--key', K1)
    assert.equal(p.status, 1)
    assert.match(p.stdout, /^CHAIN BROKEN: chain \(session proxy\)\n/)
  })
})

describe('verify-receipt --find: the receipt a block response named', () => {
  let dir = ''
  const uuid = '01a21c39-f329-73d6-8480-654952f78a98'
  const ulid = uuidToUlid(uuid)!
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pl-find-'))
    const b = new ReceiptChainBuilder(keyA())
    const lines = [
      b.append(action('a-0', '2026-04-15T12:00:00Z', 'read')),
      b.append(action(uuid, '2026-04-15T12:00:01Z', 'read', {verdict: 'block', layer: 'blocklist', pattern: 'domain_blocklist', target: 'https://pastebin.com/x'})),
    ].map((r) => encodeActionReceipt(r))
    writeFileSync(path.join(dir, 'chain.jsonl'), lines.join('\n') + '\n')
  })
  after(() => rmSync(dir, {recursive: true, force: true}))
  const run = (...args: string[]) => runCli(['verify-receipt', 'chain.jsonl', '--key', K1, ...args], {cwd: dir})

  test('--json carries what --find found: the text lines are not printed there', () => {
    const r = run('--find', ulid, '--json')
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout).find, {
      id: ulid, found: true, verified: true, file: 'chain.jsonl', line: 2, actionId: uuid,
      verdict: 'block', target: 'https://pastebin.com/x', transport: 'fetch', layer: 'blocklist', pattern: 'domain_blocklist',
    })
    const none = run('--find', '01JH3KQ2V8ZQ6W4N0B1C5D7E9F', '--json')
    assert.equal(none.status, 1)
    assert.deepEqual(JSON.parse(none.stdout).find, {id: '01JH3KQ2V8ZQ6W4N0B1C5D7E9F', found: false})
    assert.equal(none.stderr, 'receipt 01JH3KQ2V8ZQ6W4N0B1C5D7E9F not found\n')
  })

  test('any action_id is found as it is (the reference vectors use conformance-0000N); an empty one is a usage error before verifying', () => {
    const r = run('--find', 'a-0')
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /\nReceipt a-0: chain\.jsonl:1\n {2}Action ID: {3}a-0\n {2}Verdict: {5}allow\n/)
    const vec = runCli(['verify-receipt', 'valid-chain.jsonl', '--key', K1, '--find', 'conformance-00002'], {cwd: vectorPath('receipts')})
    assert.equal(vec.status, 0, vec.stderr)
    assert.match(vec.stdout, /\nReceipt conformance-00002: valid-chain\.jsonl:3\n/)
    assert.deepEqual(run('--find', ''), {status: 2, stdout: '', stderr: '--find needs a receipt id: the ULID of an X-Pipelock-Block-Reason-Receipt header, or an action_id [USAGE]\n'})
  })

  test('a receipt found in evidence that did not verify is marked as such', () => {
    const r = runCli(['verify-receipt', 'chain.jsonl', '--key', K2, '--find', ulid], {cwd: dir})
    assert.equal(r.status, 1)
    assert.match(r.stdout, /^CHAIN BROKEN: /)
    assert.match(r.stdout, /\nReceipt .+: chain\.jsonl:2\n/)
    assert.match(r.stderr, /\nnote: the evidence did not verify: the receipt above is shown as the file holds it, not as proven\n$/)
    const j = runCli(['verify-receipt', 'chain.jsonl', '--key', K2, '--find', ulid, '--json'], {cwd: dir})
    assert.equal(JSON.parse(j.stdout).find.verified, false)
  })
})
