/**
 * The proxy's side of session profiling, adaptive enforcement and taint (runtime spec §14,
 * §16): one `RequestSession` per request (one Map lookup), the session checks of the decision
 * order (kill switch → scanners → **session/adaptive** → mode → response), and the signals read
 * back from each request's Decision. Audit events and metrics of §18/§19 are emitted here.
 */
import {parseGoUrl, type Clock} from '../canonical/index.js'
import type {PipelockConfig} from '../config/index.js'
import {type DlpFinding, type ReasonCode} from '../scanner/index.js'
import {
  drainDurationMs, levelLabel, SessionManager, newSessionCounters, type AirlockTransport, type AirlockTrigger, type AnomalyKind, type LevelLabel,
  type ExchangeCutCause, type LiveCutCause, type Session, type SessionCounters, type SessionObserver, type SessionSettings, type TaintSourceKind,
  classifyHttpAction, type AuthorityKind, type TaintEvaluation, type TaintPolicy,
} from '../sessions/index.js'
import type {AirlockTier} from '../sessions/index.js'
import {severityOf} from '../emit/index.js'
import type {AuditLog} from './audit-log.js'
import {taintEvidence, type AirlockEvidence, type Decision, type TaintEvidence} from './decision.js'

/** Per-request session state: which session, and whether the request produced a finding. */
export class RequestSession {
  /** Any finding at all (no decay at the end of the request, §14.2). */
  finding = false
  /** An adaptive-neutral outcome (protective, infrastructure…): neither scores nor decays. */
  neutral = false
  /** `session` holds a listener- or CIDR-bound identity; else the name is a claim, and what its client address earned elsewhere counts too. */
  constructor(readonly session: Session, readonly bound = true) {}
}

/** A session-level denial: the airlock tier, `block_all` (escalation) or a profiling anomaly with `anomaly_action: block`. */
export interface SessionDeny {
  readonly layer: 'session_deny' | 'session_profiling' | 'airlock'
  readonly reason: Extract<ReasonCode, 'escalation_level' | 'session_anomaly' | 'airlock_active'>
  readonly detail: string
  readonly label: LevelLabel
  /** The transport's own body when it is not derived from `detail` (airlock, OP §6 item 3). */
  readonly body?: string
}

/** A tier change as the evidence sinks see it (a receipt per change, every trigger). */
export interface AirlockChange {
  readonly session: Session
  readonly from: AirlockTier
  readonly to: AirlockTier
  readonly trigger: AirlockTrigger
  readonly detail: string
}

/** The evidence record of a tier change (`pipelock run`'s sinks and `mcp proxy`'s receipt chain). */
export function airlockEvidenceOf(c: AirlockChange): AirlockEvidence {
  const s = c.session
  return {sessionKey: s.key, agent: s.agent, clientIp: s.clientIp, from: c.from, to: c.to, trigger: c.trigger, detail: c.detail}
}

/**
 * Decisions by these layers are consequences of state, not new behaviour: they neither score nor
 * decay. Cross-request blocks have scored their own signals already (`entropy_budget`, `fragment_dlp`).
 */
const NEUTRAL_LAYERS: ReadonlySet<string> = new Set(['session_deny', 'session_profiling', 'airlock', 'cross_request', 'cross_request_entropy', 'kill_switch', 'tunnel_capacity', 'response_size', 'upstream'])
const NEUTRAL_CLASSES: ReadonlySet<string> = new Set(['protective', 'infrastructure_error', 'structural_exemption'])
const DLP_LAYERS: ReadonlySet<string> = new Set(['dlp', 'core_dlp', 'body_dlp', 'header_dlp', 'address_protection'])

