/**
 * Session admin API (runtime spec §12), mounted only when an API token existed at start-up.
 * Every endpoint runs the same order: method (405 + Allow) → auth (503 no token / 401, the kill
 * switch API's constant-time `bearerMatches`) → per-action rate limit → session manager present
 * → key parse → lookup → invocation-session guard → body decode → action. Errors are plain text
 * except the guard's JSON. Every call is audited as `session_admin`.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import {compareUtf8, parseGoTime, toEpochNanos} from '../canonical/index.js'
import {bearerMatches, readLimitedBody} from '../killswitch/index.js'
import {clientHostOf, levelLabel, tierRank, type AddressHold, type AirlockTier, type Session, type SessionEvent} from '../sessions/index.js'
import type {AuditLog} from './audit-log.js'
import type {ProxySessions} from './session-gate.js'

export interface SessionApiOptions {
  /** Current token (env wins over config); '' = 503. */
  readonly token: () => string
  readonly sessions: () => ProxySessions | null
  /** Cross-request state, cleared for a key by reset and terminate (operations §5.2). */
  readonly cee?: () => {clear(key: string): boolean} | null
  readonly nowMs: () => number
  readonly audit: () => AuditLog
  /** The caller's agent and session key as the proxy would derive them (whoami). */
  readonly identify: (req: IncomingMessage, clientIp: string) => {agent: string; key: string; bound?: boolean}
}

const MAX_BODY = 64 * 1024
const WINDOW_MS = 60_000
const MAX_PER_WINDOW = 10
const TIERS = new Set(['none', 'soft', 'hard', 'drain', 'normal'])
const KEY_ERROR = 'missing or invalid session key in URL path'

type Action = 'list' | 'inspect' | 'explain' | 'reset' | 'terminate' | 'airlock' | 'task' | 'trust' | 'adaptive_status' | 'adaptive_flush' | 'whoami'

/** Actions with their own fixed 60 s window of 10 requests (list, status and whoami are not limited). */
const LIMITED: Partial<Record<Action, string>> = {
  inspect: 'inspect', explain: 'explain', reset: 'reset', terminate: 'terminate', airlock: 'airlock', task: 'task', trust: 'trust', adaptive_flush: 'adaptive',
}

/** Identity sessions only (§12): what the guard says for each action. */
const GUARDED: Partial<Record<Action, [string, string]>> = {
  reset: ['reset', 'resettable'],
  terminate: ['terminate', 'terminable'],
  task: ['start a task on', 'task-scoped'],
  trust: ['grant trust on', 'trust-scoped'],
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}, readonly json?: unknown) {
    super(message)
  }
}

interface Route {
  readonly action: Action
  readonly method: 'GET' | 'POST'
  /** Raw (still escaped) key segment, for session routes. */
  readonly rawKey?: string
}

/** RFC 3339 with Go's RFC3339Nano trimming (`.120Z` → `.12Z`, no fraction when zero). */
export function rfc3339(ms: number): string {
  const iso = new Date(ms).toISOString()
  return iso.replace(/\.(\d*?)0*Z$/, (_m, f: string) => (f === '' ? 'Z' : `.${f}Z`))
}

export class SessionApi {
  private readonly windows = new Map<string, {start: number; count: number}>()

  constructor(private readonly opts: SessionApiOptions) {}

