import {test} from 'node:test'
import assert from 'node:assert/strict'
import {fromPlain, type JsonObject} from '../../../src/plugins/canonical/index.js'
import {checkDecidedRules, lowConfidenceGuard, parseDecideFlags} from '../../../src/plugins/learn/index.js'

// `learn ratify --decide RULE_ID=e|c|r`: the parsing, the rule-id check and the low-confidence
// guard over the decisions about to be applied (the CLI's exact lines are in e2e/learn-ratify-decide).

const rules = (ids: string[], confidence = 'stable'): JsonObject[] => ids.map((id) => fromPlain({rule_id: id, confidence}) as JsonObject)

test('--decide values: letters and spelled-out words, any order; the last = splits (a decision never holds one)', () => {
  assert.deepEqual(
    [...parseDecideFlags(['r-2=c', 'r-1=e', 'r-3=r', 'r-4=enforce', 'r-5=capture-only', 'r-6=capture_only', 'r-7=reject', 'r=odd=e'])],
    [
      ['r-2', 'capture_only'],
      ['r-1', 'enforce'],
      ['r-3', 'reject'],
      ['r-4', 'enforce'],
      ['r-5', 'capture_only'],
      ['r-6', 'capture_only'],
      ['r-7', 'reject'],
      ['r=odd', 'enforce'],
    ],
  )
  assert.equal(parseDecideFlags([]).size, 0)
})

test('--decide refusals are usage errors (exit 2) naming the value and the rule', () => {
  const usage = (values: string[], message: string) =>
    assert.throws(() => parseDecideFlags(values), (e: Error & {code?: string; exitCode?: number}) => {
      assert.equal(e.message, message)
      assert.equal(e.code, 'USAGE')
      return true
    })
  usage(['r-1'], 'learn ratify: --decide "r-1" is not RULE_ID=e, RULE_ID=c or RULE_ID=r')
  usage(['=e'], 'learn ratify: --decide "=e" is not RULE_ID=e, RULE_ID=c or RULE_ID=r')
  // a prototype key is not a decision; letters are not case-folded (a flag value, not a typed answer)
  for (const bad of ['x', '', 'E', 'constructor', 'capture']) {
    usage([`r-1=${bad}`], `learn ratify: --decide "r-1=${bad}": unknown decision ${JSON.stringify(bad)} for rule "r-1" (want e, c or r: enforce, capture-only or reject)`)
  }
  usage(['r-1=e', 'r-2=c', 'r-1=e'], 'learn ratify: --decide names rule "r-1" twice; give each rule one decision')
})

test('--decide rule ids must be in the candidate: every unknown one named, and how to list them', () => {
  checkDecidedRules(rules(['r-1', 'r-2']), parseDecideFlags(['r-2=c']), '/c.yaml')
  assert.throws(() => checkDecidedRules(rules(['r-1']), parseDecideFlags(['r-9=e']), '/a dir/c.yaml'), {
    code: 'USAGE',
    message: 'learn ratify: --decide names rule "r-9", which is not in the candidate /a dir/c.yaml',
    hint: "list its rule ids with: pipelock learn review '/a dir/c.yaml'",
  })
  assert.throws(() => checkDecidedRules(rules(['r-1']), parseDecideFlags(['r-8=e', 'r-1=c', 'r-9=r']), '/c.yaml'), {
    message: 'learn ratify: --decide names rules "r-8", "r-9", which are not in the candidate /c.yaml',
  })
})

test('low-confidence guard over the decisions applied: only rules that end up enforce count, --decide or not', () => {
  const body = fromPlain({rules: [{rule_id: 'r-0', confidence: 'stable'}, {rule_id: 'r-1', confidence: 'never_confirmed'}, {rule_id: 'r-2', confidence: 'refuted'}]}) as JsonObject
  const refused = (summary: string) =>
    `learn ratify: low-confidence rules require explicit override: refusing non-interactive enforce for ${summary}; rerun with --interactive to review each rule or --accept-low-confidence to override`
  // the low rules left capture-only or rejected are not enforced: nothing to refuse
  lowConfidenceGuard(body, false, false, {decisions: ['enforce', 'capture_only', 'reject'], decide: true})
  // a contract ratified before that keeps a low rule capture-only (no --decide)
  lowConfidenceGuard(body, false, false, {decisions: ['enforce', 'capture_only', 'capture_only']})
  // a low rule that ends up enforce is refused, with the --decide alternative when --decide is in use
  assert.throws(() => lowConfidenceGuard(body, false, false, {decisions: ['enforce', 'enforce', 'capture_only'], decide: true}), {
    code: 'LOW_CONFIDENCE_REFUSED',
    message: refused('r-1(confidence=never_confirmed)'),
    hint: 'to leave such a rule unenforced instead, decide it with --decide RULE_ID=c (capture-only) or --decide RULE_ID=r (reject)',
  })
  assert.throws(() => lowConfidenceGuard(body, false, false, {decisions: ['enforce', 'enforce', 'enforce']}), (e: Error & {hint?: string}) => {
    assert.equal(e.message, refused('r-1(confidence=never_confirmed), r-2(confidence=refuted)'))
    assert.equal(e.hint, undefined)
    return true
  })
  lowConfidenceGuard(body, false, true, {decisions: ['enforce', 'enforce', 'enforce'], decide: true})
})
