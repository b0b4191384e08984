/**
 * The live-lock runtime (learn-lifecycle §7.1–§7.5): the loader that keeps the active contract
 * set of a contract store in memory, `reload()` with missed-promote recovery, and per-request
 * contract selection. Readers never block on a reload: `resolve` reads one immutable ActiveSet.
 *
 * Two decisions beyond the reference (docs/compatibility.md, "Live contracts"):
 * * the runtime only reads the store (promote and rollback already wrote manifests/ and the
 *   journal under the store lock), so a store mounted read-only — the way a fleet follows one
 *   promote — works;
 * * a reload that fails keeps the previous set in force (fail-soft, as §7.3) but marks the runtime
 *   unhealthy, so `/health` answers 503 until the store loads again: never a silent fallback.
 */
import {lstatSync} from 'node:fs'
import type {Clock, JsonObject} from '../canonical/index.js'
import {GENESIS_MANIFEST_HASH, manifestSelectors} from '../contracts/index.js'
import {goPathMatch, selectContract, withIndex, type Mode, type ResolvedContract, type SelectorEntry} from '../enforcement/index.js'
import {PipelockError} from '../errors/index.js'
import {loadRoster, type LoadedRoster} from '../signing/index.js'
import {highWater, loadAcceptedManifest, promotionTraces, reloadStore, storeLayout, type StoreOptions, type ValidatedManifest} from '../store/index.js'

export interface LearnLockSettings {
  readonly mode: string
  readonly store_dir: string
  readonly roster_path: string
  readonly environment?: {readonly id: string; readonly tenant: string; readonly deployment_id: string} | undefined
  readonly pinned_root_fingerprint: string
  readonly minimum_signatures: number
}

export type ReloadOutcome = 'accepted' | 'same_hash' | 'no_active' | 'rejected' | 'error'

export const RELOAD_OUTCOMES: readonly ReloadOutcome[] = ['accepted', 'same_hash', 'no_active', 'rejected', 'error']

interface ActiveSelector extends SelectorEntry {
  readonly selectorId: string
  readonly contract: ResolvedContract
}

/** One accepted manifest, immutable once built. */
export interface ActiveSet {
  readonly manifestHash: string
  readonly generation: bigint
  readonly selectors: readonly ActiveSelector[]
}

export interface RuntimeStatus {
  readonly mode: Mode
  readonly storeDir: string
  readonly manifestHash: string
  readonly generation: bigint
  /** False when the last reload failed (the previous set, if any, is still enforced). */
  readonly healthy: boolean
  readonly lastOutcome: ReloadOutcome
  readonly lastError: string
}

const fail = (message: string): PipelockError => new PipelockError('CONTRACT_RUNTIME_FAILED', message)

/** Effective mode (§7.1): live/shadow/capture as written, anything else → shadow. */
export function effectiveMode(mode: string): Mode {
  return mode === 'live' || mode === 'capture' ? mode : 'shadow'
}

/** Builds the in-memory set from a validated manifest (§7.3 "Adopt"); throws on a structural problem. */
export function buildActiveSet(v: ValidatedManifest): ActiveSet {
  if (v.hash === '' || v.generation === 0n) throw fail('contract runtime: adopt: manifest hash and generation are required')
  const selectors: ActiveSelector[] = []
  for (const sel of manifestSelectors(v.envelope.body)) {
    const glob = (sel.get('agent_glob') as string | undefined) ?? ''
    if (glob !== '' && goPathMatch(glob, '') === undefined) throw fail(`contract runtime: adopt: malformed agent_glob ${JSON.stringify(glob)}`)
    const contractHash = sel.get('contract_hash') as string
    const selectorId = sel.get('selector_id') as string
    // ValidateEnvelope loaded (and hash-checked) each selector's contract, keyed by selector id.
    const c = v.contracts.get(selectorId)
    if (c === undefined || c.computedHash !== contractHash) throw fail(`contract runtime: adopt: selector contract ${contractHash} missing or mismatched`)
    const agent = (sel.get('agent') as string | undefined) ?? ''
    selectors.push({
      ...(agent !== '' ? {agent} : {}),
      ...(glob !== '' ? {agent_glob: glob} : {}),
      ...(sel.get('default') === true ? {default: true} : {}),
      selectorId,
      // Indexed by host once per adopted contract: each request then costs O(rules for its host).
      contract: withIndex({contractHash, body: c.body as JsonObject, activeManifestHash: v.hash, selectorId, generation: v.generation}),
    })
  }
  return {manifestHash: v.hash, generation: v.generation, selectors}
}

