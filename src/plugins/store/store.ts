import {closeSync, existsSync, openSync, readSync, rmSync} from 'node:fs'
import {goJson} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {writeFileAtomic} from '../signing/index.js'
import {decodeActiveManifest, decodeStoreContract, type DecodedContract} from './artifacts.js'
import {ensureDir, readRegularFile, STORE_FILE_MODE, writeOnce} from './fs-io.js'
import {latestAccepted} from './history.js'
import {appendJournal} from './journal.js'
import {withStoreLock} from './lock.js'
import {objectPath, storeHashHex, storeLayout} from './paths.js'
import {COMPILE_PURPOSE, verifyDetached} from './signatures.js'
import {validateDecoded, withDecodeCache, type StoreOptions, type ValidatedManifest} from './validate.js'

// Store operations (learn-lifecycle §5.5, §5.6, §5.9) plus two hardenings:
// * anti-rollback across restarts (§10.2): the highest chain-continuous generation in
//   manifests/ is a floor; an active.json below it (a replayed older, validly signed manifest)
//   is refused by every read, however fresh the process;
// * every swap that reaches the lock is journalled, accepted or rejected.

export interface HighWater {
  hash: string
  generation: bigint
}

/** The highest accepted (chain-continuous) manifest, the floor for active.json. */
export function highWater(root: string, opts: StoreOptions): HighWater | undefined {
  const m = latestAccepted(root, opts, 'baseline')
  return m === undefined ? undefined : {hash: m.hash, generation: m.generation}
}

function assertNotReplayed(v: ValidatedManifest, hw: HighWater | undefined, what: string): void {
  if (hw === undefined) return
  if (v.generation < hw.generation || (v.generation === hw.generation && v.hash !== hw.hash)) {
    throw new PipelockError(
      'STORE_REPLAY',
      `contract store: ${what} generation ${v.generation} (${v.hash}) is not above the highest accepted generation ${hw.generation} (${hw.hash}): refusing a replayed older manifest`,
      {hint: `restore active.json from manifests/${hw.hash.replace(':', '-')}.json or promote a new generation`},
    )
  }
}

/** Reads the current active.json (regular file, no symlink); undefined when absent. */
export function readActiveRaw(root: string): Buffer | undefined {
  return readRegularFile(storeLayout(root).active, 'active manifest')
}

export interface ReloadOptions {
  previousHash?: string
  previousGeneration?: bigint
  readOnly?: boolean
}

/** `Reload` (§5.5) with the anti-rollback floor. Caller holds the lock unless read-only. */
function reloadLocked(root: string, storeOpts: StoreOptions, r: ReloadOptions): ValidatedManifest {
  const opts = withDecodeCache(storeOpts)
  const layout = storeLayout(root)
  const raw = readActiveRaw(root)
  if (raw === undefined) throw new PipelockError('STORE_INVALID', `contract store: active manifest does not exist: ${layout.active}`)
  let v: ValidatedManifest
  try {
    const env = decodeActiveManifest(raw)
    v = validateDecoded(root, env, {
      ...opts,
      checkTombstones: true,
      policy: 'strict',
      ...(r.previousHash === undefined ? {} : {previousHash: r.previousHash}),
      ...(r.previousGeneration === undefined ? {} : {previousGeneration: r.previousGeneration}),
    })
    assertNotReplayed(v, highWater(root, opts), 'active manifest')
  } catch (e) {
    if (!r.readOnly && e instanceof PipelockError) appendJournal(layout.journal, opts.clock, {outcome: 'rejected', reason: e.message})
    throw e
  }
  if (!r.readOnly) {
    ensureDir(layout.manifests)
    writeOnce(objectPath(layout.manifests, v.hash, '.json'), Buffer.from(goJson(v.envelope.tree) + '\n', 'utf8'))
    appendJournal(layout.journal, opts.clock, {
      outcome: 'accepted',
      manifestHash: v.hash,
      generation: v.generation,
      priorManifestHash: v.envelope.body.get('prior_manifest_hash') as string,
      signerKeyIds: v.signerKeyIds,
    })
  }
  return v
}

