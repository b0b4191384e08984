/**
 * What an intercepted tunnel does when its agent closes its side (bench: tls-tunnels; closing 256 tunnels
 * at once was one 12–28 ms stretch of main-thread CPU). Node's HTTP server answers the EOF with
 * `end()`: a TLS close_notify and a TCP shutdown toward a peer that is gone, then the destroy —
 * about half of that CPU (measured closing 256 such connections at once). A tunnel with no request in flight and nothing
 * left to write is destroyed instead (node's server would abort an in-flight request on EOF
 * anyway), and not in the turn its EOF arrived: the agents of a burst close together and their
 * EOFs land in one poll phase, so each destroy — with what follows it: the TLS state freed in
 * the handle's close callback, the tunnel's own close (metrics, the `tunnel_close` line) — is a
 * task of the set-up queue, which runs at most its slice per turn. Until then the socket reads
 * nothing more (it had its EOF) and writes nothing (nothing was pending, no request is in flight);
 * the kill switch, the lifetime and a session cut still destroy the tunnel at once (they destroy
 * the raw socket directly), and the queued destroy then does nothing.
 * A tunnel with a request in flight or bytes still pending takes node's graceful path.
 */
import type {TLSSocket} from 'node:tls'

/** Where the destroy waits for its turn (the interceptor's set-up queue). */
export interface TurnQueue {
  push(task: () => void): void
}

/**
 * Stands in for `end()` on a socket whose destroy is queued: node's HTTP server (and the HTTP/2
 * session) call it right after the EOF listeners, and the graceful shutdown is what is avoided.
 */
function endSkipped(this: TLSSocket): TLSSocket {
  return this
}

/** Arms `tlsSocket` (a server-side socket of an intercepted tunnel) for the EOF rule above; `busy` says whether a request is in flight. */
export function destroyOnEof(tlsSocket: TLSSocket, busy: () => boolean, queue: TurnQueue): void {
  // Ahead of node's own `end` listener, which would start the graceful shutdown.
  tlsSocket.prependOnceListener('end', () => {
    if (busy() || tlsSocket.writableLength !== 0) return
    ;(tlsSocket as {end: () => TLSSocket}).end = endSkipped
    queue.push(() => tlsSocket.destroy())
  })
}
