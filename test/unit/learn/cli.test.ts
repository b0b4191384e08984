import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fixedClock} from '../../../src/plugins/canonical/index.js'
import {openCaptureWriter, type CaptureSummary} from '../../../src/plugins/capture/index.js'
import {loadCompileManifest, loadContract, verifyCanonicalSignature} from '../../../src/plugins/contracts/index.js'
import {generateAgentKeys} from '../../../src/plugins/signing/index.js'
import {runCli} from '../../helpers/cli.js'
import {repoPath} from '../../helpers/vectors.js'

// CLI behaviour of learn compile / learn review with real files (spawns bin/run.js).

const FIXTURE = repoPath('goldens', 'multi-session', 'fixture.json')

function summary(agent: string, url: string): CaptureSummary {
  return {
    capture_schema_version: 1, surface: 'url', subsurface: 'forward', config_hash: 'c', build_version: 't', build_sha: 't', agent,
    action_class: 'read', payload_complete: false, transform_kind: '', request: {method: 'GET', url}, raw_findings: null,
    effective_findings: null, effective_action: 'allow', outcome: 'clean',
  }
}

function captureDir(root: string, records: [session: string, agent: string, url: string][]): void {
  const w = openCaptureWriter(root, {clock: fixedClock('2026-05-01T08:00:00Z')})
  for (const [s, a, u] of records) w.append({sessionId: s, transport: 'forward', detail: summary(a, u)})
  w.close()
}

