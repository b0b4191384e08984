/**
 * The stdio wrap's calls still waiting on their server are live work, as the HTTP listener's
 * exchanges are (operations §6 item 4 on MCP; kill-switch-watch.ts): the kill switch coming on, or
 * the wrap's session entering airlock hard or drain (or being evicted), answers each of them at
 * once with the error the HTTP transports give for that cause — recorded first, one block Decision
 * per call, whose stderr line names the cause — instead of leaving the client waiting on a server
 * that may take minutes. The server's answer to a cut call, when it comes, is dropped: the call
 * has had its one answer.
 *
 * The wrap's session is an invocation session (`mcp-stdio-<n>`): the admin API refuses to reset
 * or terminate it (its airlock tier can be set), so those two causes do not reach it; the cut
 * would carry them like the others if they did.
 *
 * Registered only while a call is out, so an idle wrap holds neither the kill switch's polling nor
 * a session registration (which a cut consumes: the next call registers again).
 */
import type {KillSwitchController} from '../killswitch/index.js'
import {killSwitchCutDecision, liveCutDecision, parseFrame, settleCall, type LiveCutSubject, type McpContext, type McpDecision} from '../mcp/index.js'
import {KillSwitchWatch} from './kill-switch-watch.js'

export class StdioCallCuts {
  /** The forwarded requests by id (what a cut's Decision names); a batch's calls are cut with id only. */
  private readonly subjects = new Map<string, LiveCutSubject>()
  /** Ids of calls that were cut: the server's late answer to each is dropped once. */
  private readonly cut = new Set<string>()
  private readonly watch: KillSwitchWatch
  private disarm: (() => void) | null = null

  /** `answer` writes one line to the client; `log` one stderr line. */
  constructor(
    private readonly ctx: McpContext, killSwitch: KillSwitchController, private readonly record: (d: McpDecision) => void,
    private readonly answer: (line: string) => void, private readonly log: (line: string) => void,
  ) {
    this.watch = new KillSwitchWatch(killSwitch)
  }

  /** A client message was decided and is about to be forwarded: a request with an id is a call now out. */
  forwarded(d: McpDecision): void {
    if (d.id === null || d.method === '') return
    this.subjects.set(d.id, {id: d.id, method: d.method, tool: d.tool})
    this.arm()
  }

  /**
   * A server line, before it is decided (and again after, for a cut that came meanwhile): true
   * when it is the answer to a cut call, which is dropped (logged, not recorded: the call's
   * response Decision is its cut). Parsed only while a cut call awaits its late answer.
   */
  lateAnswer(raw: string): boolean {
    if (this.cut.size === 0) return false
    const f = parseFrame(raw)
    return f.isResponse && this.dropped(f.id)
  }

  /** A decided server message: the call it answered is over; with no call left out, nothing is watched. */
  answered(d: McpDecision): boolean {
    if (d.id !== null && d.method === '') {
      if (this.dropped(d.id)) return true
      this.subjects.delete(d.id)
    }
    if (this.subjects.size === 0) this.stop()
    return false
  }

  /** The wrap ends: nothing is watched any more. */
  stop(): void {
    const d = this.disarm
    this.disarm = null
    d?.()
  }

  private dropped(id: string | null): boolean {
    if (id === null || !this.cut.delete(id)) return false
    this.log(`pipelock: dropped the MCP server's late answer to id ${id}: the call was cut`)
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
    const unregister = ctx.state.session?.registerLive?.((cause) => this.cutAll((s) => liveCutDecision(ctx, s, cause))) ?? (() => undefined)
    this.disarm = () => {
      unwatch()
      unregister()
    }
  }

  /** Answers every call still out with its cut's error (recorded first); their late answers will be dropped. */
  private cutAll(decide: (s: LiveCutSubject) => McpDecision): void {
    this.stop()
    const {state} = this.ctx
    for (const id of state.tracker.pendingRequests()) {
      // Consumed: the call is answered here, and its concurrency slot is free.
      if (!state.tracker.consume(id)) continue
      settleCall(state, id)
      this.cut.add(id)
      const d = decide(this.subjects.get(id) ?? {id, method: '', tool: ''})
      this.record(d)
      if (d.forward !== null) this.answer(d.forward)
    }
    this.subjects.clear()
  }
}
