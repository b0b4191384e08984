/** Plain-data settings of the session engine (the proxy maps the config onto them). */
import {AIRLOCK_OFF, type AirlockSettings} from './airlock.js'
import {resolveLevels, type LevelTable} from './levels.js'
import type {ConfigTrustOverride, TaintPolicy} from './taint.js'

export interface SessionSettings {
  readonly anomalyAction: 'warn' | 'block'
  readonly domainBurst: number
  readonly windowMinutes: number
  readonly volumeSpikeRatio: number
  readonly maxSessions: number
  readonly sessionTtlMinutes: number
  readonly cleanupIntervalSeconds: number
  readonly adaptive: AdaptiveSettings
  readonly taint: TaintSettings
  readonly airlock: AirlockSettings
}

export interface AdaptiveSettings {
  readonly enabled: boolean
  readonly escalationThreshold: number
  readonly decayPerCleanRequest: number
  readonly cooperativeToolDownweight: boolean
  readonly exemptDomains: readonly string[]
  readonly levels: LevelTable
}

export interface TaintSettings {
  readonly enabled: boolean
  readonly policy: TaintPolicy
  /** `taint.trust_overrides` (config; expired ones stay and are skipped at evaluation). */
  readonly trustOverrides: readonly ConfigTrustOverride[]
  readonly recentSources: number
  readonly allowlistedDomains: readonly string[]
  readonly protectedPaths: readonly string[]
  readonly elevatedPaths: readonly string[]
}

/** §20.3 defaults (profiling on, adaptive on) — the tests' starting point. */
export function defaultSessionSettings(over: Partial<SessionSettings> = {}): SessionSettings {
  return {
    anomalyAction: 'warn',
    domainBurst: 5,
    windowMinutes: 5,
    volumeSpikeRatio: 3.0,
    maxSessions: 1000,
    sessionTtlMinutes: 30,
    cleanupIntervalSeconds: 60,
    adaptive: {enabled: true, escalationThreshold: 5.0, decayPerCleanRequest: 0.5, cooperativeToolDownweight: true, exemptDomains: [], levels: resolveLevels()},
    taint: {
      enabled: true,
      policy: 'balanced',
      trustOverrides: [],
      recentSources: 10,
      allowlistedDomains: ['docs.anthropic.com', 'docs.github.com', 'developer.mozilla.org'],
      protectedPaths: ['*/auth/*', '*/security/*', '*/.github/workflows/*', '*/.env*', '*/secrets*', '*/policy*', '*/sandbox*'],
      elevatedPaths: ['*/config/*', '*/middleware*'],
    },
    airlock: AIRLOCK_OFF,
    ...over,
  }
}