export function sessionSettingsFromConfig(c: PipelockConfig): SessionSettings {
  const sp = c.session_profiling
  const ae = c.adaptive_enforcement
  const lv = (l: {upgrade_warn: string; upgrade_ask: string; block_all: boolean}) => ({upgradeWarn: l.upgrade_warn === 'block', upgradeAsk: l.upgrade_ask === 'block', blockAll: l.block_all})
  return {
    anomalyAction: sp.anomaly_action === 'block' ? 'block' : 'warn',
    domainBurst: sp.domain_burst,
    windowMinutes: sp.window_minutes,
    volumeSpikeRatio: sp.volume_spike_ratio,
    maxSessions: sp.max_sessions,
    sessionTtlMinutes: sp.session_ttl_minutes,
    cleanupIntervalSeconds: sp.cleanup_interval_seconds,
    adaptive: {
      enabled: ae.enabled,
      escalationThreshold: ae.escalation_threshold,
      decayPerCleanRequest: ae.decay_per_clean_request,
      cooperativeToolDownweight: ae.cooperative_tool_downweight,
      exemptDomains: [...ae.exempt_domains],
      // The config loader already filled absent level fields with the §14.3 defaults (merge base),
      // and kept an explicit "" / false: the resolved config is taken as written.
      levels: {elevated: lv(ae.levels.elevated), high: lv(ae.levels.high), critical: lv(ae.levels.critical)},
    },
    taint: {
      enabled: c.taint.enabled,
      // '' is balanced (policy-extra §1.2); validation refused anything else.
      policy: (c.taint.policy === '' ? 'balanced' : c.taint.policy) as TaintPolicy,
      trustOverrides: c.taint.trust_overrides.map((o) => ({
        scope: o.scope, sourceMatch: o.source_match ?? '', actionMatch: o.action_match ?? '',
        expiresAtMs: Date.parse(o.expires_at), grantedBy: o.granted_by ?? '', reason: o.reason ?? '',
      })),
      recentSources: c.taint.recent_sources,
      allowlistedDomains: [...c.taint.allowlisted_domains],
      protectedPaths: [...c.taint.protected_paths],
      elevatedPaths: [...c.taint.elevated_paths],
    },
    airlock: {
      enabled: c.airlock.enabled,
      // Validation has already limited the triggers to none|soft|hard|drain (filled when empty).
      onElevated: c.airlock.triggers.on_elevated as AirlockTier,
      onHigh: c.airlock.triggers.on_high as AirlockTier,
      onCritical: c.airlock.triggers.on_critical as AirlockTier,
      softMs: c.airlock.timers.soft_minutes * 60_000,
      hardMs: c.airlock.timers.hard_minutes * 60_000,
      drainMs: drainDurationMs(c.airlock.timers.drain_minutes, c.airlock.timers.drain_timeout_seconds),
    },
  }
}

const AIRLOCK_DRAIN_DETAIL = 'airlock: drain tier blocks all traffic'

/** What a hard tier refuses, named by where: the forward proxy, an intercepted tunnel, the reverse proxy. */
const AIRLOCK_HARD_DETAIL: Partial<Record<AirlockTransport, string>> = {
  forward: 'airlock: hard tier blocks write methods on forward proxy',
  intercepted: 'airlock: hard tier blocks write methods on CONNECT tunnel',
  reverse: 'airlock: hard tier blocks write methods on reverse proxy',
  websocket: 'airlock: hard tier blocks new WebSocket connections',
}

function airlockDetail(tier: string, transport: AirlockTransport): string {
  return tier === 'hard' ? AIRLOCK_HARD_DETAIL[transport]! : AIRLOCK_DRAIN_DETAIL
}

/**
 * The host of an absolute URL, lower-cased, for burst tracking and taint (not for policy: the
 * URL scanner has already judged the canonical host). A linear regex instead of a full
 * `parseGoUrl`: this runs on every request and a parse costs about a microsecond.
 */
const AUTHORITY_HOST = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^/?#@]*@)?(\[[^\]/?#]*\]|[^:/?#]*)/

export function hostOfUrl(raw: string): string {
  const m = AUTHORITY_HOST.exec(raw)
  if (m === null) return ''
  const h = m[1]!
  return h.startsWith('[') ? h.slice(1, -1).toLowerCase() : h.toLowerCase()
}

function warnNames(findings: readonly DlpFinding[]): string {
  return [...new Set(findings.map((f) => f.pattern))].join(', ')
}

/** Only real findings count (info notes such as a long SigV4 expiry are not findings). */
export function realWarnings(findings: readonly DlpFinding[]): readonly DlpFinding[] {
  return findings.some((f) => f.severity === 'info') ? findings.filter((f) => f.severity !== 'info') : findings
}

export class ProxySessions {
  readonly manager: SessionManager

  constructor(
    settings: SessionSettings, clock: Clock, private readonly audit: () => AuditLog, counters: SessionCounters = newSessionCounters(),
    private readonly airlockEvidence: (c: AirlockChange) => void = () => undefined,
  ) {
    this.manager = new SessionManager(settings, clock, this.observer(), counters)
  }

