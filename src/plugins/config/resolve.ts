import type {z} from 'zod'
import {applyDefaults, isPlainObject, resolvePaths} from './apply-defaults.js'
import {BUILTIN_CHAIN_PATTERNS} from './builtin-patterns.js'
import {defaultConfig} from './defaults.js'
import {suggestKeyPath} from './key-suggestion.js'
import {ConfigFieldError, dotted, type ConfigWarning} from './problems.js'
import {configSchemas, type DlpPatternConfig, type PipelockConfig, type ResponsePatternConfig} from './schema.js'
import {checkDlpPattern, checkResponsePattern, validateConfig} from './validate.js'
import type {TreePath} from './yaml-source.js'

export interface ResolveOptions {
  /** Directory that relative paths (`dlp.secrets_file`, TLS CA files) resolve against. */
  readonly baseDir?: string
  /** Environment consulted by validation (`PIPELOCK_KILLSWITCH_API_TOKEN`). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Line lookup into the source file; when given, the schema problem earliest in the file is reported first. */
  readonly lineOf?: (path: TreePath) => number | undefined
  /** The value is a shipped preset: what a file writes itself is not remarked on (the preset's docs say it). */
  readonly preset?: boolean
}

export interface ResolvedConfig {
  readonly config: PipelockConfig
  readonly warnings: ConfigWarning[]
}

/**
 * File-level object (decoded YAML) → effective config (§20.1 after decoding):
 * null-as-absent, strict shape check, merge over the one merge base, ApplyDefaults-style zero
 * filling, pattern merge by name, relative paths, then §20.4 validation.
 * Throws ConfigFieldError (path + message) for the first problem.
 */
const JITLESS = {jitless: true} as const

export function resolveConfig(fileValue: unknown, options: ResolveOptions = {}): ResolvedConfig {
  const cleaned = stripNulls(fileValue ?? {})
  checkLearnLockEnvironment(cleaned)
  // jitless (bench: startup): zod's default compiles a parser per object schema with
  // `new Function` on first use, ≈ 65 ms of a config's first parse for a parse that runs once per
  // start or reload; the interpreted parse measured as fast from the second parse on.
  const schemas = configSchemas()
  const parsed = schemas.file.safeParse(cleaned, JITLESS)
  if (!parsed.success) throw firstIssue(parsed.error.issues, schemas.file, cleaned, options.lineOf)
  // Check the file's own patterns before the merge so errors point at the file's list index.
  const user = cleaned as {dlp?: {patterns?: DlpPatternConfig[]}; response_scanning?: {patterns?: ResponsePatternConfig[]}}
  user.dlp?.patterns?.forEach((p, i) => checkDlpPattern(p, ['dlp', 'patterns', i]))
  user.response_scanning?.patterns?.forEach((p, i) => checkResponsePattern(p, ['response_scanning', 'patterns', i]))
  const merged = deepMerge(defaultConfig() as unknown as Record<string, unknown>, cleaned as Record<string, unknown>)
  const warnings: ConfigWarning[] = []
  const config = schemas.config.parse(merged, JITLESS)
  applyDefaults(config, cleaned as Record<string, unknown>, warnings)
  resolvePaths(config, options.baseDir)
  warnings.push(...validateConfig(config, {env: options.env}))
  warnings.push(...duplicateNameWarnings(user.dlp?.patterns, 'dlp.patterns'), ...duplicateNameWarnings(user.response_scanning?.patterns, 'response_scanning.patterns'))
  const inert = inertTaintWarning(cleaned, config)
  if (inert !== undefined) warnings.push(inert)
  warnings.push(...inertSubFeatureWarnings(cleaned, config))
  const chain = options.preset === true ? undefined : chainActionWarning(cleaned, config)
  if (chain !== undefined) warnings.push(chain)
  // Informational in the reference (envelope spec §9.1): accepted and checked, but no key is ever
  // fetched from it, so an operator who set it must not believe the key follows that URL.
  config.mediation_envelope.verify_inbound.trust_list.forEach((t, i) => {
    if ((t.well_known_url ?? '') !== '') {
      warnings.push({field: `mediation_envelope.verify_inbound.trust_list[${i}].well_known_url`, message: 'is informational: verification uses public_key, and nothing is fetched from this URL (pipelock envelope trust add --source fetches a key once)'})
    }
  })
  return {config, warnings}
}

