/**
 * The emitted event (operations.md §3.1): `{severity, type, timestamp, instance, fields}`. The
 * fields are the audit event's own (already sanitised by the audit log), shallow-copied, with the
 * emission-only adjustments of §3.1 applied here, once, on the request path — everything costlier
 * (serialisation) happens in each sink's sender.
 */
import {severityOf, type Severity} from './severity.js'

export interface EmitEvent {
  readonly severity: Severity
  readonly type: string
  /** Wall clock at emission, nanoseconds since the Unix epoch. */
  readonly timeNanos: bigint
  readonly instance: string
  readonly fields: Readonly<Record<string, unknown>>
}

/** Types whose `client_ip`/`request_id` are emitted only when non-empty (§3.1). */
const OMIT_EMPTY_IDS: ReadonlySet<string> = new Set(['session_anomaly', 'adaptive_escalation', 'adaptive_upgrade'])

export function buildEvent(type: string, fields: Readonly<Record<string, unknown>>, timeNanos: bigint, instance: string): EmitEvent {
  const severity = severityOf(type, fields)
  const f: Record<string, unknown> = {}
  for (const k in fields) {
    const v = fields[k]
    if (v !== undefined) f[k] = v
  }
  // The local JSON log keeps fractional milliseconds; emitted events carry an integer (Go's
  // Duration.Milliseconds(), which truncates).
  if (typeof f.duration_ms === 'number') f.duration_ms = Math.trunc(f.duration_ms)
  if (OMIT_EMPTY_IDS.has(type)) {
    if (f.client_ip === '') delete f.client_ip
    if (f.request_id === '') delete f.request_id
  }
  if (type === 'tool_redirect') delete f.session_id
  if (type === 'adaptive_upgrade' || type === 'chain_detection') f.severity = severity
  if (Array.isArray(f.bundle_rules) && f.primary_rule_id === undefined) addPrimaryRule(f)
  return {severity, type, timeNanos, instance, fields: f}
}

/** `primary_rule_id` / `bundle_version`: the lexicographically smallest non-empty `rule_id` (§3.1). */
function addPrimaryRule(f: Record<string, unknown>): void {
  let best: {rule_id: string; bundle_version?: unknown} | undefined
  for (const r of f.bundle_rules as unknown[]) {
    const rid = (r as {rule_id?: unknown} | null)?.rule_id
    if (typeof rid === 'string' && rid !== '' && (best === undefined || rid < best.rule_id)) best = r as {rule_id: string}
  }
  if (best === undefined) return
  f.primary_rule_id = best.rule_id
  if (typeof best.bundle_version === 'string') f.bundle_version = best.bundle_version
}