  private observer(): SessionObserver {
    const fields = (s: Session) => ({session: s.key, agent: s.agent, client_ip: s.clientIp})
    return {
      escalated: (s, from, to, signal) => {
        this.audit().event('warn', 'adaptive_escalation', 'session escalated', {
          // `severity` as the emitter grades the event (operations §3.1); a numeric `level` field
          // would overwrite the log line's own level.
          ...fields(s), from: levelLabel(from), to: levelLabel(to), severity: severityOf('adaptive_escalation', {to: levelLabel(to)}), signal, score: s.threatScore,
          threshold: s.threshold, block_all: s.blockAll,
        })
      },
      deescalated: (s, from, to, cause = 'time_recovery') => {
        const why = cause === 'time_recovery' ? 'time recovery' : 'operator release'
        this.audit().event('info', 'adaptive_escalation', `session de-escalated (${why})`, {
          ...fields(s), from: levelLabel(from), to: levelLabel(to), severity: severityOf('adaptive_escalation', {to: levelLabel(to)}), direction: 'down', trigger: cause,
          score: s.threatScore, block_all: s.blockAll,
        })
      },
      anomaly: (s, kind: AnomalyKind, detail) => {
        this.audit().event('warn', 'session_anomaly', 'session anomaly', {...fields(s), anomaly: kind, detail, action: this.manager.currentSettings.anomalyAction})
      },
      // OP §6 items 2, 6, 8: info severity; operator moves are audited by the admin API (`session_admin`).
      airlockChanged: (s, from, to, trigger, detail) => {
        if (trigger === 'adaptive') {
          this.audit().event('info', 'airlock_enter', 'session entered airlock', {session: s.key, tier: to, trigger: `adaptive_${levelLabel(s.level)}`, client_ip: s.clientIp})
        } else if (trigger === 'timer' || trigger === 'reload') {
          this.audit().event('info', 'airlock_deescalate', 'session airlock tier lowered', {session: s.key, from, to, ...(trigger === 'reload' ? {trigger} : {})})
        }
        this.airlockEvidence({session: s, from, to, trigger, detail})
      },
      airlockDenied: (s, transport, method) => {
        this.audit().event('info', 'airlock_deny', 'request denied by airlock', {session: s.key, tier: s.airlockTier, transport, method, client_ip: s.clientIp})
      },
    }
  }

  updateSettings(settings: SessionSettings): void {
    this.manager.updateSettings(settings)
  }

  levelOf(t: RequestSession): LevelLabel {
    return levelLabel(t.session.level)
  }

  begin(sessionKey: string, agent: string, clientIp: string, bound = true): RequestSession {
    const s = this.manager.touch(sessionKey, agent, clientIp)
    s.unbound = !bound
    return new RequestSession(s, bound)
  }

  /**
   * Issue 37 item 1: an unbound identity's request is also held by what its client address earned
   * in other sessions (SessionManager.addressState) — their airlock tier for this transport and
   * method, and a level that blocks everything — so renaming itself or dropping the header sheds
   * nothing. Null when the address holds nothing against it.
   */
  addressDeny(t: RequestSession, transport: AirlockTransport, method: string, carriesBody = false): SessionDeny | null {
    const hold = this.manager.addressHold(t.session, transport, method, carriesBody)
    if (hold === null) return null
    const by = hold.by
    const label = levelLabel(by.level)
    if (hold.kind === 'airlock') {
      const detail = `client address ${by.clientIp} in airlock ${by.airlockTier} (session ${by.key}; the identity is not bound)`
      return {layer: 'airlock', reason: 'airlock_active', detail, label, body: `airlock: ${detail}`}
    }
    return {layer: 'session_deny', reason: 'escalation_level', detail: `client address ${by.clientIp} at escalation level ${label} (session ${by.key}; the identity is not bound)`, label}
  }

