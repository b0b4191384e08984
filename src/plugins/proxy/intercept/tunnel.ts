/**
 * TLS termination on a hijacked CONNECT socket (transports.md §2.7 step 15, §2.8, §2.15): an
 * HTTP/2-capable secure server (ALPN `h2` then `http/1.1`) holding the CONNECT host's leaf is fed
 * the raw socket, with the peeked ClientHello put back. Node needs a server built with the
 * leaf's cert and key for h2 on an existing socket (a hand-made TLSSocket hangs HTTP/2, and a
 * shared server's `secureContext` is ignored for no-SNI clients), so there is one such server
 * per leaf — built once (its secure context costs ≈ 0.7 ms) and dropped with the leaf — and each
 * connection finds its tunnel through its raw socket. Idle tunnels close after
 * `idle_timeout_seconds` with no request in flight (§6 #6 fixed); the lifetime is the caller's
 * `close`. The teardown of a cut by the kill switch or the session (`interceptTunnel`'s result) lets
 * the answers the cut gave inside the tunnel go out first (`cutTeardown`).
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Http2SecureServer, Http2ServerRequest, Http2ServerResponse} from 'node:http2'
import {Socket} from 'node:net'
import type {TLSSocket} from 'node:tls'
import type {Duplex} from 'node:stream'
import type {Leaf} from '../../tls/index.js'
import type {AuditTrail, Clock} from '../ports.js'
import {answerGone} from '../answer-gone.js'
import {answerClientError, expectationRefusalLine, MAX_REQUEST_HEADER_BYTES, parserRefusalLine, refuseExpectation, type RefusalLine} from '../socket-hygiene.js'
import {destroyOnEof} from './eof-close.js'
import {handleInterceptedRequest, handleInterceptedUpgrade, recordStreamReset, refuseInnerConnect, urlHostForm, type InterceptPorts, type TunnelContext} from './request.js'

/** Go's HTTP/2 server default (Node's is unlimited). */
export const INNER_MAX_CONCURRENT_STREAMS = 250
export const CLIENT_HANDSHAKE_TIMEOUT_MS = 30_000
/**
 * What the HTTP/2 layer itself takes before it resets a stream unlogged (ENHANCE_YOUR_CALM): a
 * 1 MiB header list advertised (transports.md §2: inner servers 1 MiB) in up to as many pairs as
 * fit. Node's default of 128 pairs refused on the wire what HTTP/1.1 in the same tunnel passed;
 * the request handler holds both protocols to MAX_REQUEST_HEADER_BYTES instead, with a 431 and an
 * audit line. Below that, Node's HTTP/2 layer ends the whole connection on a header block of
 * about 128 KiB encoded (logged: 'sessionError' below) and on one field over 64 KiB encoded (a
 * GOAWAY nghttp2 sends itself, which reaches no API: docs/tls.md).
 */
const INNER_H2_HEADER_LIST_BYTES = 1024 * 1024
const INNER_H2_HEADER_PAIRS = INNER_H2_HEADER_LIST_BYTES / 32

/** An HTTP/2 request's header section as HTTP/1 would carry it (`name: value\r\n` each, pseudo-headers left out). */
function h2HeaderBytes(raw: readonly string[]): number {
  let n = 0
  for (let i = 0; i + 1 < raw.length; i += 2) if (!raw[i]!.startsWith(':')) n += raw[i]!.length + raw[i + 1]!.length + 4
  return n
}

/** The audit line of a request the HTTP layer refused inside the tunnel (socket-hygiene.ts: no Decision, nothing of it was parsed into a request). */
function logRefusal(l: Live, line: RefusalLine): void {
  const t = l.tunnel
  l.ports.audit.event('warn', 'blocked', line.message, {
    scanner: line.scanner, target: `${urlHostForm(t.host)}:${t.port}`, reason: line.reason, status_code: line.status,
    request_id: t.connect.requestId, agent: t.connect.agent,
  })
}

/** The audit line of an HTTP/2 connection the protocol layer ended (no Decision: no request of it reached the proxy). */
function logSessionError(l: Live, err: Error & {code?: string}): void {
  const t = l.tunnel
  l.ports.audit.event('warn', 'blocked', 'HTTP/2 connection ended by the protocol layer', {
    scanner: 'h2_session_error', target: `${urlHostForm(t.host)}:${t.port}`, reason: `${err.code ?? 'error'}: ${err.message}`,
    request_id: t.connect.requestId, agent: t.connect.agent,
  })
}