  /** Routes `/api/v1/sessions…` and `/api/v1/adaptive/{status,flush,whoami}`; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, clientIp: string): boolean {
    const route = this.route(path)
    if (route === null) return false
    let key = ''
    let result = 'ok'
    const done = (status: number, r: string): void => {
      this.opts.audit().event(status < 400 ? 'info' : 'warn', 'session_admin', 'session admin API call', {action: route.action, client_ip: clientIp, key, result: r, status})
    }
    this.serve(req, res, route, clientIp, (k) => (key = k), (r) => (result = r))
      .then((status) => done(status, result))
      .catch((err: unknown) => {
        const e = err instanceof ApiError ? err : new ApiError(500, 'internal error')
        if (!res.headersSent) {
          if (e.json !== undefined) sendJson(res, e.status, e.json, e.headers)
          else sendText(res, e.status, e.message, e.headers)
        } else res.destroy()
        done(e.status, e.message)
      })
    return true
  }

  private route(path: string): Route | null {
    if (path === '/api/v1/sessions') return {action: 'list', method: 'GET'}
    if (path === '/api/v1/adaptive/status') return {action: 'adaptive_status', method: 'GET'}
    if (path === '/api/v1/adaptive/flush') return {action: 'adaptive_flush', method: 'POST'}
    if (path === '/api/v1/adaptive/whoami') return {action: 'whoami', method: 'GET'}
    if (!path.startsWith('/api/v1/sessions/')) return null
    const segs = path.slice('/api/v1/sessions/'.length).split('/')
    if (segs.length === 1) return {action: 'inspect', method: 'GET', rawKey: segs[0]!}
    if (segs.length === 2) {
      const a = segs[1]!
      if (a === 'explain') return {action: 'explain', method: 'GET', rawKey: segs[0]!}
      if (a === 'reset' || a === 'terminate' || a === 'airlock' || a === 'task' || a === 'trust') return {action: a, method: 'POST', rawKey: segs[0]!}
    }
    // More segments than any endpoint has (or an unknown action): a key that cannot be parsed.
    return {action: 'inspect', method: 'GET', rawKey: '\u0000'}
  }

  private async serve(req: IncomingMessage, res: ServerResponse, route: Route, clientIp: string, setKey: (k: string) => void, setResult: (r: string) => void): Promise<number> {
    // 1. method
    if (req.method !== route.method) {
      req.resume()
      throw new ApiError(405, 'method not allowed', {Allow: route.method})
    }
    // 2. auth
    const token = this.opts.token()
    if (token === '') throw drained(req, new ApiError(503, 'session API not configured (no api_token)'))
    if (!bearerMatches(req.headers.authorization, token)) throw drained(req, new ApiError(401, 'unauthorized', {'WWW-Authenticate': 'Bearer realm="pipelock"'}))
    // 3. per-action rate limit
    const bucket = LIMITED[route.action]
    if (bucket !== undefined && !this.allow(bucket)) throw drained(req, new ApiError(429, 'rate limit exceeded', {'Retry-After': '60'}))
    // 4. session manager present
    const ps = this.opts.sessions()
    if (ps === null) throw drained(req, new ApiError(503, 'session profiling disabled'))
    const m = ps.manager
    // 5–7. key, lookup, guard
    let s: Session | undefined
    if (route.rawKey !== undefined) {
      const key = parseKey(route.rawKey)
      if (key === null) throw drained(req, new ApiError(400, KEY_ERROR))
      setKey(key)
      s = m.get(key)
      if (s === undefined) throw drained(req, new ApiError(404, 'session not found'))
      const g = GUARDED[route.action]
      if (g !== undefined && s.kind === 'invocation') {
        throw drained(req, new ApiError(400, 'invocation session', {}, {error: `cannot ${g[0]} invocation session; only identity sessions are ${g[1]}`}))
      }
    }
    // 8. body, 9. action
    const now = m.nowMs()
    switch (route.action) {
      case 'list': {
        req.resume()
        const tier = new URL(req.url ?? '/', 'http://x').searchParams.get('tier')
        if (tier !== null && !TIERS.has(tier)) throw new ApiError(400, `invalid tier "${tier}": want none, soft, hard, drain or normal`)
        const want = tier === 'normal' ? 'none' : tier
        const list = [...m.all()].filter((x) => want === null || x.airlockTier === want).sort(sessionOrder).map((x) => snapshot(x))
        sendJson(res, 200, {sessions: list, count: list.length})
        return 200
      }
      case 'inspect':
        req.resume()
        sendJson(res, 200, detail(s!, m.addressHolder(s!)))
        return 200
      case 'explain':
        req.resume()
        sendJson(res, 200, explain(s!, m.nextDeescalation(s!), now, m.addressHolder(s!), m.nextLevelRecovery(s!)))
        return 200
      case 'reset': {
        // No body for reset (§12): whatever was sent is drained unread.
        await drain(req)
        const r = m.reset(s!)
        const cee = this.clearCee(s!)
        sendJson(res, 200, {
          key: s!.key, reset: true, previous_level: levelLabel(r.previousLevel), previous_score: r.previousScore, ip_state_cleared: r.ipStateCleared, cee_state_cleared: cee,
          // [ext] as terminate's: the live connections and in-flight exchanges the reset cut
          connections_cut: r.connectionsCut,
        })
        return 200
      }
      case 'terminate': {
        expectEmptyObject(await readJsonBody(req, true))
        const r = m.terminate(s!)
        const cee = this.clearCee(s!)
        sendJson(res, 200, {
          key: s!.key, terminated: true, previous_tier: r.previousTier, previous_level: levelLabel(r.previousLevel), previous_score: r.previousScore,
          ip_state_cleared: r.ipStateCleared, cee_state_cleared: cee,
          // [ext] how many live connections the terminate cut, so the CLI warns only when it cut some
          connections_cut: r.connectionsCut,
        })
        return 200
      }
      case 'airlock': {
        const body = objectBody(await readJsonBody(req, false), ['tier'])
        const tier = body.tier
        if (typeof tier !== 'string' || !TIERS.has(tier)) throw new ApiError(400, 'invalid request body: want {"tier":"none|soft|hard|drain|normal"}')
        const to = tier === 'normal' ? 'none' : tier
        const from = s!.airlockTier
        // With the airlock off nothing can be quarantined: entering a tier is refused, not pretended.
        if (to !== 'none' && !m.currentSettings.airlock.enabled) {
          throw new ApiError(409, `airlock is disabled (airlock.enabled: false); session stays at tier ${from} (requested ${to})`)
        }
        // A move down (or to the same tier) is a release: the escalation level comes down with the
        // tier, so nothing keeps blocking a session the operator released (runbook: release ≠ terminate).
        if (tierRank(to as AirlockTier) <= tierRank(from)) {
          const r = m.release(s!, to as AirlockTier)
          // [ext] A session another session's address hold still blocks is not free: say which one to release.
          const hold = m.addressHolder(s!)
          setResult(`${from}->${to}${r.level !== r.previousLevel ? ` level ${levelLabel(r.previousLevel)}->${levelLabel(r.level)}` : ''}${hold !== null ? ` held_by ${hold.by.key}` : ''}`)
          sendJson(res, 200, {
            key: s!.key, previous_tier: from, new_tier: to, changed: r.tierChanged,
            previous_escalation_level: levelLabel(r.previousLevel), escalation_level: levelLabel(r.level), block_all: s!.blockAll,
            ...(hold !== null ? {held_by: heldBy(hold)} : {}),
          })
          return 200
        }
        const changed = m.setAirlock(s!, to as AirlockTier, 'api', 'manual', 'admin_api')
        setResult(`${from}->${to}`)
        sendJson(res, 200, {
          key: s!.key, previous_tier: from, new_tier: to, changed, previous_escalation_level: levelLabel(s!.level), escalation_level: levelLabel(s!.level), block_all: s!.blockAll,
        })
        return 200
      }
      case 'task': {
        const body = objectBody(await readJsonBody(req, true), ['label', 'reason'])
        const label = optString(body, 'label')
        optString(body, 'reason')
        const r = m.newTask(s!, label ?? '')
        sendJson(res, 200, {
          key: s!.key, previous_task_id: r.previous, current_task_id: r.current, ...(label ? {current_task_label: label} : {}), taint_cleared: true,
          runtime_overrides_cleared: r.overridesCleared,
        })
        return 200
      }
      case 'trust': {
        const body = objectBody(await readJsonBody(req, false), ['scope', 'source_match', 'action_match', 'expires_at', 'granted_by', 'reason'])
        if (body.scope !== 'task') throw new ApiError(400, 'invalid request body: scope must be "task"')
        const sourceMatch = optString(body, 'source_match')
        const actionMatch = optString(body, 'action_match')
        if (!sourceMatch && !actionMatch) throw new ApiError(400, 'invalid request body: one of source_match or action_match is required')
        const grantedBy = optString(body, 'granted_by')
        const reason = optString(body, 'reason')
        if (typeof body.expires_at !== 'string') throw new ApiError(400, 'invalid request body: expires_at (RFC 3339) is required')
        let expiresMs: number
        try {
          expiresMs = Number(toEpochNanos(parseGoTime(body.expires_at)) / 1_000_000n)
        } catch {
          throw new ApiError(400, 'invalid request body: expires_at must be an RFC 3339 time')
        }
        if (expiresMs <= now) throw new ApiError(400, 'invalid request body: expires_at must be in the future')
        const o = m.grantTrust(s!, {
          scope: 'task', expiresAtMs: expiresMs, ...(sourceMatch ? {sourceMatch} : {}), ...(actionMatch ? {actionMatch} : {}),
          ...(grantedBy ? {grantedBy} : {}), ...(reason ? {reason} : {}),
        })
        sendJson(res, 200, {
          key: s!.key, scope: 'task', task_id: o.taskId, ...(sourceMatch ? {source_match: sourceMatch} : {}), ...(actionMatch ? {action_match: actionMatch} : {}),
          expires_at: body.expires_at, ...(grantedBy ? {granted_by: grantedBy} : {}), ...(reason ? {reason} : {}),
        })
        return 200
      }
      case 'adaptive_status': {
        req.resume()
        sendJson(res, 200, status(ps))
        return 200
      }
      case 'adaptive_flush': {
        expectEmptyObject(await readJsonBody(req, true))
        const r = m.flush()
        setResult(`identity_sessions=${r.identity} levels_reset=${r.levelsReset} airlock_tiers_kept=${r.tiersKept}`)
        sendJson(res, 200, {
          flushed: true, identity_sessions: r.identity, skipped_invocations: r.skipped, ip_domain_state_cleared: true,
          // [ext] what the flush cleared, and the quarantines it left in place (a flush does not release tiers)
          levels_reset: r.levelsReset, airlock_tiers_kept: r.tiersKept,
        })
        return 200
      }
      case 'whoami': {
        req.resume()
        const id = this.opts.identify(req, clientIp)
        setKey(id.key)
        const x = m.get(id.key)
        const level = x?.level ?? 0
        // What the gate does with the caller's next request: its own session, and, for an unbound
        // identity, what its client address earned in other sessions (the gate's addressDeny).
        const hold = id.bound === true ? null : m.addressHolderAt(clientIp, x ?? null)
        sendJson(res, 200, {
          client_ip: clientIp, ...(id.agent !== 'anonymous' ? {agent: id.agent} : {}), session_key: id.key, exists: x !== undefined,
          classification: classify(x, hold),
          escalation_level: levelLabel(level), escalation_level_int: level, threat_score: x?.threatScore ?? 0, block_all: x?.blockAll ?? false,
          airlock_tier: x?.airlockTier ?? 'none', lockdown_ttl_seconds: m.currentSettings.sessionTtlMinutes * 60,
          // [ext] the session whose hold on the client address refuses the caller
          ...(hold !== null ? {held_by: heldBy(hold)} : {}),
        })
        return 200
      }
    }
  }

  /**
   * True when cross-request detection is on (the session's state is then gone, whether or not it
   * held any). An unbound session's state is its client address's window (cee-gate `ceeKey`),
   * which every name from that address shares: that window is cleared too.
   */
  private clearCee(s: {readonly key: string; readonly clientIp: string; readonly unbound?: boolean}): boolean {
    const det = this.opts.cee?.() ?? null
    if (det === null) return false
    det.clear(s.key)
    if (s.unbound === true && s.clientIp !== '') det.clear(clientHostOf(s.clientIp))
    return true
  }

