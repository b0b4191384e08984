import {goJson, JsonNumber, type JsonObject, type JsonValue} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {goToLower, goTrimSpace} from '../canonical/index.js'
import type {RuleFacts} from './ratify-facts.js'

// learn-lifecycle §4.1: the pure part of ratify — low-confidence guard, the per-rule evidence
// block shown to the operator, answer parsing and applying the decisions.

export type RatifyDecision = 'enforce' | 'capture_only' | 'reject'

function rulesOf(body: JsonObject): JsonObject[] {
  const r = body.get('rules')
  return Array.isArray(r) ? (r as JsonObject[]) : []
}

function str(m: JsonObject | undefined, k: string): string {
  const v = m?.get(k)
  return typeof v === 'string' ? v : ''
}

/** §4.1 step 2 (kept fail-closed, §10.9): anything but stable/brittle is low confidence. */
export function isLowConfidence(confidence: string): boolean {
  const c = goToLower(goTrimSpace(confidence))
  return c !== 'stable' && c !== 'brittle'
}

/**
 * §4.1 step 3. Interactive: refuse only when every rule is low. Non-interactive: refuse when any
 * rule it enforces is low; `decisions` (non-interactive, one per rule) are the ones about to be
 * applied, so a rule `--decide` makes capture-only or reject, or a contract ratified before keeps
 * capture-only, is not refused for a confidence it is not enforced on (absent: every rule enforce).
 */
export function lowConfidenceGuard(
  body: JsonObject | readonly Pick<RuleFacts, 'ruleId' | 'confidence'>[],
  interactive: boolean,
  accept: boolean,
  applied: {decisions?: readonly RatifyDecision[]; decide?: boolean} = {},
): void {
  const {decisions} = applied
  if (accept) return
  // a body's rules, or what the streamed ratify kept of each rule (ratify-facts.ts)
  const rules = body instanceof Map ? rulesOf(body).map((r) => ({ruleId: str(r, 'rule_id'), confidence: str(r, 'confidence')})) : body
  const low = rules.filter((r, i) => isLowConfidence(r.confidence) && (interactive || decisions === undefined || decisions[i] === 'enforce'))
  if (low.length === 0) return
  const summary = low.map((r) => `${r.ruleId}(confidence=${goTrimSpace(r.confidence)})`).join(', ')
  if (interactive) {
    if (low.length < rules.length) return
    throw new PipelockError(
      'LOW_CONFIDENCE_REFUSED',
      `learn ratify: low-confidence rules require explicit override: candidate has only low-confidence rules (${summary}); rerun with --accept-low-confidence only after operator review`,
    )
  }
  throw new PipelockError(
    'LOW_CONFIDENCE_REFUSED',
    `learn ratify: low-confidence rules require explicit override: refusing non-interactive enforce for ${summary}; rerun with --interactive to review each rule or --accept-low-confidence to override`,
    // with --decide the operator already names rules: deciding such a rule c or r also settles it
    applied.decide === true ? {hint: 'to leave such a rule unenforced instead, decide it with --decide RULE_ID=c (capture-only) or --decide RULE_ID=r (reject)'} : {},
  )
}

/** §4.1 display rendering: string → itself, number → its text, missing/null → empty, else compact JSON. */
export function renderValue(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return ''
  if (typeof v === 'string') return v
  if (v instanceof JsonNumber) return v.text
  return goJson(v)
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n) + '...' : s
}

function obj(v: JsonValue | undefined): JsonObject | undefined {
  return v instanceof Map ? v : undefined
}

/** What enforcing this rule lets through: `METHOD host/path [effective_action]`, from its selector. */
export function ruleAllows(rule: JsonObject): string {
  const sel = obj(rule.get('selector'))
  if (sel === undefined || sel.size === 0) return '(nothing: empty selector)'
  if (str(rule, 'rule_kind') === 'mcp_tool_call') {
    return `tools/call ${str(obj(sel.get('server')), 'value')}/${str(obj(sel.get('tool')), 'value')}`
  }
  const methods = Array.isArray(sel.get('methods')) ? (sel.get('methods') as JsonValue[]).map(renderValue).join('|') : 'any method'
  const host = str(obj(sel.get('host')), 'value') || '(no host)'
  const paths = Array.isArray(sel.get('paths')) ? (sel.get('paths') as JsonValue[]).map((p) => str(obj(p), 'value')).join(' | ') : 'any path'
  const action = typeof sel.get('effective_action') === 'string' ? ` when effective_action is ${sel.get('effective_action') as string}` : ''
  return `${methods} ${host} ${paths}${action}`
}

function dataClassOf(body: JsonObject, i: number): string {
  const fdc = obj(body.get('field_data_classes'))
  for (const k of [`/rules/${i}`, `rules.${i}`, 'rules']) {
    const v = fdc?.get(k)
    if (typeof v === 'string' && v !== '') return v
  }
  const root = str(body, 'data_class_root')
  if (root !== '') return root
  return str(obj(obj(body.get('defaults'))?.get('privacy')), 'default_data_class')
}

/**
 * The §4.1 evidence block for rule i (0-based) of n, ending with the prompt. Deliberate
 * addition: when `observation.event_count` is absent (compiled rules), the observations line
 * shows the compiled events/sessions counts, and an `allows:` line says what enforcing the rule
 * lets through — an operator cannot judge a rule without both.
 */
