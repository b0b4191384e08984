import type {JsonObject} from '../canonical/index.js'
import {PipelockError, shellWord} from '../errors/index.js'
import type {RatifyDecision} from './ratify.js'
import type {RuleFacts} from './ratify-facts.js'

// `learn ratify --decide RULE_ID=e|c|r`: a decision for a named rule without a prompt (CI, and the
// hint a live block of a capture-only rule gives, which cannot know the rule order). Rules not
// named are decided as without the flag. Every mistake is a usage error naming what is wrong:
// a decision silently dropped or applied to another rule would change what the contract allows.

// a Map, not an object literal: `--decide r-1=constructor` must not find Object.prototype's
const DECISIONS: ReadonlyMap<string, RatifyDecision> = new Map([
  ['e', 'enforce'],
  ['enforce', 'enforce'],
  ['c', 'capture_only'],
  ['capture-only', 'capture_only'],
  ['capture_only', 'capture_only'],
  ['r', 'reject'],
  ['reject', 'reject'],
])

const HELP = 'see pipelock learn ratify --help'

/** The `--decide` values as rule id → decision; refuses a malformed value, an unknown decision, a rule named twice. */
export function parseDecideFlags(values: readonly string[]): Map<string, RatifyDecision> {
  const named = new Map<string, RatifyDecision>()
  for (const v of values) {
    // the last `=`: a decision never holds one, a hand-edited rule id might
    const eq = v.lastIndexOf('=')
    if (eq <= 0) throw new PipelockError('USAGE', `learn ratify: --decide ${JSON.stringify(v)} is not RULE_ID=e, RULE_ID=c or RULE_ID=r`, {hint: HELP})
    const id = v.slice(0, eq)
    const word = v.slice(eq + 1)
    const d = DECISIONS.get(word)
    if (d === undefined) {
      throw new PipelockError('USAGE', `learn ratify: --decide ${JSON.stringify(v)}: unknown decision ${JSON.stringify(word)} for rule ${JSON.stringify(id)} (want e, c or r: enforce, capture-only or reject)`, {hint: HELP})
    }
    if (named.has(id)) throw new PipelockError('USAGE', `learn ratify: --decide names rule ${JSON.stringify(id)} twice; give each rule one decision`, {hint: HELP})
    named.set(id, d)
  }
  return named
}

/** Refuses `--decide` rule ids that are not in the candidate (all of them in one line). */
export function checkDecidedRules(rules: readonly JsonObject[] | readonly Pick<RuleFacts, 'ruleId'>[], named: ReadonlyMap<string, RatifyDecision>, candidate: string): void {
  const ids = new Set<unknown>(rules.map((r: JsonObject | Pick<RuleFacts, 'ruleId'>) => (r instanceof Map ? r.get('rule_id') : r.ruleId)))
  const unknown = [...named.keys()].filter((id) => !ids.has(id))
  if (unknown.length === 0) return
  const list = unknown.map((id) => JSON.stringify(id)).join(', ')
  throw new PipelockError(
    'USAGE',
    unknown.length === 1
      ? `learn ratify: --decide names rule ${list}, which is not in the candidate ${candidate}`
      : `learn ratify: --decide names rules ${list}, which are not in the candidate ${candidate}`,
    {hint: `list its rule ids with: pipelock learn review ${shellWord(candidate)}`},
  )
}
