import path from 'node:path'
import {isMap, parseDocument, type YAMLMap} from 'yaml'
import {emitSignedYaml, parseStrictYaml, type JsonObject} from '../canonical/index.js'
import {projectContractRule} from '../contracts/index.js'
import {checkCandidateOut} from './candidate-file.js'
import {deterministicKey} from './candidate-env.js'
import {bytesWriter, readVerified, rulesWriter, signRules, type RuleEdit} from './candidate-stream.js'
import {keystoreSigner} from './ratify-steps.js'
import {ruleNotFound, validateRuleLiterals} from './split-edit.js'
import {writeEdited, type CandidateEditRequest, type CandidateEditResult} from './rule-edit-steps.js'
import {candidateTrust} from './candidate-verify.js'

// `learn split` and `learn pin` on a signed envelope, reading the candidate rule by rule in the
// passes of candidate-stream.ts:
//
//   A. the candidate verified as it is read, keeping the first rule with the rule id (the one the
//      whole path edits) and its index;
//   (that rule edited on its own YAML node tree, as split-edit.ts edits it in the whole file;)
//   B. the rules, that one edited, signed into the body;
//   C. the same rules written as YAML lines into the staged file; or, when the edit changed
//      nothing and the destination is another file, the candidate's bytes as they are.
//
// Wherever this path cannot prove the outcome the whole path would reach (a bare body, the read
// declines, the signature is not proven, the edited rule or body would not validate or emit) it
// returns undefined before anything is written, and the whole path decides, in its own words.
// `edit` may then run again there: it must not keep what an earlier call left.

/** `editCandidateRule` streamed; undefined where the whole path must decide (nothing written). */
export function editStreamed(req: CandidateEditRequest, prefix: string, edit: (rule: YAMLMap) => number): CandidateEditResult | undefined {
  const candidate = path.normalize(req.candidate)
  const trust = candidateTrust(req)
  let found: {rule: JsonObject; index: number} | undefined
  let plain = true
  let read
  try {
    read = readVerified(req.candidate, trust, (rule, index) => {
      const id = rule.get('rule_id')
      if (typeof id !== 'string') plain = false
      else if (found === undefined && id === req.rule) found = {rule, index}
    })
  } catch {
    // a candidate path refused: the whole path words it (with the command's prefix)
    return undefined
  }
  if (read === undefined || !plain) return undefined
  req.trace?.('rules-read')
  const dest = checkCandidateOut(req.out ?? candidate)
  if (found === undefined) throw ruleNotFound(req.rule, prefix)
  const target = found
  let text: string
  try {
    text = emitSignedYaml(target.rule)
  } catch {
    // a string the YAML cannot carry: the whole path edits the file's own nodes
    return undefined
  }
  const doc = parseDocument(text, {uniqueKeys: true})
  if (doc.errors.length > 0 || !isMap(doc.contents)) return undefined
  const node = doc.contents
  validateRuleLiterals(node, prefix, prefix === 'learn split')
  const changed = edit(node)
  const result: CandidateEditResult = {candidate, dest, rule: req.rule, layout: 'envelope', changed}
  if (changed === 0) {
    // the whole path writes the input bytes unchanged, and only elsewhere
    if (dest !== candidate) writeEdited(dest, bytesWriter(req.candidate, read, prefix), prefix)
    req.trace?.('yaml-written')
    return result
  }
  let edited: JsonObject
  try {
    edited = projectContractRule(parseStrictYaml(doc.toString({lineWidth: 0})), target.index)
  } catch {
    return undefined
  }
  const signerId = typeof read.body.get('signer_key_id') === 'string' ? (read.body.get('signer_key_id') as string) : ''
  const signer = req.env.deterministic ? deterministicKey('compile') : keystoreSigner(req.keystore, req.compileKeyAgent ?? signerId)
  const ruleEdit: RuleEdit = (rule, i) => (i === target.index ? edited : rule)
  const signed = signRules(req.candidate, read, prefix, signer, ruleEdit, () => undefined)
  if (signed === undefined) return undefined
  req.trace?.('body-signed')
  writeEdited(dest, rulesWriter(req.candidate, read, prefix, signed, ruleEdit), prefix)
  req.trace?.('yaml-written')
  return {...result, contractHash: signed.hash}
}
