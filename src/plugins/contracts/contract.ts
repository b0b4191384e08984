import path from 'node:path'
import {
  canonicalBytes,
  projectStruct,
  ShapeError,
  StrictYamlError,
  parseJson,
  parseStrictYaml,
  type JsonObject,
  type JsonValue,
  type StructSchema,
} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {formatSignature, sha256Hex, signBytes, verifyBytes, type Ed25519KeyPair} from '../signing/index.js'
import {
  CAPTURE_GRADES,
  CONTRACT_BODY,
  CONTRACT_ENVELOPE,
  CONTRACT_KIND,
  CONTRACT_RULE,
  DATA_CLASS_VALUES,
  ENFORCEABLE_RULE_KINDS,
  LIFECYCLE_STATES,
} from './schema.js'

export const UNKNOWN_FIELD_MESSAGE = 'unknown field in signed-artifact transport payload'
/** The unknown-field message of every contract projection. */
export const unknownFields = (_label: string, names: string[], p: string): string => `${UNKNOWN_FIELD_MESSAGE}: ${p}.${names[0] ?? ''}`

/** A loaded envelope: the typed projection of `body` and the detached signature. */
export interface SignedEnvelope {
  body: JsonObject
  signature: string
}

/** `sha256:` + hex(SHA-256(canonical(body with contract_hash = "")))  (§10.2). */
export function contractHash(body: JsonObject): string {
  const copy: JsonObject = new Map(body)
  copy.set('contract_hash', '')
  return 'sha256:' + sha256Hex(canonicalBytes(copy))
}

/** Ed25519 over canonical(body) with contract_hash filled in (§10.3). */
export function signCanonical(body: JsonObject, key: Ed25519KeyPair): string {
  return formatSignature(signBytes(key, canonicalBytes(body)))
}

/** Verifies an `ed25519:<128 hex>` signature over canonical(body); false on any malformation. */
export function verifyCanonicalSignature(body: JsonObject, signature: string, publicKey: Uint8Array): boolean {
  return verifySignatureOver(canonicalBytes(body), signature, publicKey)
}

/** Verifies an `ed25519:<128 hex>` signature over canonical bytes already built (contract-stream.ts). */
export function verifySignatureOver(canonical: Uint8Array, signature: string, publicKey: Uint8Array): boolean {
  const m = /^ed25519:([0-9a-fA-F]{128})$/.exec(signature)
  if (m === null) return false
  return verifyBytes(publicKey, canonical, Buffer.from(m[1] as string, 'hex'))
}

/**
 * Strict transport decode (learn-compile §14): JSON (by `.json` extension or leading `{`) or
 * strict YAML, then typed projection refusing unknown fields at every typed depth. Errors are
 * CONTRACT_INVALID PipelockErrors naming the file (and line for YAML gate errors).
 */
export function decodeEnvelope(text: string, file: string, schema: StructSchema = CONTRACT_ENVELOPE): SignedEnvelope {
  let tree: JsonValue
  try {
    const isJson = path.extname(file) === '.json'
    if (/^[ \t\r\n]*$/.test(text)) throw new Error('empty or null payload')
    tree = isJson ? parseJson(text) : parseStrictYaml(text)
    if (tree === null) throw new Error('empty or null payload')
  } catch (e) {
    const line = e instanceof StrictYamlError ? e.line : (e as {line?: number}).line
    throw new PipelockError('CONTRACT_INVALID', (e as Error).message, {location: line === undefined ? {file} : {file, line}})
  }
  let projected: JsonObject
  try {
    projected = projectStruct(schema, tree, schema.label, {unknownFields})
  } catch (e) {
    if (e instanceof ShapeError) throw new PipelockError('CONTRACT_INVALID', e.message, {location: {file}})
    throw e
  }
  return {body: projected.get('body') as JsonObject, signature: projected.get('signature') as string}
}

/** Loads a contract envelope (strict YAML or JSON) and validates its body (§2.1 Validate). */
export function loadContract(text: string, file: string): SignedEnvelope {
  const env = decodeEnvelope(text, file, CONTRACT_ENVELOPE)
  const problem = contractProblem(env.body)
  if (problem !== undefined) throw new PipelockError('CONTRACT_INVALID', problem, {location: {file}})
  return env
}

/** Projects a body built in memory (catches shape mistakes before signing). */
export function projectContractBody(body: JsonValue): JsonObject {
  return projectStruct(CONTRACT_BODY, body, CONTRACT_BODY.label, {unknownFields})
}