/** One live intercepted connection: its tunnel, its teardown, its in-flight request count. */
interface Live {
  readonly ports: InterceptPorts
  readonly tunnel: TunnelContext
  readonly close: () => void
  inflight: number
  /** Upgraded inner connections (a relayed `wss://`) still open. */
  upgrades: number
  /** Called each time an inner request or upgraded connection ends (a cut's teardown waits on it). */
  ended: () => void
  /** The HTTP/1.1 inner responses not finished yet: a cut's teardown makes their answers say `Connection: close`. */
  readonly h1: Set<ServerResponse>
  /** A cut's teardown began: the tunnel closes once its answers are out, so none of them offers keep-alive. */
  closing: boolean
  /** When the raw socket was handed to the TLS server (handshake timing). */
  handedAtMs: number
  /** Gives the handshake's set-up slot back (success, failure or close). */
  handshakeSettled: () => void
  readonly idleMs: number
}

/**
 * The raw CONNECT socket under a server-side TLSSocket. `_parent` is Node's own link (set for
 * every TLSSocket wrapping a socket, stable since Node 0.x); it is the only way from a request
 * on a shared server back to its tunnel. Missing → the request is refused (fail closed).
 */
function rawOf(s: unknown): Socket | undefined {
  return (s as {_parent?: Socket} | undefined)?._parent
}

/** The TLS socket an inner request came over (HTTP/2: its session's). */
function tlsSocketOf(req: IncomingMessage | Http2ServerRequest): unknown {
  return 'stream' in req ? req.stream.session?.socket : req.socket
}

/** The per-leaf servers and the live connections they serve (owned by one Interceptor). */
export class InterceptServers {
  private readonly servers = new WeakMap<Leaf, Http2SecureServer>()
  private readonly live = new WeakMap<Socket, Live>()

  /** Whether `leaf`'s server is built. */
  has(leaf: Leaf): boolean {
    return this.servers.has(leaf)
  }

