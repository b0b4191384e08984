/**
 * An upstream's HTTP/1.1 response headers as an HTTP/2 answer can carry them. Node's HTTP/2
 * server throws on a field HTTP/2 forbids (RFC 9113 §8.2.2) and on more than one value for a
 * field it holds to one (`ETag`, `Content-Type`, `Date`, … below). An origin sending either — a
 * duplicated `ETag` is enough — left the agent without an answer (or a 500) while the request was
 * recorded as allowed; the same response over HTTP/1.1 is relayed. The hop-by-hop strip every
 * answer goes through (header-hygiene.ts: `Connection`, `Keep-Alive`, `Transfer-Encoding`,
 * `Upgrade`, `TE`, …) drops the forbidden fields but `HTTP2-Settings`, which is dropped here; a
 * single-value field keeps its first value (as Node's HTTP/1.1 parser keeps the first of a
 * duplicated `Content-Type` or `ETag`).
 */

/** The field HTTP/2 forbids that HTTP/1.1's hop-by-hop strip leaves (it has no meaning in a response). */
const H2_ONLY_FORBIDDEN = 'http2-settings'

/** The fields Node's HTTP/2 layer takes one value of (its `kSingleValueHeaders`, pseudo-headers left out). */
const SINGLE_VALUE: ReadonlySet<string> = new Set([
  'access-control-allow-credentials', 'access-control-max-age', 'access-control-request-method', 'age', 'authorization',
  'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type',
  'date', 'dnt', 'etag', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'range', 'referer', 'retry-after',
  'tk', 'upgrade-insecure-requests', 'user-agent', 'x-content-type-options',
])

/** `h` as an HTTP/2 answer can carry it: `h` itself when nothing needs changing (nearly every response). */
export function h2AnswerHeaders<H extends Record<string, string | string[] | undefined>>(h: H): H {
  let out: Record<string, string | string[] | undefined> | null = null
  for (const k of Object.keys(h)) {
    const key = k.toLowerCase()
    const v = h[k]
    const forbidden = key === H2_ONLY_FORBIDDEN
    const many = Array.isArray(v) && v.length > 1 && SINGLE_VALUE.has(key)
    if (!forbidden && !many) continue
    out ??= {...h}
    if (forbidden) delete out[k]
    else out[k] = (v as string[])[0]
  }
  return (out ?? h) as H
}