export class ContractRuntime {
  readonly mode: Mode
  private active: ActiveSet | undefined
  private readonly storeOpts: StoreOptions
  private outcome: ReloadOutcome = 'no_active'
  private error = ''
  readonly reloads = new Map<ReloadOutcome, number>()
  watchErrors = 0

  private constructor(readonly settings: LearnLockSettings, roster: LoadedRoster, clock: Clock) {
    this.mode = effectiveMode(settings.mode)
    const env = settings.environment
    this.storeOpts = {
      roster,
      clock,
      ...(env !== undefined ? {environment: {id: env.id, tenant: env.tenant, deploymentId: env.deployment_id}} : {}),
      minimumSignatures: Math.max(1, settings.minimum_signatures),
    }
  }

  /** §7.2: roster, then an initial reload; any error refuses start-up (`contract loader init: …`). */
  static open(settings: LearnLockSettings, clock: Clock): ContractRuntime {
    const need = (ok: boolean, field: string): void => {
      if (!ok) throw fail(`contract loader init: contract runtime: invalid decision input: ${field} required`)
    }
    need(settings.store_dir !== '', 'store_dir')
    need(settings.roster_path !== '', 'roster_path')
    need(settings.pinned_root_fingerprint !== '', 'pinned_root_fingerprint')
    need((settings.environment?.id ?? '') !== '', 'environment')
    let roster: LoadedRoster
    try {
      roster = loadRoster(settings.roster_path, settings.pinned_root_fingerprint, {clock})
    } catch (e) {
      throw fail(`contract loader init: contract runtime: load roster: ${(e as Error).message}`)
    }
    const rt = new ContractRuntime(settings, roster, clock)
    const r = rt.reload()
    if (r.error !== undefined) {
      // The store's own text says "re-promoted"; at start-up it means the active generation's
      // contract was forgotten (learn forget --store): say how to move on.
      if (r.error.includes('prior contract is tombstoned')) {
        throw new PipelockError('CONTRACT_RUNTIME_FAILED', `contract loader init: ${r.error}`, {
          hint: 'the active generation holds a contract learn forget tombstoned: promote the reduced contract forget wrote (learn promote), or roll back to a generation without it (learn rollback)',
        })
      }
      throw fail(`contract loader init: ${r.error}`)
    }
    return rt
  }

  /** The contract for an agent (§7.5), pinned for the request's lifetime; undefined = none. */
  resolve(agent: string): ResolvedContract | undefined {
    const set = this.active
    if (set === undefined) return undefined
    const i = selectContract(set.selectors, agent)
    return i < 0 ? undefined : set.selectors[i]!.contract
  }

  /** The roster's key id for a public key and purpose (v2 receipts name their signer by it). */
  rosterKeyId(publicKeyHex: string, purpose: string): string | undefined {
    const hex = publicKeyHex.toLowerCase()
    return this.storeOpts.roster.body.keys.find((k) => k.publicKeyHex.toLowerCase() === hex && k.keyPurpose === purpose)?.keyId
  }

  current(): ActiveSet | undefined {
    return this.active
  }

  status(): RuntimeStatus {
    return {
      mode: this.mode,
      storeDir: this.settings.store_dir,
      manifestHash: this.active?.manifestHash ?? '',
      generation: this.active?.generation ?? 0n,
      healthy: this.outcome !== 'rejected' && this.outcome !== 'error',
      lastOutcome: this.outcome,
      lastError: this.error,
    }
  }

  private done(outcome: ReloadOutcome, error?: string): {outcome: ReloadOutcome; error?: string} {
    this.outcome = outcome
    this.error = error ?? ''
    this.reloads.set(outcome, (this.reloads.get(outcome) ?? 0) + 1)
    return error === undefined ? {outcome} : {outcome, error}
  }

  private adopt(v: ValidatedManifest): {outcome: ReloadOutcome; error?: string} {
    let set: ActiveSet
    try {
      set = buildActiveSet(v)
    } catch (e) {
      return this.done('rejected', (e as Error).message)
    }
    this.active = set
    return this.done('accepted')
  }

