import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {JsonObject} from '../../src/plugins/canonical/index.js'
import {loadContract} from '../../src/plugins/contracts/index.js'
import {keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'
import {CAPTURE_ONLY_DENIED, twoPathRuleCandidate} from './ratify-capture-only-fixture.js'

// `learn ratify --decide RULE_ID=e|c|r`: decisions for named rules without a prompt (CI, and the
// X-Pipelock-Hint of a live block a capture-only rule would allow). Every other rule is decided as
// without the flag; the receipt records what was applied.

const REPORTS = 'r-d00a49c09b2bf54e05e2' // any method api.example.com /v2/reports (brittle)
const SUMMARY = 'r-39df75f1cf877389a0b2' // any method api.example.com /v2/reports/summary (never_confirmed)
const GOLDEN_PUB = keyPairFromSeed(sha256('pipelock-golden-deterministic-signer')).publicKey.toString('hex')

const states = (file: string): Record<string, unknown> =>
  Object.fromEntries((loadContract(readFileSync(file, 'utf8'), file).body.get('rules') as JsonObject[]).map((r) => [r.get('rule_id'), r.get('lifecycle_state')]))

interface Receipt {
  contract_hash: string
  payload: {contract_hash: string; ratified_rule_ids: string[]; ratification_decision_per_rule: Record<string, string>}
}
const receipts = (file: string): Receipt[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Receipt)

const audit = (candidate: string, dest: string, ratified: number, rejected = 0): string =>
  JSON.stringify({
    event: 'learn_ratify',
    candidate,
    dest,
    signer_key_id: 'deterministic-receipt-signing',
    output: path.join(path.dirname(dest), 'ratification-receipts.jsonl'),
    receipts_emitted: 1,
    rules_ratified: ratified,
    ...(rejected === 0 ? {} : {rules_rejected: rejected}),
    noop: false,
  }) + '\n'

describe('learn ratify --decide', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-ratify-decide-'))
  const cand = twoPathRuleCandidate(dir)
  const ratify = (args: string[]) => runCli(['learn', 'ratify', '--candidate', cand, '--deterministic', ...args])
  const first = path.join(dir, 'first.yaml')

  it('a compiled candidate: the named rule capture-only, the other enforce; contract, receipt and --json say so', () => {
    const before = readFileSync(cand, 'utf8')
    // the never_confirmed rule is not enforced, so no --accept-low-confidence is needed
    const r = ratify(['--decide', `${SUMMARY}=c`, '--out', first])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, `ratify: 2 rules ratified (1 enforce, 1 capture-only), 0 rejected, written to ${first}\n`)
    assert.equal(r.stderr, `WARNING: ${CAPTURE_ONLY_DENIED}\n` + audit(cand, first, 2))
    assert.deepEqual(states(first), {[REPORTS]: 'enforce', [SUMMARY]: 'capture_only'})
    assert.equal(readFileSync(cand, 'utf8'), before)
    const [receipt, ...more] = receipts(path.join(dir, 'ratification-receipts.jsonl'))
    assert.equal(more.length, 0)
    assert.deepEqual(receipt!.payload.ratification_decision_per_rule, {[REPORTS]: 'enforce', [SUMMARY]: 'capture_only'})
    assert.deepEqual(receipt!.payload.ratified_rule_ids, [SUMMARY, REPORTS])
    assert.equal(receipt!.payload.contract_hash, loadContract(readFileSync(first, 'utf8'), first).body.get('contract_hash'))
    // byte for byte the contract and receipt the same answers at the prompt give
    const typed = path.join(dir, 'typed', 'first.yaml')
    mkdirSync(path.dirname(typed))
    const t = runCli(['learn', 'ratify', '--candidate', cand, '--deterministic', '--interactive', '--out', typed], {input: 'e\nc\n'})
    assert.equal(t.status, 0, t.stderr)
    assert.equal(readFileSync(typed, 'utf8'), readFileSync(first, 'utf8'))
    assert.equal(readFileSync(path.join(dir, 'typed', 'ratification-receipts.jsonl'), 'utf8'), readFileSync(path.join(dir, 'ratification-receipts.jsonl'), 'utf8'))
    // the spelled-out word and --json: the decisions applied, the warning in `warnings`
    const j = ratify(['--decide', `${SUMMARY}=capture-only`, '--out', path.join(dir, 'json.yaml'), '--json'])
    assert.equal(j.status, 0, j.stderr)
    const out = JSON.parse(j.stdout) as {decisions: unknown; ratifiedRuleIds: unknown; rejectedRuleIds: unknown; warnings: unknown}
    assert.deepEqual(out.decisions, {[REPORTS]: 'enforce', [SUMMARY]: 'capture_only'})
    assert.deepEqual(out.ratifiedRuleIds, [SUMMARY, REPORTS])
    assert.deepEqual(out.rejectedRuleIds, [])
    assert.deepEqual(out.warnings, [CAPTURE_ONLY_DENIED])
    // the same contract as the letter gave: the decision is what is signed, not how it was spelled
    assert.equal(readFileSync(path.join(dir, 'json.yaml'), 'utf8'), readFileSync(first, 'utf8'))
  })

  it('a rejected rule is removed, and the receipt still records its decision', () => {
    const out = path.join(dir, 'reject.yaml')
    const r = ratify(['--decide', `${SUMMARY}=reject`, '--out', out, '--receipt-out', path.join(dir, 'reject.jsonl')])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, `ratify: 1 rules ratified (1 enforce, 0 capture-only), 1 rejected, written to ${out}\n`)
    assert.deepEqual(states(out), {[REPORTS]: 'enforce'})
    const [receipt] = receipts(path.join(dir, 'reject.jsonl'))
    assert.deepEqual(receipt!.payload.ratification_decision_per_rule, {[REPORTS]: 'enforce', [SUMMARY]: 'reject'})
    assert.deepEqual(receipt!.payload.ratified_rule_ids, [REPORTS])
  })

  it('usage errors (exit 2): a malformed value, an unknown decision, a rule named twice, an unknown rule id, with --interactive; nothing written', () => {
    const out = path.join(dir, 'refused.yaml')
    const cases: [string[], string][] = [
      [['--decide', SUMMARY], `learn ratify: --decide "${SUMMARY}" is not RULE_ID=e, RULE_ID=c or RULE_ID=r [USAGE]; hint: see pipelock learn ratify --help\n`],
      [
        ['--decide', `${SUMMARY}=x`],
        `learn ratify: --decide "${SUMMARY}=x": unknown decision "x" for rule "${SUMMARY}" (want e, c or r: enforce, capture-only or reject) [USAGE]; hint: see pipelock learn ratify --help\n`,
      ],
      [['--decide', `${SUMMARY}=e`, '--decide', `${REPORTS}=e`, '--decide', `${SUMMARY}=c`], `learn ratify: --decide names rule "${SUMMARY}" twice; give each rule one decision [USAGE]; hint: see pipelock learn ratify --help\n`],
      [
        ['--decide', 'r-00000000000000000000=e', '--decide', `${SUMMARY}=c`],
        `learn ratify: --decide names rule "r-00000000000000000000", which is not in the candidate ${cand} [USAGE]; hint: list its rule ids with: pipelock learn review ${cand}\n`,
      ],
      [['--decide', `${SUMMARY}=c`, '--interactive'], '--interactive cannot also be provided when using --decide [USAGE]; hint: see pipelock learn ratify --help\n'],
    ]
    for (const [args, stderr] of cases) {
      const r = ratify([...args, '--out', out, '--receipt-out', path.join(dir, 'refused.jsonl')])
      assert.equal(r.status, 2, args.join(' '))
      assert.equal(r.stdout, '')
      assert.equal(r.stderr, stderr)
    }
    assert.equal(existsSync(out), false)
    assert.equal(existsSync(path.join(dir, 'refused.jsonl')), false)
    // the rule ids the hint points at
    const review = runCli(['learn', 'review', cand])
    assert.equal(review.status, 0, review.stderr)
    assert.ok(review.stdout.includes(`\n- ${REPORTS} (`) && review.stdout.includes(`\n- ${SUMMARY} (`), review.stdout)
  })

  it('the low-confidence guard: --decide X=e on a never_confirmed rule needs --accept-low-confidence', () => {
    const out = path.join(dir, 'low.yaml')
    const r = ratify(['--decide', `${SUMMARY}=e`, '--out', out])
    assert.equal(r.status, 1)
    assert.equal(r.stdout, '')
    assert.equal(
      r.stderr,
      `learn ratify: low-confidence rules require explicit override: refusing non-interactive enforce for ${SUMMARY}(confidence=never_confirmed); rerun with --interactive to review each rule or --accept-low-confidence to override [LOW_CONFIDENCE_REFUSED]; hint: to leave such a rule unenforced instead, decide it with --decide RULE_ID=c (capture-only) or --decide RULE_ID=r (reject)\n`,
    )
    assert.equal(existsSync(out), false)
    // a rule not named ends up enforce too: still refused
    const other = ratify(['--decide', `${REPORTS}=c`, '--out', out])
    assert.equal(other.status, 1)
    assert.ok(other.stderr.startsWith(`learn ratify: low-confidence rules require explicit override: refusing non-interactive enforce for ${SUMMARY}(confidence=never_confirmed); `), other.stderr)
    const ok = ratify(['--decide', `${SUMMARY}=e`, '--out', out, '--accept-low-confidence'])
    assert.equal(ok.status, 0, ok.stderr)
    assert.deepEqual(states(out), {[REPORTS]: 'enforce', [SUMMARY]: 'enforce'})
  })

  it('re-ratifying the ratified contract: the named rule changes, the others keep their decisions', () => {
    const again = (args: string[], out: string) => runCli(['learn', 'ratify', '--candidate', first, '--deterministic', '--out', out, ...args])
    // what the capture-only hint tells the operator: enforce that one rule (never_confirmed, so the guard asks for the override)
    const enforced = path.join(dir, 'enforced.yaml')
    const e = again(['--decide', `${SUMMARY}=enforce`, '--accept-low-confidence'], enforced)
    assert.equal(e.status, 0, e.stderr)
    assert.equal(e.stdout, `ratify: 2 rules ratified (2 enforce, 0 capture-only), 0 rejected, written to ${enforced}\n`)
    assert.equal(e.stderr, audit(first, enforced, 2))
    assert.deepEqual(states(enforced), {[REPORTS]: 'enforce', [SUMMARY]: 'enforce'})
    const last = receipts(path.join(dir, 'ratification-receipts.jsonl')).at(-1)!
    assert.deepEqual(last.payload.ratification_decision_per_rule, {[REPORTS]: 'enforce', [SUMMARY]: 'enforce'})
    assert.equal(last.payload.contract_hash, loadContract(readFileSync(enforced, 'utf8'), enforced).body.get('contract_hash'))
    // every rule named: exactly those decisions, nothing kept
    const flipped = path.join(dir, 'flipped.yaml')
    const f = again(['--decide', `${REPORTS}=r`, '--decide', `${SUMMARY}=c`], flipped)
    assert.equal(f.status, 0, f.stderr)
    assert.doesNotMatch(f.stderr, /ratified before/)
    assert.deepEqual(states(flipped), {[SUMMARY]: 'capture_only'})
    // naming only the enforced rule: the capture-only one keeps its decision, and ratify says so;
    // it is not enforced, so its confidence needs no override
    const kept = path.join(dir, 'kept.yaml')
    const k = again(['--decide', `${REPORTS}=e`], kept)
    assert.equal(k.status, 0, k.stderr)
    assert.equal(
      k.stderr,
      'WARNING: learn ratify: the candidate was ratified before; kept its decisions for the rules --decide does not name (1 capture_only, 0 enforce); pass --redo-decisions to make those enforce\n' +
        `WARNING: ${CAPTURE_ONLY_DENIED}\n` +
        audit(first, kept, 2),
    )
    assert.deepEqual(states(kept), {[REPORTS]: 'enforce', [SUMMARY]: 'capture_only'})
    // --redo-decisions: the rules not named become enforce (here the never_confirmed one: refused without the override)
    const redo = again(['--decide', `${REPORTS}=c`, '--redo-decisions'], path.join(dir, 'redo.yaml'))
    assert.equal(redo.status, 1)
    assert.ok(redo.stderr.includes(`refusing non-interactive enforce for ${SUMMARY}(confidence=never_confirmed)`), redo.stderr)
  })

  it('a contract ratified before, without --decide: its capture-only never_confirmed rule stays unenforced and needs no override', () => {
    const out = path.join(dir, 'plain.yaml')
    const r = runCli(['learn', 'ratify', '--candidate', first, '--deterministic', '--out', out])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(
      r.stderr,
      'WARNING: learn ratify: the candidate was ratified before; kept its decisions (1 capture_only, 1 enforce); pass --redo-decisions to make every rule enforce\n' +
        `WARNING: ${CAPTURE_ONLY_DENIED}\n` +
        audit(first, out, 2),
    )
    assert.deepEqual(states(out), {[REPORTS]: 'enforce', [SUMMARY]: 'capture_only'})
  })

  it('a larger candidate: two rules named among thirteen, the rest enforce', () => {
    const c = path.join(dir, 'multi-hour.yaml')
    writeFileSync(c, readFileSync(repoPath('goldens', 'multi-hour', 'contract.yaml')))
    const out = path.join(dir, 'multi.yaml')
    const r = runCli(['learn', 'ratify', '--candidate', c, '--contract-key', GOLDEN_PUB, '--deterministic', '--accept-low-confidence', '--out', out, '--decide', 'r-9fe53633a93888dff217=r', '--decide', 'r-a3f0f3f842d298c24a87=c'])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, `ratify: 12 rules ratified (11 enforce, 1 capture-only), 1 rejected, written to ${out}\n`)
    const s = states(out)
    assert.equal(s['r-a3f0f3f842d298c24a87'], 'capture_only')
    assert.equal('r-9fe53633a93888dff217' in s, false)
    assert.equal(Object.values(s).filter((v) => v === 'enforce').length, 11)
  })

  it('--help: the flag and an example with --decide', () => {
    const help = runCli(['learn', 'ratify', '--help'])
    assert.equal(help.status, 0)
    // oclif wraps long lines (with a trailing backslash in examples): compare the words
    const text = help.stdout.replace(/ \\\n/g, ' ').replace(/\s+/g, ' ')
    assert.ok(text.includes('--decide=<value>... non-interactive, repeatable: decide the named rule, RULE_ID=e (enforce), =c (capture-only) or =r (reject); rules not named are decided as without it'), text)
    assert.ok(text.includes('$ pipelock learn ratify --candidate /tmp/agent.ratified.yaml --decide r-1c6ed57b038552fa949d=e --decide r-39df75f1cf877389a0b2=c --out /tmp/agent.v2.yaml'), text)
    assert.ok(text.includes(' [--contract-key <value>] [--interactive | [--decide <value>...] [--redo-decisions]] [--accept-low-confidence] [--deterministic] '), text)
  })
})
