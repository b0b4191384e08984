import {canonicalBytes, defineStruct, JsonNumber, projectStruct, type JsonObject, type JsonValue} from '../canonical/index.js'
import {sha256Hex} from '../signing/index.js'

// Verification metadata of a public proof bundle (learn-lifecycle §2.4) [library in the reference].

export const BUNDLE_KIND = 'public_proof_bundle'

export const VERIFICATION_METADATA_BODY = defineStruct('VerificationMetadata', [
  {name: 'schema_version', kind: 'int'},
  {name: 'bundle_kind', kind: 'string'},
  {name: 'contract_hash', kind: 'string'},
  {name: 'tombstone_index_root', kind: 'string'},
  {name: 'tombstone_hashes', kind: 'strings'},
  {name: 'bundle_signed_at', kind: 'string'},
  {name: 'signer_key_id', kind: 'string'},
  {name: 'key_purpose', kind: 'string'},
  {name: 'data_class_root', kind: 'string'},
])

export const VERIFICATION_METADATA_ENVELOPE = defineStruct('VerificationMetadataEnvelope', [
  {name: 'body', kind: 'struct', schema: VERIFICATION_METADATA_BODY},
  {name: 'signature', kind: 'string'},
])

const unknownFields = (_label: string, names: string[], p: string): string =>
  `unknown field in signed-artifact transport payload: ${p}.${names[0] ?? ''}`

export function projectVerificationMetadata(tree: JsonValue): {body: JsonObject; signature: string} {
  const env = projectStruct(VERIFICATION_METADATA_ENVELOPE, tree, 'verification metadata', {unknownFields})
  return {body: env.get('body') as JsonObject, signature: env.get('signature') as string}
}

/** sha256 over canonical(sorted unique hashes); duplicates are an error; `[]` when empty (§2.4). */
export function tombstoneIndexRoot(hashes: readonly string[]): string {
  const sorted = [...hashes].sort()
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new Error(`verification metadata: duplicate tombstone hash ${sorted[i] as string}`)
  }
  return 'sha256:' + sha256Hex(canonicalBytes(sorted))
}

/** Structural validation; undefined when valid. */
export function verificationMetadataProblem(body: JsonObject): string | undefined {
  const sv = body.get('schema_version')
  if (!(sv instanceof JsonNumber) || sv.text !== '1') return 'verification metadata: unsupported schema_version; expected 1'
  if (body.get('bundle_kind') !== BUNDLE_KIND) return `verification metadata: unknown bundle_kind: ${JSON.stringify(body.get('bundle_kind'))}`
  if (body.get('contract_hash') === '') return 'verification metadata: contract_hash is required'
  let root: string
  try {
    root = tombstoneIndexRoot((body.get('tombstone_hashes') as string[] | null) ?? [])
  } catch (e) {
    return (e as Error).message
  }
  if (body.get('tombstone_index_root') !== root) {
    return `verification metadata: tombstone_index_root does not match computed value: claimed=${String(body.get('tombstone_index_root'))} computed=${root}`
  }
  if (body.get('data_class_root') === 'regulated') return 'verification metadata: data_class_root regulated is forbidden in signed artifacts'
  return undefined
}
