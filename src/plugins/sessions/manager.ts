/**
 * The session manager (runtime spec §14): sessions by key with capacity eviction and idle TTL,
 * per-session and per-IP domain bursts, volume spikes, adaptive scoring with escalation,
 * decay and time recovery, `UpgradeAction`, `block_all`, and taint (§16). Time comes from the
 * injected Clock only; the two housekeeping timers are unref'd so they never keep a process alive.
 */
import {clientHostOf} from './client-host.js'
import type {Clock} from '../canonical/index.js'
import {matchesAnyDomain} from '../scanner/index.js'
import {
  AIRLOCK_SWEEP_MS, airlockActionClass, airlockPermits, bump, newAirlockCounters, stepDown, tierDurationMs, tierRank, triggerTier,
  type AirlockCounters, type AirlockTier, type AirlockTransport, type AirlockTrigger,
} from './airlock.js'
import {DomainWindow, isCooperativeUserAgent, type BurstObservation} from './domain-window.js'
import {levelActions, levelLabel, upgradeAction, type BaseAction} from './levels.js'
import {Session, type ExchangeCutCause, type LiveCutCause, type SessionEvent} from './session.js'
import type {SessionSettings} from './settings.js'
import {RECOVERY_QUIET_MS, RECOVERY_TICK_MS, SIGNAL_POINTS, type SignalKind} from './signals.js'
import {
  contaminatingSource, matchingConfigOverride, matchingRuntimeOverride, PathClassifier, TAINT, taintMatrix,
  type AuthorityKind, type TaintAction, type TaintEvaluation, type TaintSourceKind, type TrustOverride,
} from './taint.js'

export type AnomalyKind = 'domain_anomaly' | 'domain_anomaly_cooperative' | 'ip_domain_anomaly' | 'ip_domain_anomaly_cooperative' | 'volume_spike'

/** Receives what the engine does, for audit events and metrics (the proxy wires it). */
export interface SessionObserver {
  escalated?(s: Session, from: number, to: number, signal: SignalKind): void
  /** A level drop: `time_recovery` (the 5-minute quiet period) or `operator_release` (an operator lowered the tier). */
  deescalated?(s: Session, from: number, to: number, cause?: 'time_recovery' | 'operator_release'): void
  anomaly?(s: Session, kind: AnomalyKind, detail: string): void
  evicted?(s: Session, why: 'capacity' | 'ttl'): void
  /** Every tier change (automatic, operator, timer); `trigger` names the config trigger for `adaptive`. */
  airlockChanged?(s: Session, from: AirlockTier, to: AirlockTier, trigger: AirlockTrigger, detail: string): void
  /** A request or connection refused by the session's tier. */
  airlockDenied?(s: Session, transport: AirlockTransport, method: string): void
}

/** Counters kept across the manager's lifetime (metrics §18). */
export interface SessionCounters {
  anomalies: number
  escalations: number
  evicted: number
  upgrades: number
  autoDeescalations: number
  readonly escalationPairs: Map<string, number>
  readonly anomalyKinds: Map<string, number>
  readonly airlock: AirlockCounters
}

export function newSessionCounters(): SessionCounters {
  return {anomalies: 0, escalations: 0, evicted: 0, upgrades: 0, autoDeescalations: 0, escalationPairs: new Map(), anomalyKinds: new Map(), airlock: newAirlockCounters()}
}

/** Volume spikes need a baseline: this many responses before one can be called a spike. */
export const VOLUME_MIN_SAMPLES = 5

/** What an operator release did: the tier move and the escalation level it brought down with it. */
export interface ReleaseOutcome {
  readonly previousTier: AirlockTier
  readonly tier: AirlockTier
  readonly tierChanged: boolean
  readonly previousLevel: number
  readonly level: number
}

/** What holds an unbound identity from its client address: an airlock tier or a `block_all` level, and the session that earned it. */
export interface AddressHold {
  readonly kind: 'airlock' | 'block_all'
  /** The one session that holds it (a release, reset or terminate of it lifts the hold). */
  readonly by: Session
}

export interface ResetOutcome {
  readonly previousLevel: number
  readonly previousScore: number
  readonly previousTier: string
  readonly ipStateCleared: boolean
  /** Live tunnels, WebSockets, MCP streams, in-flight fetch/forward/reverse exchanges and held requests of the session that were cut. */
  readonly connectionsCut: number
}

export class SessionManager {
  /** Sessions that reached a level or a tier (pruned lazily): what `inheritFromAddress` looks through. */
  private readonly raised = new Set<Session>()
  /** Sessions that took in content above `trusted`, by client address (pruned lazily): what `taintHolder` looks through. */
  private readonly tainted = new Map<string, Set<Session>>()
  private readonly sessions = new Map<string, Session>()
  private readonly ipWindows = new Map<string, DomainWindow>()
  private settings: SessionSettings
  private paths: PathClassifier
  private timers: NodeJS.Timeout[] = []
  private taskSeq = 0
  readonly counters: SessionCounters

