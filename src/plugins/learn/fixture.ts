import {z} from 'zod'
import {fromPlain, parseJson, type JsonObject, type JsonValue} from '../canonical/index.js'
import {jsonParseReason, PipelockError} from '../errors/index.js'
import {keyPairFromSeed, sha256} from '../signing/index.js'
import type {CompileConfig, CompileSigner, InputRefOverride} from './compile.js'

/** The deterministic clock of `--deterministic` and fixtures (learn-compile §18.2, §19.4). */
export const DETERMINISTIC_CLOCK = '2026-04-29T22:00:00Z'

const nonNeg = z.number().nonnegative()

// §19.4: unknown keys are ignored (zod strips them); absent or empty values mean "default".
const fixtureSchema = z.object({
  agent: z.string(),
  floors: z.object({min_sessions: nonNeg.int().optional(), min_events: nonNeg.int().optional(), min_windows: nonNeg.int().optional()}).optional(),
  normalization: z
    .object({
      min_events: nonNeg.int().optional(),
      min_distinct_values: nonNeg.int().optional(),
      entropy_threshold_bits: z.number().min(0).max(8).optional(),
      reserved_segments_extra: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  cardinality: z.object({cardinality_cap_per_host: nonNeg.int().optional(), tail_promotion_block_pct: z.number().min(0).max(100).optional()}).optional(),
  window_duration_seconds: z.number().int().nonnegative().optional(),
  accept_tail: z.boolean().optional(),
  // [ext, mcp.md §15.6.1] `learn compile --include-mcp`
  include_mcp: z.boolean().optional(),
  compile_config_hash: z.string().optional(),
  pipelock_version: z.string().optional(),
  pipelock_build_sha: z.string().optional(),
  go_version: z.string().optional(),
  module_digest_root: z.string().optional(),
  prior_contract_hash: z.string().optional(),
  observation_window_id: z.string().optional(),
  input_refs: z.array(z.object({path: z.string(), sha256: z.string().optional(), event_count: z.number().int().nonnegative()})).optional(),
  settings: z.record(z.string(), z.unknown()).optional(),
  deterministic: z.boolean().optional(),
  deterministic_clock: z.string().optional(),
  signer: z.object({
    seed_hex: z.string().regex(/^[0-9a-fA-F]{64}$/).optional(),
    seed_phrase: z.string().optional(),
    public_key_hex: z.string().optional(),
    key_id: z.string().min(1),
  }),
  // Project extension (not in §19.4): pins the manifest's module_digests so that golden
  // manifests, signature included, do not change with this build's dependencies.
  module_digests: z.record(z.string(), z.string()).optional(),
})

export interface CompileFixture {
  config: CompileConfig
  signer: CompileSigner
  /** RFC 3339 instant for both manifest timestamps when deterministic; undefined = wall clock. */
  clock?: string
  inputRefs?: InputRefOverride[]
  moduleDigests?: JsonObject
}

/** Build provenance the fixture may leave empty (the command layer fills it from this build). */
export interface BuildProvenance {
  pipelockVersion: string
  pipelockBuildSha: string
  goVersion: string
  moduleDigestRoot: string
  compileConfigHash: string
}

/** Parses a §19.4 fixture (JSON text). Errors are CONFIG_INVALID naming the file. */
export function parseCompileFixture(text: string, file: string, build: BuildProvenance): CompileFixture {
  let plain: unknown
  let tree: JsonValue
  try {
    plain = JSON.parse(text)
    tree = parseJson(text)
  } catch (e) {
    throw new PipelockError('JSON_INVALID', `compile fixture is not valid JSON: ${jsonParseReason(e)}`, {location: {file}})
  }
  const parsed = fixtureSchema.safeParse(plain)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new PipelockError('CONFIG_INVALID', `compile fixture: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`, {location: {file}})
  }
  const f = parsed.data
  const seed = f.signer.seed_hex !== undefined ? Buffer.from(f.signer.seed_hex, 'hex') : f.signer.seed_phrase !== undefined ? sha256(f.signer.seed_phrase) : undefined
  if (seed === undefined) throw new PipelockError('CONFIG_INVALID', 'compile fixture: signer needs seed_hex or seed_phrase', {location: {file}})
  const keyPair = keyPairFromSeed(seed)
  if (f.signer.public_key_hex !== undefined && f.signer.public_key_hex.toLowerCase() !== keyPair.publicKey.toString('hex')) {
    throw new PipelockError('KEY_INVALID', 'compile fixture: signer.public_key_hex does not match the seed', {location: {file}})
  }
  // settings keep their JSON number lexemes (they are signed into the manifest).
  const settingsTree = tree instanceof Map ? tree.get('settings') : undefined
  const config: CompileConfig = {
    agent: f.agent,
    floors: f.floors ?? {},
    normalization: f.normalization ?? {},
    cardinalityCapPerHost: f.cardinality?.cardinality_cap_per_host ?? 0,
    tailPromotionBlockPct: f.cardinality?.tail_promotion_block_pct ?? 0,
    acceptTail: f.accept_tail ?? false,
    ...(f.include_mcp === true ? {includeMcp: true} : {}),
    windowSeconds: f.window_duration_seconds ?? 0,
    compileConfigHash: f.compile_config_hash || build.compileConfigHash,
    pipelockVersion: f.pipelock_version || build.pipelockVersion,
    pipelockBuildSha: f.pipelock_build_sha || build.pipelockBuildSha,
    goVersion: f.go_version || build.goVersion,
    moduleDigestRoot: f.module_digest_root || build.moduleDigestRoot,
    ...(f.prior_contract_hash ? {priorContractHash: f.prior_contract_hash} : {}),
    ...(f.observation_window_id ? {observationWindowId: f.observation_window_id} : {}),
    ...(settingsTree instanceof Map ? {settings: settingsTree} : {}),
  }
  return {
    config,
    signer: {keyPair, keyId: f.signer.key_id},
    ...(f.deterministic ? {clock: f.deterministic_clock || DETERMINISTIC_CLOCK} : {}),
    ...(f.input_refs ? {inputRefs: f.input_refs} : {}),
    ...(f.module_digests ? {moduleDigests: fromPlain(f.module_digests) as JsonObject} : {}),
  }
}
