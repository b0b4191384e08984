/**
 * `pipelock mcp proxy --listen ADDR --upstream URL` (spec mcp.md §3.3): an MCP Streamable HTTP
 * endpoint in front of one upstream. Per request: structure checks, then the one request
 * decision (kill switch, header DLP, content, policy, binding, chain), then the upstream, whose
 * JSON body or SSE stream goes message by message through the one response decision and is
 * re-framed as it arrives (no buffering of streams). Fixes Q14 (client JSON-RPC responses are
 * accepted, scanned and forwarded), Q15 (the upstream timeout covers headers only), Q16 (a lost
 * response to a request is 502, not 202), Q17 (chain state keyed by client IP, never by a
 * client-chosen session id) and Q19 (protocol version and Last-Event-ID forwarded; 401/403 with
 * WWW-Authenticate passed through).
 */
import {clientHostOf} from '../sessions/index.js'
import {upstreamErrorText} from './upstream-error.js'
import {answersRequest} from './answered.js'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import type {PipelockConfig} from '../config/index.js'
import {
  errorLine, isObjectValue, killSwitchCutDecision, liveCutDecision, mcpError, newSessionState, parseFrame, RequestTracker, settleCalls, trimGoSpace, unreadableAnswerDecision,
  type McpContext, type McpDecision, type McpError, type McpRecorder, type McpSessionState,
} from '../mcp/index.js'
import {A2aState} from '../a2a/index.js'
import {blockHeaders} from '../proxy/index.js'
import {ListenerA2a} from './a2a-listener.js'
import {KillSwitchWatch} from './kill-switch-watch.js'
import {MAX_LINE_BYTES} from './line-reader.js'
import type {McpRuntime} from './runtime.js'
import {SerialLanes} from './scan-lane.js'
import {readSseEvents, sseEvent} from './sse.js'
import {BodyTimeoutError, BodyTooLargeError, header, isEventStream, readCapped, redirectRefusal, unscannableCoding, UpstreamClient} from './upstream-client.js'
import {LineTooLongError} from './line-reader.js'

export interface ListenerOptions {
  readonly listen: string
  readonly upstream: string
  readonly config: PipelockConfig
  readonly runtime: McpRuntime
  readonly recorder: McpRecorder
  readonly log: (line: string) => void
  /**
   * Per-request config and runtime (`run --mcp-listen`, mcp.md §2.9: hot reload); default the
   * fixed `config` / `runtime` above (`mcp proxy --listen` has no reload).
   */
  readonly current?: () => {readonly config: PipelockConfig; readonly runtime: McpRuntime}
}

export interface RunningListener {
  readonly address: string
  close(): Promise<void>
}

/** Session ids remembered with the client they are bound to, at most (the oldest are forgotten). */
const MAX_SESSION_IDS = 10_000

/**
 * The upstream timeout (spec mcp.md §3.3: the reference's 30 s covers the whole exchange). It bounds
 * the wait for response headers, and a JSON answer whole (headers and body): an SSE stream may run
 * for hours past its headers (Q15 fix), a JSON body that never ends must not hold its client for ever.
 */
const UPSTREAM_TIMEOUT_MS = 30_000

/** Client headers passed upstream (the reference's four, plus the Q19 fix). */
const FORWARDED = ['authorization', 'mcp-session-id', 'a2a-extensions', 'a2a-version', 'mcp-protocol-version', 'last-event-id']

function sendJson(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, {...extra, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body))})
  res.end(body)
}

