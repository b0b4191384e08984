import path from 'node:path'
import {canonicalize, goQuote, parseStrictYamlStreamed, projectStruct, type JsonObject} from '../canonical/index.js'
import {contractProblem, contractRuleProblem, leafPaths, unknownFields} from './contract.js'
import {CONTRACT_ENVELOPE, CONTRACT_RULE} from './schema.js'

// A contract envelope read one rule at a time (bench: shadow; `learn shadow` under 256 MB). The
// decoded tree of an 18,643-rule contract is ≈ 90 MB of `Map`s, twice that while the typed
// projection copies it; a caller that keeps less per rule than the rule (the evaluator's compact
// index) need never hold it. Each rule is read, projected, checked and canonicalised on its own,
// handed to the caller, and dropped; the canonical bytes the signature covers are assembled from
// the rules' pieces.
//
// An accelerator only: it answers for a well-formed, valid contract in our emitter's YAML
// subset, and returns undefined for anything else (JSON, YAML outside the subset, a shape or
// validation error), whereupon the caller loads the file the ordinary way (`decodeEnvelope`,
// `contractProblem`), which decides and words every error. On success the result is the one the
// ordinary way gives: the same projected rules in the same order, the same body, the same bytes
// (canonicalisation is compositional: an array's canonical form is its items' joined by commas).

/** What `streamContractEnvelope` read. */
export interface StreamedEnvelope {
  /** The projected body with `rules` empty (every rule went to `onRule`). */
  readonly body: JsonObject
  readonly signature: string
  /** canonical(body) with its rules: the bytes the signature covers. */
  readonly canonical: Buffer
  readonly ruleCount: number
}

/** Stands in for the rules array while the body is canonicalised; checked to occur once. */
const RULES_PLACEHOLDER = 'pipelock-streamed-rules-placeholder'

/**
 * Reads a contract envelope (YAML text of `file`), handing each projected, valid rule to
 * `onRule` in order. Undefined when the ordinary load must decide (see the file comment); rules
 * already handed out are then void.
 */
export function streamContractEnvelope(text: string, file: string, onRule: (rule: JsonObject, index: number) => void): StreamedEnvelope | undefined {
  if (path.extname(file) === '.json') return undefined
  // Strings, not Buffers: thousands of small Buffers come from malloc'd pools that the C
  // allocator keeps (RSS) after they are freed; the bytes are written once, into one buffer.
  const pieces: string[] = []
  const leaves = new Set<string>()
  const tree = parseStrictYamlStreamed(text, {
    path: ['body', 'rules'],
    onItem: (item, i, body) => {
      // A throw ends the parse with undefined: a shape error, an invalid rule, a non-canonical value.
      const rule = projectStruct(CONTRACT_RULE, item, `${CONTRACT_ENVELOPE.label}.body.rules[${i}]`, {unknownFields})
      if (contractRuleProblem(rule, i) !== undefined) throw new Error('invalid rule')
      // The leaves are checked below only if the body's data_class_root is empty; read before the
      // rules (our emitter sorts the keys) as a non-empty string, it stays that (a duplicate key
      // fails the parse, and projection keeps a string as it is), so they are not needed.
      const root = body.get('data_class_root')
      if (typeof root !== 'string' || root === '') leafPaths(rule, 'rules[]', leaves)
      pieces.push(canonicalize(rule))
      onRule(rule, i)
    },
  })
  if (tree === undefined) return undefined
  let body: JsonObject
  let signature: string
  try {
    const env = projectStruct(CONTRACT_ENVELOPE, tree, CONTRACT_ENVELOPE.label, {unknownFields})
    body = env.get('body') as JsonObject
    signature = env.get('signature') as string
  } catch {
    return undefined
  }
  // With its rules empty the body's own checks are the ordinary ones; the rules were checked one
  // by one, and their leaves must be covered as the whole-body walk would require.
  if (contractProblem(body) !== undefined) return undefined
  const fdc = body.get('field_data_classes')
  if (body.get('data_class_root') === '' && [...leaves].some((p) => !(fdc instanceof Map && fdc.has(p)))) return undefined
  let canonical: Buffer
  try {
    canonical = pieces.length === 0 ? Buffer.from(canonicalize(body), 'utf8') : withRules(body, pieces)
  } catch {
    return undefined
  }
  return {body, signature, canonical, ruleCount: pieces.length}
}

/** canonical(body) with `pieces` (each rule's canonical text) as its rules, as UTF-8 bytes. */
function withRules(body: JsonObject, pieces: readonly string[]): Buffer {
  const rules = body.get('rules')
  if (!Array.isArray(rules) || rules.length !== 0) throw new Error('streamed rules missing')
  const text = canonicalize(new Map(body).set('rules', RULES_PLACEHOLDER))
  const mark = goQuote(RULES_PLACEHOLDER)
  const at = text.indexOf(mark)
  if (at < 0 || text.indexOf(mark, at + 1) >= 0) throw new Error('placeholder not unique')
  const parts = [text.slice(0, at) + '[', ...pieces.flatMap((p, i) => (i === 0 ? [p] : [',', p])), ']' + text.slice(at + mark.length)]
  let size = 0
  for (const p of parts) size += Buffer.byteLength(p, 'utf8')
  const out = Buffer.allocUnsafeSlow(size)
  let off = 0
  for (const p of parts) off += out.write(p, off, 'utf8')
  return out
}
