/**
 * The headers the WebSocket proxy forwards to the upstream (transports §3.2): an allowlist, first
 * value of each, Origin per `origin_policy`, Cookie only when configured, and the client's
 * User-Agent tagged with pipelock. Everything else (X-Pipelock-Agent, Accept-Encoding,
 * Sec-WebSocket-Extensions, hop-by-hop) never reaches the upstream.
 */
import type {IncomingHttpHeaders} from 'node:http'
import type {PipelockConfig} from '../../config/index.js'
import type {HeaderList} from '../../scanner/index.js'
import {firstHeader} from '../request-gate.js'

/** Header DLP order (§3.2); the first value with an enforced match decides. */
const DLP_ORDER = ['Authorization', 'X-Api-Key', 'X-Goog-Api-Key', 'Cookie', 'Origin', 'Sec-WebSocket-Protocol', 'User-Agent'] as const

export interface ForwardedHeaders {
  /** Header name (canonical case) → value, in DLP order. */
  readonly headers: Record<string, string>
  /** The subprotocols the client offered, in order (forwarded as the upstream offer). */
  readonly protocols: string[]
}

export function forwardedHeaders(h: IncomingHttpHeaders, cfg: PipelockConfig, wsUrl: {scheme: string; host: string}, version: string): ForwardedHeaders {
  const ws = cfg.websocket_proxy
  const out: Record<string, string> = {}
  const put = (name: string, v: string | undefined): void => {
    if (v !== undefined && v !== '') out[name] = v
  }
  put('Authorization', firstHeader(h.authorization))
  put('X-Api-Key', firstHeader(h['x-api-key']))
  put('X-Goog-Api-Key', firstHeader(h['x-goog-api-key']))
  if (ws.forward_cookies) put('Cookie', firstHeader(h.cookie))
  if (ws.origin_policy === 'rewrite') out.Origin = `${wsUrl.scheme === 'wss' ? 'https' : 'http'}://${wsUrl.host}`
  else if (ws.origin_policy === 'forward') put('Origin', firstHeader(h.origin))
  const proto = firstHeader(h['sec-websocket-protocol'])
  put('Sec-WebSocket-Protocol', proto)
  const ua = firstHeader(h['user-agent'])
  out['User-Agent'] = `${ua !== undefined && ua !== '' ? ua : cfg.fetch_proxy.user_agent} pipelock/${version}`
  const protocols = proto === undefined ? [] : proto.split(',').map((p) => p.trim()).filter((p) => p !== '')
  return {headers: out, protocols}
}

/** The forwarded headers as header DLP reads them (gate stage `header_dlp`): name/value pairs in DLP order. */
export function forwardedHeaderList(headers: Record<string, string>): HeaderList {
  const out: Array<[string, string]> = []
  for (const name of DLP_ORDER) {
    const v = headers[name]
    if (v !== undefined) out.push([name, v])
  }
  return out
}
