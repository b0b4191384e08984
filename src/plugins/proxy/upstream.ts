/**
 * Upstream requests through the SSRF-safe undici Agent, with redirects followed by the proxy and
 * every hop re-scanned with the full URL pipeline (§4 "shared upstream client"): at most 5
 * redirects; a denied hop fails the whole request as `redirect_scan_denied`. Decompression is
 * never applied: bodies are relayed or scanned exactly as the upstream sent them.
 */
import type {EventEmitter} from 'node:events'
import type {Readable} from 'node:stream'
import type {Agent, Dispatcher} from 'undici'
import {goHostname, parseGoUrl, type GoUrl} from '../canonical/index.js'
import {namedCause, upstreamCause, type UpstreamCause} from './upstream-cause.js'
import type {ReasonCode, UrlScanResult} from '../scanner/index.js'
import {credentialHeaderNames, sameOrigin, withoutCredentials} from './redirect-credentials.js'
import type {UpstreamAbort} from './upstream-abort.js'

export const MAX_REDIRECTS = 5

export interface UpstreamResponse {
  readonly statusCode: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: Readable & {dump?: () => Promise<void>}
  readonly finalUrl: string
  /** The host of `finalUrl` as Go's parser sees it (core.ts `urlHost`), from the parse that addressed the request. */
  readonly finalHost: string
}

/** A redirect hop the URL scan allowed but the live contract denied (learn-lifecycle §7.6 on every hop). */
export interface HopDenied {
  readonly kind: 'contract'
  readonly code: ReasonCode
  readonly detail: string
  /** The `explain_blocks` hint when the denial knows its fix (request-gate.ts `contractHint`). */
  readonly hint?: string
}

export type HopScan = (rawUrl: string) => Promise<UrlScanResult | HopDenied>

export type UpstreamOutcome =
  | {readonly kind: 'response'; readonly response: UpstreamResponse}
  | {readonly kind: 'redirect_blocked'; readonly scan: UrlScanResult; readonly url: string}
  | {readonly kind: 'contract_blocked'; readonly denied: HopDenied; readonly url: string}
  | {readonly kind: 'error'; readonly cause: UpstreamCause}
  /** The mediation envelope could not be attached to hop `hop` (0: the original request). */
  | {readonly kind: 'envelope_failed'; readonly hop: number; readonly url: string}

export interface UpstreamRequest {
  readonly rawUrl: string
  readonly method: string
  /** The upstream's own copy of the request headers: each hop sets its `host` on it (one copy per request, not one per hop). */
  readonly headers: Record<string, string | string[]>
  /** Buffered body (re-sendable on 307/308), or null. */
  readonly body: Buffer | null
  /**
   * Aborts the upstream request when it emits 'abort'. undici takes an EventEmitter as well as
   * an AbortSignal; the forward proxy passes an `UpstreamAbort` (the part of an emitter undici
   * uses) because an AbortController per request (an EventTarget with its own listener
   * bookkeeping), and then an EventEmitter, were measurable shares of its CPU.
   */
  readonly signal?: AbortSignal | EventEmitter | UpstreamAbort
  /** Configured sensitive header names, dropped (with the built-in credentials) once a redirect leaves the origin. */
  readonly sensitiveHeaders?: readonly string[]
  /**
   * Attaches the mediation envelope to each hop's outbound headers (mutated) just before it is
   * sent (relay/mediation.ts; spec §4.7 redirect refresh); false: the hop is not sent.
   */
  readonly mediate?: (hop: number, url: string, method: string, headers: Record<string, string | string[]>, body: Buffer | null) => boolean
  /** `parseGoUrl(rawUrl)` when the caller parsed it already (the forward proxy's router): the first hop is not parsed again. */
  readonly parsed?: GoUrl
}

/** Origin and request-target of a Go-parsed absolute URL (raw path and query kept as sent); `u`: its parse, when already made. */
export function originAndPath(rawUrl: string, u: GoUrl = parseGoUrl(rawUrl)): {origin: string; path: string; host: string} {
  const scheme = u.scheme.toLowerCase()
  let path = u.rawPath !== '' ? u.rawPath : u.path
  if (path === '') path = '/'
  if (!path.startsWith('/')) path = '/' + path
  if (u.rawQuery !== '' || u.forceQuery) path += '?' + u.rawQuery
  return {origin: `${scheme}://${u.host}`, path, host: u.host}
}