  /**
   * Session checks right after the URL verdict (§4.1 steps 6, 9, 10): the host is tracked
   * (anomalies score), then `anomaly_action: block` (enforce only) and `block_all` (always,
   * audit mode included) deny.
   */
  preflight(t: RequestSession, host: string, userAgent: string | undefined, enforce: boolean, transport?: AirlockTransport, method = 'GET', carriesBody = false): SessionDeny | null {
    const m = this.manager
    const s = t.session
    const anomaly = m.observeHost(s, host, userAgent)
    if (anomaly !== null) t.finding = true
    const label = levelLabel(s.level)
    // The airlock (a quarantine, like block_all) applies in audit mode too; an escalation edge above may just have entered it.
    if (transport !== undefined) {
      const deny = this.airlockDeny(t, transport, method, carriesBody)
      if (deny !== null) return deny
    }
    if (anomaly !== null && enforce && m.currentSettings.anomalyAction === 'block') {
      return {layer: 'session_profiling', reason: 'session_anomaly', detail: `session anomaly: ${anomaly}`, label}
    }
    if (s.blockAll) return {layer: 'session_deny', reason: 'escalation_level', detail: `session escalation level ${label}`, label}
    return null
  }

  /**
   * The airlock check of a new request or connection (OP §6 item 3), with the transport's own
   * answer; null when the tier lets it through. Exposed for the transports built on the same
   * gate (WebSocket: `'websocket'`, intercepted inner requests: `'intercepted'`).
   */
  airlockDeny(t: RequestSession, transport: AirlockTransport, method: string, carriesBody = false): SessionDeny | null {
    const s = t.session
    if (this.manager.airlockAllows(s, transport, method, carriesBody)) return null
    const label = levelLabel(s.level)
    const tier = s.airlockTier
    switch (transport) {
      case 'fetch':
        return {layer: 'airlock', reason: 'airlock_active', detail: `session in airlock ${tier}`, label}
      case 'connect':
        return {layer: 'airlock', reason: 'airlock_active', detail: 'CONNECT blocked during quarantine', label, body: 'airlock: CONNECT blocked during quarantine\n'}
      case 'websocket':
        // The handshake is a GET the hard tier lets through elsewhere: say it is the new connection that is refused.
        return {layer: 'airlock', reason: 'airlock_active', detail: airlockDetail(tier, transport), label}
      case 'forward': {
        // The reference's doubled prefix on the forward proxy (OP §6 item 3, replicated).
        const detail = airlockDetail(tier, transport)
        return {layer: 'airlock', reason: 'airlock_active', detail, label, body: `airlock: ${detail}`}
      }
      default: {
        // Intercepted and reverse-proxy requests: named as themselves, one prefix (transports §3.4 fix).
        const detail = airlockDetail(tier, transport)
        return {layer: 'airlock', reason: 'airlock_active', detail, label, body: detail}
      }
    }
  }

  /**
   * Registers live work of the request's session (a CONNECT relay, a WebSocket) to be cut when
   * the session enters airlock hard or drain, or is reset or terminated. Cut at once when the
   * session is already hard/drain, unless `admitted`: the work was let through under the tier in
   * force (a streamed `GET` at hard), so only a later change cuts it. `cancel` is told the cause
   * (relay/live-cut.ts words it). `counted` false for work inside an intercepted tunnel, which the
   * tunnel's own registration counts. Returns the unregister function.
   */
  registerLive(t: RequestSession, cancel: (cause: LiveCutCause) => void, admitted = false, counted = true): () => void {
    return this.manager.registerLive(t.session, cancel, admitted, counted)
  }

  /**
   * Registers a buffered fetch/forward exchange waiting on its answer, cut by a reset or terminate
   * of the session (relay/exchange-cut.ts). Returns the unregister function.
   */
  registerExchange(t: RequestSession, cut: (cause: ExchangeCutCause) => boolean): () => void {
    return this.manager.registerExchange(t.session, cut)
  }

  /** Counts the exchange as in flight until `lifetime` emits `close` (§12 `in_flight`, drain completion). */
  trackInFlight(t: RequestSession, lifetime: {once(event: 'close', f: () => void): unknown}): void {
    lifetime.once('close', this.manager.beginInFlight(t.session))
  }