/** Projects `rules[index]` of a body built in memory: what `projectContractBody` makes of it. */
export function projectContractRule(rule: JsonValue, index: number): JsonObject {
  return projectStruct(CONTRACT_RULE, rule, `${CONTRACT_BODY.label}.rules[${index}]`, {unknownFields})
}

function str(m: JsonObject, k: string): string {
  const v = m.get(k)
  return typeof v === 'string' ? v : ''
}

/** learn-lifecycle §2.1 `Validate()`; undefined when valid, else the reference's message. */
export function contractProblem(body: JsonObject): string | undefined {
  const sv = body.get('schema_version')
  const svText = sv !== null && typeof sv === 'object' && 'text' in sv ? (sv as {text: string}).text : String(sv)
  if (svText !== '1') return `contract: unsupported schema_version: got ${svText}, want 1`
  const kind = str(body, 'contract_kind')
  if (kind !== CONTRACT_KIND) return `contract: invalid contract_kind: got ${JSON.stringify(kind)}, want ${JSON.stringify(CONTRACT_KIND)}`
  const rules = (body.get('rules') as JsonObject[] | null) ?? []
  for (let i = 0; i < rules.length; i++) {
    const problem = contractRuleProblem(rules[i] as JsonObject, i)
    if (problem !== undefined) return problem
  }
  const classes: readonly string[] = DATA_CLASS_VALUES
  const fdc = (body.get('field_data_classes') as JsonObject | null) ?? new Map()
  for (const [k, v] of fdc) {
    if (typeof v !== 'string' || !classes.includes(v) || v === 'regulated') return `contract: invalid data class for ${k}: ${JSON.stringify(v)}`
  }
  const root = str(body, 'data_class_root')
  if (root !== '' && (!classes.includes(root) || root === 'regulated')) return `contract: invalid data_class_root: ${JSON.stringify(root)}`
  if (root === '') {
    const missing = uncoveredLeaf(body, '', fdc)
    if (missing !== undefined) return `contract: data class coverage: no data class for ${missing}`
  }
  return undefined
}

/** The per-rule part of `contractProblem` for `rules[i]`. */
export function contractRuleProblem(r: JsonObject, i: number): string | undefined {
  const grades: readonly string[] = CAPTURE_GRADES
  const state = str(r, 'lifecycle_state')
  if (!(LIFECYCLE_STATES as readonly string[]).includes(state)) return `contract: unsupported lifecycle_state: rules[${i}] lifecycle_state ${JSON.stringify(state)}`
  const rk = str(r, 'rule_kind')
  if (state === 'enforce' && !(ENFORCEABLE_RULE_KINDS as readonly string[]).includes(rk)) {
    return `contract: rule_kind not enforceable in this schema version: rules[${i}] rule_kind ${JSON.stringify(rk)}`
  }
  if (rk === '') return `contract: invalid capture grade: rules[${i}] rule_kind is empty`
  let req = str(r, 'required_capture_grade')
  let obs = str(r, 'observed_capture_grade')
  if (state === 'capture_only' && req === '' && obs === '') [req, obs] = ['full', 'full']
  if (!grades.includes(req) || !grades.includes(obs)) return `contract: invalid capture grade: rules[${i}] required ${JSON.stringify(req)} observed ${JSON.stringify(obs)}`
  if (state === 'enforce' && grades.indexOf(obs) < grades.indexOf(req)) {
    return `contract: invalid capture grade: rules[${i}] observed ${obs} below required ${req}`
  }
  return undefined
}

/**
 * Every leaf path `contractProblem`'s coverage walk would visit under `prefix` (a rule's are
 * under `rules[]`), added to `into`: the walk finds an uncovered one exactly when one of these
 * is missing from `field_data_classes`.
 */
export function leafPaths(v: JsonValue, prefix: string, into: Set<string>): void {
  if (v instanceof Map) for (const [k, x] of v) leafPaths(x, `${prefix}.${k}`, into)
  else if (Array.isArray(v)) for (const x of v) leafPaths(x, `${prefix}[]`, into)
  else into.add(prefix)
}

function uncoveredLeaf(v: JsonValue, p: string, fdc: JsonObject): string | undefined {
  if (v instanceof Map) {
    for (const [k, x] of v) {
      if (p === '' && (k === 'data_class_root' || k === 'field_data_classes' || k === 'signature')) continue
      const r = uncoveredLeaf(x, p === '' ? k : `${p}.${k}`, fdc)
      if (r !== undefined) return r
    }
    return undefined
  }
  if (Array.isArray(v)) {
    for (const x of v) {
      const r = uncoveredLeaf(x, `${p}[]`, fdc)
      if (r !== undefined) return r
    }
    return undefined
  }
  return fdc.has(p) ? undefined : p
}