/** A bound address as `host:port` (`[v6]:port`). */
export function addressText(a: AddressInfo): string {
  return `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
}

function sendStatus(res: ServerResponse, status: number, extra: Record<string, string> = {}): void {
  res.writeHead(status, extra)
  res.end()
}

/** `host:port` → listen args; an empty host means all IPv4 interfaces. */
export function splitListen(listen: string): {host: string; port: number} {
  const i = listen.lastIndexOf(':')
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '')
  return {host: host === '' ? '0.0.0.0' : host, port: Number(listen.slice(i + 1))}
}

export async function startMcpListener(o: ListenerOptions): Promise<RunningListener> {
  const client = new UpstreamClient(UPSTREAM_TIMEOUT_MS)
  const lanes = new SerialLanes()
  // The exchanges in flight the kill switch cuts: one controller per listener (under `run` every
  // runtime, one per config snapshot, is built on the run's own controller).
  const killWatch = new KillSwitchWatch(o.runtime.killSwitch)
  // A2A contexts live as long as the listener (kept across reloads, like the tool baseline).
  const a2a = new ListenerA2a(new A2aState())
  // The client address each upstream session id is bound to: the one the upstream issued it to, or
  // that first presented it (an id issued before this listener started). A request presenting an id
  // bound to another address is refused by the gate (gate/stages/session-id.ts). Kept across reloads.
  const sidOwners = new Map<string, string>()
  const bindSid = (sid: string, owner: string): void => {
    if (sidOwners.has(sid)) return
    sidOwners.set(sid, owner)
    if (sidOwners.size > MAX_SESSION_IDS) sidOwners.delete(sidOwners.keys().next().value as string)
  }
  // One tool baseline for the whole listener (Q18 kept); chain windows per client IP (Q17 fix).
  // A reload (new runtime) keeps the baseline and starts chain history afresh (mcp.md §14.3).
  let shared = newSessionState(o.runtime.settings, 'mcp_http_listener', '')
  let sharedFor = o.runtime
  const view = (): {readonly config: PipelockConfig; readonly runtime: McpRuntime} => {
    const v = o.current?.() ?? o
    if (v.runtime !== sharedFor) {
      // detect_drift turned on by this reload: the pins (and holds) start again from the next list.
      if (v.runtime.settings.toolScan.detectDrift && !sharedFor.settings.toolScan.detectDrift) shared.baseline.resetDrift()
      shared = {...newSessionState(v.runtime.settings, 'mcp_http_listener', ''), baseline: shared.baseline}
      sharedFor = v.runtime
    }
    return v
  }
  const server: Server = createServer({requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 120_000}, (req, res) => {
    handle(req, res).catch((err) => {
      o.log(`pipelock: upstream error: ${upstreamErrorText(err)}`)
      if (!res.headersSent) sendJson(res, 502, errorLine(null, mcpError('upstream', 'upstream HTTP request failed')))
      else res.destroy()
    })
  })

  const answer = (res: ServerResponse, status: number, id: string | null, err: McpError) => sendJson(res, status, errorLine(id, err))

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/health') return sendJson(res, 200, '{"status":"ok"}')
    if (req.method !== 'POST') {
      const body = 'method not allowed\n'
      res.writeHead(405, {...blockHeaders('bad_request'), 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length)})
      return void res.end(body)
    }
    let raw: string
    try {
      raw = await readCapped(req, MAX_LINE_BYTES)
    } catch (err) {
      // The client's mistakes are named as such (the reference says `upstream error:` here, docs/compatibility.md).
      if (err instanceof BodyTooLargeError) return answer(res, 413, null, mcpError('listener_invalid_request', 'request body too large'))
      throw err
    }
    const text = trimGoSpace(raw)
    if (text === '') return answer(res, 400, null, mcpError('listener_invalid_request', 'empty request body'))
    const frame = parseFrame(text)
    if (frame.value === undefined && !(frame.error ?? '').startsWith('duplicate object key')) return answer(res, 400, null, mcpError('listener_invalid_json'))
    if (frame.value !== undefined && !frame.isBatch) {
      const invalid = (reason: string) => answer(res, 400, frame.id, mcpError('listener_invalid_request', reason))
      if (!isObjectValue(frame.value)) return answer(res, 400, null, mcpError('listener_invalid_request', 'invalid JSON structure'))
      if (frame.value.get('jsonrpc') !== '2.0') return invalid('jsonrpc field must be "2.0"')
      if (!frame.hasMethod && !frame.isResponse) return invalid('missing required field: method')
      if (frame.hasMethod && typeof frame.value.get('method') !== 'string') return invalid('method must be a string')
    }
    const ip = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '')
    const {config, runtime} = view()
    const clientAddr = ip || 'unknown'
    // Chain and cross-request windows are kept by the client's host (all of loopback one, as the proxy's `ceeKey`).
    const state: McpSessionState = {...shared, chainKey: ip === '' ? clientAddr : clientHostOf(ip), clientIp: clientAddr, tracker: new RequestTracker()}
    const ctx: McpContext = {settings: runtime.settings, deps: runtime.deps, state}
    // The exchange is this state's only call: when it ends, its concurrency slot (if any) is free.
    res.once('close', () => settleCalls(state))
    const a2aFinding = await a2a.extra(req, frame.method, frame.isBatch, text, config, runtime.deps.scanner)
    const presented = req.headers['mcp-session-id']
    const owner = typeof presented === 'string' ? sidOwners.get(presented) : undefined
    const extras = {
      headerDlp: headerDlp(req, config, runtime), ...(a2aFinding === undefined ? {} : {a2a: a2aFinding}),
      ...(owner !== undefined && owner !== clientAddr ? {foreignSessionId: true} : {}),
    }
    // One lane per MCP session (else per client IP): a later small request of the session is
    // decided after a large one still on the scan pool; other sessions go on meanwhile.
    const sid = presented
    const d = await lanes.run(`${ip}|${typeof sid === 'string' ? sid : ''}`, async () => {
      const decided = await runtime.offload.decideRequest(ctx, text, extras)
      o.recorder.record(decided)
      return decided
    })
    if (d.forward === null) {
      // mcp.md §15.3: an upstream the contract denies is an HTTP 403 on the listener (the body is the -32006 error).
      if (d.stage === 'contract_upstream') return d.answer === null ? sendStatus(res, 403) : sendJson(res, 403, d.answer)
      return d.answer === null ? sendStatus(res, 202) : sendJson(res, 200, d.answer)
    }

    // Operations §6 item 4 on MCP: from here until its answer is out, the exchange is live work
    // of its session — entering airlock hard or drain, a reset or a terminate cuts it — and of the
    // kill switch, whose activation cuts it too (recorded first: one block Decision and receipt;
    // then the pending request's error, and the end).
    const abort = new AbortController()
    let cut = false
    const subject = {id: frame.isResponse ? null : frame.id, method: frame.method, tool: d.tool}
    const cutWith = (decide: () => McpDecision | null): void => {
      if (cut || res.writableEnded || res.destroyed) return
      const cd = decide()
      if (cd === null) return
      cut = true
      o.recorder.record(cd)
      abort.abort()
      if (res.headersSent) return void res.end(cd.forward === null ? undefined : sseEvent(cd.forward))
      return cd.forward === null ? sendStatus(res, 202) : sendJson(res, 200, cd.forward)
    }
    const unregister = ctx.state.session?.registerLive?.((cause) => cutWith(() => liveCutDecision(ctx, subject, cause)))
    if (unregister !== undefined) res.once('close', unregister)
    // The sources the runtime honours decide (`mcp proxy`: config and sentinel; the run: all four).
    const switchOn = (): McpDecision | null => {
      const ks = runtime.deps.killSwitch.status()
      return ks.active ? killSwitchCutDecision(ctx, subject, ks) : null
    }
    res.once('close', killWatch.watch(() => cutWith(switchOn)))

    // A forwarded id is this client's from now on (bound before it goes out: two clients racing with one unknown id get one owner).
    if (typeof presented === 'string') bindSid(presented, clientAddr)
    // A failure of the upstream is answered with the request's id, so the client can match it to
    // its call (the reference sends `id:null`, docs/compatibility.md); a POSTed response has none to match.
    const requestId = frame.isResponse ? null : frame.id
    const headers = ['content-type', 'application/json', 'accept', 'application/json, text/event-stream']
    for (const name of FORWARDED) {
      const v = req.headers[name]
      if (typeof v === 'string') headers.push(name, v)
    }
    let up
    const sentAt = Date.now()
    try {
      up = await client.send(o.upstream, 'POST', headers, d.forward, abort.signal)
    } catch (err) {
      if (cut) return
      o.log(`pipelock: upstream error: ${upstreamErrorText(err)}`)
      return answer(res, 502, requestId, mcpError('upstream', 'upstream HTTP request failed'))
    }
    // An id the upstream issues this client is bound to it.
    const upSid = header(up.headers, 'mcp-session-id')
    if (upSid !== undefined && up.status < 300) bindSid(upSid, clientAddr)
    const sidHeader: Record<string, string> = upSid === undefined ? {} : {'Mcp-Session-Id': upSid}
    if ((up.status === 401 || up.status === 403) && header(up.headers, 'www-authenticate') !== undefined) {
      // Q19 fix: OAuth discovery needs the challenge; the body is not relayed.
      up.body.resume()
      o.log(`pipelock: upstream HTTP ${up.status}`)
      return sendJson(res, up.status, errorLine(frame.id, mcpError('upstream', `upstream HTTP ${up.status}`)), {'WWW-Authenticate': header(up.headers, 'www-authenticate')!})
    }
    const redirect = redirectRefusal(up.status)
    if (redirect !== null) {
      // Not followed, and refused like an unreadable answer: recorded with the error the request gets.
      up.body.resume()
      const line = errorLine(requestId, mcpError('upstream', 'upstream HTTP request failed'))
      o.recorder.record(unreadableAnswerDecision(ctx, subject, 'redirect', redirect, requestId === null ? null : line))
      return sendJson(res, 502, line)
    }
    if (up.status >= 400) {
      up.body.resume()
      o.log(`pipelock: upstream HTTP ${up.status}`)
      return answer(res, 502, requestId, mcpError('upstream', 'upstream HTTP request failed'))
    }
    if (up.status === 202) {
      up.body.resume()
      return sendStatus(res, 202, sidHeader)
    }
    const coding = unscannableCoding(up.headers)
    if (coding !== null) {
      up.body.resume()
      const line = errorLine(requestId, mcpError('upstream', 'compressed response cannot be scanned'))
      o.recorder.record(unreadableAnswerDecision(ctx, subject, 'compressed', coding, requestId === null ? null : line))
      return sendJson(res, 403, line, blockHeaders('compressed_response', 'response_scan'))
    }
    // An answer too large to read whole (a body over 10 MiB, an SSE line over the limit) is refused, recorded like a compressed one.
    const tooLarge = (err: unknown, answer: string | null): boolean => {
      if (!(err instanceof BodyTooLargeError || err instanceof LineTooLongError)) return false
      o.recorder.record(unreadableAnswerDecision(ctx, subject, 'too_large', err.message, answer))
      return true
    }
    const relayAnswer = (line: string) => {
      // A server request refused on the way (kill switch): answer the server, not the client.
      void client.send(o.upstream, 'POST', ['content-type', 'application/json', 'accept', 'application/json, text/event-stream', ...(upSid ? ['mcp-session-id', upSid] : [])], line).then((r) => r.body.resume(), () => {})
    }
    // A request is waiting for its response: the answer's messages are decided, and when none of
    // them was the response to it (a response to another id, a body that is not one message, an
    // event stream with no data) the client is told so with its id, never left waiting for ever.
    let responded = false
    const unanswered = (): boolean => {
      if (requestId === null || responded || !state.tracker.has(requestId)) return false
      state.tracker.consume(requestId)
      o.log(`pipelock: upstream error: the answer to request ${requestId} ended without its response`)
      return true
    }
    // A second response to the request on its answer is dropped by the gate (the client has its one answer).
    const answerCtx: McpContext = {...ctx, answers: requestId}
    if (isEventStream(up.headers)) {
      // A client that goes away ends the upstream stream too (it would otherwise run on unread).
      res.once('close', () => up.body.destroy())
      let wrote = false
      try {
        for await (const data of readSseEvents(up.body)) {
          if (requestId !== null && answersRequest(data, requestId)) responded = true
          const rd = await runtime.offload.decideResponse(answerCtx, data)
          if (cut) return
          o.recorder.record(rd)
          if (rd.answer !== null) relayAnswer(rd.answer)
          if (rd.forward === null) continue
          if (!wrote) res.writeHead(200, {...sidHeader, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache'})
          wrote = true
          res.write(sseEvent(rd.forward))
        }
      } catch (err) {
        if (cut) return
        const failed = requestId === null ? null : errorLine(requestId, mcpError('upstream', 'upstream SSE response failed validation'))
        if (!tooLarge(err, failed)) o.log(`pipelock: scan error: ${(err as Error).message}`)
        if (!wrote) return answer(res, 502, requestId, mcpError('upstream', 'upstream SSE response failed validation'))
        // The request still waits: it gets its error as the stream's last event rather than a stream cut short.
        if (unanswered()) return void res.end(sseEvent(failed!))
        return void res.destroy()
      }
      if (cut) return
      // A stream that ended with nothing relayed answered no request: a request is told so (as a
      // JSON answer with no body is), never given the 202 that only a notification or response gets.
      if (!wrote) return requestId === null ? sendStatus(res, 202, sidHeader) : answer(res, 502, requestId, mcpError('upstream', 'upstream sent no response'))
      if (unanswered()) return void res.end(sseEvent(errorLine(requestId, mcpError('upstream', 'upstream sent no response'))))
      return void res.end()
    }
    let body: string
    try {
      body = trimGoSpace(await readCapped(up.body, MAX_LINE_BYTES, UPSTREAM_TIMEOUT_MS - (Date.now() - sentAt)))
    } catch (err) {
      if (cut) return
      if (err instanceof BodyTimeoutError) {
        const line = errorLine(frame.id, mcpError('upstream', 'upstream response timed out'))
        o.recorder.record(unreadableAnswerDecision(ctx, subject, 'timeout', `JSON answer not complete within ${UPSTREAM_TIMEOUT_MS / 1000} s (the upstream timeout)`, frame.id === null ? null : line))
        return frame.id === null ? sendStatus(res, 202) : sendJson(res, 502, line)
      }
      if (!tooLarge(err, frame.id === null ? null : errorLine(frame.id, mcpError('upstream', 'upstream response could not be read')))) o.log(`pipelock: scan error: ${(err as Error).message}`)
      return frame.id === null ? sendStatus(res, 202) : answer(res, 502, frame.id, mcpError('upstream', 'upstream response could not be read'))
    }
    if (body === '') return frame.id === null || frame.isResponse ? sendStatus(res, 202, sidHeader) : answer(res, 502, frame.id, mcpError('upstream', 'upstream sent no response'))
    if (requestId !== null && answersRequest(body, requestId)) responded = true
    const rd = await runtime.offload.decideResponse(answerCtx, body)
    if (cut) return
    o.recorder.record(rd)
    if (rd.answer !== null) relayAnswer(rd.answer)
    // The one body answered another id, or was not a message: what the gate made of it is recorded; the client gets its own id's error.
    if (rd.forward !== null) return unanswered() ? answer(res, 502, requestId, mcpError('upstream', 'upstream sent no response')) : sendJson(res, 200, rd.forward, sidHeader)
    return frame.id === null ? sendStatus(res, 202, sidHeader) : answer(res, 502, frame.id, mcpError('upstream', 'upstream response was dropped'))
  }

  /** §4.6: header DLP names; with header scanning off only Authorization is scanned. */
  function headerDlp(req: IncomingMessage, config: PipelockConfig, runtime: McpRuntime): string[] {
    const rb = config.request_body_scanning
    const scanner = runtime.deps.scanner
    if (rb.enabled && rb.scan_headers) {
      const list: Array<[string, string]> = []
      for (let i = 0; i < req.rawHeaders.length; i += 2) list.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!])
      return [...new Set(scanner.scanRequestHeaders(list).dlp.map((f) => f.pattern))]
    }
    const auth = req.headers.authorization
    return auth === undefined ? [] : [...new Set(scanner.scanTextForDlp(auth).matches.map((f) => f.pattern))]
  }

  const {host, port} = splitListen(o.listen)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.removeListener('error', reject)
      resolve()
    })
  })
  return {
    address: addressText(server.address() as AddressInfo),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      const t = setTimeout(() => server.closeAllConnections(), 5000)
      await closed
      clearTimeout(t)
      // Every client connection is gone: nothing in flight upstream can still be answered.
      await client.destroy()
    },
  }
}
