/**
 * The one Go `net/url.Parse`-compatible parser (runtime §25.1, learn-compile §5), shared by the
 * scanner, the compiler and the contract evaluator.
 *
 * The WHATWG `URL` class must never be used for these: it resolves dot segments, strips
 * tabs/newlines, lower-cases and punycodes hosts and canonicalises `0x7f.1`, which would
 * silently disable the CRLF and traversal checks and change compiled rule bytes.
 *
 * Go's URL code is byte-oriented and a decoded path may be any bytes, so the parser works on
 * "byte strings" (one JS char per UTF-8 byte, see `toByteString`). `parseGoUrlBytes` returns
 * byte strings (what compile hashes); `parseGoUrl` takes and returns ordinary strings, decoding
 * invalid UTF-8 the way Go does when it prints a string (one U+FFFD per bad byte).
 */
import {fromByteString} from './go-text.js'

export interface GoUrl {
  readonly scheme: string
  readonly opaque: string
  /** userinfo as sent (before `@`), or undefined. */
  readonly user?: string
  /** `Host` incl. port and IPv6 brackets, percent-decoded. */
  readonly host: string
  /** Decoded path (`Path`). */
  readonly path: string
  /** The path exactly as sent (escaped form); what a proxy forwards. */
  readonly rawPath: string
  /** Go `EscapedPath()`. */
  readonly escapedPath: string
  readonly rawQuery: string
  readonly forceQuery: boolean
  readonly fragment: string
  readonly rawFragment: string
  readonly hasFragment: boolean
}

export class GoUrlError extends Error {}

// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/

/** UTF-8 bytes of a JS string as a byte string. */
export function toByteString(s: string): string {
  return ASCII.test(s) ? s : Buffer.from(s, 'utf8').toString('latin1')
}

/** The value of a hex digit (either case), or -1 for any other unit (NaN, past a text's end, included). */
export function hexDigitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  const l = c | 0x20
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1
}

function isHex(c: number): boolean {
  return hexDigitValue(c) >= 0
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
}

type Mode = 'path' | 'host' | 'zone' | 'fragment' | 'userinfo'

/** Go's shouldEscape for the modes used here. */
function shouldEscape(c: number, mode: Mode): boolean {
  if (isAlnum(c)) return false
  if (mode === 'host' || mode === 'zone') {
    // ! $ & ' ( ) * + , ; = : [ ] < > "
    if ('!$&\'()*+,;=:[]<>"'.includes(String.fromCharCode(c))) return false
  }
  switch (c) {
    case 0x2d: // -
    case 0x5f: // _
    case 0x2e: // .
    case 0x7e: // ~
      return false
    case 0x24: case 0x26: case 0x2b: case 0x2c: case 0x2f: case 0x3a: case 0x3b: case 0x3d: case 0x3f: case 0x40:
      // $ & + , / : ; = ? @
      if (mode === 'path') return c === 0x3f
      if (mode === 'fragment') return false
      if (mode === 'userinfo') return c === 0x40 || c === 0x2f || c === 0x3f || c === 0x3a
      return true
  }
  if (mode === 'fragment') {
    if ('!()*'.includes(String.fromCharCode(c))) return false
  }
  return true
}

/** Go url.unescape on a byte string; undefined on a bad escape or an invalid host byte. */
function unescape(s: string, mode: Mode): string | undefined {
  let n = 0
  for (let i = 0; i < s.length; ) {
    const c = s.charCodeAt(i)
    if (c === 0x25) {
      n++
      if (i + 2 >= s.length || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return undefined
      // Host: only %25 and non-ASCII bytes may be percent-encoded.
      if (mode === 'host' && hexDigitValue(s.charCodeAt(i + 1)) < 8 && s.slice(i, i + 3) !== '%25') return undefined
      if (mode === 'zone') {
        const v = hexDigitValue(s.charCodeAt(i + 1)) * 16 + hexDigitValue(s.charCodeAt(i + 2))
        if (s.slice(i, i + 3) !== '%25' && v !== 0x20 && shouldEscape(v, 'host')) return undefined
      }
      i += 3
    } else {
      if ((mode === 'host' || mode === 'zone') && c < 0x80 && shouldEscape(c, mode)) return undefined
      i++
    }
  }
  if (n === 0) return s
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x25) {
      out += String.fromCharCode(hexDigitValue(s.charCodeAt(i + 1)) * 16 + hexDigitValue(s.charCodeAt(i + 2)))
      i += 2
    } else out += s[i]
  }
  return out
}

