import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {goJson, JsonNumber, parseJson, type JsonObject, type JsonValue} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {parseEvidenceReceipt, verifyEvidence} from '../receipts/index.js'
import {authorizeSignerForPayload, refuseSpecialFile, type LoadedRoster} from '../signing/index.js'
import {appendLine, ensureDir, readRegularFile, STORE_FILE_MODE} from './fs-io.js'
import {writeFileAtomic} from '../signing/index.js'
import {signManifest, type ActivationSigner} from './lifecycle.js'
import {historyQuorum} from './history.js'
import {verifyManifestSignatures} from './signatures.js'
import type {StoreOptions} from './validate.js'

// The store's own activation policy (issue 10 item 9): minimum distinct activation principals
// and "ratified contracts only", remembered in <store>/policy.json from the first promote or
// from `learn store init`, signed by the activation signers who set it (verified against the
// roster on every read: an edited file is refused, never ignored). A promote or rollback
// weaker than the policy is refused before anything is written; an accepted `--production`
// promote or rollback raises the minimum to its own principals (`raisedPolicy`); otherwise the
// policy changes only through `learn store policy`, signed by at least as many principals as it
// currently demands.
// "Ratified" in a ratified-only store means ratified by a person (`findRatification`).

export interface StorePolicy {
  minimumSignatures: number
  ratifiedOnly: boolean
}

/** A store policy raised by a --production promote or rollback, and where it is. */
export interface RaisedPolicy extends StorePolicy {
  file: string
}

export const POLICY_KIND = 'store_policy'
export const RATIFICATION_RECEIPTS = 'ratification-receipts.jsonl'

export function policyFile(root: string): string {
  return path.join(root, 'policy.json')
}

const refuse = (message: string, hint?: string): PipelockError => new PipelockError('STORE_POLICY_REFUSED', message, hint === undefined ? {} : {hint})

function policyBody(p: StorePolicy, signedAt: string): JsonObject {
  return new Map<string, JsonValue>([
    ['schema_version', new JsonNumber('1')],
    ['policy_kind', POLICY_KIND],
    ['minimum_signatures', new JsonNumber(String(p.minimumSignatures))],
    ['ratified_only', p.ratifiedOnly],
    ['signed_at', signedAt],
  ])
}

/** The store's policy, verified against the roster; undefined when the store has none yet. */
export function readStorePolicy(root: string, roster: LoadedRoster, nowNanos: bigint): StorePolicy | undefined {
  const file = policyFile(root)
  const raw = readRegularFile(file, 'policy')
  if (raw === undefined) return undefined
  const bad = (why: string): PipelockError => new PipelockError('STORE_INVALID', `contract store: policy ${file}: ${why}`)
  let env: JsonValue
  try {
    env = parseJson(raw.toString('utf8'))
  } catch (e) {
    throw bad((e as Error).message)
  }
  if (!(env instanceof Map)) throw bad('not a JSON object')
  const body = env.get('body')
  const sigs = env.get('signatures')
  if (!(body instanceof Map) || !Array.isArray(sigs) || sigs.some((s) => !(s instanceof Map))) throw bad('want {"body": {…}, "signatures": [...]}')
  const min = body.get('minimum_signatures')
  const ratified = body.get('ratified_only')
  if (body.get('policy_kind') !== POLICY_KIND || !(min instanceof JsonNumber) || !min.isInteger() || typeof ratified !== 'boolean') throw bad('malformed body')
  const policy = {minimumSignatures: Number(min.toBigInt()), ratifiedOnly: ratified}
  if (policy.minimumSignatures < 1 || policy.minimumSignatures > 16) throw bad('minimum_signatures must be 1..16')
  try {
    // Signed by as many distinct principals as the policy itself demands. History rules: a key
    // revoked since does not void the policy it signed then (as for accepted manifests).
    const signers = verifyManifestSignatures(body, sigs as JsonObject[], roster, nowNanos, 1, 'history')
    if (signers.length < policy.minimumSignatures) throw new Error(`signed by ${signers.length} distinct principals, the policy demands ${policy.minimumSignatures}`)
  } catch (e) {
    throw bad((e as Error).message)
  }
  return policy
}

/**
 * The policy a promote or rollback must meet: the store's verified policy; none for a store
 * without accepted manifests (the first promote sets it). A store with accepted manifests and no
 * policy file is refused: pipelock never removes a policy, so it was deleted or the store was
 * written by a build without store policies — taking the first promote's signers as the policy
 * then would let one operator shed a dual-control policy by deleting a file. `learn store init`
 * sets it again, signed by as many principals as the history shows (`historyQuorum`).
 */
export function policyInForce(root: string, roster: LoadedRoster, nowNanos: bigint, opts: StoreOptions, what: string): StorePolicy | undefined {
  const policy = readStorePolicy(root, roster, nowNanos)
  if (policy !== undefined) return policy
  const quorum = historyQuorum(root, opts)
  if (quorum === 0) return undefined
  throw refuse(
    `${what}: the contract store has accepted manifests but no policy (${policyFile(root)} is missing)`,
    `restore it from a backup, or set it with learn store init signed by at least ${quorum} distinct activation principal${quorum === 1 ? '' : 's'} (the most an accepted manifest carries)`,
  )
}

/** Writes the policy signed by `signers` (atomic replace). */
export function writeStorePolicy(root: string, p: StorePolicy, signers: readonly ActivationSigner[], signedAt: string): void {
  ensureDir(root)
  const body = policyBody(p, signedAt)
  const env = new Map<string, JsonValue>([['body', body], ['signatures', signManifest(body, signers)]])
  writeFileAtomic(policyFile(root), Buffer.from(goJson(env) + '\n', 'utf8'), STORE_FILE_MODE)
}

