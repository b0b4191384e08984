/**
 * The first bytes of a CONNECT tunnel (§4.3 step 6, and issue 10 item 2). The client's first
 * record is peeked (5 s, ≤ 16 KiB; replayed upstream when the tunnel proceeds) and classified.
 * A tunnel whose first bytes are not a TLS handshake record would relay plain text — e.g. an
 * `http://` request sent by `curl -p` or undici's ProxyAgent, URL and headers included — past
 * every scanner, so it is refused unless its host is listed in `forward_proxy.raw_tunnel_hosts`.
 */
import type {Duplex} from 'node:stream'
import {matchesAnyDomain} from '../scanner/index.js'
import {classifySni, recordLength, type SniCategory} from './sni.js'

export const FIRST_BYTES_TIMEOUT_MS = 5000
const FIRST_RECORD_MAX = 16 * 1024 + 5

/** The block layer and reason of a refused plain-text tunnel (§10: the layer is free, the reason closed). */
export const PLAINTEXT_TUNNEL_LAYER = 'tunnel_plaintext'

export interface FirstRecord {
  /** The bytes read so far (to replay upstream). */
  readonly first: Buffer
  readonly category: SniCategory
}

/**
 * Reads the client's first TLS record (or enough to know it is not one) and classifies it
 * against `host`. Leaves the client paused with nothing consumed beyond `first`.
 */
export async function peekFirstRecord(client: Duplex, head: Buffer, host: string, timeoutMs = FIRST_BYTES_TIMEOUT_MS): Promise<FirstRecord> {
  let first: Buffer = head.length > 0 ? Buffer.from(head) : Buffer.alloc(0)
  const category = await new Promise<SniCategory>((resolve) => {
    const decide = (): boolean => {
      if (first.length === 0) return false
      if (first[0] !== 0x16) return (resolve('not_tls'), true)
      const need = recordLength(first)
      if (need === null) return false
      if (need > FIRST_RECORD_MAX) return (resolve('malformed_tls'), true)
      if (first.length < need) return false
      resolve(classifySni(first.subarray(0, need), host))
      return true
    }
    if (decide()) return
    const timer = setTimeout(() => {
      cleanup()
      resolve('timeout')
    }, timeoutMs)
    const onData = (c: Buffer): void => {
      // The first chunk is kept as read (each socket read is a buffer of its own): no copy.
      first = first.length === 0 ? c : Buffer.concat([first, c])
      if (decide()) cleanup()
    }
    const onEnd = (): void => {
      cleanup()
      resolve(first.length === 0 ? 'not_tls' : 'malformed_tls')
    }
    const cleanup = (): void => {
      clearTimeout(timer)
      client.off('data', onData)
      client.off('end', onEnd)
      client.off('close', onEnd)
      client.pause()
    }
    client.on('data', onData)
    client.once('end', onEnd)
    client.once('close', onEnd)
  })
  return {first, category}
}

/** Whether a tunnel to `host` may carry non-TLS bytes (`forward_proxy.raw_tunnel_hosts`). */
export function rawTunnelAllowed(rawTunnelHosts: readonly string[], host: string): boolean {
  return rawTunnelHosts.length > 0 && matchesAnyDomain(host.toLowerCase(), rawTunnelHosts) !== null
}

/**
 * What a tunnel (to a host not in `raw_tunnel_hosts`) does with its first record: `relay` it;
 * `close` silently (§4.3: SNI mismatch when verification is on; a client that sent nothing or
 * a truncated record is not TLS we can check either); or `refuse` plain text (answered inside
 * the tunnel with an HTTP 403).
 */
export function firstRecordVerdict(category: SniCategory, sniVerification: boolean): 'relay' | 'close' | 'refuse' {
  if (category === 'not_tls') return 'refuse'
  if (category === 'timeout' || category === 'malformed_tls') return 'close'
  if (category === 'mismatch') return sniVerification ? 'close' : 'relay'
  return 'relay'
}

/** The HTTP answer written inside a refused plain-text tunnel (the client speaks HTTP in it, if anything). */
export const PLAINTEXT_TUNNEL_DETAIL = 'plain-text traffic inside a CONNECT tunnel cannot be inspected'
