import {canonicalBytes, type Clock, type JsonObject} from '../canonical/index.js'
import {
  activeManifestHash,
  manifestEnvironment,
  manifestGeneration,
  manifestSelectors,
  type ActiveManifestEnvelope,
  type ManifestEnvironment,
} from '../contracts/index.js'
import {PipelockError} from '../errors/index.js'
import type {KeyRoster} from '../signing/index.js'
import {decodeActiveManifest, decodeStoreContract, type DecodedContract} from './artifacts.js'
import {readRegularFile, STORE_CONTRACT_MAX_BYTES} from './fs-io.js'
import {objectPath, storeHashHex, storeLayout} from './paths.js'
import {COMPILE_PURPOSE, verifyDetached, verifyManifestSignatures, type SignaturePolicy} from './signatures.js'
import {assertNotTombstoned} from './tombstones.js'

// `ValidateEnvelope` (learn-lifecycle §5.4): the one acceptance gate. First failure wins, in the
// reference's order; every message starts with `contract store:`.

export interface StoreOptions {
  roster: {body: KeyRoster}
  clock: Clock
  /** Expected environment tuple; undefined = not checked (the CLI sets it from the baseline or flags). */
  environment?: ManifestEnvironment
  /** Distinct activation principals required (≤ 0 → 1). */
  minimumSignatures?: number
  /** Contracts decoded earlier in the same operation (`withDecodeCache`). */
  decoded?: DecodeCache
}

/**
 * Contracts already decoded, by contract hash, with the bytes they were decoded from. One store
 * operation reads the same contract several times: a reload validates the active manifest and,
 * for the anti-rollback floor, every accepted manifest and then the latest again, each decoding
 * its contracts (at start-up with a 12,453-rule, 16 MB contract, three decodes took 8.1 of the
 * 10.8 s before the proxy listened). Decoding depends on the bytes alone, so bytes equal to those
 * of an earlier decode reuse its result; the hash and signature checks still run every time,
 * under each caller's policy and clock.
 */
export type DecodeCache = Map<string, {readonly raw: Buffer; readonly contract: DecodedContract; signed?: Buffer}>

/** `opts` with a decode cache for one operation (the caller's own, when it has one). */
export function withDecodeCache<T extends StoreOptions>(opts: T): T {
  return opts.decoded === undefined ? {...opts, decoded: new Map()} : opts
}

export interface ValidateOptions extends StoreOptions {
  previousHash?: string
  previousGeneration?: bigint
  checkTombstones: boolean
  /** Policy for the manifest's own signatures. */
  policy: SignaturePolicy
  /** Policy for the contracts' signatures (default: `policy`). */
  contractPolicy?: SignaturePolicy
  /** Contracts not yet in history/ (promote stages them on acceptance), by contract hash. */
  staged?: ReadonlyMap<string, Buffer>
}

export interface ValidatedManifest {
  envelope: ActiveManifestEnvelope
  hash: string
  generation: bigint
  contracts: Map<string, DecodedContract>
  signerKeyIds: string[]
}

export function envText(e: ManifestEnvironment): string {
  return `{id:${JSON.stringify(e.id)} tenant:${JSON.stringify(e.tenant)} deployment_id:${JSON.stringify(e.deploymentId)}}`
}

function envIsZero(e: ManifestEnvironment): boolean {
  return e.id === '' && e.tenant === '' && e.deploymentId === ''
}

