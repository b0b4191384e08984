/**
 * A Go `net/url.Parse`-compatible parser (§25.1). The WHATWG `URL` class must never be used for
 * scanning: it resolves dot segments, strips tabs/newlines, lower-cases and punycodes hosts and
 * canonicalises `0x7f.1`, which would silently disable the CRLF and traversal checks.
 */
import {goUnescape} from './decoders.js'

export interface GoUrl {
  readonly scheme: string
  readonly opaque: string
  /** userinfo as sent (before `@`), or undefined. */
  readonly user?: string
  /** `Host` incl. port and IPv6 brackets, as sent. */
  readonly host: string
  /** Decoded path (`Path`). */
  readonly path: string
  /** The path exactly as sent (escaped form). */
  readonly rawPath: string
  readonly rawQuery: string
  readonly forceQuery: boolean
  readonly fragment: string
  readonly rawFragment: string
  readonly hasFragment: boolean
}

export class GoUrlError extends Error {}

function isCtl(c: number): boolean {
  return c < 0x20 || c === 0x7f
}

function getScheme(raw: string): {scheme: string; rest: string} {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!
    const alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
    if (alpha) continue
    if ((c >= '0' && c <= '9') || c === '+' || c === '-' || c === '.') {
      if (i === 0) return {scheme: '', rest: raw}
      continue
    }
    if (c === ':') {
      if (i === 0) throw new GoUrlError('missing protocol scheme')
      return {scheme: raw.slice(0, i), rest: raw.slice(i + 1)}
    }
    return {scheme: '', rest: raw}
  }
  return {scheme: '', rest: raw}
}

function validOptionalPort(port: string): boolean {
  if (port === '') return true
  if (port[0] !== ':') return false
  for (const c of port.slice(1)) if (c < '0' || c > '9') return false
  return true
}

/** Characters Go allows unescaped in a host (`shouldEscape(c, encodeHost)` false). */
function hostCharOk(c: string): boolean {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true
  return "-_.~!$&'()*+,;=:[]<>\"".includes(c)
}

function unescapeHost(h: string): string {
  const b = Buffer.from(h, 'utf8')
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!
    if (c === 0x25) {
      const hex = h.slice(i, i + 3)
      // Go only allows %-escapes of bytes ≥ 0x80 in a host (and %25 in zones).
      if (i + 2 >= b.length) throw new GoUrlError('invalid URL escape')
      const hi = parseInt(String.fromCharCode(b[i + 1]!), 16)
      if (Number.isNaN(hi) || (hi < 8 && hex !== '%25')) throw new GoUrlError('invalid URL escape')
      i += 2
      continue
    }
    if (c < 0x80 && !hostCharOk(String.fromCharCode(c))) throw new GoUrlError('invalid character in host name')
  }
  const u = goUnescape(h, false)
  if (u === null) throw new GoUrlError('invalid URL escape')
  return u
}

function parseHost(host: string): string {
  if (host.startsWith('[')) {
    const i = host.lastIndexOf(']')
    if (i < 0) throw new GoUrlError("missing ']' in host")
    if (!validOptionalPort(host.slice(i + 1))) throw new GoUrlError('invalid port after host')
    return unescapeHost(host)
  }
  const i = host.lastIndexOf(':')
  if (i >= 0 && !validOptionalPort(host.slice(i))) throw new GoUrlError('invalid port after host')
  return unescapeHost(host)
}

function validUserinfo(s: string): boolean {
  for (const c of s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue
    if ("-._:~!$&'()*+,;=%@".includes(c)) continue
    return false
  }
  return true
}

