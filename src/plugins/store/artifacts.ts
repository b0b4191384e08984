import path from 'node:path'
import {parseJson, parseStrictYaml, StrictYamlError, type JsonObject, type JsonValue} from '../canonical/index.js'
import {
  activeManifestProblem,
  contractHash,
  contractProblem,
  CONTRACT_ENVELOPE,
  projectActiveManifest,
  projectTombstone,
  tombstoneProblem,
  type ActiveManifestEnvelope,
  type TombstoneEnvelope,
} from '../contracts/index.js'
import {projectStruct} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'

// Strict decoding of the three signed artifacts the store reads (§1.3, §1.4), with the store's
// error texts (§5.4). Hashes are always recomputed from the typed projection, never from bytes.

const unknownFields = (_label: string, names: string[], p: string): string =>
  `unknown field in signed-artifact transport payload: ${p}.${names[0] ?? ''}`

function parseTree(text: string, yaml: boolean): JsonValue {
  if (/^[ \t\r\n]*$/.test(text)) throw new Error('empty or null payload')
  let v: JsonValue
  try {
    v = yaml ? parseStrictYaml(text) : parseJson(text)
  } catch (e) {
    const msg = (e as Error).message
    if (e instanceof StrictYamlError) throw new Error(e.line === undefined ? msg : `line ${e.line}: ${msg}`)
    throw new Error(msg.startsWith('trailing tokens') ? 'trailing tokens after JSON value' : msg)
  }
  if (v === null) throw new Error('empty or null payload')
  return v
}

/**
 * §5.4 steps 1–3: strict JSON decode of an active-manifest envelope, then `Validate()`. `label`
 * names the file in the errors: active.json's content is the "active manifest"; an accepted
 * manifest under manifests/ is named by its path, so a damaged one is not mistaken for active.json.
 */
export function decodeActiveManifest(raw: Buffer | string, label = 'active manifest'): ActiveManifestEnvelope {
  let env: ActiveManifestEnvelope
  try {
    env = projectActiveManifest(parseTree(raw.toString(), false))
  } catch (e) {
    // ShapeError (unknown field, wrong type) and JSON syntax errors alike: one decode failure.
    throw new PipelockError('STORE_INVALID', `contract store: decode failed: ${label}: ${(e as Error).message}`)
  }
  const problem = activeManifestProblem(env.body)
  if (problem !== undefined) throw new PipelockError('STORE_INVALID', `contract store: structural validation failed: ${label}: ${problem}`)
  return env
}

export interface DecodedContract {
  body: JsonObject
  signature: string
  computedHash: string
}

/** Strict YAML (or JSON) decode of a contract envelope; hash recomputed; `Validate()` run. */
export function decodeStoreContract(raw: Buffer | string, label: string): DecodedContract {
  let env: JsonObject
  try {
    const text = raw.toString()
    env = projectStruct(CONTRACT_ENVELOPE, parseTree(text, !/^[ \t\r\n]*\{/.test(text)), CONTRACT_ENVELOPE.label, {unknownFields})
  } catch (e) {
    throw new PipelockError('STORE_HISTORY_INVALID', `contract store: contract history invalid: decode ${label}: ${(e as Error).message}`)
  }
  const body = env.get('body') as JsonObject
  const problem = contractProblem(body)
  if (problem !== undefined) throw new PipelockError('STORE_INVALID', `contract store: structural validation failed: ${label}: ${problem}`)
  return {body, signature: env.get('signature') as string, computedHash: contractHash(body)}
}

/** Strict decode of a tombstone (JSON by `.json`, else strict YAML) and `Validate()` (§5.8). */
export function decodeStoreTombstone(raw: Buffer | string, file: string): TombstoneEnvelope {
  let env: TombstoneEnvelope
  try {
    env = projectTombstone(parseTree(raw.toString(), path.extname(file) !== '.json'))
  } catch (e) {
    throw new PipelockError('STORE_TOMBSTONE_INVALID', `contract store: tombstone decode failed: ${file}: ${(e as Error).message}`)
  }
  const problem = tombstoneProblem(env.body)
  if (problem !== undefined) throw new PipelockError('STORE_TOMBSTONE_INVALID', `contract store: structural validation failed: tombstone ${file}: ${problem}`)
  return env
}
