import {canonicalBytes, defineStruct, JsonNumber, projectStruct, type JsonObject, type JsonValue} from '../canonical/index.js'
import {formatSignature, sha256Hex, signBytes, type Ed25519KeyPair} from '../signing/index.js'

// The tombstone (learn-lifecycle §2.3): a signed statement that a contract hash was redacted and
// must never be promoted again. Every body field is always emitted.

export const TOMBSTONE_KEY_PURPOSE = 'contract-activation-signing'

export const TOMBSTONE_BODY = defineStruct('Tombstone', [
  {name: 'schema_version', kind: 'int'},
  {name: 'tombstone', kind: 'bool'},
  {name: 'prior_contract_hash', kind: 'string'},
  {name: 'redacted_at', kind: 'string'},
  {name: 'redaction_authorization_id', kind: 'string'},
  {name: 'signer_key_id', kind: 'string'},
  {name: 'key_purpose', kind: 'string'},
  {name: 'data_class_root', kind: 'string'},
])

export const TOMBSTONE_ENVELOPE = defineStruct('TombstoneEnvelope', [
  {name: 'body', kind: 'struct', schema: TOMBSTONE_BODY},
  {name: 'signature', kind: 'string'},
])

const unknownFields = (_label: string, names: string[], p: string): string =>
  `unknown field in signed-artifact transport payload: ${p}.${names[0] ?? ''}`

export interface TombstoneEnvelope {
  body: JsonObject
  signature: string
  tree: JsonObject
}

/** Strict typed projection of a parsed tombstone tree (throws ShapeError). */
export function projectTombstone(tree: JsonValue): TombstoneEnvelope {
  const env = projectStruct(TOMBSTONE_ENVELOPE, tree, 'tombstone', {unknownFields})
  return {body: env.get('body') as JsonObject, signature: env.get('signature') as string, tree: env}
}

/** §2.3 `Validate()`; undefined when valid. data_class_root defaults to internal; regulated is forbidden. */
export function tombstoneProblem(body: JsonObject): string | undefined {
  const sv = body.get('schema_version')
  if (!(sv instanceof JsonNumber) || sv.text !== '1') return 'unsupported tombstone schema_version; expected 1'
  if (body.get('tombstone') !== true) return 'tombstone flag must be true'
  if (body.get('key_purpose') !== TOMBSTONE_KEY_PURPOSE) return 'tombstone key_purpose must be "contract-activation-signing"'
  const dc = body.get('data_class_root') as string
  if (dc !== '' && !['public', 'internal', 'sensitive', 'regulated'].includes(dc)) return `tombstone: invalid data_class_root: ${JSON.stringify(dc)}`
  if (dc === 'regulated') return 'tombstone: data_class_root regulated is forbidden in signed artifacts'
  return undefined
}

/** Tombstone hash: sha256 over canonical(whole envelope, signature included) (§2.3). */
export function tombstoneHash(envelope: {body: JsonObject; signature: string}): string {
  const m: JsonObject = new Map<string, JsonValue>([
    ['body', envelope.body],
    ['signature', envelope.signature],
  ])
  return 'sha256:' + sha256Hex(canonicalBytes(m))
}

export interface TombstoneFields {
  priorContractHash: string
  /** RFC 3339 UTC, carried verbatim. */
  redactedAt: string
  authorizationId: string
  signerKeyId: string
  dataClassRoot?: string
}

/** Builds a tombstone body in struct order. */
export function tombstoneBody(f: TombstoneFields): JsonObject {
  return new Map<string, JsonValue>([
    ['schema_version', new JsonNumber('1')],
    ['tombstone', true],
    ['prior_contract_hash', f.priorContractHash],
    ['redacted_at', f.redactedAt],
    ['redaction_authorization_id', f.authorizationId],
    ['signer_key_id', f.signerKeyId],
    ['key_purpose', TOMBSTONE_KEY_PURPOSE],
    ['data_class_root', f.dataClassRoot ?? 'internal'],
  ])
}

/** Validates and signs a tombstone body with an activation key. */
export function signTombstone(body: JsonObject, key: Ed25519KeyPair): TombstoneEnvelope {
  const problem = tombstoneProblem(body)
  if (problem !== undefined) throw new Error(problem)
  const signature = formatSignature(signBytes(key, canonicalBytes(body)))
  return {body, signature, tree: new Map<string, JsonValue>([['body', body], ['signature', signature]])}
}
