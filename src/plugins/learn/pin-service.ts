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
}

/** `learn pin` (§4.4): value-keyed pins on every path with a normalization block. */
export function runLearnPin(req: PinRequest): PinResult {
  const segment = goTrimSpace(req.segment)
  if (segment === '') throw new PipelockError('SEGMENT_INVALID', 'learn pin: learn: pin segment must be non-empty')
  const problem = segmentLiteralProblem(segment)
  if (problem !== undefined) throw new PipelockError('SEGMENT_INVALID', `learn pin: learn: invalid segment literal: ${problem}`)
  const r = editCandidateRule(req, 'learn pin', (rule) => pinRule(rule, segment))
  return {...r, segment}
}

export function pinMessage(r: PinResult): string {
  return r.changed > 0
    ? `pin: rule ${r.rule}, segment ${goQuoteVerb(r.segment)} pinned, written to ${r.dest}`
    : `pin: rule ${r.rule}, segment ${goQuoteVerb(r.segment)} already pinned, no-op (written to ${r.dest})`
}