/**
 * Two patterns of the file's own list under one name: merged by name over the defaults, the later
 * replaces the earlier, which is then never matched (and findings, named by pattern, could not tell
 * them apart anyway). Said at start, by index.
 */
function duplicateNameWarnings(list: ReadonlyArray<{name: string}> | undefined, field: string): ConfigWarning[] {
  const first = new Map<string, number>()
  const out: ConfigWarning[] = []
  list?.forEach((p, i) => {
    const at = first.get(p.name)
    if (at === undefined) first.set(p.name, i)
    else out.push({field: `${field}[${i}]`, message: `name ${JSON.stringify(p.name)} is also the name of ${field}[${at}]: merged over the defaults (include_defaults) the later replaces the earlier, and a finding names only its pattern; give each its own name`})
  })
  return out
}

/**
 * mcp.md §9.2 (Q4, kept): `tool_chain_detection.action` applies to custom patterns only; the
 * built-ins keep `warn` unless `pattern_overrides` names them. A file that writes `action: block`
 * is told which built-ins still only warn.
 */
function chainActionWarning(file: unknown, c: PipelockConfig): ConfigWarning | undefined {
  const t = isPlainObject(file) ? file.tool_chain_detection : undefined
  const tc = c.tool_chain_detection
  if (!isPlainObject(t) || t.action !== 'block' || !tc.enabled) return undefined
  const still = BUILTIN_CHAIN_PATTERNS.map((p) => p.name).filter((n) => tc.pattern_overrides[n] !== 'block')
  if (still.length === 0) return undefined
  return {field: 'tool_chain_detection.action', message: `block applies to custom_patterns; the built-in patterns keep warn unless pattern_overrides names them (still warn: ${still.join(', ')})`}
}

/**
 * policy-extra §1: taint lives in the session recorder, so without `session_profiling.enabled` it
 * observes and decides nothing. Said at start when the file configures taint (on by default, it
 * would be noise for every file that never mentions it).
 */
function inertTaintWarning(file: unknown, c: PipelockConfig): ConfigWarning | undefined {
  const t = isPlainObject(file) ? file.taint : undefined
  if (!isPlainObject(t) || Object.keys(t).length === 0 || !c.taint.enabled || c.session_profiling.enabled) return undefined
  return {field: 'taint', message: 'has no effect while session_profiling.enabled is false (taint is tracked per session); enable session_profiling'}
}

/**
 * A switch the file turns on inside a section that is off does nothing: the section's runtime is
 * never built. The mirror case (a section on with all its parts off) is refused as a silent no-op
 * (operations §5.1); this one is accepted, as the reference accepts it and as turning the section
 * off is how a file switches all of it off, but said at start like `response_scanning.exempt_domains`
 * while scanning is disabled. Only a `true` the file writes counts: a default-on part (SSE
 * streaming, header scanning) under a section the file leaves off is not remarked on.
 */
const SUB_FEATURES: ReadonlyArray<readonly [parent: string, child: string]> = [
  ['cross_request_detection', 'entropy_budget.enabled'],
  ['cross_request_detection', 'fragment_reassembly.enabled'],
  ['response_scanning', 'sse_streaming.enabled'],
  ['request_body_scanning', 'scan_headers'],
  ['seed_phrase_detection', 'verify_checksum'],
  ['a2a_scanning', 'scan_agent_cards'],
  ['a2a_scanning', 'detect_card_drift'],
  ['a2a_scanning', 'session_smuggling_detection'],
  ['a2a_scanning', 'scan_raw_parts'],
  ['flight_recorder', 'sign_checkpoints'],
  ['flight_recorder', 'raw_escrow'],
  ['file_sentry', 'scan_content'],
]

