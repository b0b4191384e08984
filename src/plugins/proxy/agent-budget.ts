/**
 * Agent budgets (operations.md §2.9): requests, unique domains and bytes per session, in a fixed
 * ("tumbling") window. Two reference quirks fixed (docs/compatibility.md, "Agent profiles"):
 * the budgets named `_per_session` are per session here (the reference keeps one tracker per
 * profile for every session and IP), and admission also refuses once the byte budget is spent, so
 * an exhausted budget stops new tunnels and WebSockets, not only buffered bodies.
 */
import {clientHostOf} from '../sessions/index.js'
import type {Readable} from 'node:stream'
import type {AgentProfileConfig} from '../config/index.js'
import {readCapped, type ReadCappedOptions} from './read-capped.js'

export interface BudgetLimits {
  readonly maxRequests: number
  readonly maxBytes: number
  readonly maxDomains: number
  /** 0 = the window never resets. */
  readonly windowMinutes: number
}

export type BudgetKind = 'requests' | 'domains' | 'bytes'

export interface BudgetDenial {
  readonly kind: BudgetKind
  /** Exact text of §2.9 (plus the byte message of the admission fix). */
  readonly message: string
  /** Whole seconds until the window resets (`window_minutes`); absent when it never does. */
  readonly retryAfter?: number
}

/** The profile's HTTP limits, or null when none is > 0 (no tracker, §2.9). */
export function budgetLimits(p: AgentProfileConfig | undefined): BudgetLimits | null {
  const b = p?.budget
  if (b === undefined) return null
  const l = {maxRequests: b.max_requests_per_session ?? 0, maxBytes: b.max_bytes_per_session ?? 0, maxDomains: b.max_unique_domains_per_session ?? 0, windowMinutes: b.window_minutes ?? 0}
  return l.maxRequests > 0 || l.maxBytes > 0 || l.maxDomains > 0 ? l : null
}

/** One session's counters. */
export class BudgetTracker {
  private requests = 0
  private bytes = 0
  private readonly hosts = new Set<string>()
  private windowStart: number

  constructor(private readonly limits: BudgetLimits, private readonly nowMs: () => number) {
    this.windowStart = nowMs()
  }

  /** Reset when more than `window_minutes` elapsed (strictly greater; never at 0). */
  private roll(): void {
    const w = this.limits.windowMinutes
    if (w <= 0) return
    const now = this.nowMs()
    if (now - this.windowStart > w * 60_000) {
      this.requests = 0
      this.bytes = 0
      this.hosts.clear()
      this.windowStart = now
    }
  }

  /** Before the outbound request: deny, or count the request and remember the host. */
  admit(hostIn: string): BudgetDenial | null {
    this.roll()
    const l = this.limits
    const host = hostIn.toLowerCase()
    if (l.maxRequests > 0 && this.requests >= l.maxRequests) return this.denial('requests', `request budget exceeded: ${this.requests}/${l.maxRequests} requests`)
    if (l.maxDomains > 0 && !this.hosts.has(host) && this.hosts.size >= l.maxDomains) {
      return this.denial('domains', `domain budget exceeded: ${this.hosts.size + 1}/${l.maxDomains} unique domains`)
    }
    if (l.maxBytes > 0 && this.bytes >= l.maxBytes) return this.denial('bytes', `byte budget exceeded: ${this.bytes}/${l.maxBytes} bytes`)
    this.requests++
    this.hosts.add(host)
    return null
  }

  /** A denial, with the seconds until the window resets. */
  private denial(kind: BudgetKind, message: string): BudgetDenial {
    const retryAfter = this.retryAfter()
    return retryAfter === undefined ? {kind, message} : {kind, message, retryAfter}
  }

  /** Whole seconds until the window resets (once more than `window_minutes` passed); undefined when it never does. */
  retryAfter(): number | undefined {
    const w = this.limits.windowMinutes
    if (w <= 0) return undefined
    const left = this.windowStart + w * 60_000 - this.nowMs()
    return Math.max(1, Math.floor(left / 1000) + 1)
  }

  /** Bytes left in the window, or -1 when there is no byte budget. */
  remainingBytes(): number {
    this.roll()
    return this.limits.maxBytes <= 0 ? -1 : Math.max(0, this.limits.maxBytes - this.bytes)
  }

  recordBytes(n: number): void {
    this.roll()
    if (n > 0) this.bytes += n
  }
}

/**
 * A profile's trackers, one per session key. Bounded: past `cap` sessions the oldest tracker is
 * forgotten (a session that idle must start over; the session manager forgets it too).
 */
