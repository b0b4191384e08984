import {readdirSync} from 'node:fs'
import {compareUtf8, type JsonObject} from '../canonical/index.js'
import {activeManifestHash, manifestGeneration, manifestSelectors, selectorLabel} from '../contracts/index.js'
import {PipelockError} from '../errors/index.js'
import {decodeActiveManifest} from './artifacts.js'
import {readRegularFile, STORE_LOG_MAX_BYTES} from './fs-io.js'
import {storeLayout} from './paths.js'
import {promotionTraces} from './promotion-traces.js'

// `learn store history` (issue 34): what a store has activated, generation by generation, read
// from manifests/ (the accepted manifests, write-once) and the activation journal. A listing,
// not a verification: signatures are shown as the manifests carry them; promote, rollback and
// `pipelock run` verify them against the roster whenever a manifest becomes active.

export interface HistorySelector {
  selectorId: string
  /** `agent NAME`, `agent_glob GLOB` or `default`. */
  agent: string
  agentGlob: string
  default: boolean
  contractHash: string
}

export interface HistorySigner {
  keyId: string
  principal: string
}

export interface HistoryGeneration {
  generation: string
  manifestHash: string
  priorManifestHash: string
  kind: 'promote' | 'rollback'
  /** The manifest a rollback re-activated ('' for a promote). */
  rollbackTarget: string
  /** Generation of the rollback target, when its manifest is in manifests/ ('' otherwise). */
  rollbackTargetGeneration: string
  signedAt: string
  /** `ts` of the journal's accepted line for this manifest ('' when the journal has none). */
  acceptedAt: string
  signers: HistorySigner[]
  environment: {id: string; tenant: string; deploymentId: string}
  selectors: HistorySelector[]
  active: boolean
}

export interface HistoryRejection {
  ts: string
  reason: string
  manifestHash: string
}

export interface StoreHistory {
  store: string
  /** The manifest hash in active.json ('' when there is none). */
  activeManifestHash: string
  generations: HistoryGeneration[]
  rejected: HistoryRejection[]
  /** Disagreements between the journal and manifests/ (a listing shows them, it does not repair). */
  problems: string[]
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '')

function readJournal(file: string): {accepted: Map<string, string>; rejected: HistoryRejection[]; journalHashes: Map<string, string>; problems: string[]} {
  const accepted = new Map<string, string>()
  const journalHashes = new Map<string, string>()
  const rejected: HistoryRejection[] = []
  const problems: string[] = []
  const raw = readRegularFile(file, 'activation journal', STORE_LOG_MAX_BYTES)
  if (raw === undefined) return {accepted, rejected, journalHashes, problems}
  raw
    .toString('utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return
      let parsed: unknown
      try {
        parsed = JSON.parse(line)
      } catch {
        problems.push(`journal line ${i + 1} is not JSON`)
        return
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        problems.push(`journal line ${i + 1} is not a JSON object`)
        return
      }
      const e = parsed as Record<string, unknown>
      const hash = str(e.manifest_hash)
      if (e.outcome === 'accepted') {
        if (hash !== '' && !accepted.has(hash)) accepted.set(hash, str(e.ts))
        if (hash !== '') journalHashes.set(hash, typeof e.generation === 'number' ? String(e.generation) : '')
      } else if (e.outcome === 'rejected') rejected.push({ts: str(e.ts), reason: str(e.reason), manifestHash: hash})
      else problems.push(e.outcome === undefined ? `journal line ${i + 1} has no outcome` : `journal line ${i + 1} has outcome ${JSON.stringify(e.outcome)}`)
    })
  return {accepted, rejected, journalHashes, problems}
}

function selectorOf(s: JsonObject): HistorySelector {
  return {
    selectorId: str(s.get('selector_id')),
    agent: str(s.get('agent')),
    agentGlob: str(s.get('agent_glob')),
    default: s.get('default') === true,
    contractHash: str(s.get('contract_hash')),
  }
}