  /** §7.3. Never throws: the outcome says what happened; the previous set stays on failure. */
  reload(): {outcome: ReloadOutcome; error?: string} {
    const root = this.settings.store_dir
    const prev = this.active
    const activePath = storeLayout(root).active
    let st
    try {
      st = lstatSync(activePath)
    } catch {
      st = undefined
    }
    if (st === undefined) {
      if (prev !== undefined) return this.done('rejected', `contract runtime: active manifest disappeared after generation ${prev.generation}: ${activePath}`)
      // "Nothing promoted" only when nothing was ever accepted: a deleted active.json beside
      // accepted manifests must not start (or restart) the proxy without its contracts.
      let hw
      let traces
      try {
        hw = highWater(root, this.storeOpts)
        // With manifests/ gone too, the journal and the lifecycle receipts still show a promotion.
        traces = hw === undefined ? promotionTraces(root) : []
      } catch (e) {
        return this.done('error', `contract runtime: store reload: ${(e as Error).message}`)
      }
      if (hw !== undefined) {
        return this.done(
          'rejected',
          `contract runtime: active manifest ${activePath} is missing but the store has accepted generation ${hw.generation} (${hw.hash}): restore it from manifests/${hw.hash.replace(':', '-')}.json or promote a new generation`,
        )
      }
      if (traces.length > 0) {
        return this.done(
          'rejected',
          `contract runtime: active manifest ${activePath} and the accepted manifests in ${storeLayout(root).manifests} are missing, but the store shows promoted contracts (${traces.map((t) => `${t.file}: ${t.detail}`).join('; ')}): refusing to run without them; restore active.json and manifests/ from a backup, or promote a new generation with learn promote`,
        )
      }
      return this.done('no_active')
    }
    if (!st.isFile()) return this.done('rejected', `contract runtime: store reload: contract store: active manifest ${activePath} must be a regular file`)
    try {
      // One validation of active.json (signatures, contracts, tombstones, environment, floor);
      // the compare-and-swap against the set in force is checked here on its result.
      const now = reloadStore(root, this.storeOpts, {readOnly: true})
      if (prev === undefined) return this.adopt(now)
      if (now.hash === prev.manifestHash) return this.done('same_hash')
      const prior = now.envelope.body.get('prior_manifest_hash') as string
      if (prior !== prev.manifestHash) {
        // A promote the runtime missed (two promotes between reloads): adopt only when the
        // accepted history links the new manifest back to the one in force (§7.3 recovery).
        const why = this.recoveryProblem(now, prev)
        if (why === undefined) return this.adopt(now)
        return this.done('rejected', `contract runtime: store reload: prior manifest hash mismatch and no recovery: ${why}`)
      }
      if (now.generation <= prev.generation) {
        return this.done('rejected', `contract runtime: store reload: contract store: manifest generation is not monotonic: got ${now.generation}, previous ${prev.generation}`)
      }
      return this.adopt(now)
    } catch (e) {
      const msg = `contract runtime: store reload: ${(e as Error).message}`
      const code = e instanceof PipelockError ? e.code : ''
      return this.done(code === 'STORE_INVALID' || code === '' ? 'error' : 'rejected', msg)
    }
  }

  /** `recoverAcceptedActive` (§7.3): undefined when `now` may be adopted over `prev`. */
  private recoveryProblem(now: ValidatedManifest, prev: ActiveSet): string | undefined {
    if (now.generation <= prev.generation) return `generation ${now.generation} is not above ${prev.generation}`
    const root = this.settings.store_dir
    try {
      const accepted = loadAcceptedManifest(root, now.hash, this.storeOpts, 'adoption')
      if (accepted.hash !== now.hash) return 'accepted manifest hash differs'
      let cur = accepted
      for (;;) {
        const prior = cur.envelope.body.get('prior_manifest_hash') as string
        if (prior === prev.manifestHash) return undefined
        if (prior === '' || prior === GENESIS_MANIFEST_HASH) return 'history does not reach the manifest in force'
        cur = loadAcceptedManifest(root, prior, this.storeOpts, 'baseline')
        if (cur.generation <= prev.generation) return 'history passes the generation in force without reaching it'
      }
    } catch (e) {
      return (e as Error).message
    }
  }
}
