import {PipelockError} from '../errors/index.js'
import {goQuoteVerb} from '../signing/index.js'
import {goTrimSpace} from '../canonical/index.js'
import {editCandidateRule, type CandidateEditRequest, type CandidateEditResult} from './split-service.js'
import {pinRule, segmentLiteralProblem} from './split-edit.js'

export interface PinRequest extends CandidateEditRequest {
  segment: string
}

export interface PinResult extends CandidateEditResult {
  segment: string
  /** Paths of the rule with a normalization block; 0 means the pin had nothing to apply to. */
  normalizedPaths: number
}

/** `learn pin` (§4.4): value-keyed pins on every path with a normalization block. */
export function runLearnPin(req: PinRequest): PinResult {
  const segment = goTrimSpace(req.segment)
  if (segment === '') throw new PipelockError('SEGMENT_INVALID', 'learn pin: learn: pin segment must be non-empty')
  const problem = segmentLiteralProblem(segment)
  if (problem !== undefined) throw new PipelockError('SEGMENT_INVALID', `learn pin: learn: invalid segment literal: ${problem}`)
  let normalizedPaths = 0
  const r = editCandidateRule(req, 'learn pin', (rule) => {
    const pinned = pinRule(rule, segment)
    normalizedPaths = pinned.normalized
    return pinned.changed
  })
  return {...r, segment, normalizedPaths}
}

/**
 * A rule with no normalised path has nothing to pin: said on stderr too (the stdout line says
 * "not pinned"), so the operator does not believe the segment is protected.
 */
export function pinWarnings(r: PinResult): string[] {
  return r.normalizedPaths > 0 ? [] : [`WARNING: learn pin: rule ${r.rule} has no normalised path (no normalization block: compile collapsed nothing there), so nothing was pinned; pins apply to paths whose segments compile may collapse`]
}

export function pinMessage(r: PinResult): string {
  if (r.changed > 0) return `pin: rule ${r.rule}, segment ${goQuoteVerb(r.segment)} pinned, written to ${r.dest}`
  // The reference's "already pinned" would be false here: nothing was, or could be, pinned.
  if (r.normalizedPaths === 0) return `pin: rule ${r.rule} has no normalised path, segment ${goQuoteVerb(r.segment)} not pinned, no-op (written to ${r.dest})`
  return `pin: rule ${r.rule}, segment ${goQuoteVerb(r.segment)} already pinned, no-op (written to ${r.dest})`
}
