/**
 * `pipelock mcp proxy --upstream http(s)://…` (spec mcp.md §3.2): a stdio MCP client talks to a
 * Streamable HTTP server through pipelock. Each client message gets the one request decision,
 * then its own POST (concurrent — fix Q13: a server request during a call, such as sampling, is
 * answered instead of deadlocking); every message of the JSON or SSE answer, and of the GET
 * stream, gets the one response decision (on the GET stream a response to an id not pending is
 * dropped: fix). The session id comes only from the upstream;
 * extra headers can never replace a transport-managed one. Session binding is enforced here too
 * (fix Q7); failed notifications are not answered (fix Q41); a request whose answer could not be
 * read gets `-32003` (fix). Messages the client sends behind its `initialize` are held until that
 * POST's response headers are in, so they carry the session id it issued (the reference POSTs
 * them at once, without it); one cut while held is answered by the cut and never sent.
 */
import {upstreamErrorText} from './upstream-error.js'
import {answersRequest} from './answered.js'
import {STATUS_CODES} from 'node:http'
import {setTimeout as sleep} from 'node:timers/promises'
import {PipelockError} from '../errors/index.js'
import {errorLine, mcpError, newSessionState, parseFrame, settleCall, trimGoSpace, unreadableAnswerDecision, type LiveCutSubject, type McpContext, type UnreadableAnswer} from '../mcp/index.js'
import {TRANSPORT_MANAGED} from './headers.js'
import {LineTooLongError, MAX_LINE_BYTES, readLines} from './line-reader.js'
import type {StdioClientSide} from './runtime.js'
import {lineMessages} from './line-messages.js'
import {SerialLane} from './scan-lane.js'
import {CallCuts} from './call-cuts.js'
import {readSseEvents} from './sse.js'
import {BodyTooLargeError, header, isEventStream, readCapped, redirectRefusal, unscannableCoding, UpstreamClient, type UpstreamResponse} from './upstream-client.js'

/**
 * How long calls still in flight when the client closes stdin may take to answer. Closing stdin is
 * an MCP client's shutdown; the stdio wrap gives its server the same 5 s to exit.
 */
const DRAIN_AFTER_EOF_MS = 5000

/** The longest wait between two attempts to open the GET stream (spec mcp.md §3.2.2). */
const GET_BACKOFF_MAX_MS = 30_000

export interface BridgeOptions extends StdioClientSide {
  readonly upstream: string
  readonly headers: ReadonlyArray<readonly [string, string]>
}

class UpstreamHttpError extends Error {}

/**
 * The server answered, but in a form pipelock refuses before reading it (a compressed body, a
 * redirect): recorded as a refused answer. A compressed body is not the upstream's failure; a
 * redirect is (the message was not delivered).
 */
class RefusedAnswerError extends UpstreamHttpError {
  constructor(readonly kind: UnreadableAnswer & ('compressed' | 'redirect'), why: string) {
    super(why)
  }
}

/** No call waits on the GET stream: its refusals are recorded with no request and no answer. */
const GET_SUBJECT: LiveCutSubject = {id: null, method: '', tool: ''}

/** The refusal an error of the GET stream is, recorded like a POST answer's; null for a transport failure. */
function refusedKind(err: unknown): UnreadableAnswer | null {
  if (err instanceof RefusedAnswerError) return err.kind
  return err instanceof LineTooLongError ? 'too_large' : null
}