/** Everything `learn store history` shows of the store at `root`, oldest generation first. */
export function readStoreHistory(root: string): StoreHistory {
  const layout = storeLayout(root)
  let names: string[]
  try {
    names = readdirSync(layout.manifests)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code !== 'ENOENT') throw new PipelockError('STORE_INVALID', `contract store: list manifests ${layout.manifests}: ${(e as Error).message}`)
    try {
      readdirSync(root)
    } catch {
      throw new PipelockError('STORE_INVALID', `contract store: ${root} does not exist or is not a directory`, {hint: 'pass the --contract-store of learn promote'})
    }
    names = []
  }
  const journal = readJournal(layout.journal)
  const problems = [...journal.problems]
  const generations: HistoryGeneration[] = []
  for (const name of names.sort(compareUtf8)) {
    if (!/^sha256-[0-9a-f]{64}\.json$/.test(name)) continue
    const file = `${layout.manifests}/${name}`
    const env = decodeActiveManifest(readRegularFile(file, 'accepted manifest') as Buffer, `accepted manifest ${file}`)
    const body = env.body
    const hash = activeManifestHash(body)
    if (hash !== 'sha256:' + name.slice('sha256-'.length, -'.json'.length)) problems.push(`manifests/${name} holds manifest ${hash}`)
    const target = str(body.get('rollback_target'))
    const e = body.get('environment') as JsonObject
    generations.push({
      generation: manifestGeneration(body).toString(),
      manifestHash: hash,
      priorManifestHash: str(body.get('prior_manifest_hash')),
      kind: target === '' ? 'promote' : 'rollback',
      rollbackTarget: target,
      rollbackTargetGeneration: '',
      signedAt: str(body.get('signed_at')),
      acceptedAt: journal.accepted.get(hash) ?? '',
      signers: env.signatures.map((s) => ({keyId: str(s.get('key_id')), principal: str(s.get('principal'))})),
      environment: {id: str(e.get('id')), tenant: str(e.get('tenant')), deploymentId: str(e.get('deployment_id'))},
      selectors: manifestSelectors(body).map(selectorOf),
      active: false,
    })
  }
  generations.sort((a, b) => {
    const d = BigInt(a.generation) - BigInt(b.generation)
    return d < 0n ? -1 : d > 0n ? 1 : compareUtf8(a.manifestHash, b.manifestHash)
  })
  const byHash = new Map(generations.map((g) => [g.manifestHash, g]))
  for (const g of generations) {
    if (g.rollbackTarget !== '') g.rollbackTargetGeneration = byHash.get(g.rollbackTarget)?.generation ?? ''
    if (g.acceptedAt === '') problems.push(`manifest ${g.manifestHash} (generation ${g.generation}) has no accepted line in the journal`)
  }
  for (const [h, gen] of journal.journalHashes) {
    if (!byHash.has(h)) problems.push(`the journal accepted manifest ${h}${gen === '' ? '' : ` (generation ${gen})`}, which is not in manifests/`)
  }
  let active = ''
  const raw = readRegularFile(layout.active, 'active manifest')
  if (raw !== undefined) {
    try {
      active = activeManifestHash(decodeActiveManifest(raw).body)
    } catch (err) {
      problems.push(`active.json: ${(err as Error).message}`)
    }
    const g = byHash.get(active)
    if (g !== undefined) g.active = true
    else if (active !== '') problems.push(`active.json holds manifest ${active}, which is not in manifests/`)
  } else {
    const missing = activeMissing(root, generations)
    if (missing !== undefined) problems.push(missing)
  }
  return {store: root, activeManifestHash: active, generations, rejected: journal.rejected, problems}
}

/**
 * A store that has accepted a generation but has no active.json: `pipelock run` refuses it, so the
 * listing says so in run's words rather than showing a store with nothing active.
 */
function activeMissing(root: string, generations: HistoryGeneration[]): string | undefined {
  const layout = storeLayout(root)
  const latest = generations[generations.length - 1]
  if (latest !== undefined) {
    return `active manifest ${layout.active} is missing but the store has accepted generation ${latest.generation} (${latest.manifestHash}): restore it from manifests/${latest.manifestHash.replace(':', '-')}.json or promote a new generation`
  }
  const traces = promotionTraces(root)
  if (traces.length === 0) return undefined
  return `active manifest ${layout.active} and the accepted manifests in ${layout.manifests} are missing, but the store shows promoted contracts (${traces.map((t) => `${t.file}: ${t.detail}`).join('; ')}): pipelock run refuses to start on it; restore active.json and manifests/ from a backup, or promote a new generation with learn promote`
}

