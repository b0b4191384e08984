import type {AdaptiveFlush, AdaptiveStatus, Whoami} from './schemas.js'
import {formatScore, printable} from './text-format.js'

// Human text of `pipelock adaptive status|flush|whoami` (runtime §13).

const LEVELS = ['normal', 'elevated', 'high', 'critical'] as const
const TIERS = ['none', 'soft', 'hard', 'drain'] as const

/** Four lines-ish: the summary, per-level and per-tier counts (0 when the server omits one), the top anomalies. */
export function renderAdaptiveStatus(s: AdaptiveStatus): string[] {
  const counts = (m: Record<string, number>, names: readonly string[]): string => names.map((n) => `${n}=${m[n] ?? 0}`).join(' ')
  const lines = [
    `adaptive status: sessions=${s.active_sessions} max_level=${printable(s.max_escalation_level)} ttl_seconds=${s.lockdown_ttl_seconds}`,
    `levels: ${counts(s.sessions_by_level, LEVELS)}`,
    `airlock: ${counts(s.airlock_tiers, TIERS)}`,
  ]
  const top = s.top_anomalies ?? []
  if (top.length === 0) lines.push('top_anomalies: none')
  else lines.push('top_anomalies:', ...top.map((a) => `  ${printable(a.name)}=${a.count}`))
  return lines
}

export function renderAdaptiveFlush(f: AdaptiveFlush): string[] {
  const lines = [`flushed adaptive state: identity_sessions=${f.identity_sessions} skipped_invocations=${f.skipped_invocations} ip_domain_state_cleared=${f.ip_domain_state_cleared}`]
  // Say what it cleared and what it left: a flush resets levels and scores, never a quarantine.
  if (f.levels_reset !== undefined && f.airlock_tiers_kept !== undefined) {
    const kept = f.airlock_tiers_kept
    lines.push(`  levels_reset=${f.levels_reset} airlock_tiers_kept=${kept}${kept > 0 ? ' (a flush does not release quarantines: pipelock session release does)' : ''}`)
  }
  return lines
}

export function renderWhoami(w: Whoami): string[] {
  const p = printable
  return [
    `client_ip=${p(w.client_ip)} session=${p(w.session_key)} classification=${p(w.classification)} tier=${p(w.airlock_tier)} level=${p(w.escalation_level)} score=${formatScore(w.threat_score)} ttl_seconds=${w.lockdown_ttl_seconds}` +
      // The session whose hold on the client address refuses the caller, when one does.
      (w.held_by !== undefined ? ` held_by=${p(w.held_by.session)}` : ''),
  ]
}