/** Reads and verifies the contract a selector points to (§5.4 step 8). */
export function loadSelectorContract(
  root: string,
  selector: JsonObject,
  opts: Pick<ValidateOptions, 'roster' | 'clock' | 'policy' | 'contractPolicy' | 'staged' | 'decoded'>,
): DecodedContract {
  const hash = selector.get('contract_hash') as string
  const sid = selector.get('selector_id') as string
  const file = objectPath(storeLayout(root).history, hash, '.yaml')
  let raw = opts.staged?.get(hash)
  // A staged contract obeys the cap its file will be read back under (promote checks it first).
  if (raw !== undefined && raw.length > STORE_CONTRACT_MAX_BYTES) {
    throw new PipelockError('STORE_HISTORY_INVALID', `contract store: contract history invalid: ${hash} is ${raw.length} bytes, over the ${STORE_CONTRACT_MAX_BYTES}-byte cap of a stored contract`)
  }
  if (raw === undefined) {
    try {
      raw = readRegularFile(file, 'contract', STORE_CONTRACT_MAX_BYTES)
    } catch (e) {
      throw new PipelockError('STORE_HISTORY_INVALID', `contract store: contract history invalid: read ${hash}: ${(e as Error).message}`)
    }
    if (raw === undefined) {
      throw new PipelockError('STORE_HISTORY_INVALID', `contract store: contract history invalid: read ${hash}: open ${file}: no such file or directory`)
    }
  }
  const earlier = opts.decoded?.get(hash)
  const entry = earlier !== undefined && earlier.raw.equals(raw) ? earlier : {raw, contract: decodeStoreContract(raw, hash)}
  opts.decoded?.set(hash, entry)
  const c = entry.contract
  const claimed = c.body.get('contract_hash') as string
  if (claimed !== hash || c.computedHash !== hash) {
    throw new PipelockError(
      'STORE_HISTORY_INVALID',
      `contract store: contract history invalid: selector ${JSON.stringify(sid)} points to ${JSON.stringify(hash)}, body has ${JSON.stringify(claimed)} computed ${JSON.stringify(c.computedHash)}`,
    )
  }
  // the signed bytes too are made once per decode (a 16 MB contract's: ≈ 0.5 s each time)
  verifyDetached('contract', c.body, c.signature, opts.roster, opts.clock.nowNanos(), COMPILE_PURPOSE, opts.contractPolicy ?? opts.policy, () => (entry.signed ??= canonicalBytes(c.body)))
  return c
}

/** §5.4 on an already decoded envelope (steps 3–9). */
export function validateDecoded(root: string, env: ActiveManifestEnvelope, opts: ValidateOptions): ValidatedManifest {
  const hash = activeManifestHash(env.body)
  const generation = manifestGeneration(env.body)
  // 4. environment
  if (opts.environment !== undefined && !envIsZero(opts.environment)) {
    const got = manifestEnvironment(env.body)
    const want = opts.environment
    if (got.id !== want.id || got.tenant !== want.tenant || got.deploymentId !== want.deploymentId) {
      throw new PipelockError('STORE_ENVIRONMENT_MISMATCH', `contract store: manifest environment mismatch: got ${envText(got)} want ${envText(want)}`)
    }
  }
  // 5. generation
  if (opts.previousGeneration !== undefined && generation <= opts.previousGeneration) {
    throw new PipelockError('STORE_CAS_MISMATCH', `contract store: manifest generation is not monotonic: got ${generation}, previous ${opts.previousGeneration}`)
  }
  // 6. CAS on prior_manifest_hash
  const prior = env.body.get('prior_manifest_hash') as string
  if (opts.previousHash !== undefined && opts.previousHash !== '' && prior !== opts.previousHash) {
    throw new PipelockError('STORE_CAS_MISMATCH', `contract store: prior manifest hash mismatch: got ${JSON.stringify(prior)}, want ${JSON.stringify(opts.previousHash)}`)
  }
  // 7. signatures, fail closed on any bad entry, then distinct principals
  const now = opts.clock.nowNanos()
  const signerKeyIds = verifyManifestSignatures(env.body, env.signatures, opts.roster, now, opts.minimumSignatures ?? 1, opts.policy)
  // 8. contracts (hash checked before any path join)
  const contracts = new Map<string, DecodedContract>()
  for (const sel of manifestSelectors(env.body)) {
    contracts.set(sel.get('selector_id') as string, loadSelectorContract(root, sel, opts))
  }
  // 9. tombstones
  if (opts.checkTombstones) {
    for (const sel of manifestSelectors(env.body)) {
      const h = sel.get('contract_hash') as string
      storeHashHex(h)
      assertNotTombstoned(root, sel.get('selector_id') as string, h, opts.roster, now)
    }
  }
  return {envelope: env, hash, generation, contracts, signerKeyIds}
}

/** `ValidateEnvelope(raw, opts)`. */
export function validateEnvelope(root: string, raw: Buffer | string, opts: ValidateOptions): ValidatedManifest {
  return validateDecoded(root, decodeActiveManifest(raw), opts)
}
