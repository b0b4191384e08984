import {goJson, type JsonObject, type JsonValue} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {tombstoneHash, type TombstoneEnvelope} from '../contracts/index.js'
import type {KeyRoster} from '../signing/index.js'
import {decodeStoreTombstone} from './artifacts.js'
import {ensureDir, readRegularFile, writeOnce} from './fs-io.js'
import {withStoreLock} from './lock.js'
import {objectPath, storeHashHex, storeLayout} from './paths.js'
import {ACTIVATION_PURPOSE, verifyDetached} from './signatures.js'

// Tombstones in the store (§5.8). Lookup fails closed: a tombstone file that exists but does
// not decode, validate or verify blocks the contract it names. Tombstone signatures are checked
// with the `history` policy: a redaction stays in force after its signer's key is rotated out.

export interface TombstoneHit {
  file: string
  envelope: TombstoneEnvelope
}

/** The verified tombstone for contract hash `hash`, or undefined when there is none. */
export function findTombstone(root: string, hash: string, roster: {body: KeyRoster}, nowNanos: bigint): TombstoneHit | undefined {
  const dir = storeLayout(root).tombstones
  for (const ext of ['.json', '.tombstone.yaml']) {
    const file = objectPath(dir, hash, ext)
    let raw: Buffer | undefined
    try {
      raw = readRegularFile(file, 'tombstone')
    } catch (e) {
      throw new PipelockError('STORE_TOMBSTONE_INVALID', `contract store: tombstone decode failed: ${(e as Error).message}`)
    }
    if (raw === undefined) continue
    const env = decodeStoreTombstone(raw, file)
    const prior = env.body.get('prior_contract_hash') as string
    if (prior !== hash) {
      throw new PipelockError(
        'STORE_TOMBSTONE_INVALID',
        `contract store: tombstone signature invalid: tombstone body prior_contract_hash ${JSON.stringify(prior)} does not match filename hash ${JSON.stringify(hash)}`,
      )
    }
    try {
      verifyDetached('tombstone', env.body, env.signature, roster, nowNanos, ACTIVATION_PURPOSE, 'history')
    } catch (e) {
      throw new PipelockError('STORE_TOMBSTONE_INVALID', (e as Error).message)
    }
    return {file, envelope: env}
  }
  return undefined
}

/** §5.4 step 9: refuse a selector whose contract is tombstoned. */
export function assertNotTombstoned(root: string, selectorId: string, hash: string, roster: {body: KeyRoster}, nowNanos: bigint): void {
  const hit = findTombstone(root, hash, roster, nowNanos)
  if (hit === undefined) return
  const b = hit.envelope.body
  throw new PipelockError(
    'STORE_TOMBSTONED',
    `contract store: prior contract is tombstoned and cannot be re-promoted: selector_id=${JSON.stringify(selectorId)} contract_hash=${hash} redacted_at=${JSON.stringify(b.get('redacted_at'))} authorization=${JSON.stringify(b.get('redaction_authorization_id'))} signer_key_id=${JSON.stringify(b.get('signer_key_id'))}`,
  )
}

export interface FileTombstoneOptions {
  /** When given, the signature is verified against it before filing (recommended). */
  roster?: {body: KeyRoster}
  nowNanos?: bigint
}

export interface FiledTombstone {
  file: string
  priorContractHash: string
  tombstoneHash: string
}

/**
 * `PutTombstone` (§5.8), accepting the JSON or the YAML form (forget writes YAML): strict decode,
 * `Validate()`, prior hash format, signature (when a roster is given), then write-once under the
 * store lock to `tombstones/sha256-<hex>.json` in the canonical store form (compact JSON + "\n").
 */
export function fileTombstone(storeDir: string, tombstoneBytes: Buffer | string, options: FileTombstoneOptions = {}): FiledTombstone {
  const text = tombstoneBytes.toString()
  const env = decodeStoreTombstone(text, /^[ \t\r\n]*\{/.test(text) ? 'tombstone.json' : 'tombstone.yaml')
  const prior = env.body.get('prior_contract_hash') as string
  try {
    storeHashHex(prior)
  } catch (e) {
    throw new PipelockError('STORE_TOMBSTONE_INVALID', `contract store: tombstone prior_contract_hash invalid: ${(e as PipelockError).message}`)
  }
  if (options.roster !== undefined) {
    try {
      verifyDetached('tombstone', env.body, env.signature, options.roster, options.nowNanos ?? 0n, ACTIVATION_PURPOSE, 'history')
    } catch (e) {
      throw new PipelockError('STORE_TOMBSTONE_INVALID', (e as Error).message)
    }
  }
  const layout = storeLayout(storeDir)
  const file = objectPath(layout.tombstones, prior, '.json')
  const tree: JsonObject = new Map<string, JsonValue>([
    ['body', env.body],
    ['signature', env.signature],
  ])
  ensureDir(layout.root)
  withStoreLock(layout.lock, () => {
    ensureDir(layout.tombstones)
    writeOnce(file, Buffer.from(goJson(tree) + '\n', 'utf8'))
  })
  return {file, priorContractHash: prior, tombstoneHash: tombstoneHash(env)}
}