  constructor(
    settings: SessionSettings,
    private readonly clock: Clock,
    private readonly observer: SessionObserver = {},
    counters?: SessionCounters,
  ) {
    this.settings = settings
    this.paths = new PathClassifier(settings.taint.protectedPaths, settings.taint.elevatedPaths)
    this.counters = counters ?? newSessionCounters()
  }

  nowMs(): number {
    return Number(this.clock.nowNanos() / 1_000_000n)
  }

  get currentSettings(): SessionSettings {
    return this.settings
  }

  /** Hot reload (§20.6): settings change in place, sessions are kept. */
  updateSettings(settings: SessionSettings): void {
    const restart = settings.cleanupIntervalSeconds !== this.settings.cleanupIntervalSeconds && this.timers.length > 0
    this.settings = settings
    this.paths = new PathClassifier(settings.taint.protectedPaths, settings.taint.elevatedPaths)
    for (const s of this.sessions.values()) {
      this.refreshBlockAll(s)
      // A reload that turns the airlock off releases every quarantine (tiers without an airlock would be unexplainable).
      if (!settings.airlock.enabled && s.airlockTier !== 'none') this.setAirlock(s, 'none', 'reload', 'airlock disabled by reload', 'config_reload')
    }
    if (restart) {
      this.stop()
      this.start()
    }
  }