  /**
   * A `warn` finding (DLP warn pattern, non-blocking body/header/response finding). Returns the
   * level label when the session's level upgrades it to a block (audit `adaptive_upgrade`),
   * else null (and the finding scores a near miss).
   */
  warn(t: RequestSession, what: string, host: string, dlp: boolean, target: string): LevelLabel | null {
    t.finding = true
    const m = this.manager
    const s = t.session
    // An unbound identity's findings are judged at its client address's highest level (levelHolder).
    const judge = t.bound ? s : m.levelHolder(s)
    if (m.upgrade(judge, 'warn', host, dlp) === 'block') {
      const label = levelLabel(judge.level)
      m.noteUpgrade(s, 'warn', target, what)
      this.audit().event('warn', 'adaptive_upgrade', 'warn finding upgraded to block by escalation level', {
        // `escalation_level`, not `level`: a `level` field would overwrite the log line's own level.
        session: s.key, agent: s.agent, client_ip: s.clientIp, url: target, finding: what, from: 'warn', to: 'block', escalation_level: label,
        severity: severityOf('adaptive_upgrade', {to: 'block'}),
      })
      return label
    }
    if (!(dlp && host !== '' && m.isExempt(host))) m.signal(s, 'near_miss', target, what)
    return null
  }

  /** URL/header/body DLP warn patterns; null when there are none (or only info notes). */
  warnFindings(t: RequestSession, findings: readonly DlpFinding[], host: string, target: string): {label: LevelLabel; names: string} | null {
    const real = realWarnings(findings)
    if (real.length === 0) return null
    const names = warnNames(real)
    const label = this.warn(t, `DLP warn: ${names}`, host, true, target)
    return label === null ? null : {label, names}
  }

  strip(t: RequestSession, target: string): void {
    t.finding = true
    this.manager.signal(t.session, 'strip', target, 'response content stripped')
  }

  exposure(t: RequestSession, url: string, host: string, kind: TaintSourceKind): void {
    this.manager.recordExposure(t.session, url, host, kind)
  }

  volume(t: RequestSession, bytes: number, target: string): void {
    this.manager.observeVolume(t.session, bytes, target)
  }

  /**
   * The taint evaluation of an HTTP request (policy-extra §1.4, §1.7): an `ask` or `block`, or an
   * allow by an override, is audited (`taint_decision`, with the override's attribution). For an
   * unbound identity (`t.bound` false) the most tainted session of its client address judges
   * (`SessionManager.taintHolder`): a new name does not shed what the client read.
   */
  evaluateHttp(t: RequestSession, method: string, rawUrl: string, shown: string, authority: AuthorityKind = 'user_broad', carriesBody = false): {ev: TaintEvaluation; evidence: TaintEvidence} {
    let paths: string[]
    let url = {scheme: '', host: '', requestUri: ''}
    try {
      const u = parseGoUrl(rawUrl)
      paths = [u.rawPath !== '' ? u.rawPath : u.path, u.path]
      url = {scheme: u.scheme, host: u.host, requestUri: `${u.escapedPath}${u.rawQuery !== '' ? `?${u.rawQuery}` : ''}`}
    } catch {
      paths = [rawUrl]
    }
    const m = this.manager
    const s = t.bound ? t.session : m.taintHolder(t.session)
    const ev = m.evaluateTaint(s, classifyHttpAction(method, url, m.pathClassifier, paths, carriesBody), authority)
    this.auditTaint(s, ev, {method, url: shown})
    return {ev, evidence: taintEvidence(s, ev)}
  }

  /** The `taint_decision` audit event of an ask, a block or an override's allow (policy-extra §1.10). */
  auditTaint(s: Session, ev: TaintEvaluation, extra: Record<string, unknown>): void {
    if (ev.decision === 'allow' && ev.override === undefined) return
    const last = s.taint.sources[s.taint.sources.length - 1]
    this.audit().event(ev.decision === 'allow' ? 'info' : 'warn', 'taint_decision', 'taint policy decision', {
      ...extra, session: s.key, agent: s.agent, client_ip: s.clientIp,
      session_taint_level: s.taint.levelName, taint_level: s.taint.levelName, contaminated: s.taint.contaminated, task_id: s.currentTaskId,
      action_class: ev.action.cls, action_sensitivity: ev.action.sensitivity, action_ref: ev.action.ref, authority_kind: ev.authority,
      decision: ev.decision, reason: ev.reason,
      ...(last !== undefined ? {source_url: last.url, source_kind: last.kind} : {}),
      ...(ev.override !== undefined ? {override: {kind: ev.override.kind, granted_by: ev.override.grantedBy, reason: ev.override.reason}} : {}),
      ...(ev.override?.kind === 'runtime' ? {task_override_applied: true} : {}),
    })
  }