  /** One fixed 60 s window of 10 calls per bucket (§12); the policy API (policy-api.ts) shares it. */
  allow(bucket: string): boolean {
    const now = this.opts.nowMs()
    let w = this.windows.get(bucket)
    if (w === undefined || now - w.start >= WINDOW_MS) {
      w = {start: now, count: 0}
      this.windows.set(bucket, w)
    }
    if (w.count >= MAX_PER_WINDOW) return false
    w.count++
    return true
  }
}

/** URL-unescaped path segment; non-empty, no `/` and no NUL (§12). */
export function parseKey(raw: string): string | null {
  let key: string
  try {
    key = decodeURIComponent(raw)
  } catch {
    return null
  }
  if (key === '' || key.includes('/') || key.includes('\u0000')) return null
  return key
}

function sessionOrder(a: Session, b: Session): number {
  if (a.kind !== b.kind) return a.kind === 'identity' ? -1 : 1
  return compareUtf8(a.key, b.key)
}

function snapshot(s: Session): Record<string, unknown> {
  return {
    key: s.key, agent: s.agent, client_ip: s.clientIp, kind: s.kind, current_task_id: s.currentTaskId,
    ...(s.currentTaskLabel !== '' ? {current_task_label: s.currentTaskLabel} : {}),
    threat_score: s.threatScore, escalation_level: levelLabel(s.level), block_all: s.blockAll, airlock_tier: s.airlockTier,
    taint_level: s.taint.levelName, contaminated: s.taint.contaminated, last_activity: rfc3339(s.lastActivityMs),
  }
}