  /** Housekeeping: idle eviction every `cleanup_interval_seconds`, time recovery every 30 s. */
  start(): void {
    if (this.timers.length > 0) return
    const cleanup = setInterval(() => this.cleanup(), this.settings.cleanupIntervalSeconds * 1000)
    const recovery = setInterval(() => this.recoverAll(), RECOVERY_TICK_MS)
    // OP §6 item 1 (quirk fixed): the airlock timers run whether or not adaptive enforcement is on.
    const airlock = setInterval(() => this.airlockSweep(), AIRLOCK_SWEEP_MS)
    cleanup.unref()
    recovery.unref()
    airlock.unref()
    this.timers = [cleanup, recovery, airlock]
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t)
    this.timers = []
  }

  get size(): number {
    return this.sessions.size
  }

  get(key: string): Session | undefined {
    return this.sessions.get(key)
  }

  all(): IterableIterator<Session> {
    return this.sessions.values()
  }

  /**
   * The request path's one lookup: the session for `key`, created when new (evicting the least
   * recently active non-airlocked session at capacity). Applies a due time-recovery step and
   * refreshes `last_activity` — except for `block_all` sessions, which must still age out (§14.1).
   */
  touch(key: string, agent: string, clientIp: string): Session {
    const now = this.nowMs()
    let s = this.sessions.get(key)
    if (s === undefined) {
      if (this.sessions.size >= this.settings.maxSessions) this.evictOldest()
      s = new Session(key, agent, clientIp, now, this.settings.adaptive.escalationThreshold, this.nextTaskId())
      this.sessions.set(key, s)
      return s
    }
    if (s.level > 0 && now - s.lastLevelChangeMs > RECOVERY_QUIET_MS) this.recoverOne(s, now)
    if (!s.blockAll) s.lastActivityMs = now
    return s
  }

  // ---- adaptive scoring (§14.2)

  /**
   * Adds a signal's points; crossing the current threshold raises the level by one and doubles
   * the threshold (the score is not reset). No-op while adaptive enforcement is off.
   */
  signal(s: Session, kind: SignalKind, target = '', detail = ''): void {
    const a = this.settings.adaptive
    if (!a.enabled) return
    const now = this.nowMs()
    s.threatScore += SIGNAL_POINTS[kind]
    s.addEvent({atMs: now, kind: 'signal', type: kind, target, detail, severity: kind === 'block' ? 'critical' : 'warn', score: s.threatScore})
    if (s.threatScore >= s.threshold) {
      const from = s.level
      s.level += 1
      s.threshold *= 2
      s.lastLevelChangeMs = now
      this.refreshBlockAll(s)
      this.counters.escalations++
      const pair = `${levelLabel(from)}|${levelLabel(s.level)}`
      this.counters.escalationPairs.set(pair, (this.counters.escalationPairs.get(pair) ?? 0) + 1)
      s.addEvent({atMs: now, kind: 'escalation', type: levelLabel(s.level), target, detail: `escalated ${levelLabel(from)} -> ${levelLabel(s.level)} on ${kind}`, severity: 'critical', score: s.threatScore})
      this.raised.add(s)
      this.observer.escalated?.(s, from, s.level, kind)
      this.airlockOnEscalation(s)
    }
  }

  // ---- the client address (issue 37 item 1)

  /**
   * What the client address of an unbound identity (a name the client declared, or none) has
   * earned in its other sessions: the live session from the same address with the highest airlock
   * tier, one whose level blocks everything, and the one with the highest level. Nothing is copied: the sessions that earned the
   * state stay its only holders, so an operator's release, reset or terminate of them lifts it for
   * every name at once. Bound identities (listener, source CIDR) are judged by their own session.
   */
  addressState(s: Session): {tier: Session | null; blockAll: Session | null; level: Session | null} {
    return this.addressStateAt(s.clientHost, s)
  }

  /** `addressState` of a client address, leaving out `self` (the caller's own session, or null when it has none). */
  private addressStateAt(host: string, self: Session | null): {tier: Session | null; blockAll: Session | null; level: Session | null} {
    let tier: Session | null = null
    let blockAll: Session | null = null
    let level: Session | null = null
    if (this.raised.size === 0) return {tier, blockAll, level}
    for (const p of this.raised) {
      if (this.sessions.get(p.key) !== p || (p.level === 0 && p.airlockTier === 'none')) {
        this.raised.delete(p)
        continue
      }
      if (p === self || p.clientHost !== host) continue
      if (p.airlockTier !== 'none' && (tier === null || tierRank(p.airlockTier) > tierRank(tier.airlockTier))) tier = p
      if (p.blockAll && blockAll === null) blockAll = p
      if (p.level > 0 && (level === null || p.level > level.level)) level = p
    }
    return {tier, blockAll, level}
  }

  /**
   * The hold an unbound identity's request or message is under from its client address (issue 37
   * item 1), for every transport: the address's highest airlock tier when that tier refuses this
   * transport and method (the denial is counted and observed as the holder's), else a session of
   * the address whose level blocks everything; null when the address holds nothing against it.
   * `pipelock run`'s HTTP gate and its MCP listener both read it, so one release frees both.
   */
  addressHold(s: Session, transport: AirlockTransport, method: string, carriesBody = false): AddressHold | null {
    // A session with no client address (an MCP invocation session) has no address to be held by.
    if (s.clientIp === '') return null
    const {tier, blockAll} = this.addressState(s)
    if (tier !== null && !this.airlockAllows(tier, transport, method, carriesBody)) return {kind: 'airlock', by: tier}
    if (blockAll !== null) return {kind: 'block_all', by: blockAll}
    return null
  }

  /**
   * What holds an unbound session from its client address, for the operator views (explain,
   * inspect, a release, whoami), whatever the next request: an address session in drain (refuses
   * everything), else one whose level blocks everything, else one in hard (refuses writes, tunnels
   * and new WebSockets). Soft holds nothing. Null for a bound session or a free address.
   */
  addressHolder(s: Session): AddressHold | null {
    return s.unbound ? this.addressHolderAt(s.clientIp, s) : null
  }

  /** `addressHolder` for an unbound caller at `clientIp` whose own session is `self` (null: it has none yet; whoami). */
  addressHolderAt(clientIp: string, self: Session | null): AddressHold | null {
    if (clientIp === '') return null
    const {tier, blockAll} = this.addressStateAt(clientHostOf(clientIp), self)
    if (tier !== null && tier.airlockTier === 'drain') return {kind: 'airlock', by: tier}
    if (blockAll !== null) return {kind: 'block_all', by: blockAll}
    if (tier !== null && tier.airlockTier === 'hard') return {kind: 'airlock', by: tier}
    return null
  }

  // ---- airlock (§15, OP §6)

  /**
   * An escalation edge into a level: the level's trigger moves the session *up* (tiers may be
   * skipped). Every edge counts, wherever the signal came from (the reference enters only on
   * edges seen in the URL-scan step; docs/compatibility.md).
   */
  private airlockOnEscalation(s: Session): void {
    const a = this.settings.airlock
    if (!a.enabled) return
    const t = triggerTier(a, s.level)
    if (tierRank(t.tier) <= tierRank(s.airlockTier)) return
    this.setAirlock(s, t.tier, 'adaptive', t.trigger, 'airlock_triggers')
  }

  /**
   * Moves a session to `to` (no-op, false, when it is already there). Entering hard or drain
   * cuts the session's live tunnels and WebSockets; every change is counted and observed.
   */
  setAirlock(s: Session, to: AirlockTier, trigger: AirlockTrigger, reason: string, source: string): boolean {
    const from = s.airlockTier
    if (from === to) return false
    const now = this.nowMs()
    s.airlockTier = to
    s.airlockEnteredAtMs = to === 'none' ? null : now
    s.airlockTrigger = to === 'none' ? '' : reason
    s.airlockTriggerSource = to === 'none' ? '' : source
    s.drainDone = false
    if (to !== 'none') this.raised.add(s)
    bump(this.counters.airlock.transitions, `${from}|${to}|${trigger}`)
    const kind = trigger === 'adaptive' ? 'airlock_enter' : trigger === 'timer' ? 'airlock_deescalate' : 'airlock_override'
    s.addEvent({atMs: now, kind, type: to, target: '', detail: `${from}->${to}`, severity: trigger === 'timer' ? 'info' : 'warn', score: s.threatScore})
    if (to === 'hard' || to === 'drain') s.cancelAll(to)
    if (to === 'drain') this.noteDrainProgress(s)
    this.observer.airlockChanged?.(s, from, to, trigger, reason)
    return true
  }

  /**
   * Operator release (`POST …/airlock` to a tier no higher than the current one; the runbook's
   * "traffic resumes without destroying state"). The tier moves to `to`, and the escalation level
   * comes down with it to the highest level, at or below the current one, that does not block
   * everything and whose airlock trigger asks for no more than `to` — so the level cannot keep
   * blocking a session the operator released, nor put it straight back into a higher tier. Each
   * level dropped is one time-recovery step (threshold halved, score = threshold / 2); the events,
   * task, taint, trust grants and domain windows are kept (that is what terminate clears).
   */
  release(s: Session, to: AirlockTier): ReleaseOutcome {
    const previousTier = s.airlockTier
    const previousLevel = s.level
    const tierChanged = this.setAirlock(s, to, 'api', 'manual', 'admin_api')
    const target = this.releasedLevel(s.level, to)
    if (target < s.level) {
      const now = this.nowMs()
      while (s.level > target) {
        s.level -= 1
        s.threshold /= 2
      }
      s.threatScore = Math.min(s.threatScore, s.threshold / 2)
      s.lastLevelChangeMs = now
      this.refreshBlockAll(s)
      s.addEvent({
        atMs: now, kind: 'deescalation', type: levelLabel(s.level), target: '',
        detail: `released ${levelLabel(previousLevel)} -> ${levelLabel(s.level)} by operator (airlock ${to})`, severity: 'info', score: s.threatScore,
      })
      this.observer.deescalated?.(s, previousLevel, s.level, 'operator_release')
    }
    return {previousTier, tier: s.airlockTier, tierChanged, previousLevel, level: s.level}
  }

  /** The level a release to `to` leaves: the highest ≤ `level` without block_all whose trigger tier is ≤ `to`. */
  private releasedLevel(level: number, to: AirlockTier): number {
    const a = this.settings.adaptive
    const air = this.settings.airlock
    for (let l = level; l > 0; l--) {
      if (a.enabled && (levelActions(a.levels, l)?.blockAll ?? false)) continue
      if (air.enabled && tierRank(triggerTier(air, l).tier) > tierRank(to)) continue
      return l
    }
    return 0
  }

  /** The 30 s sweep: each quarantined session whose tier timer has run out steps down one tier. */
  airlockSweep(): void {
    const a = this.settings.airlock
    const now = this.nowMs()
    for (const s of this.sessions.values()) {
      if (s.airlockTier === 'none' || s.airlockEnteredAtMs === null) continue
      const d = tierDurationMs(a, s.airlockTier)
      if (d <= 0 || now - s.airlockEnteredAtMs < d) continue
      if (s.airlockTier === 'drain' && !s.drainDone) this.counters.airlock.drainTimeout++
      this.setAirlock(s, stepDown(s.airlockTier), 'timer', 'timer', 'airlock_timers')
    }
  }

  /** When (and to what) the timers would next step the session down; null when manual only. */
  nextDeescalation(s: Session): {tier: AirlockTier; atMs: number} | null {
    if (s.airlockTier === 'none' || s.airlockEnteredAtMs === null) return null
    const d = tierDurationMs(this.settings.airlock, s.airlockTier)
    return d <= 0 ? null : {tier: stepDown(s.airlockTier), atMs: s.airlockEnteredAtMs + d}
  }

  /**
   * When time recovery next lowers the session's escalation level, and to what: the quiet period
   * after the last level change has run out (the 30 s sweep or the session's next request applies
   * it, so it lands up to one sweep later). Null at level 0 or with adaptive enforcement off.
   */
  nextLevelRecovery(s: Session): {level: number; atMs: number} | null {
    if (!this.settings.adaptive.enabled || s.level <= 0 || !Number.isFinite(s.lastLevelChangeMs)) return null
    return {level: s.level - 1, atMs: s.lastLevelChangeMs + RECOVERY_QUIET_MS}
  }

  /** True when the session's tier lets this request or connection through; a denial is counted and observed. */
  airlockAllows(s: Session, transport: AirlockTransport, method: string, carriesBody = false): boolean {
    if (airlockPermits(s.airlockTier, transport, method, carriesBody)) return true
    bump(this.counters.airlock.denials, `${s.airlockTier}|${transport}|${airlockActionClass(transport, method)}`)
    this.observer.airlockDenied?.(s, transport, method)
    return false
  }

  /**
   * Registers live work (a tunnel, a WebSocket) to cut when the session enters hard or drain or
   * is reset/terminated. A registration while already hard/drain is cut at once, unless
   * `admitted`: the work was judged under the tier in force (an MCP read the hard tier let
   * through), so only a later change cuts it. `cancel` is told why it is cut. `counted` false:
   * the work lives inside other registered work (a `wss://` relay inside its intercepted tunnel),
   * which is the connection a reset or terminate counts (`Session.innerCancels`). Returns the
   * unregister function.
   */
  registerLive(s: Session, cancel: (cause: LiveCutCause) => void, admitted = false, counted = true): () => void {
    if (!admitted && (s.airlockTier === 'hard' || s.airlockTier === 'drain')) {
      cancel(s.airlockTier)
      return () => undefined
    }
    const set = counted ? s.cancels : s.innerCancels
    set.add(cancel)
    return () => void set.delete(cancel)
  }

  /**
   * Registers a buffered fetch/forward exchange waiting on its answer, cut only by a reset or
   * terminate (not by entering hard or drain: those let running exchanges finish). `cut` answers
   * the exchange with its block and aborts its upstream request, and returns false when the
   * answer was already out. Returns the unregister function.
   */
  registerExchange(s: Session, cut: (cause: ExchangeCutCause) => boolean): () => void {
    s.exchanges.add(cut)
    return () => void s.exchanges.delete(cut)
  }

  /** One more outstanding exchange of the session; the returned function ends it (idempotent). */
  beginInFlight(s: Session): () => void {
    s.inFlight++
    let done = false
    return () => {
      if (done) return
      done = true
      s.inFlight = Math.max(0, s.inFlight - 1)
      if (s.airlockTier === 'drain') this.noteDrainProgress(s)
    }
  }

  private noteDrainProgress(s: Session): void {
    if (s.drainDone || s.inFlight > 0) return
    s.drainDone = true
    this.counters.airlock.drainCompleted++
  }

  /** Sessions per airlock tier (gauge `pipelock_airlock_sessions{tier}`), counted from the sessions themselves so it never drifts. */
  sessionsByTier(): Record<AirlockTier, number> {
    const out = {none: 0, soft: 0, hard: 0, drain: 0}
    for (const s of this.sessions.values()) out[s.airlockTier]++
    return out
  }

  /** Deferred decay at the end of a request that produced no finding at all (§14.2). */
  decay(s: Session): void {
    const a = this.settings.adaptive
    if (!a.enabled || s.threatScore === 0) return
    s.threatScore = Math.max(0, s.threatScore - a.decayPerCleanRequest)
  }

  /** `UpgradeAction(base, level)`; DLP findings on `adaptive_enforcement.exempt_domains` are never upgraded. */
  upgrade(s: Session, base: BaseAction, host = '', dlp = false): BaseAction {
    const a = this.settings.adaptive
    if (!a.enabled || s.level === 0) return base
    if (dlp && host !== '' && this.isExempt(host)) return base
    return upgradeAction(base, s.level, a.levels)
  }

  /**
   * The session whose escalation level judges an unbound identity's findings (issue 37 item 1, as
   * `taintHolder` for taint): the live session of the same client address with the highest level,
   * when it is above `s`'s own; else `s`. A client raised to `elevated` under one name does not
   * get its warn findings forwarded again under another name or none. Nothing is copied.
   */
  levelHolder(s: Session): Session {
    if (s.clientIp === '' || this.raised.size === 0) return s
    const {level} = this.addressState(s)
    return level !== null && level.level > s.level ? level : s
  }

  /** Counts an upgrade that changed a decision (metric `pipelock_adaptive_upgrades_total`). */
  noteUpgrade(s: Session, from: BaseAction, target: string, detail: string): void {
    this.counters.upgrades++
    s.addEvent({atMs: this.nowMs(), kind: 'upgrade', type: from, target, detail, severity: 'critical', score: s.threatScore})
  }

  isExempt(host: string): boolean {
    const ex = this.settings.adaptive.exemptDomains
    return ex.length > 0 && matchesAnyDomain(host, ex) !== null
  }

  /** One time-recovery pass over every session (the 30 s tick). */
  recoverAll(): void {
    const now = this.nowMs()
    for (const s of this.sessions.values()) if (s.level > 0 && now - s.lastLevelChangeMs > RECOVERY_QUIET_MS) this.recoverOne(s, now)
  }

  /** §14.2: one level down, threshold halved, score = threshold / 2, block_all recomputed. */
  private recoverOne(s: Session, now: number): void {
    const from = s.level
    s.level -= 1
    s.threshold /= 2
    s.threatScore = s.threshold / 2
    s.lastLevelChangeMs = now
    this.refreshBlockAll(s)
    this.counters.autoDeescalations++
    s.addEvent({atMs: now, kind: 'deescalation', type: levelLabel(s.level), target: '', detail: `recovered ${levelLabel(from)} -> ${levelLabel(s.level)}`, severity: 'info', score: s.threatScore})
    this.observer.deescalated?.(s, from, s.level)
  }

  private refreshBlockAll(s: Session): void {
    const a = this.settings.adaptive
    s.blockAll = a.enabled && (levelActions(a.levels, s.level)?.blockAll ?? false)
  }

  // ---- profiling (§14.1)

  /**
   * Tracks the request's hostname in the session's and the client IP's windows. Returns the
   * anomaly raised by this request (the IP one when both fire), or null; each anomaly is also
   * scored (cooperative tools — by User-Agent — score the down-weighted signal).
   */
  observeHost(s: Session, host: string, userAgent: string | undefined): AnomalyKind | null {
    if (host === '') return null
    const st = this.settings
    const now = this.nowMs()
    const windowMs = st.windowMinutes * 60_000
    s.domains ??= new DomainWindow()
    let hit: AnomalyKind | null = null
    const coop = (): boolean => st.adaptive.cooperativeToolDownweight && isCooperativeUserAgent(userAgent)
    const again = (o: BurstObservation): string => (o === 'repeat' ? ' (another new domain in the same window)' : '')
    const own = s.domains.observe(host, now, windowMs, st.domainBurst)
    if (own !== null) {
      hit = coop() ? 'domain_anomaly_cooperative' : 'domain_anomaly'
      this.raise(s, hit, host, `${st.domainBurst} distinct domains within ${st.windowMinutes}m${again(own)}`, own === 'raised')
    }
    let ipw = this.ipWindows.get(s.clientHost)
    if (ipw === undefined) {
      ipw = new DomainWindow()
      this.ipWindows.set(s.clientHost, ipw)
    }
    const ip = ipw.observe(host, now, windowMs, st.domainBurst)
    if (ip !== null) {
      hit = coop() ? 'ip_domain_anomaly_cooperative' : 'ip_domain_anomaly'
      this.raise(s, hit, host, `${st.domainBurst} distinct domains from ${s.clientIp} within ${st.windowMinutes}m${again(ip)}`, ip === 'raised')
    }
    return hit
  }

  /** Response size against the session's running mean; true (and an anomaly, unscored) on a spike. */
  observeVolume(s: Session, bytes: number, target = ''): boolean {
    const ratio = this.settings.volumeSpikeRatio
    const spike = s.volumeCount >= VOLUME_MIN_SAMPLES && s.volumeMean > 0 && bytes > ratio * s.volumeMean
    s.volumeCount++
    s.volumeMean += (bytes - s.volumeMean) / s.volumeCount
    if (spike) this.raise(s, 'volume_spike', target, `response of ${bytes} bytes exceeds ${ratio}x the session mean`)
    return spike
  }

  /** `scored`: false for a domain burst's repeat in its window (logged and acted on, no adaptive score). */
  private raise(s: Session, kind: AnomalyKind, target: string, detail: string, scored = true): void {
    s.anomalies++
    this.counters.anomalies++
    this.counters.anomalyKinds.set(kind, (this.counters.anomalyKinds.get(kind) ?? 0) + 1)
    s.addEvent({atMs: this.nowMs(), kind: 'anomaly', type: kind, target, detail, severity: 'warn', score: s.threatScore})
    this.observer.anomaly?.(s, kind, detail)
    if (kind !== 'volume_spike' && scored) this.signal(s, kind, target, detail)
  }

  // ---- taint (§16)

  /**
   * Exposure to content from `host`: allowlisted reference or external untrusted (hostile for
   * injection hits). An MCP server message (`mcp_response`) is `internal_generated` from a local
   * (stdio) server — `host` '' — and `external_untrusted` from an HTTP or WebSocket one.
   */
  recordExposure(s: Session, url: string, host: string, kind: TaintSourceKind): void {
    const t = this.settings.taint
    if (!t.enabled) return
    let level: number
    if (kind === 'prompt_injection') level = TAINT.external_hostile
    else if (kind === 'mcp_response') level = host === '' ? TAINT.internal_generated : TAINT.external_untrusted
    else if (host !== '' && matchesAnyDomain(host, t.allowlistedDomains) !== null) level = TAINT.allowlisted_reference
    else level = TAINT.external_untrusted
    s.taint.record({url, kind, level, atMs: this.nowMs()}, t.recentSources)
    if (s.taint.level > TAINT.trusted && s.clientIp !== '') {
      let set = this.tainted.get(s.clientHost)
      if (set === undefined) this.tainted.set(s.clientHost, (set = new Set()))
      set.add(s)
    }
  }

  /**
   * The session whose taint judges a side-effecting action of an unbound identity (issue 37 item
   * 1, as `addressHold` for the airlock): the live session of the same client address with the
   * highest taint level, when it is above `s`'s own; else `s`. A client that read hostile content
   * under one name and writes under another (or none) is judged by what it read. Nothing is
   * copied: a new task on the session that read it (`POST …/task`) clears it for every name.
   */
  taintHolder(s: Session): Session {
    let holder = s
    const set = s.clientIp === '' ? undefined : this.tainted.get(s.clientHost)
    if (set === undefined || !this.pruneTainted(s.clientHost, set)) return holder
    for (const p of set) if (p.taint.level > holder.taint.level) holder = p
    return holder
  }

  /**
   * Drops from an address's entry of the taint index the sessions no longer live or above
   * `trusted` (evicted, cleared by a new task), and the entry itself once empty; false then.
   */
  private pruneTainted(ip: string, set: Set<Session>): boolean {
    for (const p of set) if (this.sessions.get(p.key) !== p || p.taint.level <= TAINT.trusted) set.delete(p)
    if (set.size > 0) return true
    this.tainted.delete(ip)
    return false
  }

  /**
   * One taint evaluation (policy-extra §1.7): disabled → allow; a runtime grant for the current
   * task → allow; else the matrix under `taint.policy`, and a config override in force replaces
   * its result (even a block) by allow. `authority` is `operator_override` after a human approved.
   */
  evaluateTaint(s: Session, action: TaintAction, authority: AuthorityKind = 'user_broad'): TaintEvaluation {
    const t = this.settings.taint
    if (!t.enabled) return {decision: 'allow', reason: 'taint_disabled', action, authority}
    const source = contaminatingSource(s.taint)
    const now = this.nowMs()
    if (s.overrides.length > 0) {
      const o = matchingRuntimeOverride(s.overrides, s.currentTaskId, now, action.ref, source)
      if (o !== undefined) return {decision: 'allow', reason: 'taint_runtime_task_override', action, authority, override: {kind: 'runtime', grantedBy: o.grantedBy ?? '', reason: o.reason ?? ''}}
    }
    const m = taintMatrix(s.taint.level, action.cls, action.sensitivity, authority, t.policy)
    if (m.decision !== 'allow' && t.trustOverrides.length > 0) {
      const o = matchingConfigOverride(t.trustOverrides, now, action.ref, source)
      if (o !== undefined) return {decision: 'allow', reason: 'taint_trust_override', action, authority, override: {kind: 'config', grantedBy: o.grantedBy, reason: o.reason}}
    }
    return {decision: m.decision, reason: m.reason, action, authority}
  }

  /** The path classifier of `taint.protected_paths` / `elevated_paths` (for the transports' action classification). */
  get pathClassifier(): PathClassifier {
    return this.paths
  }

  /** §12 trust: a scoped grant for the session's current task. */
  grantTrust(s: Session, grant: Omit<TrustOverride, 'taskId'>): TrustOverride {
    const o: TrustOverride = {...grant, taskId: s.currentTaskId}
    s.overrides.push(o)
    return o
  }

  // ---- housekeeping and operator actions

  /** Idle eviction (airlocked sessions are never evicted) and pruning of idle IP windows. */
  cleanup(): void {
    const now = this.nowMs()
    const ttl = this.settings.sessionTtlMinutes * 60_000
    for (const [key, s] of this.sessions) {
      if (s.airlockTier !== 'none' || now - s.lastActivityMs <= ttl) continue
      this.sessions.delete(key)
      this.counters.evicted++
      s.cancelAll('evicted')
      this.observer.evicted?.(s, 'ttl')
    }
    const windowMs = this.settings.windowMinutes * 60_000
    for (const [ip, w] of this.ipWindows) if (w.idle(now, windowMs)) this.ipWindows.delete(ip)
    // Forget evicted and cleared sessions in the taint index (an address never judged again would keep them).
    for (const [ip, set] of this.tainted) this.pruneTainted(ip, set)
  }

  /** At capacity: the least recently active session that is not airlocked goes (none → nothing goes). */
  private evictOldest(): void {
    let victim: Session | undefined
    for (const s of this.sessions.values()) {
      if (s.airlockTier !== 'none') continue
      if (victim === undefined || s.lastActivityMs < victim.lastActivityMs) victim = s
    }
    if (victim === undefined) return
    this.sessions.delete(victim.key)
    this.counters.evicted++
    victim.cancelAll('evicted')
    this.observer.evicted?.(victim, 'capacity')
  }

  /** The adaptive state a reset and a flush both clear: score, level, threshold, block_all, domain windows, volume. */
  private resetAdaptive(s: Session): void {
    s.threatScore = 0
    s.level = 0
    s.threshold = this.settings.adaptive.escalationThreshold
    s.lastLevelChangeMs = -Infinity
    s.blockAll = false
    s.domains?.clear()
    s.volumeCount = 0
    s.volumeMean = 0
  }

  /**
   * §12 reset: score 0, level normal, threshold back to base, block_all cleared, domain windows
   * and events cleared, airlock none, live connections cut, the client IP's burst state cleared.
   */
  reset(s: Session, cause: ExchangeCutCause = 'reset'): ResetOutcome {
    const previous = {previousLevel: s.level, previousScore: s.threatScore, previousTier: s.airlockTier, ipStateCleared: true}
    this.resetAdaptive(s)
    s.events.length = 0
    if (s.airlockTier !== 'none') this.setAirlock(s, 'none', 'api', 'manual', 'admin_api')
    s.events.length = 0
    const connectionsCut = s.cancelAll(cause) + s.cutExchanges(cause)
    this.ipWindows.delete(s.clientHost)
    return {...previous, connectionsCut}
  }

  /** §12 terminate: a reset that also removes the session (in-flight work is always cut). */
  terminate(s: Session): ResetOutcome {
    const out = this.reset(s, 'terminate')
    this.sessions.delete(s.key)
    return out
  }

  /** §12 task: a new task id; taint of the old task is cleared. */
  newTask(s: Session, label: string): {previous: string; current: string; overridesCleared: number} {
    const previous = s.currentTaskId
    const overridesCleared = s.overrides.length
    s.currentTaskId = this.nextTaskId()
    s.currentTaskLabel = label
    s.taint.clear()
    s.overrides.length = 0
    s.addEvent({atMs: this.nowMs(), kind: 'taint', type: 'task', target: '', detail: `new task ${s.currentTaskId}`, severity: 'info', score: s.threatScore})
    return {previous, current: s.currentTaskId, overridesCleared}
  }

  /**
   * §12 adaptive flush: every identity session's adaptive state (score, level, threshold,
   * `block_all`, domain windows, volume baseline) back to the start, and all IP windows cleared;
   * invocation sessions are skipped. Unlike the reference (a `reset` of each session), airlock
   * tiers an operator or a trigger set are kept, with the session's events and live work: a flush
   * is a tuning action and must not lift a quarantine (docs/compatibility.md). `levelsReset`
   * counts the sessions whose level or score it cleared, `tiersKept` those still quarantined.
   */
  flush(): {identity: number; skipped: number; levelsReset: number; tiersKept: number} {
    let identity = 0
    let skipped = 0
    let levelsReset = 0
    let tiersKept = 0
    const now = this.nowMs()
    for (const s of this.sessions.values()) {
      if (s.kind === 'invocation') {
        skipped++
        continue
      }
      identity++
      if (s.airlockTier !== 'none') tiersKept++
      if (s.level > 0 || s.threatScore > 0) {
        levelsReset++
        if (s.level > 0) {
          s.addEvent({atMs: now, kind: 'deescalation', type: 'normal', target: '', detail: `flushed ${levelLabel(s.level)} -> normal by operator (adaptive flush)`, severity: 'info', score: 0})
        }
      }
      this.resetAdaptive(s)
    }
    this.ipWindows.clear()
    return {identity, skipped, levelsReset, tiersKept}
  }

  /** Sessions per level label (gauge `pipelock_adaptive_sessions_current{level}`). */
  sessionsByLevel(): Record<'normal' | 'elevated' | 'high' | 'critical', number> {
    const out = {normal: 0, elevated: 0, high: 0, critical: 0}
    for (const s of this.sessions.values()) out[levelLabel(s.level)]++
    return out
  }

  recentEvents(s: Session): readonly SessionEvent[] {
    return s.events
  }

  private nextTaskId(): string {
    return `task-${++this.taskSeq}`
  }
}

/** The base action of a finding that did not block (`warn` / `ask`) as UpgradeAction sees it. */
export type {BaseAction}
