import type {RatifyDecision} from './ratify.js'
import type {RuleFacts} from './ratify-facts.js'

// A contract that has been ratified before carries the operator's decisions in its rules'
// lifecycle_state. Compile emits every rule capture_only, so a rule in enforce is the mark of an
// earlier ratification. Non-interactive ratify keeps those decisions (the reference turns every
// rule back to enforce, silently undoing a capture_only choice) unless --redo-decisions is given.

/** Each rule's earlier decision, or undefined when the contract shows no earlier ratification. */
export function earlierDecisions(rules: readonly Pick<RuleFacts, 'state'>[]): RatifyDecision[] | undefined {
  if (!rules.some((r) => r.state === 'enforce')) return undefined
  return rules.map((r) => (r.state === 'enforce' ? 'enforce' : 'capture_only'))
}

/**
 * The warning that the earlier decisions were kept (for the rules --decide does not name), or
 * undefined when none was kept as capture_only.
 */
export function keptDecisionsWarning(rules: readonly Pick<RuleFacts, 'ruleId'>[], named: ReadonlyMap<string, RatifyDecision>, earlier: readonly RatifyDecision[] | undefined): string | undefined {
  const keptIdx = earlier === undefined ? [] : rules.map((_, i) => i).filter((i) => !named.has((rules[i] as Pick<RuleFacts, 'ruleId'>).ruleId))
  const kept = keptIdx.filter((i) => earlier?.[i] === 'capture_only').length
  if (kept === 0) return undefined
  if (named.size === 0) {
    return `learn ratify: the candidate was ratified before; kept its decisions (${kept} capture_only, ${rules.length - kept} enforce); pass --redo-decisions to make every rule enforce`
  }
  return `learn ratify: the candidate was ratified before; kept its decisions for the rules --decide does not name (${kept} capture_only, ${keptIdx.length - kept} enforce); pass --redo-decisions to make those enforce`
}