/** `Reload(opts)`: validate active.json; unless read-only, record it in manifests/ and the journal. */
export function reloadStore(root: string, opts: StoreOptions, r: ReloadOptions = {}): ValidatedManifest {
  if (r.readOnly) return reloadLocked(root, opts, r)
  ensureDir(root)
  return withStoreLock(storeLayout(root).lock, () => reloadLocked(root, opts, r))
}

export interface SwapRequest {
  raw: Buffer
  previousHash: string
  previousGeneration: bigint
  /** Contracts to stage into history/ when (and only when) the swap is accepted. */
  staged?: ReadonlyMap<string, Buffer>
}

/**
 * `WriteActive` checks (§5.6) without writing: the current active.json must be a valid, not
 * replayed manifest (read with the history policy and no tombstone check, so an operator can
 * always move away from a tombstoned current); its hash/generation replace stale caller values;
 * then the candidate is validated strictly, tombstones included.
 */
export function checkSwap(root: string, storeOpts: StoreOptions, req: SwapRequest): ValidatedManifest {
  const opts = withDecodeCache(storeOpts)
  let previousHash = req.previousHash
  let previousGeneration = req.previousGeneration
  const hw = highWater(root, opts)
  const currentRaw = readActiveRaw(root)
  if (currentRaw !== undefined) {
    const cur = validateDecoded(root, decodeActiveManifest(currentRaw), {...opts, checkTombstones: false, policy: 'history'})
    assertNotReplayed(cur, hw, 'current active manifest')
    previousHash = cur.hash
    previousGeneration = cur.generation
  } else if (hw !== undefined && hw.generation > previousGeneration) {
    previousHash = hw.hash
    previousGeneration = hw.generation
  }
  const cand = decodeActiveManifest(req.raw)
  return validateDecoded(root, cand, {
    ...opts,
    checkTombstones: true,
    policy: 'strict',
    previousHash,
    previousGeneration,
    ...(req.staged === undefined ? {} : {staged: req.staged}),
  })
}

/**
 * A swap whose policy rejection is an outcome, not an exception (promote and rollback record it
 * in a committed receipt before failing). Anything other than a PipelockError is a bug.
 */
export function trySwapActive(root: string, opts: StoreOptions, req: SwapRequest): {accepted: ValidatedManifest; failure?: undefined} | {accepted?: undefined; failure: PipelockError} {
  try {
    return {accepted: swapActive(root, opts, req)}
  } catch (e) {
    if (!(e instanceof PipelockError)) throw e
    return {failure: e}
  }
}

/**
 * One swap under one lock: `WriteActive` then `Reload` with the same expectations. The staged
 * contracts land in history/ just before active.json. A rejection is journalled and rethrown;
 * nothing else changes.
 */
export function swapActive(root: string, storeOpts: StoreOptions, req: SwapRequest): ValidatedManifest {
  // one cache for the pre-flight and the reload after the write
  const opts = withDecodeCache(storeOpts)
  const layout = storeLayout(root)
  ensureDir(root)
  return withStoreLock(layout.lock, () => {
    try {
      checkSwap(root, opts, req)
    } catch (e) {
      if (e instanceof PipelockError) appendJournal(layout.journal, opts.clock, {outcome: 'rejected', reason: e.message})
      throw e
    }
    // What this swap adds, taken back should the reload after the write refuse it: the
    // pre-flight above makes the same checks, so that is a bug or a race, and the store must then
    // be left as it was (an active.json naming a manifest the store never accepted would keep
    // `pipelock run` from starting).
    const previousActive = readActiveRaw(root)
    const added: string[] = []
    if (req.staged !== undefined && req.staged.size > 0) {
      ensureDir(layout.history)
      for (const [hash, raw] of req.staged) {
        const file = objectPath(layout.history, hash, '.yaml')
        const existed = existsSync(file)
        writeOnce(file, raw)
        if (!existed) added.push(file)
      }
    }
    writeFileAtomic(layout.active, storedForm(req.raw), STORE_FILE_MODE)
    try {
      return reloadLocked(root, opts, {previousHash: req.previousHash, previousGeneration: req.previousGeneration})
    } catch (e) {
      if (previousActive === undefined) rmSync(layout.active, {force: true})
      else writeFileAtomic(layout.active, previousActive, STORE_FILE_MODE)
      for (const file of added) rmSync(file, {force: true})
      throw e
    }
  })
}