  /**
   * Reads one Decision of the request back into the session (§14.2): blocks — enforced or not —
   * score `block` (a `config_mismatch` only a near miss; DLP on adaptive-exempt hosts nothing);
   * neutral outcomes neither score nor decay; a clean allowed request decays the score.
   */
  settle(t: RequestSession, d: Decision): void {
    const m = this.manager
    if (d.verdict === 'allow') {
      if (!t.finding && !t.neutral) m.decay(t.session)
      return
    }
    if (d.verdict === 'error' || NEUTRAL_LAYERS.has(d.layer) || (d.class !== null && NEUTRAL_CLASSES.has(d.class))) {
      t.neutral = true
      return
    }
    t.finding = true
    if (d.class === 'config_mismatch') return m.signal(t.session, 'near_miss', d.target, d.detail)
    if (DLP_LAYERS.has(d.layer)) {
      const host = hostOfUrl(d.target)
      if (host !== '' && m.isExempt(host)) return
    }
    m.signal(t.session, 'block', d.target, d.detail)
  }

  // ---- metrics (§18)

  stats(): {active: number; anomalies: number; escalations: number; top_anomalies: Array<{name: string; count: number}>} {
    const c = this.manager.counters
    const top = [...c.anomalyKinds].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 10).map(([name, count]) => ({name, count}))
    return {active: this.manager.size, anomalies: c.anomalies, escalations: c.escalations, top_anomalies: top}
  }

  renderMetrics(out: string[]): void {
    const c = this.manager.counters
    const one = (name: string, help: string, type: 'counter' | 'gauge', v: number): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${v}`)
    }
    one('pipelock_sessions_active', 'Tracked sessions.', 'gauge', this.manager.size)
    one('pipelock_session_anomalies_total', 'Session profiling anomalies.', 'counter', c.anomalies)
    out.push('# HELP pipelock_session_escalations_total Session escalations by level transition.', '# TYPE pipelock_session_escalations_total counter')
    for (const [pair, n] of [...c.escalationPairs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const [from, to] = pair.split('|')
      out.push(`pipelock_session_escalations_total{from="${from}",to="${to}"} ${n}`)
    }
    one('pipelock_sessions_evicted_total', 'Sessions evicted (capacity or idle TTL).', 'counter', c.evicted)
    out.push('# HELP pipelock_adaptive_sessions_current Sessions per escalation level.', '# TYPE pipelock_adaptive_sessions_current gauge')
    for (const [level, n] of Object.entries(this.manager.sessionsByLevel())) out.push(`pipelock_adaptive_sessions_current{level="${level}"} ${n}`)
    one('pipelock_adaptive_upgrades_total', 'Decisions upgraded to block by an escalation level.', 'counter', c.upgrades)
    one('pipelock_session_auto_deescalation_total', 'Time-recovery de-escalation steps.', 'counter', c.autoDeescalations)
    const a = c.airlock
    out.push('# HELP pipelock_airlock_sessions Sessions per airlock tier.', '# TYPE pipelock_airlock_sessions gauge')
    for (const [tier, n] of Object.entries(this.manager.sessionsByTier())) out.push(`pipelock_airlock_sessions{tier="${tier}"} ${n}`)
    out.push('# HELP pipelock_airlock_transitions_total Airlock tier changes.', '# TYPE pipelock_airlock_transitions_total counter')
    for (const [k, n] of [...a.transitions].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
      const [from, to, trigger] = k.split('|')
      out.push(`pipelock_airlock_transitions_total{from="${from}",to="${to}",trigger="${trigger}"} ${n}`)
    }
    out.push('# HELP pipelock_airlock_denials_total Requests and connections denied by an airlock tier.', '# TYPE pipelock_airlock_denials_total counter')
    for (const [k, n] of [...a.denials].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
      const [tier, transport, cls] = k.split('|')
      out.push(`pipelock_airlock_denials_total{tier="${tier}",transport="${transport}",action_class="${cls}"} ${n}`)
    }
    one('pipelock_airlock_drain_completed_total', 'Drains whose in-flight work reached zero.', 'counter', a.drainCompleted)
    one('pipelock_airlock_drain_timeout_total', 'Drains whose timer ran out with work still in flight.', 'counter', a.drainTimeout)
  }

  start(): void {
    this.manager.start()
  }

  stop(): void {
    this.manager.stop()
  }
}
