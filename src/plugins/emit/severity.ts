/**
 * Event severities (operations.md §3.1). Severity is fixed per event type; operators choose only
 * each sink's threshold. The table carries the two fixes the spec lists (docs/compatibility.md,
 * "Event emission"): body/header DLP, prompt injection in bodies, address protection, SNI
 * mismatches and airlock entry/denial are `warn` (the reference leaves them at info, so the
 * default `min_severity: warn` never forwards them), and `adaptive_escalation` is critical when
 * the session reaches `critical` (the reference compares the level name with `block`).
 */
export type Severity = 'info' | 'warn' | 'critical'

const RANK: Readonly<Record<Severity, number>> = {info: 0, warn: 1, critical: 2}

export function severityRank(s: Severity): number {
  return RANK[s]
}

/** The runtime parse of a threshold: case-insensitive, unknown → info (§3.2). */
export function parseSeverity(s: string): Severity {
  const l = s.toLowerCase()
  return l === 'warn' || l === 'critical' ? l : 'info'
}

const WARN_TYPES: ReadonlySet<string> = new Set([
  'blocked', 'anomaly', 'session_anomaly', 'mcp_unknown_tool', 'ws_blocked', 'response_scan', 'ws_scan',
  'adaptive_escalation', 'adaptive_upgrade', 'error', 'response_scan_exempt', 'media_exposure', 'text_stego_detected',
  'chain_detection',
  // the fixes of §3.1 (reference: info)
  'body_dlp', 'header_dlp', 'body_prompt_injection', 'address_protection', 'sni_mismatch', 'airlock_enter', 'airlock_deny',
])

/** Audit writes that are never handed to the emitter (§3.1). */
const NOT_EMITTED: ReadonlySet<string> = new Set(['redirect', 'ws_open', 'ws_close', 'startup', 'shutdown', 'agent_listener'])

/** Emitted only while `logging.include_allowed` is on (§3.1). */
export const ALLOWED_GATED: ReadonlySet<string> = new Set(['allowed', 'tunnel_open', 'tunnel_close', 'forward_http'])

export function isEmitted(type: string): boolean {
  return !NOT_EMITTED.has(type)
}

/** The severity of one event; the three conditional rows of §3.1 read the event's own fields. */
export function severityOf(type: string, fields: Readonly<Record<string, unknown>>): Severity {
  switch (type) {
    case 'kill_switch_deny':
      return 'critical'
    case 'adaptive_upgrade': {
      // The reference names the field `to_action`; this port's audit event names it `to`.
      const to = fields.to_action ?? fields.to
      return to === 'block' && fields.scanner !== 'session_deny' ? 'critical' : 'warn'
    }
    case 'chain_detection':
      return fields.action === 'block' ? 'critical' : 'warn'
    case 'adaptive_escalation':
      return fields.to === 'critical' ? 'critical' : 'warn'
    default:
      return WARN_TYPES.has(type) ? 'warn' : 'info'
  }
}