  serverFor(leaf: Leaf): Http2SecureServer {
    let server = this.servers.get(leaf)
    if (server !== undefined) return server
    // `node:http2` on the first intercepted connection, not when the proxy starts (bench: startup).
    server = process.getBuiltinModule('node:http2').createSecureServer({
      allowHTTP1: true,
      cert: leaf.certPem,
      key: leaf.keyPem,
      ALPNProtocols: ['h2', 'http/1.1'],
      minVersion: 'TLSv1.2',
      handshakeTimeout: CLIENT_HANDSHAKE_TIMEOUT_MS,
      settings: {maxConcurrentStreams: INNER_MAX_CONCURRENT_STREAMS, maxHeaderListSize: INNER_H2_HEADER_LIST_BYTES},
      maxHeaderListPairs: INNER_H2_HEADER_PAIRS,
    })
    server.on('request', (req, res) => {
      const tlsSocket = tlsSocketOf(req) as TLSSocket | undefined
      const l = this.live.get(rawOf(tlsSocket) as Socket)
      if (l === undefined) {
        res.statusCode = 500
        return void res.end()
      }
      // HTTP/1.1 is held to the limit by its parser (the 'clientError' below); HTTP/2 here.
      if ('stream' in req && h2HeaderBytes(req.rawHeaders) > MAX_REQUEST_HEADER_BYTES) {
        logRefusal(l, parserRefusalLine({status: 431, code: 'header_limit'}, 'HTTP/2'))
        res.writeHead(431, {'content-type': 'text/plain; charset=utf-8'})
        return void res.end('Request Header Fields Too Large\n')
      }
      l.inflight++
      const h1 = 'stream' in req ? null : (res as unknown as ServerResponse)
      if (h1 !== null) {
        // The tunnel is about to close: an answer given now must not invite another request on it.
        if (l.closing) h1.shouldKeepAlive = false
        else l.h1.add(h1)
      }
      res.once('close', () => {
        if (h1 !== null) l.h1.delete(h1)
        l.inflight--
        l.ended()
      })
      // The pipeline runs in the set-up queue's turn: a burst of tunnels sends its first requests
      // together, and their scans would otherwise share one poll phase. A tunnel closed meanwhile
      // (kill switch, lifetime) has nothing left to answer; the kill switch is re-checked inside.
      // An HTTP/2 stream reset meanwhile (the agent's RST_STREAM, or the HTTP/2 layer's own for a
      // body that breaks its content-length) is recorded and goes no further: its request has ended
      // and dumped what it had (its body would be waited for forever), and a request it carried
      // whole would still be sent upstream.
      l.tunnel.interceptor.setup.push(() => {
        if (tlsSocket?.destroyed ?? true) return
        if (!answerGone(res)) return handleInterceptedRequest(l.ports, l.tunnel, req, res)
        if ('stream' in req) recordStreamReset(l.ports, l.tunnel, req as Http2ServerRequest)
      })
    })
    // HTTP/1.1 in the tunnel: Node's parser refuses a header section over its 16 KiB default
    // (MAX_REQUEST_HEADER_BYTES) and a malformed request; answered as the listeners answer them
    // (server.ts), and logged.
    server.on('clientError', (err: Error & {code?: string}, socket: Duplex) => {
      const l = this.live.get(rawOf(socket) as Socket)
      answerClientError(err, socket, (r) => l !== undefined && logRefusal(l, parserRefusalLine(r, 'HTTP/1.1')))
    })
    // An `Expect` other than 100-continue: the 417 Node gives by itself, with the audit line.
    server.on('checkExpectation', (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
      const l = this.live.get(rawOf(tlsSocketOf(req)) as Socket)
      if (l !== undefined) logRefusal(l, expectationRefusalLine('stream' in req ? 'HTTP/2' : 'HTTP/1.1'))
      refuseExpectation(res as ServerResponse)
    })
    // The HTTP/2 layer gave up on the connection (a header block too large for it, a protocol
    // error): every stream in it is gone with no request seen, so the operator gets the line here.
    // The session is destroyed (its socket gone) by the time 'sessionError' fires: its tunnel is
    // looked up when it begins.
    const sessions = new WeakMap<object, Live>()
    server.on('session', (session: {socket?: unknown}) => {
      const l = this.live.get(rawOf(session.socket) as Socket)
      if (l !== undefined) sessions.set(session, l)
    })
    server.on('sessionError', (err: Error & {code?: string}, session: object) => {
      const l = sessions.get(session)
      if (l !== undefined) logSessionError(l, err)
    })
    // A CONNECT inside the tunnel: HTTP/2 hands it over as a request and its response, HTTP/1.1
    // as the request and its socket (request.ts refuses it, recorded).
    server.on('connect', (req: IncomingMessage | Http2ServerRequest, to: Duplex | Http2ServerResponse) => {
      const l = this.live.get(rawOf(tlsSocketOf(req)) as Socket)
      if (l === undefined) return void ('stream' in to ? to.stream.close() : to.destroy())
      refuseInnerConnect(l.ports, l.tunnel, req, to)
    })
    server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      const l = this.live.get(rawOf(socket) as Socket)
      if (l === undefined) return void socket.destroy()
      l.upgrades++
      socket.once('close', () => {
        l.upgrades--
        l.ended()
      })
      handleInterceptedUpgrade(l.ports, l.tunnel, {req, socket, head})
    })
    server.on('secureConnection', (tlsSocket: TLSSocket) => {
      const l = this.live.get(rawOf(tlsSocket) as Socket)
      if (l === undefined) return
      // The agent closed its side: destroyed (not shut down gracefully) in a later turn when
      // nothing is in flight or pending (eof-close.ts).
      destroyOnEof(tlsSocket, () => l.inflight !== 0, l.tunnel.interceptor.setup)
      l.handshakeSettled()
      l.tunnel.interceptor.metrics.handshake((l.ports.nowMs() - l.handedAtMs) / 1000)
    })
    server.on('tlsClientError', (err: Error, tlsSocket: unknown) => {
      const l = this.live.get(rawOf(tlsSocket) as Socket)
      if (l === undefined) return
      l.handshakeSettled()
      const t = l.tunnel
      t.interceptor.count('handshake_error')
      l.ports.audit.event('warn', 'blocked', 'TLS handshake with the client failed', {scanner: 'tls_handshake_error', target: `${urlHostForm(t.host)}:${t.port}`, reason: err.message, request_id: t.connect.requestId, agent: t.connect.agent})
      l.close()
    })
    this.servers.set(leaf, server)
    return server
  }

  track(raw: Socket, l: Live): void {
    this.live.set(raw, l)
  }
}

/** The CONNECT's client side as handed over: the socket, the peeked first record (put back), the idle limit, the tunnel's teardown. */
export interface TunnelConnection {
  readonly client: Duplex
  readonly first: Buffer
  readonly idleMs: number
  readonly close: () => void
}

/**
 * How long the teardown of a cut intercepted tunnel (kill switch, session) waits for what the cut
 * answered inside (503s, 403s, WebSocket 1008 closes) to go out before the connection is
 * destroyed regardless; the `/ws` relay gives its close frame as long.
 */
export const KILL_SWITCH_DRAIN_MS = 1000

/**
 * The teardown of an intercepted tunnel cut by the kill switch or by its session. The kill switch
 * answers each inner request waiting on its upstream with the 503, a reset or terminate of the
 * session with the 403 `request cut` (relay/exchange-cut.ts), and both close each relayed
 * WebSocket 1008 (websocket/relay.ts), in the same turn as this runs; destroying the socket at
 * once would drop those answers unsent (an empty reply, a 1006). So the connection is destroyed
 * when nothing is in flight inside it any more, within KILL_SWITCH_DRAIN_MS; an idle one at once.
 * (Entering airlock hard or drain answers nothing itself: a request finishing within the bound
 * gets its own answer, as the forward proxy's running exchanges do.)
 */