function eventJson(e: SessionEvent): Record<string, unknown> {
  return {at: rfc3339(e.atMs), kind: e.kind, ...(e.type !== undefined ? {type: e.type} : {}), target: e.target, detail: e.detail, severity: e.severity, score: e.score}
}

/**
 * [ext] What holds an unbound session from its client address (SessionManager.addressHolder): the
 * holding session, its tier and level. The gate refuses the session's requests on its account
 * (`airlock_active` / `escalation_level`), so the operator views name it.
 */
function heldBy(h: AddressHold): Record<string, unknown> {
  const by = h.by
  return {kind: h.kind, session: by.key, client_ip: by.clientIp, airlock_tier: by.airlockTier, escalation_level: levelLabel(by.level), block_all: by.blockAll}
}

/**
 * whoami's `classification` (runtime §12: allow | observe | block) as the gate would act: `block`
 * when the proxy refuses the caller's requests — `block_all`, an airlock tier that refuses
 * (hard: writes, tunnels and new WebSockets; drain: everything), or its client address's hold —,
 * `observe` for soft or a raised score or level, else `allow`. The reference reads only
 * `block_all`, level and score, so a quarantined caller read `allow`.
 */
function classify(x: Session | undefined, hold: AddressHold | null): 'allow' | 'observe' | 'block' {
  if (hold !== null) return 'block'
  if (x === undefined) return 'allow'
  if (x.blockAll || x.airlockTier === 'hard' || x.airlockTier === 'drain') return 'block'
  return x.airlockTier === 'soft' || x.level > 0 || x.threatScore > 0 ? 'observe' : 'allow'
}

