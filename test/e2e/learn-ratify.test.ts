import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {JsonObject} from '../../src/plugins/canonical/index.js'
import {loadContract} from '../../src/plugins/contracts/index.js'
import {keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli, runCliAsync} from '../helpers/cli.js'
import {repoPath, vectorPath} from '../helpers/vectors.js'

const GOLDEN_PUB = keyPairFromSeed(sha256('pipelock-golden-deterministic-signer')).publicKey.toString('hex')
const HARNESS_PUB = '3e60a846b80a5152a2e32fac4cadb3e9a661eee41558a8c84f5d00a827671380'

function copy(dir: string, from: string): string {
  const p = path.join(dir, 'candidate.yaml')
  writeFileSync(p, readFileSync(from))
  return p
}

test('replay corpus: non-interactive ratify without --accept-low-confidence is refused, nothing written', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-ratify-'))
  try {
    const c = copy(dir, vectorPath('replay-corpus', 'contract.yaml'))
    const r = runCli(['learn', 'ratify', '--candidate', c, '--contract-key', HARNESS_PUB, '--deterministic'])
    assert.equal(r.status, 1)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /^learn ratify: low-confidence rules require explicit override: refusing non-interactive enforce for r-56af4994c47c39b1990c\(confidence=never_confirmed\), .*; rerun with --interactive to review each rule or --accept-low-confidence to override \[LOW_CONFIDENCE_REFUSED\]\n$/)
    assert.equal((r.stderr.match(/confidence=never_confirmed/g) ?? []).length, 21)
    assert.deepEqual(readFileSync(c), readFileSync(vectorPath('replay-corpus', 'contract.yaml')))
    assert.equal(existsSync(path.join(dir, 'ratification-receipts.jsonl')), false)
    // interactive mode is allowed (not every rule is low): answer e for the 5 brittle ones, r otherwise
    const env = loadContract(readFileSync(c, 'utf8'), c)
    const answers = (env.body.get('rules') as JsonObject[]).map((x) => (x.get('confidence') === 'brittle' ? 'e' : 'r')).join('\n') + '\n'
    const ok = runCli(['learn', 'ratify', '--candidate', c, '--contract-key', HARNESS_PUB, '--deterministic', '--interactive'], {input: answers})
    assert.equal(ok.status, 0, ok.stderr)
    assert.ok(ok.stdout.endsWith(`\nratify: 5 rules ratified (5 enforce, 0 capture-only), 21 rejected, written to ${c}\n`))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('interactive ratify through piped stdin: prompts on stdout, decisions applied, exact result line and audit', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-ratify-'))
  try {
    const c = copy(dir, repoPath('goldens', 'multi-hour', 'contract.yaml'))
    const n = (loadContract(readFileSync(c, 'utf8'), c).body.get('rules') as JsonObject[]).length
    const answers = Array.from({length: n}, (_, i) => ['e', 'capture', ' R '][i % 3]).join('\n') + '\n'
    const out = path.join(dir, 'ratified.yaml')
    const r = runCli(['learn', 'ratify', '--candidate', c, '--contract-key', GOLDEN_PUB, '--interactive', '--deterministic', '--out', out], {input: answers})
    assert.equal(r.status, 0, r.stderr)
    const rejected = Math.floor(n / 3)
    const blocks = r.stdout.split(/\[e\]nforce \[c\]apture-only \[r\]eject (?:\[a\]s before for all remaining )?> /)
    assert.equal(r.stdout.split('[e]nforce [c]apture-only [r]eject > ').length, 2, 'the first rule has no previous answer to repeat')
    assert.equal(blocks.length, n + 1)
    assert.match(blocks[0] as string, /^\nRule 1\/\d+: r-[0-9a-f]{20}\nselector: .*\nallows: .*\nobservations: \d+ events across \d+ sessions\nwilson: 0\.\d{6}\nconfidence: \w+\ndata_class: internal\nfp_risk: \(none\)\nrationale: \{.*\}\nsamples: \(redacted\)\n$/)
    assert.equal(blocks[n], `\nratify: ${n - rejected} rules ratified (${Math.ceil(n / 3)} enforce, ${n - rejected - Math.ceil(n / 3)} capture-only), ${rejected} rejected, written to ${out}\n`)
    // (the rejected-but-still-allowed warnings are pinned in learn-ratify-covered)
    assert.equal(
      r.stderr.split('\n').filter((l) => !l.startsWith('WARNING: ')).join('\n'),
      JSON.stringify({event: 'learn_ratify', candidate: c, dest: out, signer_key_id: 'deterministic-receipt-signing', output: path.join(dir, 'ratification-receipts.jsonl'), receipts_emitted: 1, rules_ratified: n - rejected, rules_rejected: rejected, noop: false}) + '\n',
    )
    const states = (loadContract(readFileSync(out, 'utf8'), out).body.get('rules') as JsonObject[]).map((x) => x.get('lifecycle_state'))
    assert.equal(states.filter((s) => s === 'enforce').length, Math.ceil(n / 3))
    // EOF before the last answer: refused, nothing written
    const short = runCli(['learn', 'ratify', '--candidate', c, '--contract-key', GOLDEN_PUB, '--interactive', '--deterministic', '--out', path.join(dir, 'short.yaml')], {input: 'e\n'})
    assert.equal(short.status, 1)
    assert.equal(short.stderr, `learn ratify: the answers ended at rule 2 of ${n}; nothing was written [RATIFY_DECISION_INVALID]; hint: give one answer per rule: e, c or r (a repeats the previous answer for every remaining rule)\n`)
    assert.equal(existsSync(path.join(dir, 'short.yaml')), false)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('interactive ratify with stdin that gives nothing (an empty pipe, /dev/null in CI): says so and names the ways out, nothing written', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-ratify-'))
  try {
    const c = copy(dir, repoPath('goldens', 'multi-hour', 'contract.yaml'))
    const args = ['learn', 'ratify', '--candidate', c, '--contract-key', GOLDEN_PUB, '--interactive', '--deterministic', '--out', path.join(dir, 'out.yaml')]
    const want = 'learn ratify: stdin gave no answers (it is not a terminal); nothing was written [RATIFY_DECISION_INVALID]; hint: pipe one answer per rule (e, c or r), or run without --interactive to enforce every rule (add --accept-low-confidence if a rule is low-confidence)\n'
    // runCli: an empty pipe; runCliAsync: stdin is /dev/null
    for (const r of [runCli(args), await runCliAsync(args)]) {
      assert.equal(r.status, 1)
      assert.equal(r.stderr, want)
      // the first rule's card was shown, and only it
      assert.equal(r.stdout.split('[e]nforce [c]apture-only [r]eject > ').length, 2)
      assert.ok(r.stdout.startsWith('\nRule 1/'), r.stdout)
    }
    assert.equal(existsSync(path.join(dir, 'out.yaml')), false)
    assert.equal(existsSync(path.join(dir, 'ratification-receipts.jsonl')), false)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('ratify CLI: tampered candidate and wrong verification key refused; --help has examples', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-ratify-'))
  try {
    const c = copy(dir, repoPath('goldens', 'multi-hour', 'contract.yaml'))
    const text = readFileSync(c, 'utf8')
    const i = text.indexOf('wilson_lower: "0.') + 'wilson_lower: "0.'.length
    writeFileSync(c, text.slice(0, i) + (text[i] === '9' ? '8' : '9') + text.slice(i + 1))
    const r = runCli(['learn', 'ratify', '--candidate', c, '--contract-key', GOLDEN_PUB, '--accept-low-confidence', '--deterministic'])
    assert.equal(r.status, 1)
    assert.match(r.stderr, /^learn ratify: verify candidate: contract_hash "sha256:[0-9a-f]{64}" does not match the body \(computed sha256:[0-9a-f]{64}\) \[CONTRACT_SIGNATURE_INVALID\]; hint: the candidate was modified after signing; recompile it\n$/)
    writeFileSync(c, text)
    const wrong = runCli(['learn', 'ratify', '--candidate', c, '--contract-key', HARNESS_PUB, '--accept-low-confidence', '--deterministic'])
    assert.equal(wrong.status, 1)
    assert.ok(wrong.stderr.startsWith('learn ratify: verify candidate: signature does not verify for signer_key_id "golden-contract-compile" ['), wrong.stderr)
    assert.equal(readFileSync(c, 'utf8'), text)
    const help = runCli(['learn', 'ratify', '--help'])
    assert.equal(help.status, 0)
    assert.ok(help.stdout.includes('learn ratify --candidate /tmp/agent.candidate.yaml --interactive'))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
