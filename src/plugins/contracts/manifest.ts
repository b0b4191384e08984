import {canonicalBytes, type JsonObject, type JsonValue} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {sha256Hex} from '../signing/index.js'
import {decodeEnvelope, type SignedEnvelope} from './contract.js'
import {COMPILE_MANIFEST_ENVELOPE} from './schema.js'

/** `module_digest_root` = sha256:hex(SHA-256(canonical(module_digests))) (learn-lifecycle §2.4). */
export function moduleDigestRoot(digests: JsonObject): string {
  return 'sha256:' + sha256Hex(canonicalBytes(digests))
}

/** The marker a build without module information uses (learn-compile §12.1). */
export function buildInfoUnavailableDigests(): JsonObject {
  return new Map([['build_info_unavailable', 'sha256:' + sha256Hex('build-info unavailable')]])
}

const SETTINGS_TOP = new Set(['confidence', 'normalization', 'shadow', 'drift', 'privacy', 'redaction'])
const PRIVACY_KEYS = new Set(['default_data_class', 'forbid_classes', 'require_explicit_opt_in_for_classes'])
const REDACTION_KEYS = new Set(['public_allowlist', 'salt_hash'])
const SALT_HASH_KEYS = new Set(['private_suffixes', 'private_cidrs', 'private_mcp_name_patterns', 'salt_epoch'])

/** Settings allowlist (§12.1); undefined when acceptable. */
export function settingsProblem(settings: JsonValue | undefined): string | undefined {
  if (settings === undefined || settings === null) return undefined
  if (!(settings instanceof Map)) return 'compile manifest: settings must be an object'
  for (const [k, v] of settings) {
    if (!SETTINGS_TOP.has(k)) return `compile manifest: settings key not allowed: ${k}`
    if (!(v instanceof Map)) return `compile manifest: settings.${k} must be an object`
    if (k === 'privacy') for (const pk of v.keys()) if (!PRIVACY_KEYS.has(pk)) return `compile manifest: settings.privacy key not allowed: ${pk}`
    if (k === 'redaction') {
      for (const [rk, rv] of v) {
        if (!REDACTION_KEYS.has(rk)) return `compile manifest: settings.redaction key not allowed: ${rk}`
        if (rk === 'salt_hash') {
          if (!(rv instanceof Map)) return 'compile manifest: settings.redaction.salt_hash must be an object'
          for (const sk of rv.keys()) if (!SALT_HASH_KEYS.has(sk)) return `compile manifest: settings.redaction.salt_hash key not allowed: ${sk}`
        }
      }
    }
  }
  return undefined
}

/** Validation before signing / after loading: settings allowlist and module_digest_root. */
export function manifestProblem(body: JsonObject): string | undefined {
  const s = settingsProblem(body.get('settings'))
  if (s !== undefined) return s
  const digests = (body.get('module_digests') as JsonObject | null) ?? new Map()
  const want = moduleDigestRoot(digests)
  if (body.get('module_digest_root') !== want) return `compile manifest: module_digest_root mismatch: got ${String(body.get('module_digest_root'))}, want ${want}`
  return undefined
}

/** Strictly loads a compile manifest (JSON) and validates it. */
export function loadCompileManifest(text: string, file: string): SignedEnvelope {
  const env = decodeEnvelope(text, file, COMPILE_MANIFEST_ENVELOPE)
  const problem = manifestProblem(env.body)
  if (problem !== undefined) throw new PipelockError('CONTRACT_INVALID', problem, {location: {file}})
  return env
}
