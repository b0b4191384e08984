import {existsSync} from 'node:fs'
import {JsonNumber, type JsonObject} from '../canonical/index.js'
import {activeManifestHash, manifestSelectors} from '../contracts/index.js'
import {PipelockError, shellWord} from '../errors/index.js'
import {acceptedManifest, latestAccepted} from './history.js'
import {isStoreHash, objectPath, storeLayout} from './paths.js'
import {
  appendLifecycleReceipt,
  lifecyclePrologue,
  manifestEnvelopeBytes,
  nowText,
  precheckDualControl,
  resolveEnvironment,
  signManifest,
  uintNumber,
  type LifecycleRequest,
  swapOutcome,
} from './lifecycle.js'
import {assertQuorum, assertRatified, findRatification, policyFile, policyInForce, raisedPolicy, storeRatificationReceipts, writeStorePolicy, type RaisedPolicy} from './policy.js'
import {checkSwap, trySwapActive} from './store.js'
import {assertEnforces, historyCoverage, unenforcedSentence} from './enforcement-coverage.js'

// `pipelock learn rollback` (learn-lifecycle §6.6): re-activates an accepted manifest's selectors
// as a NEW, higher generation (never reuses the old file), with the same pre-flight rule as promote.

export interface RollbackRequest extends LifecycleRequest {
  to: string
  authorizationId?: string
  /** contract_ratified receipts for a ratified-only store; default <store>/ratification-receipts.jsonl (promote keeps them there). */
  ratificationReceipts?: string
  /** Re-activate a manifest whose contracts (any of them) enforce no rule; refused without it. */
  allowUnenforced?: boolean
}

export interface RollbackResult {
  outcome: 'accepted'
  targetHash: string
  manifestHash: string
  generation: number
  priorManifestHash: string
  authorizationId: string
  storeDir: string
  receiptFile: string
  signerKeyIds: string[]
  /** What the operator must know about this activation (also printed on stderr). */
  warnings: string[]
  /** The store policy this --production rollback raised (absent when it did not change it). */
  policyRaised?: RaisedPolicy
}

/**
 * `--to` is the operator's input: a hash that is malformed, or names no accepted manifest (a
 * contract hash copied from promote's output, a typo), is said as such with where to look — not
 * as "contract history invalid", which would send the operator to check an intact store.
 */
function assertRollbackTarget(root: string, to: string): void {
  const layout = storeLayout(root)
  // A mistyped or missing --contract-store holds no manifest either: say that, not that --to is wrong.
  if (!existsSync(root)) {
    throw new PipelockError('STORE_INVALID', `learn rollback: contract store ${root} does not exist, so there is no generation to roll back to`, {
      hint: 'pass the --contract-store that learn promote wrote to',
    })
  }
  const hint = `list the accepted manifests with: pipelock learn store history --store ${shellWord(root)}`
  if (!isStoreHash(to)) {
    throw new PipelockError('USAGE', `learn rollback: --to takes an accepted manifest hash (sha256: and 64 lowercase hex digits), not ${JSON.stringify(to)}`, {hint})
  }
  if (existsSync(objectPath(layout.manifests, to, '.json'))) return
  if (existsSync(objectPath(layout.history, to, '.yaml'))) {
    throw new PipelockError('USAGE', `learn rollback: --to ${to} is a contract hash, not a manifest hash: rollback re-activates a generation (an accepted manifest)`, {hint: `${hint} (each generation's "manifest" line)`})
  }
  throw new PipelockError('USAGE', `learn rollback: --to ${to} names no accepted manifest in ${root}`, {hint})
}

