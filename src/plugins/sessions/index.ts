// Layer 3: session profiling, adaptive enforcement and taint (runtime spec §3.2, §14, §16).
// Pure state machine over an injected Clock; the proxy wires it into the request path.
export {clientHostOf} from './client-host.js'
export {SessionManager, newSessionCounters, VOLUME_MIN_SAMPLES, type AnomalyKind, type SessionObserver, type SessionCounters, type ResetOutcome, type ReleaseOutcome, type AddressHold} from './manager.js'
export {
  AIRLOCK_TIERS, AIRLOCK_SWEEP_MS, AIRLOCK_OFF, airlockPermits, airlockActionClass, drainDurationMs, isAirlockTier, tierRank, triggerTier,
  type AirlockSettings, type AirlockTransport, type AirlockTrigger, type AirlockCounters,
} from './airlock.js'
export {Session, sessionKindOf, INVOCATION_PREFIXES, MAX_RECENT_EVENTS, type SessionKind, type AirlockTier, type SessionEvent, type ExchangeCutCause, type LiveCutCause, type SessionEventKind} from './session.js'
export {levelLabel, levelActions, resolveLevels, upgradeAction, type LevelLabel, type LevelActions, type LevelTable, type LevelInput, type LevelsInput, type BaseAction} from './levels.js'
export {SIGNAL_POINTS, RECOVERY_TICK_MS, RECOVERY_QUIET_MS, type SignalKind} from './signals.js'
export {DomainWindow, isCooperativeUserAgent} from './domain-window.js'
export {
  TAINT, TAINT_LEVELS, CONTAMINATED_AT, MUTATING_METHODS, READ_METHODS, TaintState, PathClassifier, compilePathGlob,
  taintMatrix, classifyHttpAction, classifyMcpToolCall, goPathMatch, wildcardMatch, contaminatingSource, matchingConfigOverride, matchingRuntimeOverride,
  type TaintLevelName, type TaintSource, type TaintSourceKind, type PathClass, type TrustOverride,
  type TaintPolicy, type ActionClass, type Sensitivity, type AuthorityKind, type TaintDecision, type TaintAction, type TaintEvaluation,
  type ConfigTrustOverride, type OverrideUse,
} from './taint.js'
export {defaultSessionSettings, type SessionSettings, type AdaptiveSettings, type TaintSettings} from './settings.js'
