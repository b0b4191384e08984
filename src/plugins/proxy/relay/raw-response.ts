/** A raw HTTP/1.1 answer on a hijacked socket (CONNECT, WebSocket upgrades, intercepted upgrades). */
import type {Duplex} from 'node:stream'

/** Writes a raw HTTP/1.1 response on a hijacked socket and closes it. */
export function writeRawResponse(socket: Duplex, status: number, statusText: string, headers: Record<string, string>, body: string): void {
  if (socket.destroyed) return
  const lines = [`HTTP/1.1 ${status} ${statusText}`]
  const all = {...headers, 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close'}
  for (const [k, v] of Object.entries(all)) lines.push(`${k}: ${v}`)
  socket.end(lines.join('\r\n') + '\r\n\r\n' + body)
}
