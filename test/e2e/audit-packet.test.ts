import {before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {createRequire} from 'node:module'
import {packetInvariantProblems, packetSchema, type AuditPacket} from '../../src/plugins/audit/index.js'
import {encodeActionReceipt, encodeEvidenceReceipt, nextChainLink, ReceiptChainBuilder, signEvidence} from '../../src/plugins/receipts/index.js'
import {keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {action, keyA} from '../helpers/receipt-fixtures.js'
import {runCli} from '../helpers/cli.js'
import {repoPath, vectorPath} from '../helpers/vectors.js'

// Audit packets (vectors/audit-packet): the reference schema is checked with a real JSON Schema
// 2020-12 validator (ajv); every README invariant has a mutation that both our verifier and,
// where the schema expresses it, ajv reject.

const require = createRequire(import.meta.url)
const Ajv2020 = require('ajv/dist/2020').default as new (o: object) => {compile: (s: object) => ((d: unknown) => boolean) & {errors?: unknown[]}}
const addFormats = require('ajv-formats').default as (a: unknown) => void

const schema = JSON.parse(readFileSync(vectorPath('audit-packet', 'v0.schema.json'), 'utf8'))
const example = JSON.parse(readFileSync(vectorPath('audit-packet', 'example.json'), 'utf8'))
// strictRequired off: the reference schema names signer_key in an if/then without redeclaring it (valid 2020-12)
const ajv = new Ajv2020({strict: true, strictRequired: false, allErrors: true})
addFormats(ajv)
const validate = ajv.compile(schema)

/** The verdict and its problems: `audit packet verify` output before the list of checks. */
const verdictOf = (stdout: string): string => stdout.slice(0, stdout.indexOf('checks:\n'))
/** The verdict of a packet built without a key and verified with the right one. */
const pinnedNow = (dir: string, receipts: number): string =>
  `PACKET VALID: ${dir} (verdict self_consistent_only, ${receipts} receipts)\n` +
  '  note: the packet was built without a key (it records "self_consistent_only"); evidence.jsonl verifies as "valid" under the key given, which pins its signer now\n'

const dir = mkdtempSync(path.join(tmpdir(), 'pl-audit-packet-'))
const K1 = '4655a7e605c12ebb00a46037881c33c5bca5eb74b45a02e8e7261a7ff5a21678'
const zodSchema = await packetSchema()
const ours = (p: unknown): string[] => {
  const r = zodSchema.safeParse(p)
  return r.success ? packetInvariantProblems(r.data) : r.error.issues.map((i) => i.path.join('.') + ': ' + i.message)
}

describe('audit packet v0: the reference schema and example', () => {
  test('example.json validates against v0.schema.json (ajv, draft 2020-12) and against ours', () => {
    assert.equal(validate(example), true, JSON.stringify(validate.errors))
    assert.deepEqual(ours(example), [])
  })

  const mutations: Array<[string, (p: AuditPacket & Record<string, unknown>) => void, boolean]> = [
    // [invariant, mutation, does the JSON Schema itself catch it?]
    ['all eight verdict buckets present', (p) => delete (p.summary.totals as Record<string, number>).ask, true],
    ['buckets sum to the total', (p) => (p.summary.receipt_count += 1), false],
    ['verdict is one of the five', (p) => ((p.verifier as {verdict: string}).verdict = 'ok'), true],
    ['valid requires trusted: true', (p) => (p.verifier.trusted = false), true],
    ['valid requires a pinned signer key', (p) => delete p.verifier.signer_key, true],
    ['every other verdict has trusted: false', (p) => (p.verifier.verdict = 'self_consistent_only'), true],
    ['non-negative counts', (p) => (p.summary.totals.block = -1), true],
    ['domain list sorted', (p) => p.summary.domains_touched?.reverse(), false],
    ['domain list unique', (p) => p.summary.domains_touched?.push('github.com'), false],
    ['policy hashes sorted and unique', (p) => p.policy.policy_hashes.push(p.policy.policy_hashes[0] as string), false],
    ['artifact path inside the packet: no ..', (p) => (p.artifacts.evidence = '../evidence.jsonl'), true],
    ['artifact path inside the packet: not absolute', (p) => (p.artifacts.verifier = '/tmp/verifier.txt'), true],
    ['no unknown fields', (p) => (p.extra = 1), true],
    ['no unknown fields (nested)', (p) => ((p.posture as Record<string, unknown>).kernel = 'x'), true],
  ]
  for (const [name, mutate, bySchema] of mutations) {
    test(`invariant: ${name}`, () => {
      const p = structuredClone(example)
      mutate(p)
      assert.notDeepEqual(ours(p), [], 'our verifier accepted the mutation')
      assert.equal(validate(p), !bySchema, bySchema ? 'the JSON Schema should reject this' : 'the schema alone cannot see this invariant')
    })
  }
})

describe('audit packet build / verify through the CLI', () => {
  const chain = (): string => vectorPath('receipts', 'valid-chain.jsonl')
  const out = path.join(dir, 'packet')
  const unpinned = path.join(dir, 'unpinned')

  before(() => {
    const r = runCli(['audit', 'packet', 'build', '--chain', chain(), '--key', K1, '--out', out, '--config', repoPath('test', 'fixtures', 'audit', 'ws-off.yaml')])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const u = runCli(['audit', 'packet', 'build', '--chain', chain(), '--out', unpinned])
    assert.equal(u.status, 0, u.stdout + u.stderr)
  })

  test('packet.json conforms to the reference schema; evidence.jsonl is the chain byte for byte', () => {
    const p = JSON.parse(readFileSync(path.join(out, 'packet.json'), 'utf8'))
    assert.equal(validate(p), true, JSON.stringify(validate.errors))
    assert.deepEqual(readFileSync(path.join(out, 'evidence.jsonl')), readFileSync(chain()))
    assert.deepEqual(p.verifier, {
      verdict: 'valid',
      trusted: true,
      receipt_count: 5,
      root_hash: 'sha256:be904bd5ca82adc26c2969872c23925f22ff24e33faf44a1185b9ffc0e2c2b5a',
      final_seq: 4,
      signer_key: K1,
      output_file: 'verifier.txt',
    })
    const sum = Object.values(p.summary.totals as Record<string, number>).reduce((s, n) => s + n, 0)
    assert.equal(sum, p.summary.receipt_count)
    // the verifier's output on evidence.jsonl as it lies in the packet, not on the input's path
    assert.equal(readFileSync(path.join(out, 'verifier.txt'), 'utf8').split('\n')[0], 'CHAIN VALID: evidence.jsonl')
  })

  test('posture comes from the config used: WebSocket proxy off → frame scanning off, and listed as not enforced', () => {
    const p = JSON.parse(readFileSync(path.join(out, 'packet.json'), 'utf8'))
    assert.equal(p.posture.websocket_frame_scanning, 'off')
    assert.ok(p.posture.unsupported_paths.includes('websocket-frames'))
    assert.equal(p.posture.raw_socket_status, 'unknown')
    assert.equal(p.policy.config_path, repoPath('test', 'fixtures', 'audit', 'ws-off.yaml'))
    assert.match(p.policy.config_snapshot_sha256, /^sha256:[0-9a-f]{64}$/)
  })

  test('without a pinned key the verdict is self_consistent_only and untrusted', () => {
    const p = JSON.parse(readFileSync(path.join(unpinned, 'packet.json'), 'utf8'))
    assert.equal(validate(p), true, JSON.stringify(validate.errors))
    assert.equal(p.verifier.verdict, 'self_consistent_only')
    assert.equal(p.verifier.trusted, false)
    assert.equal(p.verifier.signer_key, undefined)
  })

  test('packet verify accepts the packet; an edited evidence.jsonl or packet.json is refused', () => {
    const ok = runCli(['audit', 'packet', 'verify', out])
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
    assert.equal(verdictOf(ok.stdout), `PACKET VALID: ${out} (verdict valid, 5 receipts)\n`)
    // the key came from the packet under test: said, not passed off as pinned
    assert.equal(ok.stderr, 'note: signer not pinned (no --key or --roster): evidence.jsonl was verified against the signer_key packet.json records; pass --key to pin the expected signer\n')
    assert.equal(JSON.parse(runCli(['audit', 'packet', 'verify', out, '--json']).stdout).signerPinned, false)
    const pinned = runCli(['audit', 'packet', 'verify', out, '--key', K1])
    assert.equal(pinned.status, 0, pinned.stdout + pinned.stderr)
    assert.equal(pinned.stderr, '')

    const edited = path.join(dir, 'edited')
    cpSync(out, edited, {recursive: true})
    const ev = readFileSync(path.join(edited, 'evidence.jsonl'), 'utf8').split('\n')
    writeFileSync(path.join(edited, 'evidence.jsonl'), ev.slice(0, 4).join('\n') + '\n')
    const bad = runCli(['audit', 'packet', 'verify', edited])
    assert.equal(bad.status, 1)
    assert.match(bad.stdout, /^PACKET INVALID: .*\n {2}evidence\.jsonl root hash is sha256:[0-9a-f]{64}, the packet records sha256:be904bd5/)
    assert.match(bad.stdout, /evidence\.jsonl holds 4 receipts, the packet records 5/)

    const mutated = path.join(dir, 'mutated')
    cpSync(out, mutated, {recursive: true})
    const p = JSON.parse(readFileSync(path.join(mutated, 'packet.json'), 'utf8'))
    p.summary.totals.allow += 1
    writeFileSync(path.join(mutated, 'packet.json'), JSON.stringify(p))
    const inv = runCli(['audit', 'packet', 'verify', mutated])
    assert.equal(inv.status, 1)
    assert.match(inv.stdout, /summary\.totals sum to 6, not summary\.receipt_count 5/)

    // the signer the packet names is the evidence's: an edited signer_key fails even with the right key pinned
    const resigned = path.join(dir, 'resigned')
    cpSync(out, resigned, {recursive: true})
    const g = JSON.parse(readFileSync(path.join(resigned, 'packet.json'), 'utf8'))
    g.verifier.signer_key = 'ab'.repeat(32)
    writeFileSync(path.join(resigned, 'packet.json'), JSON.stringify(g))
    const sk = runCli(['audit', 'packet', 'verify', resigned, '--key', K1])
    assert.equal(sk.status, 1)
    assert.equal(verdictOf(sk.stdout), `PACKET INVALID: ${resigned}\n  packet.json verifier.signer_key is ${'ab'.repeat(32)}, evidence.jsonl is signed by ${K1}\n`)

    // a problem quoting the packet prints no terminal escape from it
    const escaped = path.join(dir, 'escaped')
    cpSync(out, escaped, {recursive: true})
    const e = JSON.parse(readFileSync(path.join(escaped, 'packet.json'), 'utf8'))
    e.artifacts.summary = 'summary\u001b[2K.md'
    writeFileSync(path.join(escaped, 'packet.json'), JSON.stringify(e))
    const esc = runCli(['audit', 'packet', 'verify', escaped])
    assert.equal(esc.status, 1)
    assert.doesNotMatch(esc.stdout, /\u001b/)
    assert.ok(esc.stdout.includes('packet.json artifacts.summary is "summary\\u001b[2K.md", which does not exist: build writes summary.md\n'), esc.stdout)

    // Counts moved between buckets (the sum still holds), a host and a policy hash dropped, the run
    // window and final seq changed: every field build derived from the evidence is recomputed.
    const recounted = path.join(dir, 'recounted')
    cpSync(out, recounted, {recursive: true})
    const q = JSON.parse(readFileSync(path.join(recounted, 'packet.json'), 'utf8'))
    const summary = structuredClone(q.summary)
    q.summary.totals.allow += q.summary.totals.block
    q.summary.totals.block = 0
    q.summary.domains_touched = []
    const hashes = q.policy.policy_hashes
    q.policy.policy_hashes = []
    const started = q.run.started_at
    q.run.started_at = '2030-01-01T00:00:00Z'
    q.verifier.final_seq = 99
    writeFileSync(path.join(recounted, 'packet.json'), JSON.stringify(q, null, 2))
    const re = runCli(['audit', 'packet', 'verify', recounted])
    assert.equal(re.status, 1)
    assert.equal(
      verdictOf(re.stdout),
      [
        `PACKET INVALID: ${recounted}`,
        `  packet.json summary is ${JSON.stringify(q.summary)}, evidence.jsonl gives ${JSON.stringify(summary)}`,
        `  packet.json policy.policy_hashes is [], evidence.jsonl gives ${JSON.stringify(hashes)}`,
        `  packet.json run.started_at is "2030-01-01T00:00:00Z", evidence.jsonl gives "${started}"`,
        `  packet.json verifier.final_seq is 99, evidence.jsonl gives 4`,
        '',
      ].join('\n'),
    )
  })

  test('a packet built without a key, verified with the right key: accepted, with a note that the key given pins the signer now; a wrong key fails', () => {
    const CHECKS_PASSED = ['schema', 'files', 'evidence', 'evidence_whole', 'summary', 'verifier_output'].map((c) => [c, 'passed'])
    const pinned = runCli(['audit', 'packet', 'verify', unpinned, '--key', K1])
    assert.equal(pinned.status, 0, pinned.stdout + pinned.stderr)
    assert.equal(verdictOf(pinned.stdout), pinnedNow(unpinned, 5))
    assert.equal(pinned.stderr, '')
    const j = JSON.parse(runCli(['audit', 'packet', 'verify', unpinned, '--key', K1, '--json']).stdout)
    assert.equal(j.valid, true)
    assert.deepEqual(j.pinnedNow, {verdict: 'valid', signerKey: K1})
    assert.deepEqual(j.recorded.verdict, 'self_consistent_only')
    assert.deepEqual(Object.fromEntries(j.checks.map((c: {check: string; status: string}) => [c.check, c.status])), Object.fromEntries(CHECKS_PASSED))
    assert.equal(j.signerPinned, true)
    // without a key nothing more is proven, and the verdict says that nobody's signature was pinned
    const bare = runCli(['audit', 'packet', 'verify', unpinned])
    assert.equal(bare.status, 0, bare.stdout + bare.stderr)
    assert.equal(
      verdictOf(bare.stdout),
      `PACKET VALID: ${unpinned} (verdict self_consistent_only, 5 receipts)\n` +
        '  note: signer not pinned: the packet was built without a key and none was given, so its evidence is only self-consistent, not proven to come from any signer; pass --key or --roster to prove who signed it\n',
    )
    assert.equal(bare.stderr, '')
    const bareJson = JSON.parse(runCli(['audit', 'packet', 'verify', unpinned, '--json']).stdout)
    assert.equal(bareJson.pinnedNow, undefined)
    assert.equal(bareJson.keySource, 'none')
    assert.equal(bareJson.signerPinned, false)
    // a key that did not sign the evidence is no pin
    const wrongKey = 'ab'.repeat(32)
    const wrong = runCli(['audit', 'packet', 'verify', unpinned, '--key', wrongKey])
    assert.equal(wrong.status, 1)
    assert.equal(
      verdictOf(wrong.stdout),
      `PACKET INVALID: ${unpinned}\n  evidence.jsonl now verifies as "invalid", the packet records "self_consistent_only": evidence.jsonl:1: seq 0: signature: signer_key ${K1} does not match expected key ${wrongKey}\n`,
    )
    // the pin proves the signer, not the rest: an edited summary still fails
    const edited = path.join(dir, 'unpinned-edited')
    cpSync(unpinned, edited, {recursive: true})
    const p = JSON.parse(readFileSync(path.join(edited, 'packet.json'), 'utf8'))
    p.policy.policy_hashes = []
    writeFileSync(path.join(edited, 'packet.json'), JSON.stringify(p, null, 2))
    const e = runCli(['audit', 'packet', 'verify', edited, '--key', K1])
    assert.equal(e.status, 1)
    assert.match(verdictOf(e.stdout), /^PACKET INVALID: .*\n {2}packet\.json policy\.policy_hashes is \[\], evidence\.jsonl gives \["sha256:[0-9a-f]{64}"\]\n$/)
  })

  test('v2 evidence built without a key (NO KEY GIVEN) and verified with the key: verifier.txt is compared as build rendered it, unpinned', () => {
    const key = keyA()
    const lines: string[] = []
    let prev: string | undefined
    for (let i = 0; i < 3; i++) {
      const link = nextChainLink(prev)
      prev = encodeEvidenceReceipt(
        signEvidence(
          {
            payloadKind: 'proxy_decision',
            eventId: `01JPACKETV2000000000000${i}`,
            timestamp: `2026-11-24T12:00:0${i}Z`,
            chainSeq: link.chainSeq,
            chainPrevHash: link.chainPrevHash,
            payload: {action_type: 'read', target: `https://h${i}.example/`, verdict: 'allow', transport: 'fetch', policy_sources: ['scanner'], winning_source: 'scanner'},
          },
          {keyPair: key, keyId: 'receipt-signing', purpose: 'receipt-signing'},
        ),
      )
      lines.push(prev)
    }
    const v2 = path.join(dir, 'v2-chain.jsonl')
    writeFileSync(v2, lines.join('\n') + '\n')
    const packetDir = path.join(dir, 'v2-unpinned')
    const b = runCli(['audit', 'packet', 'build', '--chain', v2, '--out', packetDir])
    // written, but v2 signatures were not checked: NO KEY GIVEN's exit status, not a pass
    assert.deepEqual(b, {
      status: 3,
      stdout: `audit packet: ${packetDir} (verifier verdict self_consistent_only, 3 decisions)\n`,
      stderr: 'audit packet build: no key given: v2 signatures not checked; pass --key HEX|FILE, --key ID=HEX|FILE or --roster FILE --roster-root-fingerprint FP\n',
    })
    assert.match(readFileSync(path.join(packetDir, 'verifier.txt'), 'utf8'), /^NO KEY GIVEN: evidence\.jsonl\n/)
    const r = runCli(['audit', 'packet', 'verify', packetDir, '--key', K1])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.equal(verdictOf(r.stdout), pinnedNow(packetDir, 3))
    const other = runCli(['audit', 'packet', 'verify', packetDir, '--key', keyPairFromSeed(sha256('not the signer')).publicKey.toString('hex')])
    assert.equal(other.status, 1)
    assert.match(verdictOf(other.stdout), /^PACKET INVALID: .*\n {2}evidence\.jsonl now verifies as "invalid", the packet records "self_consistent_only": evidence\.jsonl:1: chain_seq 0: payload field has invalid enum value: signature verification failed\n$/)
  })

  test('evidence that does not verify: build writes the packet but exits 1; verify names the failure, never VALID', () => {
    const wrongKey = 'ab'.repeat(32)
    const empty = mkdtempSync(path.join(dir, 'empty-'))
    const none = path.join(dir, 'no-evidence')
    const b = runCli(['audit', 'packet', 'build', '--chain', empty, '--key', K1, '--out', none])
    assert.equal(b.status, 1)
    assert.equal(b.stdout, `audit packet: ${none} (verifier verdict error, 0 decisions)\n`)
    assert.equal(b.stderr, `audit packet build: the evidence did not verify (verdict error): no receipts in ${empty} (session proxy)\n`)
    const v = runCli(['audit', 'packet', 'verify', none])
    assert.equal(v.status, 1)
    assert.equal(verdictOf(v.stdout), `PACKET RECORDS FAILED EVIDENCE: ${none} (verdict error, 0 receipts)\n  verifier verdict is "error": no receipts in ${empty} (session proxy)\n`)

    const forged = path.join(dir, 'wrong-key')
    const mismatch = `seq 0: signature: signer_key ${K1} does not match expected key ${wrongKey}`
    const w = runCli(['audit', 'packet', 'build', '--chain', chain(), '--key', wrongKey, '--out', forged])
    assert.equal(w.status, 1)
    assert.equal(w.stderr, `audit packet build: the evidence did not verify (verdict invalid): ${chain()}:1: ${mismatch}\n`)
    const wv = runCli(['audit', 'packet', 'verify', forged, '--key', wrongKey])
    assert.equal(wv.status, 1)
    assert.equal(verdictOf(wv.stdout), `PACKET RECORDS FAILED EVIDENCE: ${forged} (verdict invalid, 5 receipts)\n  verifier verdict is "invalid": ${mismatch}\n`)
    // without a key the evidence is self-consistent: said after the cause, and no field derived under another verdict is listed
    const nk = runCli(['audit', 'packet', 'verify', forged])
    assert.equal(nk.status, 1)
    assert.equal(
      verdictOf(nk.stdout),
      `PACKET RECORDS FAILED EVIDENCE: ${forged} (verdict invalid, 5 receipts)\n  verifier verdict is "invalid": ${mismatch}\n  evidence.jsonl now verifies as "self_consistent_only", the packet records "invalid"\n`,
    )
    // a valid packet checked with the wrong key: the key mismatch alone
    const wk = runCli(['audit', 'packet', 'verify', out, '--key', wrongKey])
    assert.equal(wk.status, 1)
    assert.equal(verdictOf(wk.stdout), `PACKET INVALID: ${out}\n  evidence.jsonl now verifies as "invalid", the packet records "valid": evidence.jsonl:1: ${mismatch}\n`)
  })

  test('packet verify on something that is not a packet directory says so in words, with what to pass', () => {
    const hint = '; hint: pass the directory pipelock audit packet build --out wrote (it holds packet.json)\n'
    const missing = path.join(dir, 'no-such-packet')
    assert.deepEqual(runCli(['audit', 'packet', 'verify', missing]), {status: 1, stdout: '', stderr: `audit packet verify: open ${missing}: no such file or directory [FILE_NOT_FOUND]\n`})
    // build names the flag that named the missing evidence (it was called a "receipt")
    assert.deepEqual(runCli(['audit', 'packet', 'build', '--chain', missing, '--key', K1, '--out', path.join(dir, 'never-built')]), {status: 1, stdout: '', stderr: `--chain: open ${missing}: no such file or directory [FILE_NOT_FOUND]\n`})
    const notPacket = path.join(dir, 'not-a-packet')
    mkdirSync(notPacket, {recursive: true})
    assert.deepEqual(runCli(['audit', 'packet', 'verify', notPacket]), {status: 1, stdout: '', stderr: `audit packet verify: ${notPacket} holds no packet.json: it is not an audit packet directory [FILE_NOT_FOUND]${hint}`})
    const file = path.join(out, 'packet.json')
    assert.deepEqual(runCli(['audit', 'packet', 'verify', file]), {status: 2, stdout: '', stderr: `audit packet verify: ${file} is a file, not a packet directory [USAGE]${hint}`})
    const j = runCli(['audit', 'packet', 'verify', notPacket, '--json'])
    assert.equal(JSON.parse(j.stdout).error.code, 'FILE_NOT_FOUND')
  })

  test('hosts touched: only URL and host:port targets name a host, never a path or an MCP tool, method or response', () => {
    // one decision per target shape the recorder writes
    const targets: Array<[string, string]> = [
      ['https://API.example.com/items', 'fetch'],
      ['upload.example.com:443', 'connect'],
      ['ws://[::1]:8080/socket', 'websocket'],
      ['/stats', 'forward'], // the proxy's own path, refused under the kill switch
      ['read_file', 'mcp_stdio'],
      ['search.web', 'mcp_http_listener'],
      ['fetch', 'mcp_ws'],
      ['response:7', 'mcp_http_upstream'],
      ['server_response', 'mcp_stdio'],
    ]
    const b = new ReceiptChainBuilder(keyA())
    const lines = targets.map(([target, transport], i) => encodeActionReceipt(b.append(action(`shape-${i}`, `2026-04-15T12:00:0${i}Z`, 'read', {target, transport, verdict: 'block', layer: 'kill_switch'}))))
    const shapes = path.join(dir, 'target-shapes.jsonl')
    writeFileSync(shapes, lines.join('\n') + '\n')
    const hosts = ['[::1]', 'api.example.com', 'upload.example.com']
    const packetDir = path.join(dir, 'target-shapes')
    const r = runCli(['audit', 'packet', 'build', '--chain', shapes, '--key', K1, '--out', packetDir])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.deepEqual(JSON.parse(readFileSync(path.join(packetDir, 'packet.json'), 'utf8')).summary.domains_touched, hosts)
    const report = runCli(['audit', 'report', '--chain', shapes, '--key', K1, '--out', path.join(dir, 'target-shapes.html'), '--json'])
    assert.equal(report.status, 0, report.stderr)
    assert.deepEqual(JSON.parse(report.stdout).topHosts.map((h: {host: string}) => h.host).sort(), hosts)
  })
})
