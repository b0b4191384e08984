import {compareUtf8, goQuote} from '../canonical/index.js'
import {sha256Hex} from '../signing/index.js'
import type {PipelockConfig} from './schema.js'

/** Top-level sections left out of the policy hash (§20.1): operational, not policy. */
export const HASH_EXCLUDED_SECTIONS: readonly string[] = ['health_watchdog', 'learn_lock']

/**
 * Single fields left out of the policy hash: the emission options this port adds beyond the
 * reference (operations.md §3.2: `emit` is operational, and `agent_threat_detection_emit` must not
 * change the hash). Leaving them out also keeps every existing config's hash unchanged.
 */
export const HASH_EXCLUDED_FIELDS: readonly string[] = [
  'emit.syslog.format',
  'emit.syslog.queue_size',
  'emit.syslog.tls',
  'emit.otlp.agent_threat_detection_emit',
]

/**
 * Secret-bearing fields: hashed as `"<set>"` when non-empty (or `""`), so the hash records that
 * a credential exists without turning a guessable token into an offline-checkable digest.
 */
export const HASH_MASKED_FIELDS: readonly string[] = [
  'kill_switch.api_token',
  'emit.webhook.auth_token',
  'emit.otlp.headers',
  'scan_api.auth.bearer_tokens',
  'license_key',
]

/**
 * Secret values the policy hash still digests (rotating one is a policy change: the reload
 * applies it and the hash shows it) but the policy *view* writes as `"<set>"`: the view is what
 * `config-state.json` and the `config_change` diff hold, in the flight recorder directory, the
 * audit log and the emitters. A `*` step is every element of a list or every value of a map.
 */
export const VIEW_MASKED_FIELDS: readonly string[] = [
  // A canary is a planted credential: written out, it tells whoever reads the logs which value to avoid.
  'canary_tokens.tokens.*.value',
  // The known secrets class-preserving redaction replaces.
  'redaction.dictionaries.*.entries',
  'sentry.dsn',
  // Endpoints that often carry their credential in the URL itself (a path token, a query key, userinfo).
  'emit.webhook.url',
  'emit.otlp.endpoint',
  // A literal salt keys the capture's HMACs of private values (a `${VAR}` or `file:` reference is masked alike).
  'learn.privacy.salt_source',
]

/**
 * The policy hash written as `config_hash` in logs and `policy_hash` in receipts:
 * `sha256:` + hex SHA-256 of the canonical JSON of the *effective* config (after the merge over
 * defaults and the pattern merge, so an empty file and no file hash the same), minus
 * HASH_EXCLUDED_SECTIONS, with HASH_MASKED_FIELDS masked. Canonical JSON: object keys sorted by
 * UTF-8 bytes, no whitespace, strings with Go's escaping (`goQuote`), numbers in their shortest
 * round-trip form (integers without a fraction), absent optional fields omitted.
 * Not byte-compatible with the reference's hash (its canonical view is Go-struct specific).
 */
export function configHash(config: PipelockConfig): string {
  return 'sha256:' + sha256Hex(Buffer.from(canonicalPolicyJson(config), 'utf8'))
}

/** The exact bytes `configHash` digests (exported for tests and debugging). */
export function canonicalPolicyJson(config: PipelockConfig, opts: {readonly view?: boolean} = {}): string {
  const view: Record<string, unknown> = {...config}
  for (const k of HASH_EXCLUDED_SECTIONS) delete view[k]
  const masked = structuredClone(view)
  for (const field of HASH_EXCLUDED_FIELDS) drop(masked, field.split('.'))
  for (const field of HASH_MASKED_FIELDS) mask(masked, field.split('.'))
  if (opts.view === true) for (const field of VIEW_MASKED_FIELDS) mask(masked, field.split('.'))
  return encode(masked)
}

/** The object holding the last step of `steps`, or null when the path does not exist. */
function parentOf(root: Record<string, unknown>, steps: string[]): Record<string, unknown> | null {
  let node: unknown = root
  for (const s of steps.slice(0, -1)) {
    node = (node as Record<string, unknown>)[s]
    if (node === null || typeof node !== 'object') return null
  }
  return node as Record<string, unknown>
}

function drop(root: Record<string, unknown>, steps: string[]): void {
  const parent = parentOf(root, steps)
  if (parent !== null) delete parent[steps[steps.length - 1]!]
}

/**
 * Calls `at(parent, key)` for the field `steps` names, or for each element (list) or value (map)
 * at a `*` step, along the rest of the path. Without a `*`, `at` is called even when the key is
 * absent; below a `*`, a child without the field is skipped.
 */
function visit(root: Record<string, unknown>, steps: string[], at: (parent: Record<string, unknown>, key: string) => void): void {
  const star = steps.indexOf('*')
  if (star >= 0) {
    const node = parentOf(root, steps.slice(0, star))?.[steps[star - 1]!]
    if (node === null || typeof node !== 'object') return
    for (const child of Object.values(node as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object' && steps[star + 1]! in child) visit(child as Record<string, unknown>, steps.slice(star + 1), at)
    }
    return
  }
  const parent = parentOf(root, steps)
  if (parent !== null) at(parent, steps[steps.length - 1]!)
}

function isEmptyValue(v: unknown): boolean {
  return v === '' || v === undefined || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && Object.keys(v).length === 0)
}

// A child without the field keeps it absent (not added as `""`): `visit` skips it.
function mask(root: Record<string, unknown>, steps: string[]): void {
  visit(root, steps, (parent, last) => {
    parent[last] = isEmptyValue(parent[last]) ? '' : '<set>'
  })
}

/**
 * Fields whose value, written in the config file itself, is a credential or a secret in clear:
 * the masked ones, the Sentry DSN (it carries its key), the known secrets of the redaction
 * dictionaries, canary values and a literal capture salt (a `${VAR}` or `file:` source is not
 * the salt). The endpoint URLs the view masks are left out: most carry none.
 */
export const CLEAR_SECRET_FIELDS: readonly string[] = [
  ...HASH_MASKED_FIELDS,
  'sentry.dsn',
  'redaction.dictionaries.*.entries',
  'canary_tokens.tokens.*.value',
  'learn.privacy.salt_source',
]

/** The fields of CLEAR_SECRET_FIELDS a config file's own document (before defaults) sets to a value. */
export function clearSecretFields(document: unknown): string[] {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return []
  return CLEAR_SECRET_FIELDS.filter((field) => {
    let held = false
    visit(document as Record<string, unknown>, field.split('.'), (parent, key) => {
      const v = parent[key]
      if (v === null || isEmptyValue(v)) return
      if (field === 'learn.privacy.salt_source' && typeof v === 'string' && (/^\$\{.*\}$/.test(v) || v.startsWith('file:'))) return
      held = true
    })
    return held
  })
}

function encode(v: unknown): string {
  if (v === null) return 'null'
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('non-finite number in config')
    return Object.is(v, -0) ? '0' : String(v)
  }
  if (typeof v === 'string') return goQuote(v)
  if (Array.isArray(v)) return '[' + v.map(encode).join(',') + ']'
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined)
  entries.sort((a, b) => compareUtf8(a[0], b[0]))
  return '{' + entries.map(([k, x]) => goQuote(k) + ':' + encode(x)).join(',') + '}'
}
