import {readdirSync} from 'node:fs'
import path from 'node:path'
import {compareUtf8} from '../canonical/index.js'
import {GENESIS_MANIFEST_HASH} from '../contracts/index.js'
import {PipelockError} from '../errors/index.js'
import {decodeActiveManifest} from './artifacts.js'
import {readRegularFile} from './fs-io.js'
import {isStoreHash, objectPath, storeLayout} from './paths.js'
import {validateDecoded, withDecodeCache, type StoreOptions, type ValidatedManifest} from './validate.js'

// Accepted history and chain continuity (learn-lifecycle §5.7).
//
// `baseline` reads (promote/rollback prior, anti-rollback high-water mark) check each file with
// the `history` signature policy and no tombstone check; `adoption` reads (rollback target)
// check strictly, as of now, tombstones included (§10.16). "Latest" is the highest generation,
// ties broken by the lowest manifest hash in byte order (§10.15).

export type HistoryMode = 'baseline' | 'adoption'

const histErr = (detail: string): PipelockError => new PipelockError('STORE_HISTORY_INVALID', `contract store: contract history invalid: ${detail}`)

/** `loadAcceptedManifestFile`: the file name must be the hash of what it holds. */
export function loadAcceptedManifest(root: string, hash: string, opts: StoreOptions, mode: HistoryMode): ValidatedManifest {
  const file = objectPath(storeLayout(root).manifests, hash, '.json')
  const raw = readRegularFile(file, 'accepted manifest')
  if (raw === undefined) throw histErr(`accepted manifest ${hash} does not exist: ${file}`)
  const env = decodeActiveManifest(raw, `accepted manifest ${file}`)
  const v = validateDecoded(root, env, {
    ...opts,
    // Adoption: the contracts become runtime state again, so they verify as of now and must not
    // be tombstoned; the manifest's own signatures are a record of a past acceptance (§10.16) –
    // the manifest that re-adopts them is signed and checked strictly at the swap.
    checkTombstones: mode === 'adoption',
    policy: 'history',
    contractPolicy: mode === 'adoption' ? 'strict' : 'history',
  })
  if (v.hash !== hash) throw histErr(`accepted manifest filename/hash mismatch: ${path.basename(file)} holds ${v.hash}`)
  return v
}

/** Chain continuity from `hash` down to a generation-1 root (or any generation ≤ 1). */
export function assertChainContinuous(root: string, start: ValidatedManifest, opts: StoreOptions, cache = new Map<string, ValidatedManifest>()): void {
  const visited = new Set<string>()
  let cur = start
  for (;;) {
    if (visited.has(cur.hash)) throw histErr(`accepted manifest prior chain cycle at ${cur.hash}`)
    visited.add(cur.hash)
    if (cur.generation <= 1n) return
    const prior = cur.envelope.body.get('prior_manifest_hash') as string
    if (!isStoreHash(prior) || prior === GENESIS_MANIFEST_HASH) {
      throw histErr(`generation ${cur.generation} prior manifest ${JSON.stringify(prior)} is not an accepted hash`)
    }
    let next = cache.get(prior)
    if (next === undefined) {
      next = loadAcceptedManifest(root, prior, opts, 'baseline')
      cache.set(prior, next)
    }
    if (next.generation >= cur.generation) throw histErr(`prior generation ${next.generation} is not below ${cur.generation}`)
    cur = next
  }
}

function listAcceptedHashes(root: string): string[] {
  let names: string[]
  try {
    names = readdirSync(storeLayout(root).manifests)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw histErr(`list manifests: ${(e as Error).message}`)
  }
  return names
    .filter((n) => n.startsWith('sha256-') && n.endsWith('.json'))
    .map((n) => 'sha256:' + n.slice('sha256-'.length, -'.json'.length))
    .sort(compareUtf8)
}

/** `LatestAccepted` / `LatestAcceptedHistory`: undefined when nothing was ever accepted. */
export function latestAccepted(root: string, storeOpts: StoreOptions, mode: HistoryMode): ValidatedManifest | undefined {
  const opts = withDecodeCache(storeOpts)
  const cache = new Map<string, ValidatedManifest>()
  const all: ValidatedManifest[] = []
  for (const h of listAcceptedHashes(root)) {
    // Any unloadable file aborts the scan (fail closed, §5.7).
    const m = loadAcceptedManifest(root, h, {...opts, environment: undefined}, 'baseline')
    cache.set(h, m)
    all.push(m)
  }
  const continuous: ValidatedManifest[] = []
  for (const m of all) {
    try {
      assertChainContinuous(root, m, opts, cache)
      continuous.push(m)
    } catch (e) {
      if (!(e instanceof PipelockError)) throw e
    }
  }
  if (continuous.length === 0) return undefined
  // Highest generation; ties → lowest hash (deterministic, §10.15). Hashes are sorted already.
  let best = continuous[0] as ValidatedManifest
  for (const m of continuous) if (m.generation > best.generation) best = m
  return mode === 'adoption' ? loadAcceptedManifest(root, best.hash, opts, 'adoption') : loadAcceptedManifest(root, best.hash, opts, 'baseline')
}

/**
 * The most distinct activation principals any accepted manifest of the store carries (0 when it
 * has none): the quorum its history shows it was run under. Any unloadable file aborts (fail closed).
 */
export function historyQuorum(root: string, opts: StoreOptions): number {
  let most = 0
  for (const h of listAcceptedHashes(root)) most = Math.max(most, loadAcceptedManifest(root, h, {...opts, environment: undefined}, 'baseline').signerKeyIds.length)
  return most
}

/** `Accepted(hash)` / `AcceptedHistory(hash)`: that file, chain continuous, contracts loaded. */
export function acceptedManifest(root: string, hash: string, opts: StoreOptions, mode: HistoryMode): ValidatedManifest {
  const m = loadAcceptedManifest(root, hash, opts, mode)
  assertChainContinuous(root, m, opts)
  return m
}
