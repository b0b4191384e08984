/** Adaptive signals and their points (runtime spec §14.2). */
export const SIGNAL_POINTS = {
  block: 3.0,
  near_miss: 1.0,
  domain_anomaly: 2.0,
  entropy_budget: 2.0,
  fragment_dlp: 3.0,
  strip: 2.0,
  shield_rewrite: 0.25,
  ip_domain_anomaly: 3.0,
  domain_anomaly_cooperative: 0.4,
  ip_domain_anomaly_cooperative: 0.6,
} as const

export type SignalKind = keyof typeof SIGNAL_POINTS

/** The time-recovery cadence and quiet period of §14.2. */
export const RECOVERY_TICK_MS = 30_000
export const RECOVERY_QUIET_MS = 5 * 60_000
