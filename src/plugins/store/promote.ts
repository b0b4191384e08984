import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {goJson, goPathMatch, goTrimSpace, JsonNumber, type JsonObject, type JsonValue} from '../canonical/index.js'
import {
  activeManifestHash,
  activeManifestProblem,
  GENESIS_MANIFEST_HASH,
  HISTORY_ROOT_ZERO,
  MANIFEST_KIND,
  manifestSelector,
  manifestSelectors,
  selectorInputOf,
  selectorLabel,
  selectorSetHash,
  type SelectorInput,
} from '../contracts/index.js'
import {PipelockError} from '../errors/index.js'
import {latestAccepted} from './history.js'
import {HISTORY_PREFIX, isStoreHash, objectPath, storeLayout} from './paths.js'
import {
  appendLifecycleReceipt,
  environmentTree,
  lifecyclePrologue,
  manifestEnvelopeBytes,
  nowText,
  precheckDualControl,
  inputFileSize,
  resolveEnvironment,
  signManifest,
  uintNumber,
  type LifecycleRequest,
  swapOutcome,
} from './lifecycle.js'
import {assertQuorum, assertRatified, findRatification, keepRatificationReceipt, policyFile, policyInForce, raisedPolicy, RATIFICATION_RECEIPTS, writeStorePolicy, type RaisedPolicy} from './policy.js'
import {checkSwap, storedForm, storedFormLength, trySwapActive, verifyContractForStore} from './store.js'
import {STORE_CONTRACT_MAX_BYTES} from './fs-io.js'
import {assertEnforces, enforcementCoverage, historyCoverage, unenforcedSentence, type EnforcementCoverage} from './enforcement-coverage.js'

// `pipelock learn promote` (learn-lifecycle §6.3) with the port's decisions:
// * --candidate stages the ratified contract into history/ itself (§10.10), verified against the
//   roster first and written only when the swap is accepted;
// * a read-only pre-flight runs every store check before anything is written: a refused input
//   (tampered candidate, bad keys, corrupt store, replayed active.json, unreadable tombstone)
//   leaves the store byte-for-byte unchanged. Only a well-formed promote that the store's policy
//   denies under the lock (a tombstoned contract, §6.7, or a lost CAS race) is recorded: intent
//   receipt, `rejected` committed receipt and a `rejected` journal line.

export interface PromoteRequest extends LifecycleRequest {
  contract?: string
  candidate?: string
  /** contract_ratified receipts (JSONL); default <dir of --candidate>/ratification-receipts.jsonl. */
  ratificationReceipts?: string
  selector: string
  intentId?: string
  /** Activate a contract that enforces no rule (observation only); refused without it. */
  allowUnenforced?: boolean
}

export interface PromoteResult {
  outcome: 'accepted'
  manifestHash: string
  generation: number
  priorManifestHash: string
  contractHash: string
  selectorId: string
  intentId: string
  staged: boolean
  storeDir: string
  receiptFile: string
  signerKeyIds: string[]
  /**
   * The selectors of the generation this one follows that it does not carry (a manifest built by
   * promote holds one selector, §6.3) and whose agents the new selector does not still select
   * (`stillSelected`): `agent NAME (contract sha256:…)`. Those agents have no contract from now on.
   */
  replacedSelectors: string[]
  /** Rules of the activated contract with lifecycle_state enforce (0: the agent is not locked). */
  enforcedRules: number
  totalRules: number
  /** What the operator must know about this activation (also printed on stderr). */
  warnings: string[]
  /** The store policy this --production promote raised (absent when it did not change it). */
  policyRaised?: RaisedPolicy
}

export function selectorFromFlag(value: string, contractHash: string): SelectorInput {
  if (value === 'default') return {default: true, contractHash}
  if (value.includes('*') || value.includes('?')) return {agentGlob: value, contractHash}
  return {agent: value, contractHash}
}

/**
 * Whether every agent `prev` selected is still selected by `next` (so it keeps a contract, the
 * new one): a default selects every agent, a glob the agents it matches as the runtime matches
 * them (§7.5: Go path.Match on the trimmed name). Whether one glob covers another is not worked
 * out: a dropped glob is reported unless `next` is the default.
 */
