/**
 * Connection-level behaviour of the listeners (issue 10 item 13, runtime §1.4):
 * - Node checks `headersTimeout` / `requestTimeout` only every `connectionsCheckingInterval`
 *   (30 s by default), so a 5 s header deadline fired after 9–28 s: the check runs every 500 ms.
 * - An error answer (400/408/431) is followed by destroying the socket once it is flushed (or
 *   after a grace period if the client never reads): a half-close alone kept the descriptor.
 * - A client that half-closes after sending its request (`shutdown(SHUT_WR)`, `curl` with
 *   `--no-keepalive` on some platforms, netcat) still gets its response: Node's HTTP server
 *   otherwise aborts the in-flight request when it sees the client's FIN.
 */
import type http from 'node:http'
import type {Duplex} from 'node:stream'

export const CONNECTIONS_CHECK_INTERVAL_MS = 500

/**
 * The largest request header section the proxy's HTTP listeners take (Node's HTTP/1 default);
 * larger is answered 431. Requests inside an intercepted tunnel are held to the same limit over
 * HTTP/1.1 and HTTP/2 alike (intercept/tunnel.ts), so one request gets one answer everywhere.
 */
export const MAX_REQUEST_HEADER_BYTES = 16 * 1024
const DESTROY_GRACE_MS = 1000

/** Writes `bytes`, half-closes, then destroys the socket when flushed (bounded by a grace timer). */
export function answerAndDestroy(socket: Duplex, bytes: string): void {
  const timer = setTimeout(() => socket.destroy(), DESTROY_GRACE_MS)
  timer.unref()
  socket.end(bytes, () => {
    clearTimeout(timer)
    socket.destroy()
  })
}

/** A request the HTTP parser refused before any handler saw it: the answer's status and the parser's code. */
export interface ParserRefusal {
  readonly status: 400 | 408 | 431
  readonly code: string
}

/**
 * An HTTP/1 server's `clientError` answered (malformed request line, oversized headers, bad
 * framing, a header timeout): 400, 431 or 408 and close, never a crash (§25.11); a socket already
 * gone is destroyed. `refused` is told of each answer first (to log it), a hang-up aside.
 */
export function answerClientError(err: Error & {code?: string}, socket: Duplex, refused?: (r: ParserRefusal) => void): void {
  if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy()
  const overflow = err.code === 'HPE_HEADER_OVERFLOW'
  const status = overflow ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
  const text = overflow ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'
  // The client's end came before its request did (a hang-up, mid-head or mid-body): not a
  // refusal of anything it sent; a request already taken has its own line (client_closed).
  if (err.code !== 'HPE_INVALID_EOF_STATE') refused?.({status, code: err.code ?? 'unknown'})
  answerAndDestroy(socket, `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ${text.length + 1}\r\n\r\n${text}\n`)
}

/**
 * Lets a response finish after the client's FIN. `httpAllowHalfOpen` is the flag Node's HTTP
 * server reads in its socket 'end' handler (present since Node 0.x, not in the typings): when
 * set, the response in flight is marked last and the socket is closed after it is written.
 */
export function allowHalfOpenResponses(server: http.Server): void {
  ;(server as http.Server & {httpAllowHalfOpen: boolean}).httpAllowHalfOpen = true
}

/** What the audit line of a refused request says: its message, its `scanner` label and its `reason`. */
export interface RefusalLine {
  readonly message: string
  readonly scanner: string
  readonly reason: string
  readonly status: number
}

/**
 * The audit line of a request the HTTP layer refused before any handler saw it (no Decision:
 * nothing of it was parsed into a request). `protocol` names the one it came over. The parser's
 * code is given, never the request's bytes (a malformed request may hold a secret).
 */
export function parserRefusalLine(r: ParserRefusal, protocol: string): RefusalLine {
  if (r.status === 431) return {message: 'request header fields too large', scanner: 'header_limit', reason: `request headers over ${MAX_REQUEST_HEADER_BYTES} bytes (${protocol})`, status: 431}
  if (r.status === 408) return {message: 'request not received in time', scanner: 'request_timeout', reason: `${r.code} (${protocol})`, status: 408}
  return {message: 'malformed request refused', scanner: 'http_parser', reason: `${r.code} (${protocol})`, status: 400}
}

/**
 * An `Expect` other than `100-continue` (Node's 'checkExpectation'): answered 417, as Node does
 * by itself; the caller logs it (`expectationRefusalLine`). The field's value is not echoed.
 */
export function refuseExpectation(res: {writeHead(status: number, headers: Record<string, string>): unknown; end(body: string): unknown}): void {
  const text = 'Expectation Failed\n'
  res.writeHead(417, {'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(text.length)})
  res.end(text)
}

/** The audit line of `refuseExpectation`. */
export function expectationRefusalLine(protocol: string): RefusalLine {
  return {message: 'request with an unsupported Expect refused', scanner: 'expectation', reason: `Expect other than 100-continue (${protocol})`, status: 417}
}