function selectorText(s: HistorySelector): string {
  return `${selectorLabel(s)} -> contract ${s.contractHash}`
}

/** The text `learn store history` prints (exact-output tested). */
export function renderStoreHistory(h: StoreHistory): string {
  const active = h.generations.find((g) => g.active)
  let s = `contract store ${h.store}: ${h.generations.length} accepted manifest${h.generations.length === 1 ? '' : 's'}, ${h.rejected.length} rejected`
  s += active === undefined ? ', none active\n' : `, active generation ${active.generation}\n`
  for (const g of h.generations) {
    const what = g.kind === 'promote' ? 'promote' : `rollback to ${g.rollbackTargetGeneration === '' ? g.rollbackTarget : `generation ${g.rollbackTargetGeneration}`}`
    s += `\ngeneration ${g.generation}${g.active ? ' (active)' : ''}: ${what}\n`
    s += `  manifest  ${g.manifestHash}\n`
    s += `  prior     ${g.priorManifestHash}\n`
    if (g.kind === 'rollback') s += `  target    ${g.rollbackTarget}\n`
    s += `  signed    ${g.signedAt} by ${g.signers.map((x) => (x.principal === '' ? x.keyId : `${x.keyId} (${x.principal})`)).join(', ')}\n`
    s += `  accepted  ${g.acceptedAt === '' ? '(not in the journal)' : g.acceptedAt}\n`
    const env = g.environment
    s += `  env       ${env.id}${env.tenant === '' && env.deploymentId === '' ? '' : ` tenant=${env.tenant} deployment=${env.deploymentId}`}\n`
    for (const sel of g.selectors) s += `  selector  ${selectorText(sel)}\n`
  }
  if (h.rejected.length > 0) {
    s += '\nrejected\n'
    for (const r of h.rejected) s += `  ${r.ts}${r.manifestHash === '' ? '' : ` ${r.manifestHash}`}: ${r.reason}\n`
  }
  if (h.problems.length > 0) {
    s += '\nproblems\n'
    for (const p of h.problems) s += `  ${p}\n`
  }
  return s
}

/** The `--json` result: snake_case, every field present. */
export function storeHistoryJson(h: StoreHistory): Record<string, unknown> {
  return {
    store: h.store,
    active_manifest_hash: h.activeManifestHash === '' ? null : h.activeManifestHash,
    generations: h.generations.map((g) => ({
      generation: Number(g.generation),
      manifest_hash: g.manifestHash,
      prior_manifest_hash: g.priorManifestHash,
      kind: g.kind,
      rollback_target: g.rollbackTarget === '' ? null : g.rollbackTarget,
      rollback_target_generation: g.rollbackTargetGeneration === '' ? null : Number(g.rollbackTargetGeneration),
      signed_at: g.signedAt,
      accepted_at: g.acceptedAt === '' ? null : g.acceptedAt,
      signers: g.signers.map((x) => ({key_id: x.keyId, principal: x.principal})),
      environment: {id: g.environment.id, tenant: g.environment.tenant, deployment_id: g.environment.deploymentId},
      selectors: g.selectors.map((x) => ({selector_id: x.selectorId, agent: x.agent === '' ? null : x.agent, agent_glob: x.agentGlob === '' ? null : x.agentGlob, default: x.default, contract_hash: x.contractHash})),
      active: g.active,
    })),
    rejected: h.rejected.map((r) => ({ts: r.ts, manifest_hash: r.manifestHash === '' ? null : r.manifestHash, reason: r.reason})),
    problems: h.problems,
  }
}

/**
 * The active generation's selectors whose contract is `contractHash` (none when nothing active
 * holds it, or the store cannot be read). `learn forget --store` names them: a proxy (re)started on
 * the store then refuses the tombstoned active contract until a new promote replaces it.
 */
export function activeSelectorsHolding(root: string, contractHash: string): {generation: string; selectors: string[]} | undefined {
  let h: StoreHistory
  try {
    h = readStoreHistory(root)
  } catch {
    return undefined
  }
  const active = h.generations.find((g) => g.active)
  if (active === undefined) return undefined
  const selectors = active.selectors.filter((s) => s.contractHash === contractHash).map(selectorLabel)
  return selectors.length === 0 ? undefined : {generation: active.generation, selectors}
}
