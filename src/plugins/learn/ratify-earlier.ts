import type {JsonObject} from '../canonical/index.js'
import type {RatifyDecision} from './ratify.js'

// A contract that has been ratified before carries the operator's decisions in its rules'
// lifecycle_state. Compile emits every rule capture_only, so a rule in enforce is the mark of an
// earlier ratification. Non-interactive ratify keeps those decisions (the reference turns every
// rule back to enforce, silently undoing a capture_only choice) unless --redo-decisions is given.

/** Each rule's earlier decision, or undefined when the contract shows no earlier ratification. */
export function earlierDecisions(rules: readonly JsonObject[]): RatifyDecision[] | undefined {
  const states = rules.map((r) => r.get('lifecycle_state'))
  if (!states.includes('enforce')) return undefined
  return states.map((s) => (s === 'enforce' ? 'enforce' : 'capture_only'))
}