export class BudgetBook {
  private readonly trackers = new Map<string, BudgetTracker>()

  constructor(readonly limits: BudgetLimits, private readonly nowMs: () => number, private readonly cap = 65_536) {}

  tracker(sessionKey: string): BudgetTracker {
    let t = this.trackers.get(sessionKey)
    if (t === undefined) {
      if (this.trackers.size >= this.cap) this.trackers.delete(this.trackers.keys().next().value!)
      t = new BudgetTracker(this.limits, this.nowMs)
      this.trackers.set(sessionKey, t)
    }
    return t
  }
}

/**
 * The key a request's budget is kept under (issue 37 item 1): its session for an identity a
 * listener or source CIDR bound; the client address for a claimed one, so a client that renames
 * itself or drops the header starts no new budget (every loopback address one host, `clientHostOf`).
 */
export function budgetKey(b: {readonly sessionKey: string; readonly clientIp: string; readonly bound?: boolean}): string {
  return b.bound === true ? b.sessionKey : `address|${clientHostOf(b.clientIp)}`
}

/** What a transport needs to enforce a budget: its view's book and the metrics counter. */
export interface BudgetContext {
  readonly budgets: BudgetBook | null
  readonly profile: string
}

/**
 * Admission (§2.9) before the outbound request / tunnel / WebSocket upgrade: null when admitted
 * (or no budget), else the denial to answer with 429, reason `data_budget`, layer `budget` (the
 * reference's per-transport headers made consistent). Transports: fetch, forward, CONNECT; the
 * WebSocket proxy calls the same function before its upgrade and `budgetBytes` at close.
 */
export function admitBudget(ctx: BudgetContext, sessionKey: string, host: string, count: (labels: {profile: string; kind: BudgetKind}) => void): BudgetDenial | null {
  if (ctx.budgets === null) return null
  const deny = ctx.budgets.tracker(sessionKey).admit(host)
  if (deny !== null) count({profile: ctx.profile, kind: deny.kind})
  return deny
}

/** Bytes left for a session (-1 = no byte budget). */
export function budgetRemaining(ctx: BudgetContext, sessionKey: string): number {
  return ctx.budgets === null ? -1 : ctx.budgets.tracker(sessionKey).remainingBytes()
}

/** Adds a response's (or a closed tunnel's) bytes to the session's budget. */
export function budgetBytes(ctx: BudgetContext, sessionKey: string, n: number): void {
  if (ctx.budgets !== null) ctx.budgets.tracker(sessionKey).recordBytes(n)
}

/**
 * A response body read capped at the smaller of `cap` (max_response_mb) and the session's bytes
 * left (§2.9). `overBudget` is the bytes that were left when the budget was the tighter limit and
 * the body was larger (they are counted as spent); `body` null with no `overBudget`: over `cap`
 * (`why.exceeded`) or the read failed (`why.idle` when the upstream stayed quiet past `idleMs`).
 * `expected`: the announced Content-Length, read into one buffer of that size (`readCapped`).
 * `retryAfter` comes with `overBudget`: the seconds until the budget's window resets, when it does.
 */
export function readWithinBudget(ctx: BudgetContext, sessionKey: string, body: Readable, cap: number, o: Omit<ReadCappedOptions, 'overflow'> = {}): Promise<{body: Buffer | null; overBudget?: number; retryAfter?: number}> {
  const remaining = budgetRemaining(ctx, sessionKey)
  const tighter = remaining >= 0 && remaining < cap
  // Over the budget only when the cap stopped the read: a body that failed or stalled is not
  // (the forward proxy passes its own `why`; the options are copied only when it is missing).
  const why = o.why ?? {exceeded: false}
  const opts = o.why !== undefined ? o : {...o, why}
  // The read's own promise, continued once (no async frame of its own per buffered response).
  return readCapped(body, tighter ? remaining : cap, opts).then((got) => {
    if (got === null && tighter && why.exceeded) {
      budgetBytes(ctx, sessionKey, remaining)
      const retryAfter = ctx.budgets?.tracker(sessionKey).retryAfter()
      return retryAfter === undefined ? {body: null, overBudget: remaining} : {body: null, overBudget: remaining, retryAfter}
    }
    if (got !== null) budgetBytes(ctx, sessionKey, got.length)
    return {body: got}
  })
}

/** The §2.9 message of a body larger than the bytes left. */
export function overBudgetMessage(remaining: number): string {
  return `response size ${remaining + 1} exceeds byte budget ${remaining}`
}
