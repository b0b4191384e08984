/**
 * The calls a stdio client has out to its server — through the stdio wrap, the WebSocket bridge
 * or the HTTP bridge (a POST whose answer the server holds open) — are live work, as the HTTP listener's exchanges are (operations §6 item 4 on MCP;
 * kill-switch-watch.ts): the kill switch coming on, or the session entering airlock hard or drain
 * (or being evicted), answers each of them at once with the error the HTTP transports give for
 * that cause — recorded first, one block Decision per call, whose stderr line names the cause —
 * instead of leaving the client waiting on a server that may take minutes. The server's answer to
 * a cut call, when it comes, is dropped: the call has had its one answer.
 *
 * The wraps' sessions are invocation sessions (`mcp-stdio-<n>`, `mcp-ws-<n>`, `mcp-http-<n>`): the admin API
 * refuses to reset or terminate them (their airlock tier can be set), so those two causes do not
 * reach them; the cut would carry them like the others if they did.
 *
 * Registered only while a call is out, so an idle wrap holds neither the kill switch's polling nor
 * a session registration (which a cut consumes: the next call registers again).
 *
 * The server answers by id, and a client may use a cut call's id again (it had its answer): while
 * the server still owes the late answer to the cut call, a new request with that id is sent
 * upstream under an id of the wrap's own (`"pipelock-reissued-<n>"`), and the server's answer to it
 * gets the client's id back before it is decided; a `notifications/cancelled` naming the client's
 * id names the reissued one. So the late answer is told apart from the new call's, whichever comes
 * first. A server batch is refused whole, and the calls it answers are answered in its stead
 * (the response gate's waiting.ts): a reissued id there is the client's call too, and the late
 * answer to a cut call answers nothing and is dropped as one outside a batch is (`clientId`). A
 * server answer with the client's own id while its call is out under a reissued one is not that
 * call's (the late answer to a cut call whose entry was forgotten): dropped, in a batch or not.
 * Every other message goes upstream byte for byte as the gate forwarded it (the reference never
 * touches ids; it has no cut, so no late answer to tell apart).
 */
import {compactRawJson, parseStrictJson, type JsonValue} from '../canonical/index.js'
import type {KillSwitchController} from '../killswitch/index.js'
import {isObjectValue, killSwitchCutDecision, liveCutDecision, MAX_JSON_DEPTH, settleCall, trimGoSpace, type LiveCutSubject, type McpContext, type McpDecision, type McpLiveCutCause, type UpstreamIds} from '../mcp/index.js'
import {KillSwitchWatch} from './kill-switch-watch.js'

/** Cut calls whose late answer is still awaited, at most (the request tracker's bound): the oldest are forgotten. */
const MAX_CUT_IDS = 10_000

/** A server message as the wrap relays it. */
export interface UpstreamMessage {
  /** The text to decide: the message, with the client's id in place of a reissued one. */
  readonly raw: string
  /** The late answer to a cut call: dropped unread. */
  readonly drop: boolean
  /** The id it carried from the server, raw JSON text (null: none); undefined when it was not read. */
  readonly upstreamId?: string | null
}

/** The value of top-level member `name` of the JSON object `text`: its span and compact text; null when absent or unreadable. */
function member(text: string, name: string): {value: JsonValue; span: [number, number] | undefined; raw: string | null} | null {
  try {
    const {value, spans} = parseStrictJson(text, {maxDepth: MAX_JSON_DEPTH, topLevelSpans: true})
    const span = spans?.get(name)
    return {value, span, raw: span === undefined ? null : compactRawJson(text.slice(span[0], span[1]))}
  } catch {
    // Not a JSON object: the gate says what is wrong with it.
    return null
  }
}

function splice(text: string, span: [number, number], by: string): string {
  return text.slice(0, span[0]) + by + text.slice(span[1])
}

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
  /** A call was cut and answered: the transport lets go of its upstream exchange (the HTTP bridge aborts its POST). */
  readonly onCut?: (id: string) => void
}

export class CallCuts implements UpstreamIds {
  /** The forwarded requests still waiting, by the client's id, oldest first (what a cut's Decision names). */
  private readonly subjects = new Map<string, LiveCutSubject>()
  /** Cut calls whose late answer is awaited: the id the server will answer with → the client's id. */
  private readonly cut = new Map<string, string>()
  /** Calls out under a reissued id: the client's id → the upstream id, and back. */
  private readonly upstreamOf = new Map<string, string>()
  private readonly clientOf = new Map<string, string>()
  private reissued = 0
  private readonly watch: KillSwitchWatch
  private disarm: (() => void) | null = null

  constructor(private readonly ctx: McpContext, killSwitch: KillSwitchController, private readonly o: CallCutsOptions) {
    this.watch = new KillSwitchWatch(killSwitch)
    ctx.state.upstreamIds = this
  }

  /**
   * The client's id of the call the server answers as `upstreamId` (the response gate reads it for
   * the calls a batch answers): a reissued id's client id; null for the late answer to a cut call,
   * and for the client's own id while its call is out under a reissued one (the server's answer
   * with it is not that call's) — each dropped as `fromUpstream` drops one outside a batch.
   */
  clientId(upstreamId: string): string | null {
    if (this.dropped(upstreamId) || this.notItsCall(upstreamId)) return null
    return this.clientOf.get(upstreamId) ?? upstreamId
  }