function cutTeardown(live: Live): () => void {
  return () => {
    // The cut's answers (given in this turn, after this) and any request finishing within the
    // bound say `Connection: close` on HTTP/1.1: the client must not send another request into a
    // tunnel being torn down. (HTTP/2 has no such header; its streams end, then the connection.)
    live.closing = true
    for (const res of live.h1) if (!res.headersSent) res.shouldKeepAlive = false
    const busy = (): boolean => live.inflight !== 0 || live.upgrades !== 0
    if (!busy()) return live.close()
    const done = (): void => {
      clearTimeout(bound)
      live.ended = () => undefined
      // One more turn: the last answer's bytes leave the TLS layer before the socket goes.
      setImmediate(live.close)
    }
    const bound = setTimeout(done, KILL_SWITCH_DRAIN_MS)
    bound.unref()
    live.ended = () => {
      if (!busy()) done()
    }
  }
}

/** Serves the tunnel; returns the teardown of a cut (`cutTeardown`). */
export function interceptTunnel(ports: InterceptPorts, t: TunnelContext, conn: TunnelConnection): () => void {
  const {client, first, idleMs, close} = conn
  const icpt = t.interceptor
  const target = `${urlHostForm(t.host)}:${t.port}`
  const ids = {request_id: t.connect.requestId, agent: t.connect.agent}
  if (!(client instanceof Socket)) {
    // Every CONNECT socket node hands over is a net.Socket; anything else cannot be tracked.
    icpt.count('failed')
    close()
    return close
  }
  const live: Live = {ports, tunnel: t, close, inflight: 0, upgrades: 0, ended: () => undefined, h1: new Set(), closing: false, handedAtMs: 0, handshakeSettled: () => undefined, idleMs}
  const noCertificate = (e: unknown): void => {
    // A name no certificate can carry (non-ASCII): the client handshake cannot succeed.
    icpt.count('handshake_error')
    ports.audit.event('warn', 'blocked', 'TLS interception: no certificate for this host', {scanner: 'tls_handshake_error', target, reason: (e as Error).message, ...ids})
    close()
  }
  // The TLS set-up waits for its turn (setup-queue.ts); the kill switch and the lifetime destroy
  // the socket meanwhile, and a destroyed tunnel is never served.
  const handshake = (l: Leaf): void =>
    icpt.setup.pushHandshake((settled) => {
      if (client.destroyed) return settled()
      live.handshakeSettled = settled
      client.once('close', settled)
      serve(live, client, first, l)
    })
  // A new leaf's TLS server (its secure context: ≈ 0.8 ms of OpenSSL key and certificate
  // decoding) is a set-up task of its own, so no single task holds the handshake and the context.
  const enqueue = (l: Leaf): void => {
    if (icpt.servers.has(l)) return handshake(l)
    icpt.setup.push(() => {
      if (client.destroyed) return
      icpt.servers.serverFor(l)
      handshake(l)
    })
  }
  let leaf: Leaf | Promise<Leaf>
  try {
    leaf = icpt.cache.acquire(t.host)
  } catch (e) {
    noCertificate(e)
    return close
  }
  // A miss mints off the event loop; the client's bytes wait in its socket meanwhile (not flowing).
  if (leaf instanceof Promise) leaf.then(enqueue, noCertificate)
  else enqueue(leaf)
  return cutTeardown(live)
}

function serve(live: Live, client: Socket, first: Buffer, leaf: Leaf): void {
  const ports: AuditTrail & Clock = live.ports
  const t = live.tunnel
  const icpt = t.interceptor
  icpt.count('intercepted')
  ports.audit.event('warn', 'anomaly', 'TLS MITM interception active', {scanner: 'tls_intercept', target: `${urlHostForm(t.host)}:${t.port}`, score: 0, request_id: t.connect.requestId, agent: t.connect.agent})
  live.handedAtMs = ports.nowMs()
  icpt.servers.track(client, live)
  // The idle timer starts when the tunnel is served: time spent waiting for the leaf or for a
  // set-up turn is the proxy's, not the agent's (the lifetime and the kill switch bound it). The
  // raw socket sees every byte of both directions, so its timeout means "both silent"; a request
  // waiting on a slow upstream is not idle (the per-request upstream timeout bounds it).
  client.setTimeout(live.idleMs)
  client.on('timeout', () => {
    if (live.inflight === 0) live.close()
  })
  // The peeked bytes go back into the socket's buffer; the TLS wrap reads them first. No resume():
  // flowing with no 'data' listener would drop them.
  if (first.length > 0) client.unshift(first)
  icpt.servers.serverFor(leaf).emit('connection', client)
}
