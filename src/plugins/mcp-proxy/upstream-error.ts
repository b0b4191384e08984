/**
 * An upstream failure for the stderr log, in words: `connect to 127.0.0.1:9: connection refused
 * (ECONNREFUSED)` instead of Node's `connect ECONNREFUSED 127.0.0.1:9`. The JSON-RPC error the
 * client gets is unchanged (the reference's fixed text); this is the operator's line.
 */
import {networkErrorReason} from '../errors/index.js'

export function upstreamErrorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException & {address?: unknown; port?: unknown; hostname?: unknown}
  const message = err instanceof Error ? err.message : String(err)
  if (typeof e.code !== 'string' || typeof e.syscall !== 'string') return message
  const why = networkErrorReason(e.code)
  if (e.syscall === 'getaddrinfo' && typeof e.hostname === 'string') return `DNS lookup for ${e.hostname}: ${why}`
  if (typeof e.address === 'string') return `${e.syscall} to ${e.address}${typeof e.port === 'number' ? `:${e.port}` : ''}: ${why}`
  return `${e.syscall}: ${why}`
}
