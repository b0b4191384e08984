import {canonicalBytes, defineStruct, JsonNumber, projectStruct, type JsonObject, type JsonValue} from '../canonical/index.js'
import {sha256Hex} from '../signing/index.js'

// The active manifest (learn-lifecycle §2.2): which contract each selector runs under, in which
// environment, at which generation. Field order is the reference's struct order; `oe` = omit-if-empty.

export const MANIFEST_KIND = 'activation_manifest'
/** What the CLI writes as `history_root` (not validated anywhere, §2.2). */
export const HISTORY_ROOT_ZERO = 'sha256:' + '0'.repeat(64)
/** `prior_manifest_hash` of the first promote. */
export const GENESIS_MANIFEST_HASH = 'sha256:genesis'

export const MANIFEST_SELECTOR = defineStruct('ManifestSelector', [
  {name: 'selector_id', kind: 'string'},
  {name: 'agent', kind: 'string', oe: true},
  {name: 'agent_glob', kind: 'string', oe: true},
  {name: 'default', kind: 'bool', oe: true},
  {name: 'contract_hash', kind: 'string'},
])

export const MANIFEST_ENVIRONMENT = defineStruct('Environment', [
  {name: 'id', kind: 'string'},
  {name: 'tenant', kind: 'string'},
  {name: 'deployment_id', kind: 'string'},
])

export const ACTIVE_MANIFEST_BODY = defineStruct('ActiveManifest', [
  {name: 'schema_version', kind: 'int'},
  {name: 'manifest_kind', kind: 'string'},
  {name: 'generation', kind: 'uint64'},
  {name: 'prior_manifest_hash', kind: 'string'},
  {name: 'selector_set_hash', kind: 'string'},
  {name: 'environment', kind: 'struct', schema: MANIFEST_ENVIRONMENT},
  {name: 'selectors', kind: 'structs', schema: MANIFEST_SELECTOR},
  {name: 'history_root', kind: 'string'},
  {name: 'rollback_target', kind: 'string', oe: true},
  {name: 'signed_at', kind: 'time'},
])

export const MANIFEST_SIGNATURE = defineStruct('ManifestSignature', [
  {name: 'key_id', kind: 'string'},
  {name: 'principal', kind: 'string'},
  {name: 'key_purpose', kind: 'string'},
  {name: 'algorithm', kind: 'string'},
  {name: 'signature', kind: 'string'},
])

export const ACTIVE_MANIFEST_ENVELOPE = defineStruct('ActiveManifestEnvelope', [
  {name: 'body', kind: 'struct', schema: ACTIVE_MANIFEST_BODY},
  {name: 'signatures', kind: 'structs', schema: MANIFEST_SIGNATURE},
])

export interface ManifestEnvironment {
  id: string
  tenant: string
  deploymentId: string
}

export interface SelectorInput {
  agent?: string
  agentGlob?: string
  default?: boolean
  contractHash: string
}

const unknownFields = (_label: string, names: string[], p: string): string =>
  `unknown field in signed-artifact transport payload: ${p}.${names[0] ?? ''}`

/**
 * selector_id = sha256:hex(SHA-256(canonical of the selector without selector_id)), where the
 * object carries agent/agent_glob only when non-empty and default only when true (§2.2).
 */
export function manifestSelectorId(sel: SelectorInput): string {
  const m: JsonObject = new Map()
  if (sel.agent) m.set('agent', sel.agent)
  if (sel.agentGlob) m.set('agent_glob', sel.agentGlob)
  if (sel.default === true) m.set('default', true)
  m.set('contract_hash', sel.contractHash)
  return 'sha256:' + sha256Hex(canonicalBytes(m))
}

/** selector_set_hash = sha256 over canonical(sorted selector ids); `[]` for none (§2.2). */
export function selectorSetHash(ids: readonly string[]): string {
  // Sorting by code point: the ids are ASCII, so JS's default sort is byte order here.
  return 'sha256:' + sha256Hex(canonicalBytes([...ids].sort()))
}