/**
 * The policy after a `--production` promote or rollback that was accepted: production means the
 * operators chose dual control for this store, so the store keeps demanding the principals that
 * signed it (the doc's promise that dual control sticks). Raised only, never lowered: undefined
 * when the policy already demands as many (or the operation is not production). The signers of
 * the operation sign the raised policy, so it verifies with the quorum it demands.
 */
export function raisedPolicy(p: StorePolicy, signers: readonly ActivationSigner[], production: boolean): StorePolicy | undefined {
  if (!production) return undefined
  const got = distinctPrincipals(signers)
  if (got <= p.minimumSignatures) return undefined
  return {minimumSignatures: got, ratifiedOnly: p.ratifiedOnly}
}

/** Distinct activation principals among the signers (the §6.4 count). */
export function distinctPrincipals(signers: readonly ActivationSigner[]): number {
  return new Set(signers.map((s) => s.entry.principal).filter((p) => p !== '')).size
}

/** Refuses an operation signed by fewer principals than the policy demands. */
export function assertQuorum(p: StorePolicy | undefined, signers: readonly ActivationSigner[], what: string): void {
  // A minimum of 1 is what §6.4's own pre-check demands (with its own message).
  if (p === undefined || p.minimumSignatures <= 1) return
  const got = distinctPrincipals(signers)
  if (got < p.minimumSignatures) {
    throw refuse(
      `contract store policy requires ${p.minimumSignatures} distinct activation principals for ${what}; got ${got}`,
      'add --dual-control-from with a key of another principal (the policy is in <store>/policy.json; change it with learn store policy)',
    )
  }
}

/**
 * What a receipts file proves about `contractHash`: `any` = a `contract_ratified` receipt signed by
 * a roster key authorised for it (purpose receipt-signing, active, in window); `byPrincipal` = one
 * whose signer is a person: its roster entry has a principal (`role=` at roster build), it names
 * itself as `ratifier_key_id`, and it is not `automationKeyId` (the key this operation signs its own
 * committed receipts with). A ratified-only store counts only `byPrincipal`: the CI-held
 * receipt-signing key can sign a valid ratification without anyone having decided anything.
 * `automation` lists the verified signers that do not count as a person (for the refusal).
 * Unreadable lines are skipped: only a verified receipt counts.
 */
export interface Ratification {
  any?: string
  byPrincipal?: string
  automation: string[]
}

export function findRatification(file: string | undefined, contractHash: string, roster: LoadedRoster, nowNanos: bigint, automationKeyId: string): Ratification {
  const found: Ratification = {automation: []}
  if (file === undefined || !existsSync(file)) return found
  refuseSpecialFile(file, 'ratification receipts')
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue
    try {
      const r = parseEvidenceReceipt(line)
      if (r.payloadKind !== 'contract_ratified' || r.contractHash !== contractHash) continue
      const payload = r.payload
      if (!(payload instanceof Map) || payload.get('contract_hash') !== contractHash) continue
      const key = authorizeSignerForPayload(roster, 'contract_ratified', r.signature.signerKeyId, nowNanos)
      if (!verifyEvidence(r, {publicKey: key.publicKeyHex, expectedSignerKeyId: key.keyId}).valid) continue
      found.any ??= line
      if (key.principal !== '' && key.keyId !== automationKeyId && payload.get('ratifier_key_id') === key.keyId) {
        found.byPrincipal ??= line
      } else if (!found.automation.includes(key.keyId)) {
        found.automation.push(key.keyId)
      }
    } catch {
      // not a receipt we can trust: keep looking
    }
  }
  return found
}

/**
 * The store's own copy of the receipts that proved its promoted contracts ratified
 * (<store>/ratification-receipts.jsonl): a rollback in a ratified-only store reads it.
 */
export function storeRatificationReceipts(root: string): string {
  return path.join(root, RATIFICATION_RECEIPTS)
}

/** Files a verified receipt line in the store's copy (once per line). */
export function keepRatificationReceipt(root: string, line: string): void {
  const file = storeRatificationReceipts(root)
  const kept = line.trim()
  if (existsSync(file) && readFileSync(file, 'utf8').split('\n').includes(kept)) return
  appendLine(file, kept)
}

/** Refuses a contract no person ratified in a ratified-only store. */
export function assertRatified(p: StorePolicy | undefined, found: Ratification, contractHash: string, receipts: string | undefined): void {
  if (p === undefined || !p.ratifiedOnly || found.byPrincipal !== undefined) return
  const where = receipts === undefined ? '' : ` in ${receipts}`
  if (found.automation.length > 0) {
    throw refuse(
      `contract store policy accepts contracts ratified by a principal only: the contract_ratified receipt for ${contractHash}${where} is signed only by keys that cannot ratify here (no principal in the roster, or the key signing this operation's receipts): ${found.automation.join(', ')}`,
      'a person ratifies with their own receipt-signing key listed in the roster with role= (learn ratify --receipt-key-agent <their key>), then pass its receipts with --ratification-receipts',
    )
  }
  throw refuse(
    `contract store policy accepts ratified contracts only: no verified contract_ratified receipt for ${contractHash}${where}`,
    'run learn ratify on the candidate with a ratifier key that has a principal in the roster, then pass its receipts with --ratification-receipts',
  )
}
