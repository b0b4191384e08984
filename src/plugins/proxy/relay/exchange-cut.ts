/**
 * A buffered `/fetch`, forward-proxy or reverse-proxy exchange waiting on its upstream (or on its
 * body, or its response scan), and a request the gate holds for an operator's approval (taint
 * `ask`, gate/stages/taint.ts), is in-flight work of its session: a reset or terminate of the session cuts it
 * (runtime §12: "terminate always cuts in-flight work"). The reference lets such exchanges run to
 * the end (OP §6 item 4), so a request already waiting on a slow upstream got its answer after
 * the operator's incident action; here it is answered with a block instead (docs/compatibility.md).
 *
 * Entering airlock hard or drain does not cut them: a drain lets running exchanges finish, and
 * that is what it waits for. A tunnel, WebSocket or streaming response is cut by its own
 * registration (`registerLive`), not by this one.
 *
 * A request inside an intercepted tunnel is registered with its session too: a reset or terminate
 * answers it with the same 403, and the tunnel's teardown (intercept/tunnel.ts) waits for that
 * answer to go out. The tunnel is the one connection the operator sees cut (`connections_cut`),
 * so its inner requests are not counted again.
 *
 * Every such exchange is also registered with the kill switch (`onKillSwitch`): its activation
 * answers a request still waiting on its upstream with the transport's kill-switch block at once,
 * and aborts the upstream request. Inside an intercepted tunnel the activation tears the tunnel
 * down, so the answer goes out first instead of dying with the connection; elsewhere the
 * connection outlives the activation, and a request to a silent upstream waited out the whole
 * fetch timeout (30 s by default) before the kill-switch stage, run again on the answer, refused it.
 */
import type {ServerResponse} from 'node:http'
import type {ExchangeCutCause} from '../../sessions/index.js'
import {answerGone} from '../answer-gone.js'
import type {StreamRegistry} from '../ports.js'
import type {BlockAnswer} from '../request-gate.js'
import type {ProxySessions, RequestSession} from '../session-gate.js'

/** The block of a cut exchange: layer `airlock`, reason `airlock_active` (what a cut stream says), 403. */
export function exchangeCutDetail(cause: ExchangeCutCause): string {
  return cause === 'terminate' ? 'request cut: session terminated' : 'request cut: session reset'
}

/** One exchange's registration with its session (and, inside an intercepted tunnel, with the kill switch), from after the gate until its answer goes out. */
export class ExchangeCut {
  private fired = false
  private readonly undo: Array<() => void> = []

  /**
   * `answer` aborts the upstream request and answers the agent with the block of `detail`
   * (recorded first); it is called at most once, and only while the answer is not out
   * (`answered()` false). `inTunnel`: the exchange is an intercepted tunnel's inner request, cut
   * with its tunnel and counted as it.
   */
  constructor(sessions: ProxySessions | null, session: RequestSession | null, private readonly answered: () => boolean, answer: (detail: string) => void, inTunnel = false) {
    if (sessions === null || session === null) return
    // Unregistering after the session dropped it (it fired) does nothing.
    this.undo.push(
      sessions.registerExchange(session, (cause) => {
        if (this.fired || answered()) return false
        this.fired = true
        answer(exchangeCutDetail(cause))
        return !inTunnel
      }),
    )
  }

  /**
   * Registers the exchange with the kill switch's live work: its activation (for a client it does
   * not exempt, `exemptable` as the transport's admission) calls `answer`, which aborts the
   * upstream request and sends the transport's kill-switch block (recorded first). At most one
   * cut answers, whichever comes first.
   */
  onKillSwitch(registry: StreamRegistry, clientIp: string, exemptable: boolean, answer: () => void): void {
    if (this.fired) return
    this.undo.push(
      registry.trackStream(() => {
        if (this.fired || this.answered()) return
        this.fired = true
        answer()
      }, clientIp, exemptable),
    )
  }

  /**
   * The cut of a buffered exchange answering `res` (/fetch, forward, reverse): it aborts the
   * upstream request, destroys the upstream body being read (`live.body`, set by the exchange once
   * it reads one), answers the session block (`body`: the transport's wording of it, else its
   * default) or, on the kill switch's activation, its block, and seals the record. `live` is
   * returned for the exchange to fill in.
   */
  static forResponse(o: {
    readonly sessions: ProxySessions | null
    readonly session: RequestSession | null
    readonly res: ServerResponse
    readonly upstream: {abort(): void}
    readonly block: BlockAnswer
    readonly seal: () => void
    readonly body?: (detail: string) => string
    readonly inTunnel?: boolean
    /** The kill switch's live work (`onKillSwitch`), the client and the transport's kill-switch answer. */
    readonly killSwitch: {readonly registry: StreamRegistry; readonly clientIp: string; readonly exemptable: boolean; readonly answer: () => void}
  }): {cut: ExchangeCut; live: {body?: {destroy(): void}}} {
    const live: {body?: {destroy(): void}} = {}
    const cut = new ExchangeCut(o.sessions, o.session, () => o.res.headersSent || answerGone(o.res), (detail) => {
      o.upstream.abort()
      live.body?.destroy()
      o.block({stage: 'session', layer: 'airlock', reason: 'airlock_active', detail, status: 403, ...(o.body !== undefined ? {body: o.body(detail)} : {})})
      o.seal()
    }, o.inTunnel)
    const k = o.killSwitch
    cut.onKillSwitch(k.registry, k.clientIp, k.exemptable, () => {
      o.upstream.abort()
      live.body?.destroy()
      k.answer()
      o.seal()
    })
    return {cut, live}
  }

  /** True once the exchange was cut: its answer is out and nothing else of it may be recorded or sent. */
  get cut(): boolean {
    return this.fired
  }

  /** `block` for what of the exchange runs on after a cut (a response stage's `ask` answered late): it answers nothing then. */
  guard(block: BlockAnswer): BlockAnswer {
    return (a) => {
      if (!this.fired) block(a)
    }
  }

  /** The exchange answers on its own now (or went away): a reset or the kill switch no longer cuts it. */
  end(): void {
    for (const u of this.undo.splice(0)) u()
  }
}
