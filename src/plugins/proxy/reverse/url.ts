/**
 * Reverse-proxy routing (transports §4.2): every request goes to the one upstream. Path = the
 * upstream path joined with the request's decoded path (one `/` between), the latter cleaned on
 * its own first so that `..` never climbs above the upstream path, then the whole cleaned like
 * Go's `path.Clean` (dot segments resolved, duplicate slashes collapsed, trailing slash kept), sent
 * re-escaped like Go's `EscapedPath` (so `%2F` reaches the upstream as `/`). Query = upstream
 * query, request query, or both joined with `&`.
 */
import {posix} from 'node:path'
import {parseGoUrl} from '../../canonical/index.js'

export interface ReverseUpstream {
  /** `scheme://host[:port]` */
  readonly origin: string
  readonly scheme: 'http' | 'https'
  /** host[:port] as configured (the `Host` header sent upstream). */
  readonly host: string
  readonly path: string
  readonly rawQuery: string
  /** For the banner and logs: no userinfo, query or fragment. */
  readonly display: string
}

/** Null when `raw` is not `http(s)://host…` (the config and flag validation message names it). */
export function parseReverseUpstream(raw: string): ReverseUpstream | null {
  let u
  try {
    u = parseGoUrl(raw)
  } catch {
    return null
  }
  const scheme = u.scheme.toLowerCase()
  if ((scheme !== 'http' && scheme !== 'https') || u.host === '') return null
  return {origin: `${scheme}://${u.host}`, scheme, host: u.host, path: u.path, rawQuery: u.rawQuery, display: `${scheme}://${u.host}${u.rawPath}`}
}

/** Go `shouldEscape(c, encodePath)`: unreserved and `$&+,/:;=@` stay; `!'()*` stay as well. */
function escapePath(p: string): string {
  return encodeURI(p).replace(/[?#[\]]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
}

/** The absolute upstream URL for a request target (origin-form `path?query`), or null when its path does not decode. */
export function reverseTarget(up: ReverseUpstream, requestTarget: string): string | null {
  const q = requestTarget.indexOf('?')
  const rawPath = q < 0 ? requestTarget : requestTarget.slice(0, q)
  const rawQuery = q < 0 ? '' : requestTarget.slice(q + 1)
  let decoded: string
  try {
    decoded = decodeURIComponent(rawPath)
  } catch {
    return null
  }
  // The request's own path is cleaned first, rooted: its `..` segments (`%2e%2e`, `..%2f` too)
  // stop at the upstream's path. Cleaned only after the join, `/../admin` left `/base/` for `/admin`.
  const own = posix.normalize(`/${decoded}`)
  const a = up.path
  const joined = a.endsWith('/') ? a + own.slice(1) : a + own
  let cleaned = posix.normalize(joined.startsWith('/') ? joined : '/' + joined)
  if (joined.endsWith('/') && !cleaned.endsWith('/')) cleaned += '/'
  const query = up.rawQuery === '' || rawQuery === '' ? up.rawQuery + rawQuery : `${up.rawQuery}&${rawQuery}`
  return `${up.origin}${escapePath(cleaned)}${query !== '' ? `?${query}` : ''}`
}
