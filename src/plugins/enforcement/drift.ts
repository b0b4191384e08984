import {JsonNumber, type JsonValue} from '../canonical/index.js'
import {LIFECYCLE_STATES} from '../contracts/index.js'
import {PipelockError} from '../errors/index.js'
import {MODES, type Mode} from './types.js'

// learn-lifecycle §7.11 `EvaluateDrift` [library]: what one observation of an enforced rule
// means for drift telemetry. Never demotes anything on its own; `opportunity_missing` is only a
// candidate for a receipt (signing and chaining are the caller's job, with a receipt-signing key).

export interface DriftObservation {
  killSwitch?: boolean
  mode: string
  lifecycleState: string
  contractHash: string
  ruleId: string
  /** Opportunity telemetry health; false → `opportunity_missing`. */
  opportunityHealthy: boolean
  parentContext?: string
  /** Decimal strings (floats cannot be signed). */
  historicalOpportunityRate?: string
  currentOpportunityRate?: string
  window?: string
  /** Traffic outside the enforced contract was seen. */
  unexpected?: boolean
  opportunityObserved?: boolean
  expectedObserved?: boolean
  missedWindows?: number
  /** Explicit threshold; else the rule's `recurring_support.windows_floor`; else 3. */
  requiredMissedWindows?: number
  recurringSupport?: ReadonlyMap<string, JsonValue>
}

export interface DriftSignal {
  kind: 'positive' | 'negative'
  action?: 'block'
  observationSummary?: string
  missedWindows?: number
  opportunityStatus: 'healthy'
}

export interface OpportunityMissing {
  contract_hash: string
  rule_id: string
  parent_context: string
  historical_opportunity_rate: string
  current_opportunity_rate: string
  window: string
}

export interface DriftResult {
  suppressed: boolean
  drift?: DriftSignal
  opportunityMissing?: OpportunityMissing
  /** Adaptive block signal: live mode and positive drift only. */
  blockSignal: boolean
  /** Always false: drift never demotes a rule by itself. */
  autoDemote: false
}

const fail = (m: string): PipelockError => new PipelockError('CONTRACT_EVALUATION_FAILED', m)

/** `windows_floor` as an int, a non-negative float (floored) or a decimal string; undefined otherwise. */
function windowsFloor(v: JsonValue | undefined): number | undefined {
  let n: number | undefined
  if (v instanceof JsonNumber) n = Number(v.text)
  else if (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim())) n = Number(v.trim())
  if (n === undefined || !Number.isFinite(n) || n < 0) return undefined
  return Math.floor(n)
}

export function evaluateDrift(o: DriftObservation): DriftResult {
  const nothing: DriftResult = {suppressed: false, blockSignal: false, autoDemote: false}
  if (o.killSwitch === true) return {...nothing, suppressed: true}
  if (o.mode === '') throw fail('contract runtime: invalid drift input: mode required')
  if (!(MODES as readonly string[]).includes(o.mode)) throw fail(`contract runtime: invalid drift input: mode ${JSON.stringify(o.mode)}`)
  if (!(LIFECYCLE_STATES as readonly string[]).includes(o.lifecycleState)) throw fail(`contract: unsupported lifecycle_state: ${JSON.stringify(o.lifecycleState)}`)
  if (o.contractHash === '') throw fail('contract runtime: invalid drift input: contract_hash required')
  if (o.ruleId === '') throw fail('contract runtime: invalid drift input: rule_id required')
  const mode = o.mode as Mode
  if (o.lifecycleState === 'expired' || o.lifecycleState === 'demoted' || o.lifecycleState === 'proposed') return nothing
  if (!o.opportunityHealthy) {
    return {
      ...nothing,
      opportunityMissing: {
        contract_hash: o.contractHash,
        rule_id: o.ruleId,
        parent_context: o.parentContext ?? '',
        historical_opportunity_rate: o.historicalOpportunityRate ?? '',
        current_opportunity_rate: o.currentOpportunityRate ?? '',
        window: o.window ?? '',
      },
    }
  }
  if (o.unexpected === true) {
    return {
      ...nothing,
      drift: {kind: 'positive', action: 'block', observationSummary: 'unexpected observation outside enforced contract', opportunityStatus: 'healthy'},
      blockSignal: mode === 'live',
    }
  }
  const required = o.requiredMissedWindows ?? windowsFloor(o.recurringSupport?.get('windows_floor')) ?? 3
  const missed = o.missedWindows ?? 0
  if (o.opportunityObserved === true && o.expectedObserved !== true && missed >= required) {
    return {...nothing, drift: {kind: 'negative', missedWindows: missed, opportunityStatus: 'healthy'}}
  }
  return nothing
}

/** The `contract_drift` receipt payload (§7.11), ready for `signEvidence`. */
export function contractDriftPayload(contractHash: string, ruleId: string, d: DriftSignal): Record<string, unknown> {
  return {
    contract_hash: contractHash,
    rule_id: ruleId,
    drift_kind: d.kind,
    ...(d.observationSummary === undefined ? {} : {observation_summary: d.observationSummary}),
    ...(d.missedWindows === undefined || d.missedWindows === 0 ? {} : {missed_windows: d.missedWindows}),
    opportunity_status: d.opportunityStatus,
  }
}