function stillSelected(next: SelectorInput, prev: SelectorInput): boolean {
  if (next.default === true) return true
  if (next.agentGlob && prev.agent) return goPathMatch(next.agentGlob, goTrimSpace(prev.agent)) === true
  return false
}

/**
 * `--contract` alone activates a contract the store already holds; a contract reaches history/
 * only through a promote with --candidate. Said before anything else about the store, so a hash
 * that was never staged does not read as a damaged store.
 */
function assertInHistory(root: string, contractHash: string): void {
  let file: string
  try {
    file = objectPath(storeLayout(root).history, contractHash, '.yaml')
  } catch {
    return // not a sha256:<hex> hash: the manifest checks refuse it with their own words
  }
  if (existsSync(file)) return
  throw new PipelockError('LIFECYCLE_REFUSED', `learn promote: contract ${contractHash} is not in the contract store (${file} does not exist)`, {
    hint: 'pass the ratified contract file with --candidate FILE: promote verifies it and stages it into history/; --contract alone re-activates a contract an earlier promote staged',
  })
}

/**
 * `--contract` takes a hash. A file path there (or a typo) is the operator's input, not a damaged
 * store: said as such, before anything about the store is read.
 */
function assertContractFlag(contract: string | undefined): void {
  if (contract === undefined || contract === '' || isStoreHash(contract)) return
  const hint = contract.startsWith('sha256:') ? 'a contract hash is sha256: and 64 lowercase hex digits' : 'to promote a contract file, pass it with --candidate FILE'
  throw new PipelockError('LIFECYCLE_REFUSED', `learn promote: --contract takes a contract hash (sha256:<64 hex>), not ${JSON.stringify(contract)}`, {hint})
}

/** Refuses a candidate whose stored form (`storedForm`) is `bytes` long when that is over the store's cap. */
function refuseOversized(file: string, bytes: number): void {
  if (bytes <= STORE_CONTRACT_MAX_BYTES) return
  throw new PipelockError(
    'LIFECYCLE_REFUSED',
    `learn promote: --candidate ${file} is ${bytes} bytes as the store would hold it, over the ${STORE_CONTRACT_MAX_BYTES}-byte (16 MiB) cap of a contract in the store: pipelock run reads every active contract whole, so a contract this large is not enforced`,
    {hint: 'compile from a narrower capture (one agent, a shorter window) or raise learn.inference floors, so that fewer rules are emitted; learn review lists them (the contract store was not touched)'},
  )
}

/**
 * The candidate verified as the store verifies what it stages. A candidate that does not decode
 * or whose body no longer matches its contract_hash is a bad input file: the store's own "history
 * invalid" words would send the operator to check a store that was never touched.
 */
function verifyCandidate(file: string, opts: Parameters<typeof verifyContractForStore>[2]): ReturnType<typeof verifyContractForStore> {
  // Refused before it is decoded (a 158,778-rule, 213 MB candidate took 67 s and 3.4 GB to
  // decode and verify): the store reads a contract back only up to its cap, and `pipelock run`
  // decodes every active contract whole at start and on each store reload. A file over the cap
  // is measured a chunk at a time first, so it is refused without being read whole; the bytes
  // read are measured again (the file may have changed in between).
  if (inputFileSize(file, 'candidate') > STORE_CONTRACT_MAX_BYTES) refuseOversized(file, storedFormLength(file))
  const raw = readFileSync(file)
  const stored = storedForm(raw)
  refuseOversized(file, stored.length)
  try {
    return verifyContractForStore(raw, file, opts, stored)
  } catch (err) {
    if (!(err instanceof PipelockError) || err.code !== 'STORE_HISTORY_INVALID') throw err
    const detail = err.message.replace(HISTORY_PREFIX, '').replace(`decode ${file}: `, 'does not decode as a contract: ').replace(`${file}: `, '')
    throw new PipelockError('CANDIDATE_INVALID', `learn promote: --candidate ${file}: ${detail}`, {
      hint: 'the candidate was modified after signing, or is not a signed contract; recompile and ratify it (the contract store was not touched)',
    })
  }
}