/** Go url.PathUnescape on a byte string; undefined on a bad escape. */
export function pathUnescape(s: string): string | undefined {
  return unescape(s, 'path')
}

/**
 * Go `url.QueryUnescape` (plusToSpace) or `url.PathUnescape` on an ordinary string: `%XX` decoded
 * as bytes, then the bytes read as UTF-8. A bad escape is an error (null), like Go.
 */
export function goUnescape(s: string, plusToSpace: boolean): string | null {
  const first = s.indexOf('%')
  if (first < 0 && !(plusToSpace && s.includes('+'))) return s
  if (first >= 0 && !escapesWellFormed(s, first)) return null
  const src = Buffer.from(s, 'utf8')
  // Decoded in place of a buffer as long as the input (an escape only shortens): an array of
  // numbers turned into a buffer cost most of a 64 KiB request body's URL decoding.
  const bytes = Buffer.allocUnsafe(src.length)
  let n = 0
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!
    if (c === 0x25) {
      if (i + 2 >= src.length || !isHex(src[i + 1]!) || !isHex(src[i + 2]!)) return null
      bytes[n++] = hexDigitValue(src[i + 1]!) * 16 + hexDigitValue(src[i + 2]!)
      i += 2
    } else if (c === 0x2b && plusToSpace) {
      bytes[n++] = 0x20
    } else {
      bytes[n++] = c
    }
  }
  return bytes.toString('utf8', 0, n)
}

/**
 * Whether every `%` of `s` from `first` on (the first `%`) that the decoding below meets starts
 * an escape of two hex digits — read on the code units, before any bytes are made: a text whose
 * decoding fails (a body's printable runs: `%` beside any character) costs no copy. The same
 * answer as the byte loop's: `%` and hex digits are ASCII, one byte each, and every byte of a
 * unit at or above U+0080 (a lone surrogate: U+FFFD's) is ≥ 0x80, never `%` nor a hex digit — so
 * the `%`s the loop meets are the same, and each is followed by two hex-digit units exactly when
 * by two hex-digit bytes.
 */
function escapesWellFormed(s: string, first: number): boolean {
  for (let i = first; i < s.length; i++) {
    if (s.charCodeAt(i) !== 0x25) continue
    if (i + 2 >= s.length || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return false
    i += 2
  }
  return true
}

function escapePath(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (shouldEscape(c, 'path')) out += '%' + c.toString(16).toUpperCase().padStart(2, '0')
    else out += s[i]
  }
  return out
}

/** Go validEncoded(s, encodePath). */
function validEncodedPath(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if ("!$&'()*+,;=:@[]%".includes(s[i] as string)) continue
    if (shouldEscape(c, 'path')) return false
  }
  return true
}

