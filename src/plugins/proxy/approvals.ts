/**
 * Held requests (`ask`, docs/ask.md): a request the policy wants a human to answer waits here
 * until an operator allows, strips or denies it through the admin API (`pipelock ask`), or until
 * `ask_timeout_seconds` passes. Everything but an explicit allow (or strip, where offered) is a
 * deny: timeout, a full queue, shutdown, a client that went away. Memory only: a restart denies
 * whatever was pending (its clients' connections end with the process).
 */

export type AskKind = 'taint' | 'response' | 'mcp_taint'
export type AskStatus = 'pending' | 'allowed' | 'denied' | 'stripped' | 'expired' | 'cancelled'
export type AskOutcome = 'allow' | 'deny' | 'strip' | 'timeout'

export interface AskRequest {
  readonly kind: AskKind
  readonly transport: string
  readonly agent: string
  readonly sessionKey: string
  /** The target as safe to log (already redacted by the caller). */
  readonly target: string
  readonly reason: string
  readonly patterns: readonly string[]
  /** What the operator sees of the request; cut to 200 code points here. */
  readonly preview: string
  /** Whether `strip` is a valid answer (response asks). */
  readonly allowStrip: boolean
}

export interface AskAnswer {
  readonly id: string
  readonly outcome: AskOutcome
  /** Who answered ('' for a timeout or a cancellation). */
  readonly decidedBy: string
  readonly reason: string
}

/** One held request as the admin API lists it. */
export interface ApprovalItem {
  readonly id: string
  readonly kind: AskKind
  readonly transport: string
  readonly agent: string
  readonly session_key: string
  readonly target: string
  readonly reason: string
  readonly patterns: readonly string[]
  readonly preview: string
  readonly allow_strip: boolean
  readonly created_at: string
  readonly expires_at: string
  status: AskStatus
  decided_by?: string
  decided_at?: string
  decision_reason?: string
}

export interface ApprovalQueueOptions {
  readonly nowMs: () => number
  /** `ask_timeout_seconds` now (≤ 0 → 30, as the reference). */
  readonly timeoutSeconds: () => number
  readonly newId: () => string
  /** Pending items at most; a request beyond it is denied at once. */
  readonly maxPending?: number
  /** Called once per answered item (evidence: audit `hitl_decision`, metrics). */
  readonly onAnswer?: (item: ApprovalItem, answer: AskAnswer, waitedMs: number) => void
}

export type DecideResult =
  | {readonly ok: true; readonly item: ApprovalItem}
  | {readonly ok: false; readonly status: 400 | 404 | 409; readonly error: string}

const KEEP_DECIDED = 256
const PREVIEW_MAX = 200

interface Pending {
  readonly item: ApprovalItem
  readonly resolve: (a: AskAnswer) => void
  readonly timer: NodeJS.Timeout
  readonly startMs: number
}

export class ApprovalQueue {
  private readonly pending = new Map<string, Pending>()
  /** Answered items, oldest first, for `ask list --all` and for late answers (409). */
  private readonly decided: ApprovalItem[] = []
  private closed = false

  constructor(private readonly opts: ApprovalQueueOptions) {}

  /**
   * Holds a request until it is answered; never rejects. `signal` cancels it (the client went away,
   * or its session was reset or terminated): a denial whose reason is the abort's reason when that
   * is a string, else "client disconnected".
   */
  hold(req: AskRequest, signal?: AbortSignal): Promise<AskAnswer> {
    const id = this.opts.newId()
    const now = this.opts.nowMs()
    const secs = this.opts.timeoutSeconds() > 0 ? this.opts.timeoutSeconds() : 30
    const item: ApprovalItem = {
      id, kind: req.kind, transport: req.transport, agent: req.agent, session_key: req.sessionKey, target: req.target, reason: req.reason,
      patterns: [...req.patterns], preview: cutCodePoints(req.preview, PREVIEW_MAX), allow_strip: req.allowStrip,
      created_at: iso(now), expires_at: iso(now + secs * 1000), status: 'pending',
    }
    if (this.closed || this.pending.size >= (this.opts.maxPending ?? 64)) {
      item.status = 'denied'
      const answer: AskAnswer = {id, outcome: 'deny', decidedBy: '', reason: this.closed ? 'shutting down' : 'approval queue full'}
      this.finish(item, answer, 0)
      return Promise.resolve(answer)
    }
    return new Promise<AskAnswer>((resolve) => {
      const timer = setTimeout(() => this.settle(id, 'expired', {id, outcome: 'timeout', decidedBy: '', reason: `no answer within ${secs}s`}), secs * 1000)
      timer.unref?.()
      this.pending.set(id, {item, resolve, timer, startMs: now})
      const cancel = (): void => this.settle(id, 'cancelled', {id, outcome: 'deny', decidedBy: '', reason: typeof signal?.reason === 'string' ? signal.reason : 'client disconnected'})
      if (signal?.aborted === true) cancel()
      else signal?.addEventListener('abort', cancel, {once: true})
    })
  }