/** The words of an address hold, for explain's reason and the CLI. */
function holdReason(h: AddressHold): string {
  const by = h.by
  const what = h.kind === 'airlock' ? `airlock tier ${by.airlockTier}` : `escalation level ${levelLabel(by.level)}, which blocks all requests`
  return `client address ${by.clientIp} held by session ${by.key} at ${what} (the identity is not bound)`
}

function detail(s: Session, hold: AddressHold | null = null): Record<string, unknown> {
  return {
    ...snapshot(s),
    airlock_entered_at: s.airlockEnteredAtMs === null ? null : rfc3339(s.airlockEnteredAtMs),
    in_flight: s.inFlight,
    escalation_level_int: s.level,
    recent_events: s.events.map(eventJson),
    ...(hold !== null ? {held_by: heldBy(hold)} : {}),
  }
}

function explain(
  s: Session, next: {tier: string; atMs: number} | null, nowMs: number, hold: AddressHold | null = null, recovery: {level: number; atMs: number} | null = null,
): Record<string, unknown> {
  const evidence = [...s.events].reverse().find((e) => e.kind === 'anomaly' || e.kind === 'signal' || e.kind === 'escalation' || e.kind === 'upgrade')
  const entered = s.airlockEnteredAtMs
  return {
    key: s.key,
    tier: s.airlockTier,
    reason: explainReason(s, hold),
    // What enforcement does with this session's requests right now (explain must agree with it).
    block_all: s.blockAll,
    ...(s.airlockTrigger !== '' ? {trigger: s.airlockTrigger, trigger_source: s.airlockTriggerSource} : {}),
    ...(entered !== null ? {entered_at: rfc3339(entered), elapsed_in_tier_ns: Math.max(0, Math.round((nowMs - entered) * 1e6))} : {}),
    escalation_level: levelLabel(s.level),
    escalation_level_int: s.level,
    threat_score: s.threatScore,
    ...(evidence !== undefined
      ? {evidence_kind: evidence.type ?? evidence.kind, evidence_target: evidence.target, evidence_detail: evidence.detail, evidence_at: rfc3339(evidence.atMs)}
      : {}),
    ...(next !== null ? {next_deescalation_tier: next.tier, next_deescalation_at: rfc3339(next.atMs)} : {}),
    // [ext] the escalation level's own recovery point (time recovery), which lifts block_all on its own
    ...(recovery !== null ? {next_level_recovery_level: levelLabel(recovery.level), next_level_recovery_at: rfc3339(recovery.atMs)} : {}),
    ...(hold !== null ? {held_by: heldBy(hold)} : {}),
  }
}