function validOptionalPort(port: string): boolean {
  if (port === '') return true
  if (port.charCodeAt(0) !== 0x3a) return false
  for (let i = 1; i < port.length; i++) {
    const c = port.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  return true
}

function parseHost(host: string): string {
  if (host.startsWith('[')) {
    const i = host.lastIndexOf(']')
    if (i < 0) throw new GoUrlError("missing ']' in host")
    if (!validOptionalPort(host.slice(i + 1))) throw new GoUrlError('invalid port after host')
    const zone = host.slice(0, i).indexOf('%25')
    if (zone >= 0) {
      const h1 = unescape(host.slice(0, zone), 'host')
      const h2 = unescape(host.slice(zone, i), 'zone')
      const h3 = unescape(host.slice(i), 'host')
      if (h1 === undefined || h2 === undefined || h3 === undefined) throw new GoUrlError('invalid URL escape')
      return h1 + h2 + h3
    }
  } else {
    // Go 1.25 rejects colons in an unbracketed host other than one valid port separator
    // (`http://localhost:80:80/`, `http://::1/`): stricter than older Go, and safer to scan.
    const i = host.indexOf(':')
    if (i >= 0 && !validOptionalPort(host.slice(i))) throw new GoUrlError('invalid port after host')
  }
  const h = unescape(host, 'host')
  if (h === undefined) throw new GoUrlError('invalid character in host name')
  return h
}

function validUserinfo(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (isAlnum(c)) continue
    if ("-._:~!$&'()*+,;=%@".includes(s[i] as string)) continue
    return false
  }
  return true
}

function getScheme(raw: string): {scheme: string; rest: string} {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i)
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) continue
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
      if (i === 0) return {scheme: '', rest: raw}
      continue
    }
    if (c === 0x3a) {
      if (i === 0) throw new GoUrlError('missing protocol scheme')
      return {scheme: raw.slice(0, i), rest: raw.slice(i + 1)}
    }
    return {scheme: '', rest: raw}
  }
  return {scheme: '', rest: raw}
}

/** Go `EscapedPath()` from the path as sent and its decoded form (Go's setPath + EscapedPath). */
function escapedPathOf(rawPath: string, path: string): string {
  if (validEncodedPath(rawPath)) return rawPath // it decodes to `path` by construction
  if (path === '*') return '*'
  return escapePath(path)
}

/** `url.Parse` on a byte string; every field of the result is a byte string. Throws GoUrlError. */
export function parseGoUrlBytes(rawUrl: string): GoUrl {
  const hashAt = rawUrl.indexOf('#')
  const u = hashAt >= 0 ? rawUrl.slice(0, hashAt) : rawUrl
  const rawFragment = hashAt >= 0 ? rawUrl.slice(hashAt + 1) : ''
  for (let i = 0; i < u.length; i++) {
    const c = u.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) throw new GoUrlError('invalid control character in URL')
  }
  if (u === '') throw new GoUrlError('empty url')
  const fragment = unescape(rawFragment, 'fragment')
  if (fragment === undefined) throw new GoUrlError('invalid URL escape')
  const {scheme: schemeRaw, rest: afterScheme} = getScheme(u)
  const scheme = schemeRaw.toLowerCase()
  let rest = afterScheme
  let rawQuery = ''
  let forceQuery = false
  if (rest.endsWith('?') && rest.indexOf('?') === rest.length - 1) {
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
    if (scheme !== '') {
      return {scheme, rawQuery, forceQuery, fragment, rawFragment, hasFragment, opaque: rest, host: '', path: '', rawPath: '', escapedPath: ''}
    }
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
  const path = unescape(rest, 'path')
  if (path === undefined) throw new GoUrlError('invalid URL escape')
  const escapedPath = escapedPathOf(rest, path)
  if (user !== undefined) return {scheme, rawQuery, forceQuery, fragment, rawFragment, hasFragment, opaque: '', user, host, path, rawPath: rest, escapedPath}
  return {scheme, rawQuery, forceQuery, fragment, rawFragment, hasFragment, opaque: '', host, path, rawPath: rest, escapedPath}
}