  /** Pending items oldest first; with `all`, the recently answered ones after them. */
  list(all = false): ApprovalItem[] {
    const open = [...this.pending.values()].map((p) => p.item)
    return all ? [...open, ...this.decided] : open
  }

  get(id: string): ApprovalItem | undefined {
    return this.pending.get(id)?.item ?? this.decided.find((x) => x.id === id)
  }

  /** An operator's answer. Late answers (decided, expired) are refused with 409. */
  decide(id: string, decision: string, decidedBy: string, reason: string): DecideResult {
    const p = this.pending.get(id)
    if (p === undefined) {
      const done = this.decided.find((x) => x.id === id)
      if (done === undefined) return {ok: false, status: 404, error: 'approval not found'}
      return {ok: false, status: 409, error: done.status === 'expired' ? 'approval expired' : 'approval already decided'}
    }
    if (decision !== 'allow' && decision !== 'deny' && decision !== 'strip') return {ok: false, status: 400, error: 'invalid decision'}
    if (decision === 'strip' && !p.item.allow_strip) return {ok: false, status: 400, error: 'invalid decision: strip is not offered for this request'}
    const status: AskStatus = decision === 'allow' ? 'allowed' : decision === 'strip' ? 'stripped' : 'denied'
    this.settle(id, status, {id, outcome: decision, decidedBy, reason})
    return {ok: true, item: p.item}
  }

  /**
   * Every pending request withdrawn (`cancelled`, a deny with `reason`), the queue staying open:
   * a reload that stops asking answers what it held instead of leaving it to time out.
   */
  withdrawAll(reason: string): number {
    const ids = [...this.pending.keys()]
    for (const id of ids) this.settle(id, 'cancelled', {id, outcome: 'deny', decidedBy: '', reason})
    return ids.length
  }

  /** Nothing pending and nothing answered yet: the queue has never held a request. */
  get empty(): boolean {
    return this.pending.size === 0 && this.decided.length === 0
  }

  /** Shutdown: every pending request is denied. */
  close(): void {
    this.closed = true
    for (const id of [...this.pending.keys()]) this.settle(id, 'cancelled', {id, outcome: 'deny', decidedBy: '', reason: 'shutting down'})
  }

  get size(): number {
    return this.pending.size
  }

  private settle(id: string, status: AskStatus, answer: AskAnswer): void {
    const p = this.pending.get(id)
    if (p === undefined) return
    this.pending.delete(id)
    clearTimeout(p.timer)
    p.item.status = status
    this.finish(p.item, answer, this.opts.nowMs() - p.startMs)
    p.resolve(answer)
  }

  private finish(item: ApprovalItem, answer: AskAnswer, waitedMs: number): void {
    if (answer.decidedBy !== '') item.decided_by = answer.decidedBy
    item.decided_at = iso(this.opts.nowMs())
    if (answer.reason !== '') item.decision_reason = answer.reason
    this.decided.push(item)
    if (this.decided.length > KEEP_DECIDED) this.decided.shift()
    this.opts.onAnswer?.(item, answer, waitedMs)
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z')
}

/** At most `n` code points (the reference cut bytes and could split a character, its Q-H2). */
export function cutCodePoints(s: string, n: number): string {
  const cps = [...s]
  return cps.length <= n ? s : `${cps.slice(0, n).join('')}...`
}