export async function runHttpBridge(o: BridgeOptions): Promise<number> {
  const client = new UpstreamClient(0)
  const ctx: McpContext = {settings: o.runtime.settings, deps: o.runtime.deps, state: newSessionState(o.runtime.settings, 'mcp_http_upstream', 'default')}
  // The GET stream carries the server's own messages; a response there must answer a pending
  // request (the one tracker of this session), any other is a forgery and is dropped.
  const getCtx: McpContext = {...ctx, serverStream: true}
  let sessionId: string | null = null
  let exitError: string | null = null
  // POSTs the upstream never took (unreachable: refused, reset, DNS, TLS; or an HTTP status of 400
  // or more, a redirect): the run does not end 0.
  let failed = 0
  let lastFailure = ''
  const abort = new AbortController()
  let getLoop: Promise<void> | null = null
  const inflight = new Set<Promise<void>>()
  o.clientOut.on('error', () => {}) // EPIPE once the client has gone: the read side ends the run
  // A POST whose answer the server holds open (an SSE stream) is a call waiting on the server:
  // the kill switch and the session's airlock cut it as the stdio wrap's (call-cuts.ts), and its
  // POST is aborted; an answer that still comes (on the GET stream) is dropped.
  const posts = new Map<string, AbortController>()
  const calls = new CallCuts(ctx, o.runtime.killSwitch, {
    record: (d) => o.recorder.record(d), answer: (line) => writeClient(line), log: o.log, onCut: (id) => posts.get(id)?.abort(),
  })

  const writeClient = (line: string): void => {
    if (Buffer.byteLength(line) + 1 > MAX_LINE_BYTES) return o.log(`pipelock: message too large: ${Buffer.byteLength(line) + 1} bytes`)
    o.clientOut.write(line + '\n')
  }

  const headersFor = (accept: string, json = true): string[] => {
    const h: string[] = []
    for (const [k, v] of o.headers) if (!TRANSPORT_MANAGED.has(k.toLowerCase())) h.push(k, v)
    if (json) h.push('content-type', 'application/json')
    h.push('accept', accept)
    if (sessionId !== null) h.push('mcp-session-id', sessionId)
    return h
  }

  const check = (r: UpstreamResponse): void => {
    const redirect = redirectRefusal(r.status)
    if (redirect !== null) throw new RefusedAnswerError('redirect', redirect)
    const coding = unscannableCoding(r.headers)
    if (coding !== null) throw new RefusedAnswerError('compressed', coding)
  }

  // Server messages from every POST answer and the GET stream reach the client in arrival order:
  // one lane, so a small message waits for a large one on the scan pool.
  const toClient = new SerialLane()
  const serverMessage = (c: McpContext, data: string): Promise<void> => toClient.run(async () => {
    // The answer to a cut call is dropped; a reissued id gets the client's back (call-cuts.ts).
    const up = calls.fromUpstream(data)
    if (up.drop) return
    const d = await o.runtime.offload.decideResponse(c, up.raw)
    if (calls.answered(d, up.upstreamId)) return
    o.recorder.record(d)
    if (d.forward !== null) writeClient(d.forward)
    if (d.answer !== null) {
      // The server's request refused on the way is answered to the server: an exchange in flight like
      // a call's, so a client closing stdin at once (the drain waits for `inflight`) does not abort it unsent.
      const p = post(d.answer, {id: null, method: '', tool: ''}, null)
      inflight.add(p)
      void p.finally(() => inflight.delete(p))
    }
  })

  const startGet = (): void => {
    if (getLoop !== null) return
    getLoop = (async () => {
      let backoff = 1000
      let paused = false
      // The failure last logged (null: the stream is up, or has not failed yet). A dead upstream
      // is retried for as long as the bridge runs (spec mcp.md §3.2.2: 1 s doubling to 30 s), so
      // stderr gets a line when the failure starts or changes and when the stream is back, not one
      // every 30 s for ever.
      let failing: string | null = null
      while (!abort.signal.aborted) {
        if (o.runtime.deps.killSwitch.status().active) {
          if (!paused) o.log('pipelock: GET stream paused: kill switch active')
          paused = true
          await sleep(1000, undefined, {signal: abort.signal}).catch(() => {})
          continue
        }
        if (paused) o.log('pipelock: GET stream resuming: kill switch cleared')
        paused = false
        try {
          const r = await client.send(o.upstream, 'GET', headersFor('text/event-stream', false), undefined, abort.signal)
          if (r.status === 405) {
            r.body.resume()
            o.log('pipelock: GET stream: server does not support GET stream (HTTP 405)')
            return
          }
          if (r.status >= 400) {
            r.body.resume()
            throw new UpstreamHttpError(`HTTP ${r.status}`)
          }
          check(r)
          backoff = 1000
          if (failing !== null) o.log('pipelock: GET stream: reconnected')
          failing = null
          for await (const data of readSseEvents(r.body)) await serverMessage(getCtx, data)
        } catch (err) {
          if (abort.signal.aborted) return
          const why = (err as Error).message
          // An answer refused unread is recorded as the POST's are, once per failure as it is logged
          // (the retry meets the same answer; a receipt per attempt would say nothing new).
          if (why !== failing) {
            const kind = refusedKind(err)
            if (kind !== null) o.recorder.record(unreadableAnswerDecision(getCtx, GET_SUBJECT, kind, why, null))
          }
          if (why !== failing) o.log(`pipelock: GET stream: ${why}${failing === null ? `; retrying (backoff 1 s doubling to ${GET_BACKOFF_MAX_MS / 1000} s), logged again when this changes` : ''}`)
          failing = why
        }
        await sleep(backoff, undefined, {signal: abort.signal}).catch(() => {})
        backoff = Math.min(backoff * 2, GET_BACKOFF_MAX_MS)
      }
    })()
  }

  /**
   * Settles when the last forwarded `initialize` POST has its response headers (or failed): the
   * session id a server issues comes with them, and a message the client pipelined behind its
   * `initialize` must carry it (a server that requires the id answers 400 without it).
   */
  let initialized: Promise<void> = Promise.resolve()

  /**
   * POSTs one message and relays every message of the answer; `subject.id` null = nothing to answer on
   * failure (else the client's id; `upId` the one sent). `opened` is called once the response
   * headers are in or the request failed. A cut aborts it (`own`, registered by the caller when
   * the call was queued): the call had its answer from the cut, and a POST still queued then is
   * never sent. A cut call's POST, sent or not, carries no answer once it is over, so no late
   * answer to it is awaited.
   */
  async function post(body: string, subject: LiveCutSubject, upId: string | null, own = new AbortController(), opened?: () => void): Promise<void> {
    try {
      await sendAndRelay(body, subject, upId, own, opened)
    } finally {
      if (own.signal.aborted && upId !== null) calls.noLateAnswer(upId)
    }
  }

  /** `post` without the cut's bookkeeping. */
  async function sendAndRelay(body: string, subject: LiveCutSubject, upId: string | null, own: AbortController, opened?: () => void): Promise<void> {
    const id = subject.id
    let r: UpstreamResponse
    const signal = AbortSignal.any([abort.signal, own.signal])
    try {
      // Cut while it waited behind an initialize: answered already, so it never goes out (and
      // the server, never asked, owes no late answer under its id).
      if (own.signal.aborted) {
        if (id !== null && posts.get(id) === own) posts.delete(id)
        return
      }
      r = await client.send(o.upstream, 'POST', headersFor('application/json, text/event-stream'), body, signal)
      if (r.status < 300) {
        const sid = header(r.headers, 'mcp-session-id')
        if (sid !== undefined) sessionId = sid
      }
      opened?.()
      if (r.status >= 400) {
        const text = trimGoSpace((await readCapped(r.body, MAX_LINE_BYTES).catch(() => '')).slice(0, 1024))
        throw new UpstreamHttpError(`HTTP ${r.status}: ${r.status} ${STATUS_CODES[r.status] ?? ''}${text === '' ? '' : `: ${text}`}`)
      }
      check(r)
    } catch (err) {
      if (id !== null && posts.get(id) === own) posts.delete(id)
      // Cut while it was being sent: the aborted POST carries no answer.
      if (own.signal.aborted) return
      // A compressed answer or a redirect is refused before any of it is read: recorded, with the error the client gets.
      const refused = err instanceof RefusedAnswerError ? err.kind : null
      const compressed = refused === 'compressed'
      const line = id === null ? null : errorLine(id, mcpError('upstream', compressed ? 'compressed response cannot be scanned' : 'upstream HTTP request failed'))
      if (refused !== null) o.recorder.record(unreadableAnswerDecision(ctx, subject, refused, (err as Error).message, line))
      else o.log(`pipelock: upstream error: ${upstreamErrorText(err)}`)
      // Not counted: aborted by the bridge itself (the drain after EOF, a stop signal), or an
      // answer pipelock refused to relay (compressed). A redirect delivered nothing: counted.
      if (!compressed && !signal.aborted) {
        failed++
        lastFailure = upstreamErrorText(err)
      }
      settleCall(ctx.state, id)
      calls.settled(id)
      if (line !== null) writeClient(line)
      return
    } finally {
      opened?.()
    }
    if (sessionId !== null) startGet()
    // Accepted: an answer to a request can only come on the GET stream now (its response settles the call there).
    if (r.status === 202) {
      if (id !== null) posts.delete(id)
      return void r.body.resume()
    }
    let answered = false
    // A second response to the call on its answer is dropped by the gate (the client has its one answer).
    const answerCtx: McpContext = {...ctx, answers: id}
    try {
      if (isEventStream(r.headers)) {
        for await (const data of readSseEvents(r.body)) {
          if (upId !== null && answersRequest(data, upId)) answered = true
          await serverMessage(answerCtx, data)
        }
      } else {
        const text = trimGoSpace(await readCapped(r.body, MAX_LINE_BYTES))
        if (text !== '') {
          if (upId !== null && answersRequest(text, upId)) answered = true
          await serverMessage(answerCtx, text)
        }
      }
      // The answer is over and none of its messages answered the call (a response to another id,
      // a body that is not one message, an event stream with no data): the server will not answer
      // it now (no resumption), so the client is told rather than left waiting for ever. Its
      // answer through the GET stream or a batch already settled it (the tracker no longer has it).
      if (id !== null && !answered && ctx.state.tracker.has(id) && !own.signal.aborted) {
        ctx.state.tracker.consume(id)
        calls.settled(id)
        o.log(`pipelock: upstream error: the answer to request ${id} ended without its response`)
        writeClient(errorLine(id, mcpError('upstream', 'upstream sent no response')))
      }
    } catch (err) {
      // Cut: the call was answered by the cut, and its stream aborted on purpose.
      if (own.signal.aborted) return
      const msg = err instanceof LineTooLongError ? `reading input: ${err.message}` : (err as Error).message
      exitError = msg // replicated Q50: the run ends with exit 1
      const waiting = id !== null && !answered && ctx.state.tracker.has(id)
      const line = waiting ? errorLine(id, mcpError('upstream', 'upstream HTTP request failed')) : null
      // An answer too large to read whole is refused unscanned: recorded, as a compressed one is.
      if (err instanceof LineTooLongError || err instanceof BodyTooLargeError) o.recorder.record(unreadableAnswerDecision(ctx, subject, 'too_large', err.message, line))
      else o.log(`pipelock: scan error: ${msg}`)
      if (waiting) {
        ctx.state.tracker.consume(id)
        calls.settled(id)
        writeClient(line!)
      }
    } finally {
      // The POST's answer is over, answered or not: the call no longer holds a concurrency slot.
      settleCall(ctx.state, id)
      if (id !== null && posts.get(id) === own) posts.delete(id)
    }
  }

  const reader = (async () => {
    try {
      // A message the client wrote over several lines comes whole, for the gate to refuse (line-messages.ts).
      for await (const raw of lineMessages(readLines(o.clientIn))) {
        if (trimGoSpace(raw) === '') continue
        const d = await o.runtime.offload.decideRequest(ctx, raw)
        o.recorder.record(d)
        if (d.answer !== null) writeClient(d.answer)
        if (d.forward === null) continue
        const f = parseFrame(d.forward)
        const isRequest = f.hasMethod && !f.isResponse && f.id !== null
        // A request is a call out until answered (or cut); its id may be reissued (call-cuts.ts).
        const forward = calls.forwarded({...d, forward: d.forward})
        const upId = forward === d.forward ? f.id : parseFrame(forward).id
        const after = initialized
        // Known to the cuts from now on: a call cut while it is held below is dropped, not sent.
        const own = new AbortController()
        if (isRequest && f.id !== null) posts.set(f.id, own)
        let p: Promise<void>
        if (isRequest && f.method === 'initialize') {
          let opened = (): void => {}
          initialized = new Promise<void>((resolve) => (opened = resolve))
          p = after.then(() => post(forward, {id: f.id, method: d.method, tool: d.tool}, upId, own, opened))
        } else {
          // Held (not read-blocking) until the initialize before it has its session id.
          p = after.then(() => post(forward, {id: isRequest ? f.id : null, method: d.method, tool: d.tool}, upId, own))
        }
        inflight.add(p)
        void p.finally(() => inflight.delete(p))
      }
    } catch (err) {
      exitError = `reading input: ${(err as Error).message}`
    }
  })()
  await Promise.race([reader, ...(o.stop ? [o.stop] : [])])
  // After the client's EOF the calls still out get DRAIN_AFTER_EOF_MS to answer; then they are
  // aborted (each answered -32003) and the bridge exits — an upstream that never answers no
  // longer keeps the process alive once its client has gone.
  let drainTimer: NodeJS.Timeout | undefined
  const drained = await Promise.race([
    Promise.all([...inflight]).then(() => true),
    new Promise<boolean>((resolve) => (drainTimer = setTimeout(() => resolve(false), DRAIN_AFTER_EOF_MS))),
    ...(o.stop ? [o.stop.then(() => true)] : []),
  ])
  clearTimeout(drainTimer)
  calls.stop()
  abort.abort()
  if (!drained) {
    o.log(`pipelock: ${inflight.size} upstream call(s) unanswered ${DRAIN_AFTER_EOF_MS / 1000} s after the client closed stdin; aborted`)
    await Promise.all([...inflight])
  }
  if (sessionId !== null) {
    try {
      const r = await client.send(o.upstream, 'DELETE', headersFor('application/json, text/event-stream', false), undefined, AbortSignal.timeout(5000))
      r.body.resume()
      if (r.status >= 400 && r.status !== 405) o.log(`pipelock: session delete: server returned HTTP ${r.status}`)
    } catch (err) {
      o.log(`pipelock: session delete: ${(err as Error).message}`)
    }
    sessionId = null
  }
  await getLoop
  await client.close()
  // A stop signal leaves the client's stdin open and read: let go of it, or the process stays.
  o.clientIn.destroy()
  if (exitError !== null) throw new PipelockError('MCP_STREAM_FAILED', exitError)
  // Each message that could not be sent was answered (-32003) and logged as it failed; the run
  // says so once more in its exit status, so a supervisor does not read the session as a success.
  if (failed > 0) throw new PipelockError('MCP_UPSTREAM_FAILED', `upstream ${o.upstream} failed ${failed} message(s), each answered -32003; the last: ${lastFailure}`)
  return 0
}