/** `url.Parse` on an ordinary string (what the scanner and the proxy use). Throws GoUrlError. */
export function parseGoUrl(rawUrl: string): GoUrl {
  const b = toByteString(rawUrl)
  const u = parseGoUrlBytes(b)
  if (b === rawUrl && ASCII.test(u.host) && ASCII.test(u.path) && ASCII.test(u.fragment)) return u
  const d = fromByteString
  const base = {
    scheme: u.scheme, opaque: d(u.opaque), host: d(u.host), path: d(u.path), rawPath: d(u.rawPath), escapedPath: u.escapedPath,
    rawQuery: d(u.rawQuery), forceQuery: u.forceQuery, fragment: d(u.fragment), rawFragment: d(u.rawFragment), hasFragment: u.hasFragment,
  }
  return u.user !== undefined ? {...base, user: d(u.user)} : base
}

/** Index of the `:` that starts the port of `host` (Go `splitHostPort`), or -1. */
function portColon(host: string): number {
  const colon = host.lastIndexOf(':')
  return colon >= 0 && validOptionalPort(host.slice(colon)) && (!host.startsWith('[') || host.lastIndexOf(']') < colon) ? colon : -1
}

/** Go `URL.Hostname()`: host without port, IPv6 brackets stripped. */
export function goHostname(host: string): string {
  const colon = portColon(host)
  const h = colon >= 0 ? host.slice(0, colon) : host
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h
}

/** Go `URL.Port()`: the port digits of `host`, `''` when there are none. */
export function goPort(host: string): string {
  const colon = portColon(host)
  return colon >= 0 ? host.slice(colon + 1) : ''
}

/** Go `EscapedPath()`. */
export function goEscapedPath(u: GoUrl): string {
  return u.escapedPath
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
    const p = u.escapedPath
    if (p !== '' && p[0] !== '/' && u.host !== '') s += '/'
    s += p
  }
  if (u.forceQuery || u.rawQuery !== '') s += '?' + u.rawQuery
  if (u.hasFragment && u.rawFragment !== '') s += '#' + u.rawFragment
  return s
}

/** One `key=value` pair split on `&` only (runtime §24 #9 fixed: `;` pairs are kept, never dropped). */
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
  // The parts between '&'s are read in place (no `split`: its array and part strings were
  // garbage of every URL scan, bench: cee); empty parts are skipped, as before. The next '=' is
  // searched for again only once a part has passed it, so many parts without one stay O(n).
  let eqAt = -1
  for (let from = 0; from <= rawQuery.length; ) {
    let end = rawQuery.indexOf('&', from)
    if (end < 0) end = rawQuery.length
    if (end > from) {
      if (eqAt < from) {
        const i = rawQuery.indexOf('=', from)
        eqAt = i < 0 ? rawQuery.length : i // no '=' left: past every part
      }
      const keyed = eqAt < end
      const rawKey = keyed ? rawQuery.slice(from, eqAt) : rawQuery.slice(from, end)
      const rawValue = keyed ? rawQuery.slice(eqAt + 1, end) : ''
      out.push({rawKey, rawValue, key: goUnescape(rawKey, true) ?? rawKey, value: goUnescape(rawValue, true) ?? rawValue})
    }
    from = end + 1
  }
  return out
}

export interface ParsedHttpUrl {
  /** Go `Hostname()` of the URL (byte string, not yet lower-cased). */
  hostname: string
  /** Go `EscapedPath()` (pure ASCII). */
  escapedPath: string
}

/**
 * `url.Parse` then compile's acceptance test (learn-compile §5 step 1): scheme http/https, no
 * userinfo, non-empty host. Returns undefined for anything Go rejects or compile drops.
 */
export function parseHttpUrl(input: string): ParsedHttpUrl | undefined {
  let u: GoUrl
  try {
    u = parseGoUrlBytes(toByteString(input))
  } catch {
    return undefined
  }
  if (u.scheme !== 'http' && u.scheme !== 'https') return undefined
  if (u.opaque !== '' || u.user !== undefined) return undefined
  const hostname = goHostname(u.host)
  if (hostname === '') return undefined
  return {hostname, escapedPath: u.escapedPath}
}
