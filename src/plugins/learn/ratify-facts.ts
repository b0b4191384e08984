import {copyString, type JsonObject} from '../canonical/index.js'
import {isHttpRule, ruleHost} from './ratify-coverage.js'

// What ratify's decisions read of a rule: its id, confidence and earlier state (the decisions,
// the low-confidence guard, --decide), and whether it is an HTTP rule and of which host (which
// rules the coverage warnings must see whole). The streamed ratify keeps only this of each rule
// (≈ 100 bytes, against ≈ 15 KB for the decoded rule); the whole path reads the same from its tree.

export interface RuleFacts {
  readonly ruleId: string
  readonly confidence: string
  /** lifecycle_state ('' when not a string). */
  readonly state: string
  readonly http: boolean
  /** The host as the coverage warnings compare it. */
  readonly host: string
}

function str(r: JsonObject, k: string): string {
  const v = r.get(k)
  // copied: a value cut from a line read from the file would keep that line alive
  return typeof v === 'string' ? copyString(v) : ''
}

export function ruleFacts(rule: JsonObject): RuleFacts {
  return {ruleId: str(rule, 'rule_id'), confidence: str(rule, 'confidence'), state: str(rule, 'lifecycle_state'), http: isHttpRule(rule), host: copyString(ruleHost(rule))}
}
