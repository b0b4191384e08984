import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fixedClock} from '../../src/plugins/canonical/index.js'
import {openCaptureWriter, type CaptureSummary} from '../../src/plugins/capture/index.js'
import {deterministicKey} from '../../src/plugins/learn/index.js'
import {verifyEvidence} from '../../src/plugins/receipts/index.js'
import {fingerprint, keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {repoPath, vectorPath} from '../helpers/vectors.js'

// learn shadow through the built CLI: the golden bytes are what a user gets with --deterministic.

const RATIFY_PUB = deterministicKey('ratifyCompile').keyPair.publicKey.toString('hex')
const GOLDEN_PUB = keyPairFromSeed(sha256('pipelock-golden-deterministic-signer')).publicKey.toString('hex')

function ratified(dir: string, corpus: string): string {
  const candidate = path.join(dir, 'candidate.yaml')
  writeFileSync(candidate, readFileSync(repoPath('goldens', corpus, 'contract.yaml')))
  const out = path.join(dir, 'ratified.yaml')
  const r = runCli(['learn', 'ratify', '--candidate', candidate, '--contract-key', GOLDEN_PUB, '--accept-low-confidence', '--deterministic', '--out', out])
  assert.equal(r.status, 0, r.stderr)
  return out
}

test('learn shadow CLI: receipts a full disk refuses leave the recorder file whole (no cut line the next run cannot read)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-shadow-'))
  try {
    const contract = ratified(dir, 'multi-session')
    const rec = path.join(dir, 'recorder')
    const args = ['learn', 'shadow', '--contract', contract, '--contract-key', RATIFY_PUB, '--sessions', repoPath('goldens', 'multi-session', 'input'), '--recorder-dir', rec, '--deterministic']
    assert.equal(runCli(args).status, 0)
    const file = path.join(rec, 'proxy', 'evidence-proxy-0.jsonl')
    const before = readFileSync(file)
    assert.ok(before.length > 4096)
    // Room for part of the second run's receipts, not all of them.
    const r = runCli(args, {fileSizeLimitKiB: Math.floor(before.length / 1024) + 2})
    assert.equal(r.status, 1)
    assert.equal(r.stderr, `learn shadow: appending receipts to ${file}: file too large; nothing was written [WRITE_FAILED]\n`)
    assert.deepEqual(readFileSync(file), before)
    // The chain resumes: a run with room appends five more receipts after the first five.
    const again = runCli(args)
    assert.equal(again.status, 0, again.stderr)
    const entries = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    assert.equal(entries.length, 10)
    assert.equal(entries[9].seq, 9)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('learn shadow CLI: stdout is goldens/<corpus>/shadow.md byte for byte, --out-json is shadow.json, audit line on stderr', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-shadow-'))
  try {
    const contract = ratified(dir, 'multi-session')
    const json = path.join(dir, 'reports', 'shadow.json')
    const sessions = repoPath('goldens', 'multi-session', 'input')
    const r = runCli(['learn', 'shadow', '--contract', contract, '--contract-key', RATIFY_PUB, '--sessions', sessions, '--out-json', json, '--deterministic'])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, readFileSync(repoPath('goldens', 'multi-session', 'shadow.md'), 'utf8'))
    assert.equal(readFileSync(json, 'utf8'), readFileSync(repoPath('goldens', 'multi-session', 'shadow.json'), 'utf8'))
    assert.equal(
      r.stderr,
      JSON.stringify({event: 'learn_shadow', candidate: contract, review: json, sessions, events_ingested: 240, rules_emitted: 5, noop: false}) + '\n',
    )
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('learn shadow CLI: --recorder-dir gets one verifying, chained shadow_delta receipt per batch', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-shadow-'))
  try {
    const contract = ratified(dir, 'multi-session')
    const rec = path.join(dir, 'recorder')
    const md = path.join(dir, 'shadow.md')
    const r = runCli(['learn', 'shadow', '--contract', contract, '--contract-key', RATIFY_PUB, '--sessions', repoPath('goldens', 'multi-session', 'input'), '--out', md, '--recorder-dir', rec, '--deterministic'])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, '')
    const files = readdirSync(path.join(rec, 'proxy'))
    assert.deepEqual(files, ['evidence-proxy-0.jsonl'])
    const entries = readFileSync(path.join(rec, 'proxy', files[0] as string), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    const audit = JSON.parse(r.stderr.trim())
    assert.equal(audit.receipts_emitted, entries.length)
    assert.equal(audit.rules_emitted, entries.length)
    assert.equal(entries.length, 5)
    assert.equal(readFileSync(md, 'utf8'), readFileSync(repoPath('goldens', 'multi-session', 'shadow.md'), 'utf8'))
    const pub = deterministicKey('shadowReceipt').keyPair.publicKey
    entries.forEach((e, i) => {
      assert.equal(e.type, 'evidence_receipt')
      assert.equal(e.event_kind, 'shadow_delta')
      assert.equal(e.session_id, 'proxy')
      const v = verifyEvidence(JSON.stringify(e.detail), {publicKey: pub, expectedSignerKeyId: 'deterministic-receipt-signing'})
      assert.equal(v.valid, true, v.error)
      assert.equal(e.detail.chain_seq, i)
      assert.equal(e.detail.principal, 'learn')
      assert.equal(e.detail.payload.aggregation.delta_sample_count, e.detail.payload.aggregation.exemplar_ids.length)
    })
    assert.equal(entries[0].detail.chain_prev_hash, 'genesis')
    assert.equal(entries[1].detail.chain_prev_hash, verifyEvidence(JSON.stringify(entries[0].detail), {publicKey: pub}).receiptHash)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('learn shadow CLI on the replay corpus contract as compiled: no contract blocks', () => {
  const r = runCli(['learn', 'shadow', '--contract', vectorPath('replay-corpus', 'contract.yaml'), '--contract-key', '3e60a846b80a5152a2e32fac4cadb3e9a661eee41558a8c84f5d00a827671380', '--sessions', vectorPath('replay-corpus', 'corpus.jsonl'), '--deterministic', '--json'])
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.equal(out.report.new_blocks, 0)
  assert.deepEqual(out.report.rules, [])
  assert.equal(out.contract_hash, 'sha256:85f31ee0b7f306773f68dbb648d9240aee86b09a0ca1f30cc1561025c7fcf533')
})

test('learn shadow CLI refusals: one line on stderr, exit 1, nothing written', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-shadow-'))
  try {
    const contract = repoPath('goldens', 'tail-block', 'contract.yaml')
    const sessions = repoPath('goldens', 'tail-block', 'input')
    const out = path.join(dir, 'shadow.md')
    const cases: [string[], string][] = [
      [
        ['--contract', contract, '--sessions', sessions, '--keystore', path.join(dir, 'ks')],
        'learn shadow: --contract-key is required for --contract (or use --allow-unsigned-contract-for-diagnostics) [SHADOW_INPUT_INVALID]; ' +
          `hint: the keystore holds no public key for the contract's signer_key_id "golden-contract-compile" (reading public key ${path.join(dir, 'ks', 'agents', 'golden-contract-compile', 'id_ed25519.pub')}: no such file or directory): pass the compile public key with --contract-key, or --keystore DIR that holds it\n`,
      ],
      [
        ['--contract', contract, '--contract-key', RATIFY_PUB, '--sessions', sessions],
        `learn shadow: verify contract: signature does not verify [CONTRACT_SIGNATURE_INVALID]; hint: checked with --contract-key given as hex (${fingerprint(Buffer.from(RATIFY_PUB, 'hex'))}): it is not the key that signed this contract (signer_key_id "golden-contract-compile"; pass that key's public key), or the contract was altered and re-hashed after signing (recompile it)\n`,
      ],
      [['--contract', contract, '--contract-key', GOLDEN_PUB, '--sessions', sessions, '--duration', '0s'], 'learn shadow: --duration must be positive [SHADOW_INPUT_INVALID]\n'],
      [['--contract', contract, '--contract-key', GOLDEN_PUB, '--sessions', 'goldens/x'], `learn shadow: --sessions does not exist: ${repoPath('goldens', 'x')} [SHADOW_INPUT_INVALID]\n`],
      [['--contract', contract, '--contract-key', GOLDEN_PUB, '--agent', 'a/b'], 'learn shadow: --agent must be a single path segment, got "a/b" (or give --sessions) [SHADOW_INPUT_INVALID]\n'],
      [['--contract', contract, '--contract-key', GOLDEN_PUB, '--sessions', sessions, '--escrow-private-key', 'zz'], 'learn shadow: --escrow-private-key: zz is neither 64 hex chars nor a readable file [FILE_NOT_FOUND]\n'],
    ]
    for (const [args, stderr] of cases) {
      const r = runCli(['learn', 'shadow', ...args, '--out', out])
      assert.equal(r.status, 1, args.join(' '))
      assert.equal(r.stderr, stderr)
      assert.equal(r.stdout, '')
      assert.equal(existsSync(out), false)
    }
    // The contract loads on a worker thread while the replay starts reading (issue 18): its
    // failure still wins over a missing sessions path or a corrupt capture file, as when it
    // loaded first.
    const corrupt = path.join(dir, 'corrupt')
    mkdirSync(path.join(corrupt, 'agent|1'), {recursive: true})
    writeFileSync(path.join(corrupt, 'agent|1', 'evidence-agent|1-0.jsonl'), 'not json\n')
    const badCapture = runCli(['learn', 'shadow', '--contract', contract, '--contract-key', GOLDEN_PUB, '--sessions', corrupt, '--out', out])
    assert.equal(badCapture.status, 1)
    assert.notEqual(badCapture.stderr, '')
    for (const where of [corrupt, 'goldens/x']) {
      const r = runCli(['learn', 'shadow', '--contract', contract, '--contract-key', RATIFY_PUB, '--sessions', where, '--out', out])
      assert.equal(r.status, 1, where)
      assert.ok(r.stderr.startsWith('learn shadow: verify contract: signature does not verify [CONTRACT_SIGNATURE_INVALID]; hint: checked with --contract-key'), where + ': ' + r.stderr)
      assert.equal(r.stderr.split('\n').length, 2, 'one line')
    }
    assert.equal(existsSync(out), false)
    const diag = runCli(['learn', 'shadow', '--contract', contract, '--allow-unsigned-contract-for-diagnostics', '--sessions', sessions, '--deterministic'])
    assert.equal(diag.status, 0)
    assert.ok(diag.stderr.startsWith('warning: unverified contract accepted because --allow-unsigned-contract-for-diagnostics is set; shadow replay is diagnostic only\n'))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

// Issue 34: a capture of the golden agent plus one request to a host the contract never saw.
function captureWithStranger(root: string): string {
  const sessions = path.join(root, 'sessions')
  const w = openCaptureWriter(sessions, {clock: fixedClock('2026-04-30T11:00:00Z')})
  const summary = (url: string, method: string): CaptureSummary => ({
    capture_schema_version: 1, surface: 'url', subsurface: 'forward', config_hash: 'c', build_version: 't', build_sha: 't', agent: 'shop-agent',
    action_class: 'read', payload_complete: false, transform_kind: '', request: {method, url}, raw_findings: null,
    effective_findings: null, effective_action: 'allow', outcome: 'clean',
  })
  w.append({sessionId: 'shop-agent|10.0.0.9', transport: 'forward', detail: summary('https://api.example.com/v1/cart', 'GET')})
  w.append({sessionId: 'shop-agent|10.0.0.9', transport: 'forward', detail: summary('https://uploads.stranger.example/v2/drop?token=abc', 'POST')})
  w.append({sessionId: 'shop-agent|10.0.0.9', transport: 'forward', detail: summary('https://uploads.stranger.example/v2/drop?token=def', 'POST')})
  w.append({sessionId: 'shop-agent|10.0.0.9', transport: 'forward', detail: summary('https://api.example.com:8443/v1/cart', 'GET')})
  w.close()
  return sessions
}

test('learn shadow CLI names every would-be block: destination, method, deciding rule or default deny; default-deny deltas form batches and receipts', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-shadow-'))
  try {
    const contract = ratified(dir, 'multi-session')
    const sessions = captureWithStranger(dir)
    const json = path.join(dir, 'shadow.json')
    const rec = path.join(dir, 'recorder')
    const r = runCli(['learn', 'shadow', '--contract', contract, '--contract-key', RATIFY_PUB, '--sessions', sessions, '--out-json', json, '--recorder-dir', rec, '--deterministic'])
    assert.equal(r.status, 0, r.stderr)
    const rule = JSON.parse(readFileSync(json, 'utf8')).rules[0].rule_id as string
    assert.match(rule, /^r-[0-9a-f]{20}$/)
    // The port is refused for the whole host: the block is charged to the host, not to the rule
    // that allows its default port (which keeps only the request it matched, unchanged).
    assert.equal(
      r.stdout.slice(r.stdout.indexOf('- records:')),
      [
        '- records: 4 total, 4 replayed, 3 changed',
        '- deltas: 3 new blocks, 0 new allows, 2 batches',
        '',
        '## Quarantine',
        '',
        'No quarantine candidates.',
        '',
        '## Rules',
        '',
        '| rule | evals | new_blocks | new_allows | rate | state | reason |',
        '|---|---:|---:|---:|---:|---|---|',
        `| \`${rule}\` | 1 | 0 | 0 | 0.00% | clear | below_denominator_floor |`,
        '',
        '## Changes',
        '',
        '| change | count | method | destination | was | would be | decided by |',
        '|---|---:|---|---|---|---|---|',
        '| new block | 1 | GET | `https://api.example.com:8443/v1/cart` | allow | block | port not allowed: host api.example.com on port 8443; contracts allow default ports only (contract_non_default_port) |',
        '| new block | 2 | POST | `https://uploads.stranger.example/v2/drop` | allow | block | default deny: no rule for the host (contract_default_deny) |',
        '',
      ].join('\n'),
    )
    const report = JSON.parse(readFileSync(json, 'utf8'))
    assert.deepEqual(report.changes, [
      {change: 'new_block', count: 1, surface: 'url', method: 'GET', scheme: 'https', host: 'api.example.com', port: '8443', path: '/v1/cart', original_verdict: 'allow', candidate_verdict: 'block', decided_by: 'contract', reason: 'contract_non_default_port'},
      {change: 'new_block', count: 2, surface: 'url', method: 'POST', scheme: 'https', host: 'uploads.stranger.example', path: '/v2/drop', original_verdict: 'allow', candidate_verdict: 'block', decided_by: 'contract', reason: 'contract_default_deny'},
    ])
    assert.deepEqual(report.batches.map((b: {RuleID: string; LosslessCount: number}) => [b.RuleID, b.LosslessCount]).sort(), [['contract_default_deny', 2], ['contract_non_default_port', 1]].sort())
    // one signed shadow_delta receipt per batch, the default deny's among them
    const entries = readFileSync(path.join(rec, 'proxy', 'evidence-proxy-0.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    const deltas = entries.filter((e) => e.event_kind === 'shadow_delta')
    assert.equal(deltas.length, 2)
    const pub = deterministicKey('shadowReceipt').keyPair.publicKey
    for (const e of deltas) assert.equal(verifyEvidence(JSON.stringify(e.detail), {publicKey: pub}).valid, true)
    assert.ok(deltas.some((e) => e.detail.payload.rule_id === 'contract_default_deny' && e.detail.payload.aggregation.lossless_count === 2))
    // the query string is never shown
    assert.doesNotMatch(r.stdout + readFileSync(json, 'utf8'), /token=/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

// A capture as the live proxy writes it when the scanner blocked: the finding kind is the
// scanner stage, and a URL DLP match is replaced by `redacted-<pattern>` (capture-sink.ts).
function captureWithScannerBlocks(root: string): string {
  const sessions = path.join(root, 'sessions')
  const w = openCaptureWriter(sessions, {clock: fixedClock('2026-04-30T11:00:00Z')})
  const summary = (url: string, action: 'allow' | 'block', kind?: string): CaptureSummary => {
    const found = kind === undefined ? null : [{kind, action: 'block', pattern_name: 'x'}]
    return {
      capture_schema_version: 1, surface: 'url', subsurface: 'forward', config_hash: 'c', build_version: 't', build_sha: 't', agent: 'shop-agent',
      action_class: 'read', payload_complete: false, transform_kind: '', request: {method: 'GET', url}, raw_findings: found,
      effective_findings: found, effective_action: action, outcome: action === 'allow' ? 'clean' : 'blocked',
    }
  }
  const add = (s: CaptureSummary): void => void w.append({sessionId: 'shop-agent|10.0.0.9', transport: 'forward', detail: s})
  add(summary('https://api.example.com/v1/cart', 'allow'))
  // Rate-limited twice: the replay has no rate limit, the captured block stands.
  add(summary('https://api.example.com/v1/cart', 'block', 'ratelimit'))
  add(summary('https://api.example.com/v1/cart', 'block', 'ratelimit'))
  // A credential in the path, redacted by capture: the replay cannot find it again.
  add(summary('https://api.example.com/v1/redacted-aws-access-id', 'block', 'core_dlp'))
  // Captured raw (--capture-raw): the replay finds the credential itself; nothing is kept.
  add(summary('https://api.example.com/v1/AKIAIOSFODNN7EXAMPLE', 'block', 'core_dlp'))
  // A blocklist the replay's (default) config does not have: replayed, a real new allow.
  add(summary('https://api.example.com/v1/cart', 'block', 'blocklist'))
  w.close()
  return sessions
}

test('learn shadow CLI keeps a captured scanner block the replay cannot redo (rate limit, DLP on a redacted URL) and names them', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-shadow-'))
  try {
    const contract = ratified(dir, 'multi-session')
    const sessions = captureWithScannerBlocks(dir)
    const json = path.join(dir, 'shadow.json')
    const r = runCli(['learn', 'shadow', '--contract', contract, '--contract-key', RATIFY_PUB, '--sessions', sessions, '--out-json', json, '--deterministic'])
    assert.equal(r.status, 0, r.stderr)
    const report = JSON.parse(readFileSync(json, 'utf8'))
    const rule = report.changes[0].rule_id as string
    assert.equal(
      r.stdout.slice(r.stdout.indexOf('- records:'), r.stdout.indexOf('## Quarantine')),
      [
        '- records: 6 total, 6 replayed, 1 changed',
        '- deltas: 0 new blocks, 1 new allows, 1 batches',
        '- kept as captured: 3 records whose scanner verdict replay cannot redo (core_dlp (redacted capture): 1, ratelimit: 2)',
        '',
        '',
      ].join('\n'),
    )
    assert.equal(
      r.stdout.slice(r.stdout.indexOf('## Changes')),
      [
        '## Changes',
        '',
        '| change | count | method | destination | was | would be | decided by |',
        '|---|---:|---|---|---|---|---|',
        `| new allow | 1 | GET | \`https://api.example.com/v1/cart\` | block | allow | rule \`${rule}\` |`,
        '',
      ].join('\n'),
    )
    assert.deepEqual(report.kept_as_captured, {'core_dlp (redacted capture)': 1, ratelimit: 2})
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