export function runPromote(req: PromoteRequest): PromoteResult {
  assertContractFlag(req.contract)
  const ctx = lifecyclePrologue(req, {intent: 'contract_promote_intent', committed: 'contract_promote_committed'})
  const root = ctx.root
  // §10.10: the candidate is verified (strict decode, hash, Validate, roster signature) up front.
  const staged = new Map<string, Buffer>()
  let contractHash = req.contract ?? ''
  let coverage: EnforcementCoverage | undefined
  if (req.candidate !== undefined) {
    const c = verifyCandidate(req.candidate, ctx.storeOptions)
    // the staged bytes are c.stored: the swap's checks find this decode again
    ctx.storeOptions.decoded?.set(c.hash, {raw: c.stored, contract: c})
    coverage = enforcementCoverage(c.body)
    if (contractHash !== '' && contractHash !== c.hash) {
      throw new PipelockError('LIFECYCLE_REFUSED', `learn promote: --contract ${contractHash} does not match the candidate's contract_hash ${c.hash}`)
    }
    contractHash = c.hash
    staged.set(c.hash, c.stored)
  }
  if (contractHash === '') throw new PipelockError('LIFECYCLE_REFUSED', 'learn promote: --contract is required', {hint: 'or pass --candidate FILE'})
  if (!req.selector) throw new PipelockError('LIFECYCLE_REFUSED', 'learn promote: --selector is required')
  if (req.candidate === undefined) assertInHistory(root, contractHash)

  // The store's policy (issue 10 item 9): quorum and ratification, checked before anything is written.
  const policy = policyInForce(root, ctx.roster, ctx.clock.nowNanos(), ctx.storeOptions, 'learn promote')
  assertQuorum(policy, ctx.signers, 'a promote')
  const receipts = req.ratificationReceipts ?? (req.candidate !== undefined ? path.join(path.dirname(req.candidate), RATIFICATION_RECEIPTS) : undefined)
  // Ratified-only counts a person's ratification only: never one signed by the automation key
  // (this promote's receipt key, or any receipt key without a principal in the roster).
  const found = findRatification(receipts, contractHash, ctx.roster, ctx.clock.nowNanos(), ctx.receiptSigner.keyId)
  assertRatified(policy, found, contractHash, receipts)
  const proof = found.byPrincipal ?? found.any

  const baseline = latestAccepted(root, ctx.storeOptions, 'baseline')
  const env = resolveEnvironment(req, baseline?.envelope.body)
  const storeOptions = {...ctx.storeOptions, environment: env, minimumSignatures: Math.max(ctx.minimumSignatures, policy?.minimumSignatures ?? 1)}
  const selector = manifestSelector(selectorFromFlag(req.selector, contractHash))
  const selectorId = selector.get('selector_id') as string
  const chosen = selectorLabel(selectorFromFlag(req.selector, contractHash))
  const replacedSelectors = manifestSelectors(baseline?.envelope.body ?? new Map())
    .map(selectorInputOf)
    .filter((s) => selectorLabel(s) !== chosen && !stillSelected(selectorFromFlag(req.selector, contractHash), s))
    .map((s) => `${selectorLabel(s)} (contract ${s.contractHash})`)
  const prior = baseline?.hash ?? GENESIS_MANIFEST_HASH
  const generation = (baseline?.generation ?? 0n) + 1n
  // Promoting what is already active is allowed (a new generation, signed again) but said.
  const alreadyActive = manifestSelectors(baseline?.envelope.body ?? new Map())
    .map(selectorInputOf)
    .some((s) => selectorLabel(s) === chosen && s.contractHash === contractHash)
  const body: JsonObject = new Map<string, JsonValue>([
    ['schema_version', new JsonNumber('1')],
    ['manifest_kind', MANIFEST_KIND],
    ['generation', uintNumber(generation)],
    ['prior_manifest_hash', prior],
    ['selector_set_hash', selectorSetHash([selectorId])],
    ['environment', environmentTree(env)],
    ['selectors', [selector]],
    ['history_root', HISTORY_ROOT_ZERO],
    ['signed_at', nowText(ctx.clock)],
  ])
  const problem = activeManifestProblem(body)
  if (problem !== undefined) throw new PipelockError('STORE_INVALID', problem)
  const signatures = signManifest(body, ctx.signers)
  precheckDualControl(ctx.signers, ctx.minimumSignatures)
  coverage ??= historyCoverage(root, contractHash)
  assertEnforces('learn promote', contractHash, coverage, req.allowUnenforced === true)
  const target = activeManifestHash(body)
  const raw = manifestEnvelopeBytes(body, signatures)
  const swap = {raw, previousHash: baseline?.hash ?? '', previousGeneration: baseline?.generation ?? 0n, staged}

  // Pre-flight: every check of the swap, read-only. Only a policy denial goes on to be recorded.
  try {
    checkSwap(root, storeOptions, swap)
  } catch (e) {
    if (!(e instanceof PipelockError) || e.code !== 'STORE_TOMBSTONED') throw e
  }

  const intentId = req.intentId || (req.deterministic ? 'promote-intent-deterministic' : req.newId())
  const context = {activeManifestHash: target, contractHash, selectorId, contractGeneration: generation}
  appendLifecycleReceipt(
    ctx,
    {
      payloadKind: 'contract_promote_intent',
      eventId: intentId,
      principal: ctx.signers[0]?.keyId as string,
      actor: 'learn promote',
      ...context,
      payload: {target_manifest_hash: target, target_generation: generation, prior_manifest_hash: prior, intent_id: intentId},
    },
    'activation',
  )
  const {accepted, failure} = trySwapActive(root, storeOptions, swap)
  appendLifecycleReceipt(
    ctx,
    {
      payloadKind: 'contract_promote_committed',
      eventId: `${intentId}-committed`,
      principal: 'learn',
      actor: 'learn promote',
      ...context,
      payload: {
        target_manifest_hash: target,
        prior_manifest_hash: prior,
        intent_id: intentId,
        ...swapOutcome(failure),
      },
    },
    'receipt',
  )
  if (failure !== undefined || accepted === undefined) throw failure as PipelockError
  // The proof stays with the store: a rollback in a ratified-only store checks it again.
  if (proof !== undefined) keepRatificationReceipt(root, proof)
  // The first promote sets the store's policy: its quorum, and ratified-only if a person ratified
  // it (an automation key's ratification does not turn the store ratified-only).
  if (policy === undefined) writeStorePolicy(root, {minimumSignatures: ctx.minimumSignatures, ratifiedOnly: found.byPrincipal !== undefined}, ctx.signers, nowText(ctx.clock))
  // A later --production promote raises the policy to its principals: dual control sticks.
  const raised = policy === undefined ? undefined : raisedPolicy(policy, ctx.signers, req.production === true)
  if (raised !== undefined) writeStorePolicy(root, raised, ctx.signers, nowText(ctx.clock))
  return {
    outcome: 'accepted',
    manifestHash: accepted.hash,
    generation: Number(generation),
    priorManifestHash: prior,
    contractHash,
    selectorId,
    intentId,
    staged: staged.size > 0,
    storeDir: root,
    receiptFile: ctx.receiptFile,
    signerKeyIds: accepted.signerKeyIds,
    replacedSelectors,
    enforcedRules: coverage?.enforced ?? 0,
    totalRules: coverage?.total ?? 0,
    warnings: [
      ...(alreadyActive ? [`learn promote: contract ${contractHash} was already active for ${chosen} (generation ${baseline?.generation}); generation ${generation} activates it again`] : []),
      ...(coverage !== undefined && coverage.enforced === 0 ? [`learn promote: ${unenforcedSentence(contractHash, coverage)}`] : []),
    ],
    ...(raised === undefined ? {} : {policyRaised: {...raised, file: policyFile(root)}}),
  }
}

/** §9.3 audit line of a successful promote/rollback. */
export function lifecycleAuditLine(event: 'learn_promote' | 'learn_rollback', r: {signerKeyIds: string[]; receiptFile: string; manifestHash: string}, candidate?: string): string {
  const m: JsonObject = new Map<string, JsonValue>([['event', event]])
  if (candidate) m.set('candidate', candidate)
  m.set('signer_key_id', r.signerKeyIds[0] ?? '')
  m.set('output', r.receiptFile)
  m.set('manifest', r.manifestHash)
  m.set('receipts_emitted', new JsonNumber('2'))
  m.set('noop', false)
  return goJson(m)
}
