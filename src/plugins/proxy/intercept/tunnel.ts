/**
 * TLS termination on a hijacked CONNECT socket (transports.md §2.7 step 15, §2.8, §2.15): a
 * per-tunnel HTTP/2-capable secure server (ALPN `h2` then `http/1.1`) with the CONNECT host's
 * leaf, fed the raw socket with the peeked ClientHello put back. The per-tunnel server is what
 * Node needs for h2 on an existing socket (a hand-made TLSSocket hangs HTTP/2, and a shared
 * server's `secureContext` is ignored for no-SNI clients). Idle tunnels close after
 * `idle_timeout_seconds` with no request in flight (§6 #6 fixed); lifetime and kill switch are the
 * caller's `close`.
 */
import http2 from 'node:http2'
import {Socket} from 'node:net'
import type {Duplex} from 'node:stream'
import type {ProxyCore} from '../core.js'
import {handleInterceptedRequest, handleInterceptedUpgrade, urlHostForm, type TunnelContext} from './request.js'

/** Go's HTTP/2 server default (Node's is unlimited). */
export const INNER_MAX_CONCURRENT_STREAMS = 250
export const CLIENT_HANDSHAKE_TIMEOUT_MS = 30_000

export function interceptTunnel(core: ProxyCore, t: TunnelContext, client: Duplex, first: Buffer, idleMs: number, close: () => void): void {
  const icpt = t.interceptor
  const target = `${urlHostForm(t.host)}:${t.port}`
  const ids = {request_id: t.connect.requestId, agent: t.connect.agent}
  let leaf
  try {
    leaf = icpt.cache.get(t.host)
  } catch (e) {
    // A name no certificate can carry (non-ASCII): the client handshake cannot succeed.
    icpt.count('handshake_error')
    core.audit.event('warn', 'blocked', 'TLS interception: no certificate for this host', {scanner: 'tls_handshake_error', target, reason: (e as Error).message, ...ids})
    close()
    return
  }
  icpt.count('intercepted')
  core.audit.event('warn', 'anomaly', 'TLS MITM interception active', {scanner: 'tls_intercept', target, score: 0, ...ids})
  let inflight = 0
  const server = http2.createSecureServer({
    allowHTTP1: true,
    cert: leaf.certPem,
    key: leaf.keyPem,
    ALPNProtocols: ['h2', 'http/1.1'],
    minVersion: 'TLSv1.2',
    handshakeTimeout: CLIENT_HANDSHAKE_TIMEOUT_MS,
    settings: {maxConcurrentStreams: INNER_MAX_CONCURRENT_STREAMS},
  })
  server.on('request', (req, res) => {
    inflight++
    res.once('close', () => inflight--)
    handleInterceptedRequest(core, t, req, res)
  })
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => handleInterceptedUpgrade(core, t, req, socket, head))
  server.on('tlsClientError', (err: Error) => {
    icpt.count('handshake_error')
    core.audit.event('warn', 'blocked', 'TLS handshake with the client failed', {scanner: 'tls_handshake_error', target, reason: err.message, ...ids})
    close()
  })
  server.on('sessionError', () => close())
  if (client instanceof Socket) {
    // The raw socket sees every byte of both directions, so its timeout means "both silent";
    // a request waiting on a slow upstream is not idle (the per-request upstream timeout bounds it).
    client.setTimeout(idleMs)
    client.on('timeout', () => {
      if (inflight === 0) close()
    })
  }
  // The peeked bytes go back into the socket's buffer; the TLS wrap reads them first. No resume():
  // flowing with no 'data' listener would drop them.
  if (first.length > 0) client.unshift(first)
  server.emit('connection', client)
}
