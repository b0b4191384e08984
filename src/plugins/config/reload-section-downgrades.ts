/**
 * Reload downgrades of the sections whose reference warnings have their own words (taint,
 * policy-extra §1.11), compared by `reloadDowngrades` next to the field-by-field lists of
 * reload-policy.ts.
 */
import type {PipelockConfig} from './schema.js'

type Taint = PipelockConfig['taint']

/** policy-extra §1.11: strict 3 > balanced 2 > permissive 1 (permissive behaves as balanced, but ranks lower). */
const TAINT_POLICY_RANK: Record<string, number> = {strict: 3, balanced: 2, permissive: 1}

/** The reference's key of a trust override: lower-cased, trimmed matchers (policy-extra §1.11). */
function overrideKey(o: Taint['trust_overrides'][number]): string {
  const scope = o.scope.trim().toLowerCase()
  const source = (o.source_match ?? '').trim().toLowerCase()
  const action = (o.action_match ?? '').trim().toLowerCase()
  // The reference keys a source override by its source and an action override by its action
  // only, so dropping the optional other matcher (the override then fires more widely) kept the
  // key and went unreported. Here the optional matcher is part of the key when it is set: the
  // usual overrides keep the reference's keys, a narrower-to-wider edit reads as an added one.
  if (scope === 'source' && action === '') return `scope=source source=${source}`
  if (scope === 'action' && source === '') return `scope=action action=${action}`
  return `scope=${scope} source=${source} action=${action}`
}

/** Go's `time.RFC3339` of a UTC instant: whole seconds, `Z`. */
function rfc3339Utc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** The latest expiry per override key (an override can be listed twice; the later one decides). */
function latestExpiry(overrides: Taint['trust_overrides']): Map<string, number> {
  const out = new Map<string, number>()
  for (const o of overrides) {
    const key = overrideKey(o)
    const at = Date.parse(o.expires_at)
    if (!out.has(key) || at > out.get(key)!) out.set(key, at)
  }
  return out
}

/**
 * policy-extra §1.11, in the reference's words: taint turned off; and, with taint on in both, the
 * policy ranked lower, allowlisted source domains added, protected or elevated path patterns
 * removed, and trust overrides added or lasting longer.
 */
export function taintDowngrades(t0: Taint, t1: Taint, out: string[]): void {
  if (t0.enabled && !t1.enabled) out.push('taint-aware policy escalation disabled')
  if (!(t0.enabled && t1.enabled)) return
  const [p0, p1] = [t0.policy === '' ? 'balanced' : t0.policy, t1.policy === '' ? 'balanced' : t1.policy]
  if ((TAINT_POLICY_RANK[p1] ?? 0) < (TAINT_POLICY_RANK[p0] ?? 0)) out.push(`taint policy downgraded from ${p0} to ${p1}`)
  const allowed = new Set(t0.allowlisted_domains)
  const added = t1.allowlisted_domains.filter((d) => !allowed.has(d))
  if (added.length > 0) out.push(`taint allowlisted domains added: ${added.join(', ')} — these sources now downgrade from untrusted to allowlisted`)
  for (const [k, word] of [['protected_paths', 'protected'], ['elevated_paths', 'elevated']] as const) {
    const kept = new Set(t1[k])
    const removed = t0[k].filter((p) => !kept.has(p))
    if (removed.length > 0) out.push(`taint ${word} paths removed: ${removed.join(', ')} — fewer actions are treated as ${word} under taint`)
  }
  const before = latestExpiry(t0.trust_overrides)
  const loosened: string[] = []
  for (const [key, at] of latestExpiry(t1.trust_overrides)) {
    const was = before.get(key)
    if (was === undefined) loosened.push(key)
    else if (at > was) loosened.push(`${key} expires_at=${rfc3339Utc(at)}`)
  }
  if (loosened.length > 0) out.push(`taint trust overrides added: ${loosened.join(', ')}`)
}
