/**
 * The upstream leg's server-identity check on the leaf alone (bench: tls-tunnels; no event-loop stall over
 * 10 ms with 256 concurrent tunnels).
 *
 * After the chain verifies, node's `tls.connect` calls `this.getPeerCertificate(true)` and hands
 * the result to `checkServerIdentity`, which reads only the leaf's `subject` and
 * `subjectaltname`. The detailed form also builds the issuer chain as objects, looking every
 * issuer up in the trust store: ≈ 0.2–0.3 ms per upstream handshake here, against ≈ 15 µs for
 * the leaf alone (45 µs with 100 names), and it runs in the poll phase where handshake
 * completions bunch up.
 *
 * `withLeafOnlyIdentityCheck(socket)` makes the socket's *first* `getPeerCertificate` call — node's
 * own, in the handshake completion — answer with the leaf alone (`getPeerCertificate(false)`), so
 * node's own `checkServerIdentity` decides on the very fields it always reads: same verdict, same
 * error. Every later call, and every call once the handshake is over (node makes no call for a
 * resumed session), is the prototype's. Not `getPeerX509Certificate()`: on node 20 it removes the
 * leaf from a client socket's peer chain, so the certificate is gone for anyone after it.
 */
import type {PeerCertificate, TLSSocket} from 'node:tls'

const restore = (socket: TLSSocket): void => void delete (socket as unknown as Record<string, unknown>).getPeerCertificate

export function withLeafOnlyIdentityCheck(socket: TLSSocket): TLSSocket {
  Object.defineProperty(socket, 'getPeerCertificate', {
    configurable: true,
    writable: true,
    value(this: TLSSocket): PeerCertificate {
      restore(this)
      return this.getPeerCertificate(false)
    },
  })
  socket.once('secureConnect', () => restore(socket))
  return socket
}
