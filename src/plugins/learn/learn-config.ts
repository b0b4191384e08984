import {readFileSync} from 'node:fs'
import {z} from 'zod'
import {canonicalBytes, fromPlain} from '../canonical/index.js'
import {ConfigYamlError, configFileText, parseConfigYaml} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import {refuseSpecialFile, sha256Hex} from '../signing/index.js'
import {NORMALIZATION_ALGORITHM} from './normalize.js'

// The `learn` block of the config file (learn-compile §17). The full config schema belongs to
// the config plugin; compile reads only this block, strictly, with its own schema.

const count = z.number().int()
const floorsSchema = z.strictObject({min_sessions: count.optional(), min_events: count.optional(), min_windows: count.optional()})
const normalizationSchema = z.strictObject({
  algorithm: z.enum(['', NORMALIZATION_ALGORITHM]).optional(),
  min_events: count.optional(),
  min_distinct_values: count.optional(),
  entropy_threshold_bits: z.number().optional(),
  reserved_segments_extra: z.array(z.string()).optional(),
  cardinality_cap_per_host: count.optional(),
  tail_promotion_block_pct: z.number().optional(),
})
const learnSchema = z.strictObject({
  enabled: z.boolean().optional(),
  capture_dir: z.string().optional(),
  privacy: z.strictObject({salt_source: z.string().optional(), public_allowlist_default: z.boolean().optional()}).optional(),
  inference: z.strictObject({floors: floorsSchema.optional(), normalization: normalizationSchema.optional()}).optional(),
})

export type LearnBlock = z.infer<typeof learnSchema>

function nonNegative(path: string, v: number | undefined): void {
  if (v !== undefined && v < 0) throw new PipelockError('CONFIG_INVALID', `learn.inference.${path}: ${v}: must be non-negative`)
}

/** Validates a parsed `learn` block (undefined = all defaults). */
export function parseLearnBlock(value: unknown, file: string): LearnBlock {
  if (value === undefined || value === null) return {}
  const r = learnSchema.safeParse(value)
  if (!r.success) {
    const issue = r.error.issues[0]
    const where = ['learn', ...(issue?.path ?? [])].join('.')
    throw new PipelockError('CONFIG_INVALID', `${where}: ${issue?.message ?? 'invalid'}`, {location: {file}})
  }
  const b = r.data
  const f = b.inference?.floors
  nonNegative('floors.min_sessions', f?.min_sessions)
  nonNegative('floors.min_events', f?.min_events)
  nonNegative('floors.min_windows', f?.min_windows)
  const n = b.inference?.normalization
  nonNegative('normalization.min_events', n?.min_events)
  nonNegative('normalization.min_distinct_values', n?.min_distinct_values)
  nonNegative('normalization.cardinality_cap_per_host', n?.cardinality_cap_per_host)
  if (n?.entropy_threshold_bits !== undefined && (n.entropy_threshold_bits < 0 || n.entropy_threshold_bits > 8)) {
    throw new PipelockError('CONFIG_INVALID', `learn.inference.normalization.entropy_threshold_bits: ${n.entropy_threshold_bits}: must be between 0 and 8`)
  }
  if (n?.tail_promotion_block_pct !== undefined && (n.tail_promotion_block_pct < 0 || n.tail_promotion_block_pct > 100)) {
    throw new PipelockError('CONFIG_INVALID', `learn.inference.normalization.tail_promotion_block_pct: ${n.tail_promotion_block_pct}: must be between 0 and 100`)
  }
  if (n?.reserved_segments_extra?.some((s) => s === '')) {
    throw new PipelockError('CONFIG_INVALID', 'learn.inference.normalization.reserved_segments_extra: empty strings are not allowed')
  }
  return b
}

/** Reads the `learn` block from a YAML config file; a missing default file means defaults. */
export function loadLearnBlock(file: string, mustExist: boolean): LearnBlock {
  refuseSpecialFile(file, 'config')
  let bytes: Buffer
  try {
    bytes = readFileSync(file)
  } catch (e) {
    if (!mustExist && (e as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new PipelockError('FILE_UNREADABLE', `cannot read config: ${(e as Error).message}`, {location: {file}})
  }
  // Read as every command reads the config file (one document, merge keys, the alias and
  // nesting bounds: config/yaml-source.ts); an empty file is `{}`.
  let doc: unknown
  try {
    doc = parseConfigYaml(configFileText(bytes)).value
  } catch (e) {
    if (!(e instanceof ConfigYamlError)) throw e
    throw new PipelockError('YAML_INVALID', `config is not valid YAML: ${e.message}`, {location: e.line === undefined ? {file} : {file, line: e.line}})
  }
  return parseLearnBlock((doc as Record<string, unknown>).learn, file)
}

/**
 * The CLI's `compile_config_hash`: 64 hex of SHA-256 over the canonical JSON of the resolved
 * inference settings (the reference hashes its whole policy; this port defines its own stable
 * equivalent over what shapes the contract, learn-compile §9).
 */
export function learnConfigHash(resolved: Record<string, unknown>): string {
  return sha256Hex(canonicalBytes(fromPlain(resolved)))
}