export function ruleEvidenceBlock(body: JsonObject, i: number): string {
  const rules = rulesOf(body)
  const r = rules[i] as JsonObject
  const sel = obj(r.get('selector'))
  let s: string
  const host = sel?.get('host')
  // A host written as a classified value ({data_class, value}): the value, its class beside it.
  const hostValue = obj(host)?.get('value')
  const hostClass = obj(host)?.get('data_class')
  if (typeof hostValue === 'string' && hostValue !== '') s = hostValue + renderValue(sel?.get('path')) + (typeof hostClass === 'string' ? ` (host data class ${hostClass})` : '')
  else if (host !== undefined && renderValue(host) !== '') s = renderValue(host) + renderValue(sel?.get('path'))
  else if (sel === undefined || sel.size === 0) s = '(none)'
  else s = truncate(goJson(sel), 157)
  const observation = obj(r.get('observation'))
  let o = renderValue(observation?.get('event_count'))
  if (o === '' && observation?.has('events_observed')) {
    o = `${renderValue(observation.get('events_observed'))} events across ${renderValue(observation.get('sessions_observed'))} sessions`
  }
  const rationale = obj(r.get('rationale'))
  const rat = rationale === undefined || rationale.size === 0 ? '(none)' : truncate(goJson(rationale), 177)
  let samples = ''
  for (const k of ['redacted_samples', 'sample_hashes', 'exemplar_ids']) {
    samples = renderValue(observation?.get(k))
    if (samples !== '') break
  }
  return [
    '',
    `Rule ${i + 1}/${rules.length}: ${str(r, 'rule_id')}`,
    `selector: ${s}`,
    `allows: ${ruleAllows(r)}`,
    `observations: ${o}`,
    `wilson: ${str(r, 'wilson_lower')}`,
    `confidence: ${str(r, 'confidence')}`,
    `data_class: ${dataClassOf(body, i)}`,
    `fp_risk: ${renderValue(rationale?.get('fp_risk_class')) || '(none)'}`,
    `rationale: ${rat}`,
    `samples: ${samples === '' ? '(redacted)' : samples}`,
    // Beyond §4.1: from the second rule on, `a` repeats the previous answer for every remaining rule.
    i === 0 ? '[e]nforce [c]apture-only [r]eject > ' : '[e]nforce [c]apture-only [r]eject [a]s before for all remaining > ',
  ].join('\n')
}

/** §4.1 answers: e/enforce, c/capture/capture_only, r/reject (trimmed, case-insensitive). */
export function parseDecision(answer: string | undefined): RatifyDecision {
  const a = goToLower(goTrimSpace(answer ?? ''))
  if (a === 'e' || a === 'enforce') return 'enforce'
  if (a === 'c' || a === 'capture' || a === 'capture_only') return 'capture_only'
  if (a === 'r' || a === 'reject') return 'reject'
  // `a` reaches here only where there is no previous answer to repeat (cli ratify-answers).
  if (a === 'a') throw new PipelockError('RATIFY_DECISION_INVALID', 'learn ratify: "a" repeats the previous answer, and there is none yet (want e, c or r)')
  throw new PipelockError('RATIFY_DECISION_INVALID', `learn ratify: invalid decision ${JSON.stringify(goTrimSpace(answer ?? ''))} (want e, c or r; a repeats the previous answer from the second rule on)`)
}

/** What the decisions make of the rules, before any rule is copied (`decisionOutcome`). */
export interface DecisionOutcome {
  /** Kept rule ids, sorted. */
  ratified: string[]
  rejected: string[]
  decisionPerRule: Map<string, RatifyDecision>
  /** Old index of each kept rule, in order. */
  keptIndexes: number[]
}

export interface AppliedDecisions extends DecisionOutcome {
  body: JsonObject
}

/**
 * §4.1 step 5 over the rules' ids (`ruleIds[i]` of rule i): which rules are kept and rejected,
 * each rule's decision; all rejected is refused.
 */
export function decisionOutcome(ruleIds: readonly string[], decisions: readonly RatifyDecision[]): DecisionOutcome {
  const keptIndexes: number[] = []
  const rejected: string[] = []
  const decisionPerRule = new Map<string, RatifyDecision>()
  ruleIds.forEach((id, i) => {
    const d = decisions[i] as RatifyDecision
    decisionPerRule.set(id, d)
    if (d === 'reject') rejected.push(id)
    else keptIndexes.push(i)
  })
  if (keptIndexes.length === 0) throw new PipelockError('RATIFY_DECISION_INVALID', 'learn ratify: all rules rejected; refusing to emit empty ratification')
  const ratified = keptIndexes.map((i) => ruleIds[i] as string).sort()
  return {ratified, rejected, decisionPerRule, keptIndexes}
}

/** §4.1 step 5: drop rejected rules, set lifecycle_state on the rest. */
export function applyDecisions(bodyIn: JsonObject, decisions: readonly RatifyDecision[]): AppliedDecisions {
  const rules = rulesOf(bodyIn)
  const outcome = decisionOutcome(
    rules.map((r) => str(r, 'rule_id')),
    decisions,
  )
  const body: JsonObject = new Map(bodyIn)
  body.set(
    'rules',
    outcome.keptIndexes.map((i) => new Map(rules[i]).set('lifecycle_state', decisions[i] as RatifyDecision)),
  )
  return {body, ...outcome}
}