  /**
   * A client message was decided and is about to be forwarded (`d.forward`): a request with an id
   * is a call now out. Returns the text to send upstream: `d.forward`, or with a reissued id.
   */
  forwarded(d: McpDecision & {readonly forward: string}): string {
    if (d.id === null || d.method === '') return d.method === 'notifications/cancelled' ? this.cancellation(d.forward) : d.forward
    let text = d.forward
    if (this.cut.has(d.id) || this.clientOf.has(d.id)) {
      // The server still owes an answer with this id: this call goes up under one of our own.
      const f = member(text, 'id')
      if (f?.span !== undefined) {
        const up = this.newId()
        text = splice(text, f.span, up)
        this.upstreamOf.set(d.id, up)
        this.clientOf.set(up, d.id)
      }
    }
    this.subjects.set(d.id, {id: d.id, method: d.method, tool: d.tool})
    this.arm()
    return text
  }

  /**
   * A server message, before it is decided: the late answer to a cut call is dropped (logged, not
   * recorded: the call's response Decision is its cut), and so is an answer with the client's id
   * while its call is out under a reissued one (the late answer to a cut call no longer listed);
   * the answer to a reissued call gets the client's id back. Read only while either is awaited.
   */
  fromUpstream(raw: string): UpstreamMessage {
    if (this.cut.size === 0 && this.clientOf.size === 0) return {raw, drop: false}
    const text = trimGoSpace(raw)
    const f = member(text, 'id')
    if (f === null || !isObjectValue(f.value) || !(f.value.has('result') || f.value.has('error'))) return {raw, drop: false}
    if (f.raw !== null && (this.dropped(f.raw) || this.notItsCall(f.raw))) return {raw, drop: true, upstreamId: f.raw}
    const client = f.raw === null ? undefined : this.clientOf.get(f.raw)
    if (client === undefined || f.span === undefined) return {raw, drop: false, upstreamId: f.raw}
    return {raw: splice(text, f.span, client), drop: false, upstreamId: f.raw}
  }

  /**
   * A decided server message (`upstreamId` from `fromUpstream`): true when it answers a call cut
   * while it was being decided (dropped too). Else the call it answered is over; with no call
   * left out, nothing is watched.
   */
  answered(d: McpDecision, upstreamId?: string | null): boolean {
    if (d.id === null && d.method === '') {
      // No id of its own (a batch): the calls the gate answered in its stead are over too.
      const {tracker} = this.ctx.state
      for (const id of [...this.subjects.keys()]) if (!tracker.has(id)) this.forget(id)
    } else if (d.id !== null && d.method === '') {
      if (this.dropped(upstreamId === undefined ? d.id : upstreamId)) return true
      this.subjects.delete(d.id)
      const up = this.upstreamOf.get(d.id)
      if (up !== undefined && up === upstreamId) {
        this.upstreamOf.delete(d.id)
        this.clientOf.delete(up)
      }
    }
    if (this.subjects.size === 0) this.stop()
    return false
  }

  /** The call `id` had its answer from the transport itself (an upstream failure): it is not cut any more. */
  settled(id: string | null): void {
    if (id === null || !this.subjects.has(id)) return
    this.forget(id)
    if (this.subjects.size === 0) this.stop()
  }

  /** The call `id` is over: not out, nor out under a reissued id (a cancellation naming it names it as sent). */
  private forget(id: string): void {
    this.subjects.delete(id)
    const up = this.upstreamOf.get(id)
    if (up === undefined) return
    this.upstreamOf.delete(id)
    this.clientOf.delete(up)
  }

  /**
   * The cut call sent upstream as `upstreamId` can carry no late answer: it was never sent after
   * all (the transport dropped it while it was queued), or the exchange it went out on is over
   * (the HTTP bridge aborted its POST, and what it had read of the answer is decided). None is
   * awaited then: kept, it was listed for the rest of the session — every server message read
   * for it, and a new call under the client's id sent upstream under one of pipelock's.
   */
  noLateAnswer(upstreamId: string): void {
    this.cut.delete(upstreamId)
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

  /** `"pipelock-reissued-<n>"`, with no answer owed under it and no call out with it. */
  private newId(): string {
    for (;;) {
      const id = `"pipelock-reissued-${++this.reissued}"`
      if (!this.cut.has(id) && !this.clientOf.has(id) && !this.subjects.has(id)) return id
    }
  }

  /** A client's cancellation of a reissued call names the id the server knows it by. */
  private cancellation(text: string): string {
    if (this.upstreamOf.size === 0) return text
    const env = member(text, 'params')
    if (env?.span === undefined) return text
    const params = member(text.slice(env.span[0], env.span[1]), 'requestId')
    const up = params?.raw == null ? undefined : this.upstreamOf.get(params.raw)
    if (up === undefined || params!.span === undefined) return text
    return splice(text, env.span, splice(text.slice(env.span[0], env.span[1]), params!.span, up))
  }

  /** True, said on stderr, when `upstreamId` is a cut call's: its late answer, no longer awaited. */
  private dropped(upstreamId: string | null): boolean {
    const client = upstreamId === null ? undefined : this.cut.get(upstreamId)
    if (client === undefined) return false
    this.cut.delete(upstreamId!)
    return this.drop(client, 'the call was cut')
  }

  /** True, said on stderr, when the client's call `id` is out under a reissued id: an answer with `id` is not its. */
  private notItsCall(id: string): boolean {
    const up = this.upstreamOf.get(id)
    return up !== undefined && this.drop(id, `the client's call with that id is out as ${up}`)
  }

  private drop(client: string, why: string): true {
    this.o.log(`pipelock: dropped the MCP server's late answer to id ${client}: ${why}`)
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
      const up = this.upstreamOf.get(id) ?? id
      this.upstreamOf.delete(id)
      this.clientOf.delete(up)
      this.cut.set(up, id)
      if (this.cut.size > MAX_CUT_IDS) this.cut.delete(this.cut.keys().next().value as string)
      const d = decide(subject)
      this.o.record(d)
      if (d.forward !== null) this.o.answer(d.forward)
      this.o.onCut?.(id)
      n++
    }
    this.subjects.clear()
    return n
  }
}
