import {PipelockError} from '../errors/index.js'
import {lifecyclePrologue, nowText, type LifecycleRequest} from './lifecycle.js'
import {historyQuorum} from './history.js'
import {assertQuorum, distinctPrincipals, policyFile, readStorePolicy, writeStorePolicy, type StorePolicy} from './policy.js'

// `learn store init` and `learn store policy` (issue 10 item 9): set the store's activation
// policy explicitly, or change it with the quorum the current policy demands.

export interface StorePolicyRequest extends LifecycleRequest {
  mode: 'init' | 'change'
  minimumSignatures: number
  ratifiedOnly: boolean
}

export interface StorePolicyResult {
  storeDir: string
  policyFile: string
  minimumSignatures: number
  ratifiedOnly: boolean
  previous: StorePolicy | null
  signerKeyIds: string[]
}

export function runStorePolicy(req: StorePolicyRequest): StorePolicyResult {
  const what = req.mode === 'init' ? 'learn store init' : 'learn store policy'
  if (!Number.isInteger(req.minimumSignatures) || req.minimumSignatures < 1 || req.minimumSignatures > 16) {
    throw new PipelockError('LIFECYCLE_REFUSED', `${what}: --minimum-signatures must be an integer from 1 to 16`)
  }
  const ctx = lifecyclePrologue(req, {intent: 'contract_promote_intent', committed: 'contract_promote_committed'})
  const current = readStorePolicy(ctx.root, ctx.roster, ctx.clock.nowNanos())
  if (req.mode === 'init' && current !== undefined) {
    throw new PipelockError('STORE_POLICY_REFUSED', `${what}: the store already has a policy (${policyFile(ctx.root)})`, {hint: 'change it with learn store policy, signed by the quorum it demands'})
  }
  if (req.mode === 'change' && current === undefined) {
    throw new PipelockError('STORE_POLICY_REFUSED', `${what}: the store has no policy yet`, {hint: 'set one with learn store init (or the first learn promote sets it)'})
  }
  // A store whose policy was lost: init takes the quorum its history shows (policyInForce).
  const floor = current === undefined ? historyQuorum(ctx.root, ctx.storeOptions) : 0
  if (distinctPrincipals(ctx.signers) < floor) {
    throw new PipelockError('STORE_POLICY_REFUSED', `${what}: the store has accepted manifests signed by up to ${floor} distinct activation principals; a policy for it must be signed by as many; got ${distinctPrincipals(ctx.signers)}`, {hint: 'add --dual-control-from'})
  }
  // Changing a policy takes the quorum of the policy in force; the new one must be signable by its signers.
  assertQuorum(current, ctx.signers, 'a policy change')
  const next = {minimumSignatures: req.minimumSignatures, ratifiedOnly: req.ratifiedOnly}
  if (distinctPrincipals(ctx.signers) < next.minimumSignatures) {
    throw new PipelockError('STORE_POLICY_REFUSED', `${what}: a policy demanding ${next.minimumSignatures} distinct activation principals must be signed by as many; got ${distinctPrincipals(ctx.signers)}`, {hint: 'add --dual-control-from'})
  }
  writeStorePolicy(ctx.root, next, ctx.signers, nowText(ctx.clock))
  return {
    storeDir: ctx.root,
    policyFile: policyFile(ctx.root),
    ...next,
    previous: current ?? null,
    signerKeyIds: ctx.signers.map((s) => s.keyId),
  }
}
