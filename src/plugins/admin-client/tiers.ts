// Airlock tiers as the admin CLI handles them (runtime §12, §15): ordered none < soft < hard <
// drain; `normal` is the API's alias of `none`.

export const AIRLOCK_TIERS = ['none', 'soft', 'hard', 'drain'] as const
export type AirlockTier = (typeof AIRLOCK_TIERS)[number]

/** What `session list --tier` accepts (validated locally before any request, §13). */
export const TIER_FILTERS = ['none', 'soft', 'hard', 'drain', 'normal'] as const
export type TierFilter = (typeof TIER_FILTERS)[number]

/** What `session release --to` accepts: release only ever lowers a tier, so hard/drain are not offered. */
export const RELEASE_TARGETS = ['none', 'normal', 'soft'] as const
export type ReleaseTarget = (typeof RELEASE_TARGETS)[number]

/** `normal` → `none`; other names unchanged. */
export function canonicalTier(tier: string): string {
  return tier === 'normal' ? 'none' : tier
}

/** Position in none < soft < hard < drain; a tier this client does not know (a newer server) ranks above them all, so releasing from it is a move down. */
export function tierRank(tier: string): number {
  const i = AIRLOCK_TIERS.indexOf(canonicalTier(tier) as AirlockTier)
  return i < 0 ? AIRLOCK_TIERS.length : i
}