function location(h: Record<string, string | string[] | undefined>): string | undefined {
  const v = h.location
  return Array.isArray(v) ? v[0] : v
}

function resolveLocation(loc: string, base: string): string {
  // An absolute Location is scanned exactly as sent; a relative one is resolved like Go's
  // ResolveReference (which also removes dot segments).
  if (/^[a-z][a-z0-9+.-]*:/i.test(loc)) return loc
  return new URL(loc, base).href
}

/** How the hops of one exchange are judged and bounded: each hop's verdict, the per-hop timeout, the redirects followed (0: a redirect is returned as the response, relayed to the client). */
export interface HopPolicy {
  readonly scanHop: HopScan
  readonly timeoutMs: number
  readonly maxRedirects?: number | undefined
  /**
   * The longest wait between two chunks of the body (default `timeoutMs`); 0: none, the body's
   * reader bounds it (what it may be is known from the answer: an event stream may rightly stay
   * quiet for minutes, a buffered body may not).
   */
  readonly bodyTimeoutMs?: number | undefined
}

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308])

/** The upstream body's 'error' listener (one function, not a closure per response). */
function ignoreError(): void {}

export async function requestWithRedirects(agent: Agent, req: UpstreamRequest, hops: HopPolicy): Promise<UpstreamOutcome> {
  const {scanHop, timeoutMs} = hops
  const maxRedirects = hops.maxRedirects ?? MAX_REDIRECTS
  let url = req.rawUrl
  let method = req.method
  let body = req.body
  let headers = req.headers
  for (let hop = 0; ; hop++) {
    let target
    try {
      target = originAndPath(url, hop === 0 ? req.parsed : undefined)
    } catch {
      return {kind: 'error', cause: namedCause('other', 'invalid upstream URL')}
    }
    let sent = headers
    if (req.mediate !== undefined) {
      sent = {...headers}
      if (!req.mediate(hop, url, method, sent, body)) return {kind: 'envelope_failed', hop, url}
    }
    // Last, as a spread `{...sent, host}` would place it (the hygiene step strips the agent's own).
    sent.host = target.host
    let res: Dispatcher.ResponseData
    try {
      res = await agent.request({
        origin: target.origin,
        path: target.path,
        method: method as Dispatcher.HttpMethod,
        headers: sent,
        body: body !== null && body.length > 0 ? body : method === 'GET' || method === 'HEAD' ? null : body,
        signal: req.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: hops.bodyTimeoutMs ?? timeoutMs,
      })
    } catch (err) {
      return {kind: 'error', cause: upstreamCause(err)}
    }
    // Every later destroy() (blocks, client gone, caps) would otherwise emit an unhandled
    // 'error' event and take the process down; consumers still see errors through for-await.
    res.body.on('error', ignoreError)
    const loc = location(res.headers)
    const isRedirect = REDIRECT_STATUSES.has(res.statusCode) && loc !== undefined && loc !== ''
    if (!isRedirect || maxRedirects === 0) return {kind: 'response', response: {statusCode: res.statusCode, headers: res.headers, body: res.body, finalUrl: url, finalHost: goHostname(target.host)}}
    // A redirect's body is read off (so the connection can be kept), bounded by the fetch timeout
    // itself: the hop's bound between chunks may be none (`bodyTimeoutMs` 0).
    await res.body.dump({limit: 128 * 1024, signal: AbortSignal.timeout(timeoutMs)}).catch(() => undefined)
    if (hop + 1 > maxRedirects) return {kind: 'error', cause: namedCause('redirect', `too many redirects (max ${MAX_REDIRECTS})`)}
    let next: string
    try {
      next = resolveLocation(loc, url)
    } catch {
      return {kind: 'error', cause: namedCause('redirect', 'invalid redirect location')}
    }
    const scan = await scanHop(next)
    if ('kind' in scan) return {kind: 'contract_blocked', denied: scan, url: next}
    if (!scan.allowed) return {kind: 'redirect_blocked', scan, url: next}
    if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method !== 'GET' && method !== 'HEAD')) {
      method = 'GET'
      body = null
    }
    if (!sameOrigin(url, next)) headers = withoutCredentials(headers, credentialHeaderNames(req.sensitiveHeaders))
    url = next
  }
}