export function runRollback(req: RollbackRequest): RollbackResult {
  const ctx = lifecyclePrologue(req, {intent: 'contract_rollback_authorized', committed: 'contract_rollback_committed'})
  const root = ctx.root
  if (!req.to) throw new PipelockError('LIFECYCLE_REFUSED', 'learn rollback: --to is required')
  assertRollbackTarget(root, req.to)
  // The store's quorum applies to a rollback as to a promote (issue 10 item 9).
  const policy = policyInForce(root, ctx.roster, ctx.clock.nowNanos(), ctx.storeOptions, 'learn rollback')
  assertQuorum(policy, ctx.signers, 'a rollback')
  const baseline = latestAccepted(root, ctx.storeOptions, 'baseline')
  if (baseline === undefined) throw new PipelockError('LIFECYCLE_REFUSED', 'learn rollback: no accepted manifest is available')
  const env = resolveEnvironment(req, baseline.envelope.body)
  const storeOptions = {...ctx.storeOptions, environment: env, minimumSignatures: Math.max(ctx.minimumSignatures, policy?.minimumSignatures ?? 1)}
  let target
  try {
    target = acceptedManifest(root, req.to, {...ctx.storeOptions, environment: env}, 'adoption')
  } catch (e) {
    if (!(e instanceof PipelockError)) throw e
    throw new PipelockError(e.code, `learn rollback: load target manifest: ${e.message}`)
  }
  // A ratified-only store re-activates only contracts a person ratified, whatever the store
  // accepted before the policy said so (a receipt by this rollback's receipt key proves nothing).
  if (policy?.ratifiedOnly === true) {
    const receipts = req.ratificationReceipts ?? storeRatificationReceipts(root)
    for (const sel of manifestSelectors(target.envelope.body)) {
      const hash = sel.get('contract_hash') as string
      assertRatified(policy, findRatification(receipts, hash, ctx.roster, ctx.clock.nowNanos(), ctx.receiptSigner.keyId), hash, receipts)
    }
  }
  // As promote: a contract that enforces no rule locks nothing, so re-activating it is refused
  // before anything is written unless the operator asks for it (and is then warned).
  const warnings: string[] = []
  for (const sel of manifestSelectors(target.envelope.body)) {
    const hash = sel.get('contract_hash') as string
    const coverage = historyCoverage(root, hash)
    assertEnforces('learn rollback', hash, coverage, req.allowUnenforced === true)
    if (coverage !== undefined && coverage.enforced === 0) warnings.push(`learn rollback: ${unenforcedSentence(hash, coverage)}`)
  }
  const generation = baseline.generation + 1n
  const body: JsonObject = new Map(target.envelope.body)
  body.set('generation', uintNumber(generation))
  body.set('prior_manifest_hash', baseline.hash)
  body.delete('signed_at')
  body.set('rollback_target', target.hash)
  body.set('signed_at', nowText(ctx.clock))
  const signatures = signManifest(body, ctx.signers)
  precheckDualControl(ctx.signers, ctx.minimumSignatures)
  const newHash = activeManifestHash(body)
  const swap = {raw: manifestEnvelopeBytes(body, signatures), previousHash: baseline.hash, previousGeneration: baseline.generation}
  checkSwap(root, storeOptions, swap)

  const authorizationId = req.authorizationId || (req.deterministic ? 'rollback-authorization-deterministic' : req.newId())
  appendLifecycleReceipt(
    ctx,
    {
      payloadKind: 'contract_rollback_authorized',
      eventId: authorizationId,
      principal: ctx.signers[0]?.keyId as string,
      actor: 'learn rollback',
      activeManifestHash: newHash,
      contractGeneration: generation,
      payload: {
        rollback_target_hash: target.hash,
        current_generation: new JsonNumber(baseline.generation.toString()),
        authorizer_signatures: signatures.map((s) => s.get('signature') as string),
        authorization_id: authorizationId,
      },
    },
    'activation',
  )
  const {accepted, failure} = trySwapActive(root, storeOptions, swap)
  appendLifecycleReceipt(
    ctx,
    {
      payloadKind: 'contract_rollback_committed',
      eventId: `${authorizationId}-committed`,
      principal: 'learn',
      actor: 'learn rollback',
      activeManifestHash: newHash,
      contractGeneration: generation,
      payload: {
        rollback_target_hash: target.hash,
        prior_manifest_hash: baseline.hash,
        authorization_id: authorizationId,
        ...swapOutcome(failure),
      },
    },
    'receipt',
  )
  if (failure !== undefined || accepted === undefined) throw failure as PipelockError
  // As promote: a --production rollback raises the policy to its principals, never lowers it.
  const raised = policy === undefined ? undefined : raisedPolicy(policy, ctx.signers, req.production === true)
  if (raised !== undefined) writeStorePolicy(root, raised, ctx.signers, nowText(ctx.clock))
  return {
    outcome: 'accepted',
    targetHash: target.hash,
    manifestHash: accepted.hash,
    generation: Number(generation),
    priorManifestHash: baseline.hash,
    authorizationId,
    storeDir: root,
    receiptFile: ctx.receiptFile,
    signerKeyIds: accepted.signerKeyIds,
    warnings,
    ...(raised === undefined ? {} : {policyRaised: {...raised, file: policyFile(root)}}),
  }
}