/** The manifest hash: sha256 over canonical(body); signatures are not part of it (§2.2). */
export function activeManifestHash(body: JsonObject): string {
  return 'sha256:' + sha256Hex(canonicalBytes(body))
}

/** A manifest selector as an ordered tree with its computed id. */
export function manifestSelector(sel: SelectorInput): JsonObject {
  const m: JsonObject = new Map<string, JsonValue>([['selector_id', manifestSelectorId(sel)]])
  if (sel.agent) m.set('agent', sel.agent)
  if (sel.agentGlob) m.set('agent_glob', sel.agentGlob)
  if (sel.default === true) m.set('default', true)
  m.set('contract_hash', sel.contractHash)
  return m
}

export function selectorInputOf(sel: JsonObject): SelectorInput {
  return {
    agent: (sel.get('agent') as string | undefined) ?? '',
    agentGlob: (sel.get('agent_glob') as string | undefined) ?? '',
    default: sel.get('default') === true,
    contractHash: (sel.get('contract_hash') as string | undefined) ?? '',
  }
}

/** Whom a selector chooses, as the CLI names it: `agent NAME`, `agent_glob GLOB` or `default`. */
export function selectorLabel(s: Omit<SelectorInput, 'contractHash'>): string {
  return s.agent ? `agent ${s.agent}` : s.agentGlob ? `agent_glob ${s.agentGlob}` : s.default === true ? 'default' : '(no agent)'
}

export function manifestSelectors(body: JsonObject): JsonObject[] {
  return (body.get('selectors') as JsonObject[] | null) ?? []
}

export function manifestGeneration(body: JsonObject): bigint {
  const g = body.get('generation')
  return g instanceof JsonNumber ? BigInt(g.text) : 0n
}

export function manifestEnvironment(body: JsonObject): ManifestEnvironment {
  const e = body.get('environment') as JsonObject
  return {id: e.get('id') as string, tenant: e.get('tenant') as string, deploymentId: e.get('deployment_id') as string}
}

/** `Validate()` of §2.2; undefined when valid, else the reference's message. */
export function activeManifestProblem(body: JsonObject): string | undefined {
  const sv = body.get('schema_version')
  const svText = sv instanceof JsonNumber ? sv.text : String(sv)
  if (svText !== '1') return `manifest: unsupported schema_version: got ${svText}, want 1`
  if (body.get('manifest_kind') !== MANIFEST_KIND) return 'manifest: unknown manifest_kind'
  const ids: string[] = []
  const seen = new Set<string>()
  for (const sel of manifestSelectors(body)) {
    const claimed = sel.get('selector_id') as string
    if (seen.has(claimed)) return 'manifest: duplicate selector_id in manifest'
    seen.add(claimed)
    const computed = manifestSelectorId(selectorInputOf(sel))
    if (claimed !== computed) return `manifest: selector_id does not match computed value: claimed=${claimed} computed=${computed}`
    ids.push(claimed)
  }
  const claimedSet = body.get('selector_set_hash') as string
  if (claimedSet === '') return 'manifest: selector_set_hash is required'
  const computedSet = selectorSetHash(ids)
  if (claimedSet !== computedSet) return `manifest: selector_set_hash does not match computed value: claimed=${claimedSet} computed=${computedSet}`
  return undefined
}

export interface ActiveManifestEnvelope {
  body: JsonObject
  signatures: JsonObject[]
  /** The projected envelope (Go struct order), for re-encoding. */
  tree: JsonObject
}

/** Strict typed decode of an already parsed tree; throws ShapeError with the reference's text. */
export function projectActiveManifest(tree: JsonValue): ActiveManifestEnvelope {
  const env = projectStruct(ACTIVE_MANIFEST_ENVELOPE, tree, 'active manifest', {unknownFields})
  return {body: env.get('body') as JsonObject, signatures: (env.get('signatures') as JsonObject[] | null) ?? [], tree: env}
}


