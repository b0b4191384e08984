/**
 * Outbound header hygiene (§3.3): identity, forwarding and hop-by-hop headers never reach the
 * upstream. `Accept-Encoding` is dropped too (§24 #7 fixed): we cannot scan compressed bodies,
 * so asking for them would only turn clean responses into `compressed_response` blocks.
 */
import type {IncomingHttpHeaders} from 'node:http'
import {stripSignatureHeader} from '../envelope/index.js'

const ALWAYS_STRIP = new Set([
  'x-pipelock-agent', 'x-forwarded-for', 'x-real-ip', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port',
  'forwarded', 'via', 'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te',
  'trailer', 'transfer-encoding', 'upgrade', 'pipelock-mediation', 'accept-encoding', 'host', 'expect', 'content-length',
])


const NONE_NAMED: ReadonlySet<string> = new Set()

/** The headers a `Connection` header names (hop-by-hop), lower-cased. */
function connectionNamed(conn: string | string[]): ReadonlySet<string> {
  const named = new Set<string>()
  for (const v of Array.isArray(conn) ? conn : [conn]) {
    for (const t of v.split(',')) if (t.trim() !== '') named.add(t.trim().toLowerCase())
  }
  return named
}

export function outboundHeaders(inbound: IncomingHttpHeaders): Record<string, string | string[]> {
  // Most requests send no `Connection` header, and then no set is built.
  const conn = inbound.connection
  const named = conn === undefined ? NONE_NAMED : connectionNamed(conn)
  const out: Record<string, string | string[]> = {}
  // One pass over the keys (no array of entries): the result is the request's one header copy
  // (the upstream sets its `host` on it).
  for (const k in inbound) {
    const v = inbound[k]
    if (v === undefined) continue
    const key = k.toLowerCase()
    // HTTP/2 pseudo-headers never travel as headers (the interceptor's inner requests, §2.9).
    if (ALWAYS_STRIP.has(key) || named.has(key) || key.startsWith(':')) continue
    // Mediation anti-spoofing (envelope spec §5): `pipelock*` members never pass, parsed as RFC 8941.
    if (key === 'signature' || key === 'signature-input') {
      const kept = stripSignatureHeader(Array.isArray(v) ? v : [v])
      if (kept !== undefined) out[key] = kept
      continue
    }
    out[key] = v
  }
  return out
}

/**
 * Response headers that must not be relayed verbatim to the client (nor `X-Pipelock-*`, below): the hop-by-hop ones (we
 * re-frame the body, and the upstream's connection is not the client's; `Proxy-Authenticate`
 * would ask the agent for credentials for a proxy it never talks to), and every header the
 * upstream's own `Connection` header names (RFC 9110 §7.6.1), as on the request side.
 */
const RESPONSE_STRIP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'proxy-authenticate', 'trailer', 'upgrade', 'te'])

/**
 * `X-Pipelock-*` on an answer is this proxy's word (the block-reason vocabulary, the hint): an
 * upstream's own — a forged `X-Pipelock-Block-Reason: domain_blocklist` on its 200, or another
 * Pipelock's — is never relayed, so a client can trust the ones it reads.
 */
function isPipelockHeader(key: string): boolean {
  return key.startsWith('x-pipelock-')
}

/** The names a response's `Connection` header makes hop-by-hop (most responses name none). */
function responseConnectionNamed(h: Record<string, string | string[] | undefined>): ReadonlySet<string> {
  const conn = h.connection
  return conn === undefined ? NONE_NAMED : connectionNamed(conn)
}

export function inboundResponseHeaders(h: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const named = responseConnectionNamed(h)
  const out: Record<string, string | string[]> = {}
  for (const k of Object.keys(h)) {
    const v = h[k]
    const key = k.toLowerCase()
    if (v === undefined || RESPONSE_STRIP.has(key) || named.has(key) || isPipelockHeader(key)) continue
    out[k] = v
  }
  return out
}

/**
 * The headers of a buffered (re-framed) response: `inboundResponseHeaders(h)` without its
 * `content-length`, then `content-length: length` last — built in one pass (a `delete` turns the
 * object into a dictionary and the spread after it copied it again, on every buffered response).
 */
export function bufferedResponseHeaders(h: Record<string, string | string[] | undefined>, length: number): Record<string, string | string[]> {
  const named = responseConnectionNamed(h)
  const out: Record<string, string | string[]> = {}
  for (const k of Object.keys(h)) {
    const v = h[k]
    const key = k.toLowerCase()
    if (v === undefined || key === 'content-length' || RESPONSE_STRIP.has(key) || named.has(key) || isPipelockHeader(key)) continue
    out[k] = v
  }
  out['content-length'] = String(length)
  return out
}
