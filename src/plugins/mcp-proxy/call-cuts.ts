/**
 * The calls a stdio client has out to its server — through the stdio wrap or the WebSocket bridge
 * — are live work, as the HTTP listener's exchanges are (operations §6 item 4 on MCP;
 * kill-switch-watch.ts): the kill switch coming on, or the session entering airlock hard or drain
 * (or being evicted), answers each of them at once with the error the HTTP transports give for
 * that cause — recorded first, one block Decision per call, whose stderr line names the cause —
 * instead of leaving the client waiting on a server that may take minutes. The server's answer to
 * a cut call, when it comes, is dropped: the call has had its one answer.
 *
 * The wraps' sessions are invocation sessions (`mcp-stdio-<n>`, `mcp-ws-<n>`): the admin API
 * refuses to reset or terminate them (their airlock tier can be set), so those two causes do not
 * reach them; the cut would carry them like the others if they did.
 *
 * Registered only while a call is out, so an idle wrap holds neither the kill switch's polling nor
 * a session registration (which a cut consumes: the next call registers again).
 */
import type {KillSwitchController} from '../killswitch/index.js'
import {killSwitchCutDecision, liveCutDecision, parseFrame, settleCall, type LiveCutSubject, type McpContext, type McpDecision, type McpLiveCutCause} from '../mcp/index.js'
import {KillSwitchWatch} from './kill-switch-watch.js'

export interface CallCutsOptions {
  /** Records a cut's Decision (before its answer is written). */
  readonly record: (d: McpDecision) => void
  /** Writes one line to the client. */
  readonly answer: (line: string) => void
  /** One stderr line. */
  readonly log: (line: string) => void
  /**
   * False when the transport registers with its session itself and calls `cutSession` (the
   * WebSocket bridge, which then closes its connection).
   */
  readonly session?: boolean
}

export class CallCuts {
  /** The forwarded requests still waiting, by id, oldest first (what a cut's Decision names). */
  private readonly subjects = new Map<string, LiveCutSubject>()
  /** Ids of calls that were cut: the server's late answer to each is dropped once. */
  private readonly cut = new Set<string>()
  private readonly watch: KillSwitchWatch
  private disarm: (() => void) | null = null

  constructor(private readonly ctx: McpContext, killSwitch: KillSwitchController, private readonly o: CallCutsOptions) {
    this.watch = new KillSwitchWatch(killSwitch)
  }

  /** A client message was decided and is about to be forwarded: a request with an id is a call now out. */
  forwarded(d: McpDecision): void {
    if (d.id === null || d.method === '') return
    this.subjects.set(d.id, {id: d.id, method: d.method, tool: d.tool})
    this.arm()
  }

  /**
   * A server message, before it is decided: true when it is the answer to a cut call, which is
   * dropped (logged, not recorded: the call's response Decision is its cut). Parsed only while a
   * cut call awaits its late answer.
   */
  lateAnswer(raw: string): boolean {
    if (this.cut.size === 0) return false
    const f = parseFrame(raw)
    return f.isResponse && this.dropped(f.id)
  }

  /**
   * A decided server message: true when it answers a call cut while it was being decided
   * (dropped too). Else the call it answered is over; with no call left out, nothing is watched.
   */
  answered(d: McpDecision): boolean {
    if (d.id !== null && d.method === '') {
      if (this.dropped(d.id)) return true
      this.subjects.delete(d.id)
    }
    if (this.subjects.size === 0) this.stop()
    return false
  }

  /** The session cut the wrap (a transport registered with it itself): the calls out are answered; how many. */
  cutSession(cause: McpLiveCutCause): number {
    return this.cutAll((s) => liveCutDecision(this.ctx, s, cause))
  }

  /** The wrap ends: nothing is watched any more. */
  stop(): void {
    const d = this.disarm
    this.disarm = null
    d?.()
  }

  private dropped(id: string | null): boolean {
    if (id === null || !this.cut.delete(id)) return false
    this.o.log(`pipelock: dropped the MCP server's late answer to id ${id}: the call was cut`)
    return true
  }

  private arm(): void {
    if (this.disarm !== null) return
    const ctx = this.ctx
    const ks = ctx.deps.killSwitch
    const unwatch = this.watch.watch(() => {
      const st = ks.status()
      if (st.active) this.cutAll((s) => killSwitchCutDecision(ctx, s, st))
    })
    const unregister = this.o.session === false ? () => undefined : ctx.state.session?.registerLive?.((cause) => this.cutSession(cause)) ?? (() => undefined)
    this.disarm = () => {
      unwatch()
      unregister()
    }
  }

  /** Answers every call still out with its cut's error (recorded first); their late answers will be dropped. */
  private cutAll(decide: (s: LiveCutSubject) => McpDecision): number {
    this.stop()
    const {state} = this.ctx
    let n = 0
    for (const [id, subject] of [...this.subjects]) {
      // Consumed: the call is answered here, and its concurrency slot is free. Not pending any
      // more: its answer passed the response gate meanwhile.
      if (!state.tracker.consume(id)) continue
      settleCall(state, id)
      this.cut.add(id)
      const d = decide(subject)
      this.o.record(d)
      if (d.forward !== null) this.o.answer(d.forward)
      n++
    }
    this.subjects.clear()
    return n
  }
}