export interface VerifiedContract extends DecodedContract {
  hash: string
  /** The bytes history/ will hold: trim(raw) + "\n". */
  stored: Buffer
}

/** §5.9 checks without writing: strict decode, claimed = computed hash, Validate, roster signature. `stored`: `storedForm(raw)`, when the caller made it already. */
export function verifyContractForStore(raw: Buffer | string, label: string, opts: StoreOptions, stored: Buffer = storedForm(raw)): VerifiedContract {
  const c = decodeStoreContract(raw, label)
  const claimed = c.body.get('contract_hash') as string
  if (claimed !== c.computedHash) {
    throw new PipelockError('STORE_HISTORY_INVALID', `contract store: contract history invalid: ${label}: contract_hash ${JSON.stringify(claimed)} does not match computed ${JSON.stringify(c.computedHash)}`)
  }
  storeHashHex(claimed)
  verifyDetached('contract', c.body, c.signature, opts.roster, opts.clock.nowNanos(), COMPILE_PURPOSE, 'strict')
  return {...c, hash: claimed, stored}
}

/** The bytes the store holds for a file's text (a contract in history/, active.json): `trim(raw) + "\n"`. */
export function storedForm(raw: Buffer | string): Buffer {
  return Buffer.from(raw.toString().trim() + '\n', 'utf8')
}

/** How much of a file `storedFormLength` holds at a time. */
const STORED_FORM_CHUNK = 1 << 20

/**
 * `storedForm(readFileSync(file)).length`, read `chunk` bytes at a time: no more than one chunk
 * and its text are held, so a candidate of any size is measured against the store's cap before it
 * is read whole (a 213 MB candidate read whole and trimmed took 690 MB). The bytes are decoded as
 * `Buffer.toString` decodes them (U+FFFD for each maximal invalid sequence, a byte order mark
 * kept); what `trim` removes is what `\s` matches, at either end.
 */
export function storedFormLength(file: string, chunk = STORED_FORM_CHUNK): number {
  const decoder = new TextDecoder('utf-8', {ignoreBOM: true})
  const buf = Buffer.allocUnsafe(chunk)
  let total = 0 // UTF-8 bytes of the text decoded so far
  let lead = -1 // bytes before its first character that is not white space; -1 while there is none
  let trail = 0 // bytes of white space after its last character that is not
  const fd = openSync(file, 'r')
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, chunk, null)
      const text = decoder.decode(buf.subarray(0, n), {stream: n > 0})
      const bytes = Buffer.byteLength(text)
      const first = text.search(NOT_SPACE)
      if (first >= 0) {
        if (lead < 0) lead = total + Buffer.byteLength(text.slice(0, first))
        let last = text.length - 1
        while (SPACE.test(text[last]!)) last-- // white space is one UTF-16 unit: never half a pair
        trail = Buffer.byteLength(text.slice(last + 1))
      } else trail += bytes
      total += bytes
      if (n === 0) break
    }
  } finally {
    closeSync(fd)
  }
  return lead < 0 ? 1 : total - lead - trail + 1
}

const NOT_SPACE = /\S/
const SPACE = /^\s$/

/** `PutHistoryContract(raw)` (§5.9): verify, then write-once history/sha256-<hex>.yaml under the lock. */
export function putHistoryContract(root: string, raw: Buffer | string, opts: StoreOptions): VerifiedContract {
  const c = verifyContractForStore(raw, 'contract', opts)
  const layout = storeLayout(root)
  ensureDir(root)
  withStoreLock(layout.lock, () => {
    ensureDir(layout.history)
    writeOnce(objectPath(layout.history, c.hash, '.yaml'), c.stored)
  })
  return c
}