function withTmp(fn: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-learn-cli-'))
  try {
    fn(dir)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

function assertNoOutputs(dir: string): void {
  assert.ok(!existsSync(dir) || readdirSync(dir).length === 0, `no partial outputs in ${dir}`)
}

test('bad input: non-JSON line → one line naming file and line, exit 1, nothing written', () => {
  withTmp((dir) => {
    captureDir(path.join(dir, 'cap'), [['shop-agent|1', 'shop-agent', 'https://a.example/x']])
    const f = path.join(dir, 'cap', 'shop-agent|1', 'evidence-shop-agent|1-0.jsonl')
    writeFileSync(f, readFileSync(f, 'utf8') + 'this is not json\n')
    const out = path.join(dir, 'out')
    const r = runCli(['learn', 'compile', '--fixture', FIXTURE, '--input', f, '--out-dir', out])
    assert.equal(r.status, 1)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, new RegExp(`^${f.replace(/[|.]/g, '\\$&')}:3: not a recorder entry: not JSON: .* \\[CAPTURE_LINE_INVALID\\]; hint: `))
    assertNoOutputs(out)
  })
})

test('bad input: broken hash chain, foreign agent record, no events', () => {
  withTmp((dir) => {
    captureDir(path.join(dir, 'cap'), [
      ['shop-agent|1', 'shop-agent', 'https://a.example/x'],
      ['shop-agent|1', 'shop-agent', 'https://a.example/y'],
      ['shop-agent|2', 'shop-agent', 'https://a.example/x'],
      ['shop-agent|2', 'evil-agent', 'https://evil.example/x'],
      ['shop-agent|3', 'shop-agent', 'ftp://not-http.example/'],
    ])
    const out = path.join(dir, 'out')
    const s1 = path.join(dir, 'cap', 'shop-agent|1', 'evidence-shop-agent|1-0.jsonl')
    const lines = readFileSync(s1, 'utf8').split('\n')
    const broken = path.join(dir, 'broken.jsonl')
    writeFileSync(broken, [lines[0], lines[2]].join('\n') + '\n')
    let r = runCli(['learn', 'compile', '--fixture', FIXTURE, '--input', broken, '--out-dir', out])
    assert.equal(r.status, 1)
    assert.match(r.stderr, /broken\.jsonl:2: chain break at seq 2: prev_hash [0-9a-f]{64} does not match/)
    assertNoOutputs(out)

    const s2 = path.join(dir, 'cap', 'shop-agent|2', 'evidence-shop-agent|2-0.jsonl')
    r = runCli(['learn', 'compile', '--fixture', FIXTURE, '--input', s2, '--out-dir', out])
    assert.equal(r.status, 1)
    assert.match(r.stderr, /evidence-shop-agent\|2-0\.jsonl:2: capture record belongs to agent "evil-agent", not "shop-agent"/)
    assertNoOutputs(out)

    const s3 = path.join(dir, 'cap', 'shop-agent|3', 'evidence-shop-agent|3-0.jsonl')
    r = runCli(['learn', 'compile', '--fixture', FIXTURE, '--input', s3, '--out-dir', out])
    assert.equal(r.status, 1)
    assert.match(r.stderr, /evidence-shop-agent\|3-0\.jsonl:2: no HTTP\(S\) capture events in the input/)
    assertNoOutputs(out)
  })
})

test('learn compile with discovery, config learn block and keystore signing; then learn review', () => {
  withTmp((dir) => {
    const cap = path.join(dir, 'cap')
    captureDir(cap, [
      ['shop-agent|1', 'shop-agent', 'https://a.example/x'],
      ['shop-agent|2', 'shop-agent', 'https://a.example/x'],
      ['shop-agent|2', 'shop-agent', 'https://a.example/'],
      ['shop-agent|poison', 'evil', 'https://evil.example/x'],
      ['other-agent|1', 'other-agent', 'https://b.example/x'],
    ])
    const config = path.join(dir, 'pipelock.yaml')
    writeFileSync(config, `mode: balanced\nlearn:\n  capture_dir: ${cap}\n  inference:\n    floors: {min_sessions: 1, min_events: 1, min_windows: 1}\n`)
    const keystore = path.join(dir, 'keys')
    generateAgentKeys(keystore, 'shop-agent')
    const output = path.join(dir, 'c', 'shop.candidate.yaml')
    const r = runCli(['learn', 'compile', '--agent', 'shop-agent', '--config', config, '--keystore', keystore, '--output', output])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, `compile: 3 events, 7 rules, written to ${output}\n`)
    const audit = JSON.parse(r.stderr.trim().split('\n').pop() as string) as Record<string, unknown>
    assert.deepEqual(Object.keys(audit), ['event', 'agent', 'signer_key_id', 'since', 'inputs', 'output', 'review', 'manifest', 'events_ingested', 'rules_emitted', 'noop'])
    assert.equal(audit.event, 'learn_compile')
    assert.equal((audit.inputs as string[]).length, 2) // poisoned sibling and other agent skipped
    assert.equal(audit.review, path.join(dir, 'c', 'shop.candidate.review.md'))
    const env = loadContract(readFileSync(output, 'utf8'), output)
    const pub = Buffer.from(readFileSync(path.join(keystore, 'agents', 'shop-agent', 'id_ed25519.pub'), 'utf8').split('\n')[1] as string, 'base64')
    assert.ok(verifyCanonicalSignature(env.body, env.signature, pub.subarray(pub.length - 32)))
    const m = loadCompileManifest(readFileSync(path.join(dir, 'c', 'shop.candidate.manifest.json'), 'utf8'), 'manifest')
    assert.equal(m.body.get('contract_hash'), env.body.get('contract_hash'))

    // learn review: markdown to stdout, html to --out; symlinked candidates refused.
    const rv = runCli(['learn', 'review', output])
    assert.equal(rv.status, 0, rv.stderr)
    assert.match(rv.stdout, /^# Candidate Contract Review\n/)
    assert.match(rv.stdout, /## Opportunity Health\n\n- r-[0-9a-f]{20}: opportunity dropped \(1\/3\)\n/)
    assert.equal(rv.stderr, JSON.stringify({event: 'learn_review', candidate: output, noop: false}) + '\n')
    const html = path.join(dir, 'review.html')
    const rh = runCli(['learn', 'review', output, '--format', 'html', '--out', html])
    assert.equal(rh.status, 0, rh.stderr)
    assert.match(readFileSync(html, 'utf8'), /^<!doctype html>[\s\S]*<h1>Candidate Contract Review<\/h1>/)
    const link = path.join(dir, 'link.yaml')
    symlinkSync(output, link)
    const rl = runCli(['learn', 'review', link])
    assert.equal(rl.status, 1)
    assert.match(rl.stderr, /is not a regular file \(symlinks are refused\)/)
  })
})

test('learn compile --deterministic is reproducible; config errors are refused', () => {
  withTmp((dir) => {
    const cap = path.join(dir, 'cap')
    captureDir(cap, [['a1|1', 'a1', 'https://a.example/x']])
    const input = path.join(cap, 'a1|1', '*.jsonl')
    const one = path.join(dir, 'one', 'c.yaml')
    const two = path.join(dir, 'two', 'c.yaml')
    const empty = path.join(dir, 'empty.yaml')
    writeFileSync(empty, '')
    for (const o of [one, two]) {
      const r = runCli(['learn', 'compile', '--agent', 'a1', '--input', input, '--deterministic', '--config', empty, '--output', o])
      assert.equal(r.status, 0, r.stderr)
    }
    assert.equal(readFileSync(one, 'utf8'), readFileSync(two, 'utf8'))
    assert.match(readFileSync(one, 'utf8'), /signer_key_id: deterministic-contract-compile/)
    const bad = path.join(dir, 'bad.yaml')
    writeFileSync(bad, 'learn:\n  inference:\n    floors: {min_events: -1}\n')
    const r = runCli(['learn', 'compile', '--agent', 'a1', '--input', input, '--deterministic', '--config', bad, '--output', path.join(dir, 'x', 'c.yaml')])
    assert.equal(r.status, 2)
    assert.match(r.stderr, /learn\.inference\.floors\.min_events: -1: must be non-negative/)
    mkdirSync(path.join(dir, 'x'), {recursive: true})
    const r2 = runCli(['learn', 'compile', '--agent', 'a1', '--input', input, '--deterministic', '--config', empty, '--output', path.join(dir, 'x', 'c.yaml'), '--escrow-private-key', 'zz'])
    assert.equal(r2.status, 1)
    assert.match(r2.stderr, /--escrow-private-key must be 64 hex characters/)
    assertNoOutputs(path.join(dir, 'x'))
    // No --input and no config file: the message says the file is missing, not that it lacks the key.
    const home = path.join(dir, 'home')
    mkdirSync(home)
    const r3 = runCli(['learn', 'compile', '--agent', 'a1'], {env: {HOME: home, PIPELOCK_HOME: undefined, PIPELOCK_CONFIG: undefined}})
    assert.equal(r3.status, 2)
    assert.equal(r3.stderr, `no config file at ${path.join(home, '.pipelock', 'pipelock.yaml')}, so learn.capture_dir is not set; give --input, or --config with learn.capture_dir [CONFIG_INVALID]\n`)
  })
})