/** Parses like Go's `url.Parse`; throws GoUrlError with Go's reason on failure. */
export function parseGoUrl(rawUrl: string): GoUrl {
  const hashAt = rawUrl.indexOf('#')
  const u = hashAt >= 0 ? rawUrl.slice(0, hashAt) : rawUrl
  const rawFragment = hashAt >= 0 ? rawUrl.slice(hashAt + 1) : ''
  for (let i = 0; i < u.length; i++) if (isCtl(u.charCodeAt(i))) throw new GoUrlError('invalid control character in URL')
  if (u === '') throw new GoUrlError('empty url')
  const fragment = goUnescape(rawFragment, false)
  if (fragment === null) throw new GoUrlError('invalid URL escape')
  const {scheme: schemeRaw, rest: afterScheme} = getScheme(u)
  const scheme = schemeRaw.toLowerCase()
  let rest = afterScheme
  let rawQuery = ''
  let forceQuery = false
  if (rest.endsWith('?') && rest.split('?').length === 2) {
    forceQuery = true
    rest = rest.slice(0, -1)
  } else {
    const q = rest.indexOf('?')
    if (q >= 0) {
      rawQuery = rest.slice(q + 1)
      rest = rest.slice(0, q)
    }
  }
  const hasFragment = hashAt >= 0
  // Object literals written out (no `{...base, …}`): spreading into a literal with more keys
  // hits a V8 slow path that cost more than the rest of the parse (~5 µs per URL, measured).
  if (!rest.startsWith('/')) {
    if (scheme !== '') return {scheme, rawQuery, forceQuery, fragment, rawFragment, hasFragment, opaque: rest, host: '', path: '', rawPath: ''}
    const colon = rest.indexOf(':')
    const slash = rest.indexOf('/')
    if (colon >= 0 && (slash < 0 || colon < slash)) throw new GoUrlError('first path segment in URL cannot contain colon')
  }
  let host = ''
  let user: string | undefined
  if ((scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    const after = rest.slice(2)
    const slash = after.indexOf('/')
    const authority = slash >= 0 ? after.slice(0, slash) : after
    rest = slash >= 0 ? after.slice(slash) : ''
    const at = authority.lastIndexOf('@')
    if (at >= 0) {
      user = authority.slice(0, at)
      if (!validUserinfo(user)) throw new GoUrlError('invalid userinfo')
      host = parseHost(authority.slice(at + 1))
    } else {
      host = parseHost(authority)
    }
  }
  const path = goUnescape(rest, false)
  if (path === null) throw new GoUrlError('invalid URL escape')
  if (user !== undefined) return {scheme, rawQuery, forceQuery, fragment, rawFragment, hasFragment, opaque: '', user, host, path, rawPath: rest}
  return {scheme, rawQuery, forceQuery, fragment, rawFragment, hasFragment, opaque: '', host, path, rawPath: rest}
}

/** Go `URL.Hostname()`: host without port, IPv6 brackets stripped. */
export function goHostname(host: string): string {
  let h = host
  const colon = h.lastIndexOf(':')
  if (colon >= 0 && validOptionalPort(h.slice(colon)) && (!h.startsWith('[') || h.lastIndexOf(']') < colon)) {
    h = h.slice(0, colon)
  }
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1)
  return h
}

/** Characters Go leaves unescaped in a path (`validEncoded(s, encodePath)`). */
function pathCharOk(c: string): boolean {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true
  return "-_.~!$&'()*+,;=:@/%".includes(c)
}

/** Go `EscapedPath()`: the raw path when it is a valid encoding, else Go's escaping of `path`. */
export function goEscapedPath(u: GoUrl): string {
  let valid = true
  for (const c of u.rawPath) if (!pathCharOk(c)) valid = false
  if (valid) return u.rawPath
  let out = ''
  for (const byte of Buffer.from(u.path, 'utf8')) {
    const c = String.fromCharCode(byte)
    out += byte < 0x80 && pathCharOk(c) && c !== '%' ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

/** Re-serialisation (Go `URL.String()`, close enough for scanning: host and query as sent). */
export function goUrlString(u: GoUrl): string {
  let s = u.scheme !== '' ? u.scheme + ':' : ''
  if (u.opaque !== '') {
    s += u.opaque
  } else {
    if (u.scheme !== '' || u.host !== '' || u.user !== undefined) {
      if (u.host !== '' || u.path !== '' || u.user !== undefined) s += '//'
      if (u.user !== undefined) s += u.user + '@'
      s += u.host
    }
    const p = goEscapedPath(u)
    if (p !== '' && p[0] !== '/' && u.host !== '') s += '/'
    s += p
  }
  if (u.forceQuery || u.rawQuery !== '') s += '?' + u.rawQuery
  if (u.hasFragment && u.rawFragment !== '') s += '#' + u.rawFragment
  return s
}

/** One `key=value` pair split on `&` only (§24 #9 fixed: `;` pairs are kept, never dropped). */
export interface QueryPair {
  readonly rawKey: string
  readonly rawValue: string
  /** Go `QueryUnescape` (`+` → space); the raw text when the escape is malformed. */
  readonly key: string
  readonly value: string
}

export function splitQuery(rawQuery: string): QueryPair[] {
  if (rawQuery === '') return []
  const out: QueryPair[] = []
  for (const part of rawQuery.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const rawKey = eq >= 0 ? part.slice(0, eq) : part
    const rawValue = eq >= 0 ? part.slice(eq + 1) : ''
    out.push({rawKey, rawValue, key: goUnescape(rawKey, true) ?? rawKey, value: goUnescape(rawValue, true) ?? rawValue})
  }
  return out
}