function inertSubFeatureWarnings(file: unknown, c: PipelockConfig): ConfigWarning[] {
  const at = (root: unknown, dotted: string): unknown => dotted.split('.').reduce<unknown>((o, k) => (isPlainObject(o) ? o[k] : undefined), root)
  const out: ConfigWarning[] = []
  for (const [parent, child] of SUB_FEATURES) {
    if (at(file, `${parent}.${child}`) !== true || at(c, `${parent}.enabled`) !== false) continue
    out.push({field: `${parent}.${child}`, message: `is true while ${parent}.enabled is false: it has no effect; enable ${parent} (or remove it)`})
  }
  return out
}

/**
 * §20.1: "absent or null" are the same for every key (that is what makes the security booleans
 * default to true, since the merge base has them true). Nulls inside lists stay and are refused
 * by the schema.
 */
function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x !== null && typeof x === 'object' ? stripNulls(x) : x))
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = stripNulls(x)
    return out
  }
  return v
}

/** Mappings merge key by key; lists and scalars from the file replace the base value whole. */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {...base}
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(base[k]) ? deepMerge(base[k], v) : v
  }
  return out
}

/**
 * learn-lifecycle §7.1: `learn_lock.environment` must be a mapping with all three string keys,
 * checked whenever the key is present (even with the lock disabled), with the reference's words.
 */
function checkLearnLockEnvironment(value: unknown): void {
  if (!isPlainObject(value) || !isPlainObject(value.learn_lock) || !('environment' in value.learn_lock)) return
  const env = value.learn_lock.environment
  const at: TreePath = ['learn_lock', 'environment']
  if (!isPlainObject(env)) {
    throw new ConfigFieldError(at, 'must be a mapping with id, tenant, and deployment_id; migrate string form to environment: {id: <env>, tenant: "", deployment_id: ""}')
  }
  for (const k of Object.keys(env)) {
    if (!['id', 'tenant', 'deployment_id'].includes(k)) throw new ConfigFieldError([...at, k], `learn_lock.environment.${k} is not supported`)
    if (typeof env[k] !== 'string') throw new ConfigFieldError([...at, k], `learn_lock.environment.${k} must be a string`)
  }
  for (const k of ['id', 'tenant', 'deployment_id']) {
    if (!(k in env)) throw new ConfigFieldError([...at, k], `learn_lock.environment.${k} required; use an explicit empty string if intentionally unscoped`)
  }
}

/** The zod issue that comes first, worded as one line with the dotted path of the offending key. */
function firstIssue(issues: readonly z.core.$ZodIssue[], schema: z.ZodType, file: unknown, lineOf?: (path: TreePath) => number | undefined): ConfigFieldError {
  const errors = issues.map((issue) => toFieldError(issue, schema, file))
  if (lineOf === undefined) return errors[0]!
  const line = (e: ConfigFieldError): number => lineOf(e.path) ?? Number.MAX_SAFE_INTEGER
  return errors.reduce((best, e) => (line(e) < line(best) ? e : best))
}

/** A zod type name in YAML's words, with its article: a list, a mapping, an integer. */
function expectedKind(expected: string): string {
  const words: Readonly<Record<string, string>> = {int: 'an integer', array: 'a list', object: 'a mapping', record: 'a mapping', map: 'a mapping'}
  return words[expected] ?? `${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}`
}

function toFieldError(issue: z.core.$ZodIssue, schema: z.ZodType, file: unknown): ConfigFieldError {
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!
    const at = issue.path as (string | number)[]
    const meant = suggestKeyPath(schema, at, key)
    return new ConfigFieldError([...at, key], 'unknown key', undefined, meant === undefined ? undefined : dotted(meant))
  }
  const p = issue.path as (string | number)[]
  if (issue.code === 'invalid_type') {
    // A required key of a list item (suppress path, a pattern's regex, a token's value) left out
    // (or null) is missing, not of the wrong type: named at the item that lacks it.
    const parent = p.slice(0, -1)
    const holder = parent.reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string | number, unknown>)[k] : undefined), file)
    const key = p[p.length - 1]
    if (typeof key === 'string' && isPlainObject(holder) && !(key in holder)) return new ConfigFieldError(parent, `missing required field "${key}"`)
    return new ConfigFieldError(p, `expected ${expectedKind(issue.expected)}`)
  }
  return new ConfigFieldError(p, issue.message)
}
