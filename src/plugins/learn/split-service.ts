import path from 'node:path'
import type {YAMLMap} from 'yaml'
import {PipelockError} from '../errors/index.js'
import {ed25519ArithmeticLoaded} from '../signing/index.js'
import {checkCandidateOut, decodeCandidate, readCandidateText} from './candidate-file.js'
import {deterministicKey} from './candidate-env.js'
import {resignContract} from './candidate-sign.js'
import {candidateTrust, verifyCandidate} from './candidate-verify.js'
import {keystoreSigner} from './ratify-service.js'
import {editStreamed} from './rule-edit-stream.js'
import {writeEdited, type CandidateEditRequest, type CandidateEditResult} from './rule-edit-steps.js'
import {collapsedSegmentList, findRule, openEditable, splitRule, validateRuleLiterals, type LiteralAsterisk} from './split-edit.js'

export type {CandidateEditRequest, CandidateEditResult} from './rule-edit-steps.js'

function prefixed(prefix: string, f: () => string): string {
  try {
    return f()
  } catch (e) {
    if (e instanceof PipelockError) throw new PipelockError(e.code, `${prefix}: ${e.message}`, e.location ? {location: e.location} : {})
    throw e
  }
}

/**
 * Once the curve arithmetic is loaded (signing `loadEd25519Arithmetic`: the commands do), a signed
 * envelope is read rule by rule (rule-edit-stream.ts), never held decoded nor as text; where that
 * read declines (a bare body, a file outside our emitter's YAML subset, a signature it cannot
 * prove, an edit it would refuse) the whole path below decides, with the same result and words.
 */
export function editCandidateRule(req: CandidateEditRequest, prefix: string, edit: (rule: YAMLMap) => number): CandidateEditResult {
  if (req.stream !== false && ed25519ArithmeticLoaded()) {
    const streamed = editStreamed(req, prefix, edit)
    if (streamed !== undefined) return streamed
  }
  req.trace?.('whole')
  return editWhole(req, prefix, edit)
}

/**
 * Shared flow: read (path rules) → open the node tree → (envelope: verify the signature, §10.8)
 * → validate literals → edit one rule → write. Bare-body files are written with comments kept
 * and no signature (as the reference); an edited envelope is re-signed with the compile key, so
 * ratify, shadow and the store keep accepting it. A no-op writes the input bytes unchanged.
 */
function editWhole(req: CandidateEditRequest, prefix: string, edit: (rule: YAMLMap) => number): CandidateEditResult {
  const candidate = path.normalize(req.candidate)
  const text = prefixed(prefix, () => readCandidateText(req.candidate))
  const dest = checkCandidateOut(req.out ?? candidate)
  const editable = openEditable(text, prefix)
  let signerId = ''
  if (editable.layout === 'envelope') {
    const env = decodeCandidate(text, candidate)
    verifyCandidate(env, candidateTrust(req), prefix)
    signerId = typeof env.body.get('signer_key_id') === 'string' ? (env.body.get('signer_key_id') as string) : ''
  }
  const rule = findRule(editable, req.rule, prefix)
  validateRuleLiterals(rule, prefix, prefix === 'learn split')
  const changed = edit(rule)
  let out = text
  let contractHash: string | undefined
  if (changed > 0) {
    const edited = editable.doc.toString({lineWidth: 0})
    if (editable.layout === 'bare') out = edited
    else {
      const env = decodeCandidate(edited, candidate)
      const signer = req.env.deterministic ? deterministicKey('compile') : keystoreSigner(req.keystore, req.compileKeyAgent ?? signerId)
      const signed = resignContract(env.body, signer, prefix)
      out = signed.yaml
      contractHash = signed.contractHash
    }
  }
  if (changed > 0 || dest !== candidate) writeEdited(dest, out, prefix)
  return {candidate, dest, rule: req.rule, layout: editable.layout, changed, ...(contractHash === undefined ? {} : {contractHash})}
}

export interface SplitRequest extends CandidateEditRequest {
  /** 0 = every collapsed segment. */
  index: number
}

export interface SplitResult extends CandidateEditResult {
  index: number
  /** Segments demoted with no literal to return to: their `*` now matches only a literal asterisk. */
  literalAsterisks: LiteralAsterisk[]
}

/** `learn split` (§4.3). */
export function runLearnSplit(req: SplitRequest): SplitResult {
  if (!Number.isInteger(req.index) || req.index < 0) throw new PipelockError('USAGE', `learn split: --index must be a non-negative integer, got ${req.index}`)
  const stars: LiteralAsterisk[] = []
  const r = editCandidateRule(req, 'learn split', (rule) => {
    // a streamed run that left the edit to the whole path may have called this already
    stars.length = 0
    const n = splitRule(rule, req.index, stars)
    if (req.index > 0 && n === 0) {
      // Say which indices the rule does collapse: the index counts path segments from 1 (/v1 is 1).
      const have = collapsedSegmentList(rule)
      const hint =
        have.length === 0
          ? `rule ${req.rule} has no collapsed segment left to split`
          : `rule ${req.rule} collapses segment ${have.join(', ')}; --index counts path segments from 1, or give 0 (the default) for every collapsed segment`
      throw new PipelockError('RULE_NOT_FOUND', `learn split: learn: collapsed segment not found: index=${req.index}`, {hint})
    }
    return n
  })
  return {...r, index: req.index, literalAsterisks: stars}
}

/** One warning line per segment a split left as a literal `*` (the path then matches no request with a real value there). */
export function splitWarnings(r: SplitResult): string[] {
  return r.literalAsterisks.map((s) => `WARNING: learn split: rule ${r.rule} path ${s.path}: segment ${s.index} had no single value to return to${s.distinctValues === undefined ? '' : ` (it stood for ${s.distinctValues} distinct values)`}; its "*" is now a literal asterisk, so the path matches no request with a real value there`)
}

export function splitMessage(r: SplitResult): string {
  return r.changed > 0
    ? `split: rule ${r.rule}, ${r.changed} segments demoted, written to ${r.dest}`
    : `split: rule ${r.rule}, no collapsed segments to demote, written to ${r.dest}`
}