/**
 * The spec's two reasons, plus what the tier alone does not say: a level with `block_all` denies
 * every request (403 `escalation_level`) whatever the tier, and an unbound session is refused on
 * account of another session of its client address (the gate's `addressDeny`), so explain names
 * both. `session not quarantined` stands alone only when nothing holds the session.
 */
function explainReason(s: Session, hold: AddressHold | null): string {
  const parts: string[] = []
  if (s.airlockTier !== 'none') parts.push(`session quarantined at airlock tier ${s.airlockTier}`)
  if (s.blockAll) parts.push(`escalation level ${levelLabel(s.level)} blocks all requests (escalation_level)`)
  if (hold !== null) parts.push(holdReason(hold))
  // Not "not quarantined" when another session's quarantine of the address refuses its requests.
  if (s.airlockTier === 'none' && hold === null) parts.unshift('session not quarantined')
  return parts.join('; ')
}

function status(ps: ProxySessions): Record<string, unknown> {
  const m = ps.manager
  let max = 0
  const signals: Record<string, number> = {}
  const escalated: Record<string, unknown>[] = []
  const sessions = [...m.all()].sort(sessionOrder)
  for (const s of sessions) {
    if (s.level > max) max = s.level
    if (s.level > 0) escalated.push(snapshot(s))
    for (const e of s.events) if (e.kind === 'signal' && e.type !== undefined) signals[e.type] = (signals[e.type] ?? 0) + 1
  }
  const sortedSignals: Record<string, number> = {}
  for (const k of Object.keys(signals).sort(compareUtf8)) sortedSignals[k] = signals[k]!
  return {
    active_sessions: m.size,
    max_escalation_level: levelLabel(max),
    max_escalation_level_int: max,
    sessions_by_level: m.sessionsByLevel(),
    airlock_tiers: m.sessionsByTier(),
    recent_signal_counts: sortedSignals,
    top_anomalies: ps.stats().top_anomalies,
    lockdown_ttl_seconds: m.currentSettings.sessionTtlMinutes * 60,
    ...(escalated.length > 0 ? {sessions: escalated} : {}),
  }
}

export function drained(req: IncomingMessage, e: ApiError): ApiError {
  req.resume()
  return e
}

async function drain(req: IncomingMessage): Promise<void> {
  await readRaw(req).catch(() => undefined)
}

async function readRaw(req: IncomingMessage): Promise<string> {
  const text = await readLimitedBody(req, MAX_BODY)
  if (text === null) throw new ApiError(400, `request body too large (max ${MAX_BODY} bytes)`)
  return text
}

/** Exactly one JSON value (JSON.parse refuses trailing data); `emptyOk` maps an empty body to `{}`. */
export async function readJsonBody(req: IncomingMessage, emptyOk: boolean): Promise<unknown> {
  const text = await readRaw(req)
  if (text.trim() === '') {
    if (emptyOk) return {}
    throw new ApiError(400, 'invalid request body: a JSON object is required')
  }
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new ApiError(400, 'invalid request body: not a single JSON value')
  }
}

/** A JSON object with only `allowed` keys (unknown fields rejected). */
export function objectBody(v: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, 'invalid request body: want a JSON object')
  for (const k of Object.keys(v)) if (!allowed.includes(k)) throw new ApiError(400, `invalid request body: unknown field "${k}"`)
  return v as Record<string, unknown>
}

function expectEmptyObject(v: unknown): void {
  objectBody(v, [])
}

export function optString(body: Record<string, unknown>, k: string): string | undefined {
  const v = body[k]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new ApiError(400, `invalid request body: ${k} must be a string`)
  return v
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body) + '\n'
  res.writeHead(status, {...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text))})
  res.end(text)
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = text + '\n'
  res.writeHead(status, {
    ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': String(Buffer.byteLength(body)),
  })
  res.end(body)
}
