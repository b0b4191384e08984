// Go net/url.Parse, Hostname() and EscapedPath() for the subset compile needs (learn-compile §5).
// Everything works on "byte strings": one JS char per UTF-8 byte (latin1), because Go's URL code
// is byte-oriented and decoded paths may be arbitrary bytes.

/** UTF-8 bytes of a JS string as a byte string. */
export function toByteString(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s : Buffer.from(s, 'utf8').toString('latin1')
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}

function unhex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10
  return c - 0x41 + 10
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
}

type Mode = 'path' | 'host' | 'zone' | 'fragment'

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
      return true
  }
  if (mode === 'fragment') {
    if ('!()*'.includes(String.fromCharCode(c))) return false
  }
  return true
}

/** Go url.unescape; returns undefined on a bad escape or invalid host byte. */
function unescape(s: string, mode: Mode): string | undefined {
  let n = 0
  for (let i = 0; i < s.length; ) {
    const c = s.charCodeAt(i)
    if (c === 0x25) {
      n++
      if (i + 2 >= s.length || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return undefined
      // Host: only %25 and non-ASCII bytes may be percent-encoded.
      if (mode === 'host' && unhex(s.charCodeAt(i + 1)) < 8 && s.slice(i, i + 3) !== '%25') return undefined
      if (mode === 'zone') {
        const v = unhex(s.charCodeAt(i + 1)) * 16 + unhex(s.charCodeAt(i + 2))
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
      out += String.fromCharCode(unhex(s.charCodeAt(i + 1)) * 16 + unhex(s.charCodeAt(i + 2)))
      i += 2
    } else out += s[i]
  }
  return out
}

/** Go url.PathUnescape on a byte string; undefined on a bad escape. */
export function pathUnescape(s: string): string | undefined {
  return unescape(s, 'path')
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

function validEncoded(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if ("!$&'()*+,;=:@[]%".includes(s[i] as string)) continue
    if (shouldEscape(c, 'path')) return false
  }
  return true
}

function validOptionalPort(port: string): boolean {
  if (port === '') return true
  if (port[0] !== ':') return false
  return /^[0-9]*$/.test(port.slice(1))
}

function parseHost(host: string): string | undefined {
  if (host.startsWith('[')) {
    const i = host.lastIndexOf(']')
    if (i < 0) return undefined
    if (!validOptionalPort(host.slice(i + 1))) return undefined
    const zone = host.slice(0, i).indexOf('%25')
    if (zone >= 0) {
      const h1 = unescape(host.slice(0, zone), 'host')
      const h2 = unescape(host.slice(zone, i), 'zone')
      const h3 = unescape(host.slice(i), 'host')
      if (h1 === undefined || h2 === undefined || h3 === undefined) return undefined
      return h1 + h2 + h3
    }
  } else {
    // Go 1.25 rejects colons in the host other than one valid port separator.
    const i = host.indexOf(':')
    if (i >= 0 && !validOptionalPort(host.slice(i))) return undefined
  }
  return unescape(host, 'host')
}

export interface ParsedHttpUrl {
  /** Go `Hostname()` of the URL (byte string, not yet lower-cased). */
  hostname: string
  /** Go `EscapedPath()` (pure ASCII). */
  escapedPath: string
}

/**
 * `net/url.Parse` then compile's acceptance test (§5 step 1): scheme http/https, no userinfo,
 * non-empty host. Returns undefined for anything Go rejects or compile drops.
 */
export function parseHttpUrl(input: string): ParsedHttpUrl | undefined {
  const raw = toByteString(input)
  const hashAt = raw.indexOf('#')
  const u = hashAt >= 0 ? raw.slice(0, hashAt) : raw
  if (hashAt >= 0 && unescape(raw.slice(hashAt + 1), 'fragment') === undefined) return undefined
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(u)) return undefined
  // scheme
  let scheme = ''
  let rest = u
  for (let i = 0; i < u.length; i++) {
    const c = u.charCodeAt(i)
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) continue
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
      if (i === 0) break
      continue
    }
    if (c === 0x3a) {
      if (i === 0) return undefined // missing protocol scheme
      scheme = u.slice(0, i).toLowerCase()
      rest = u.slice(i + 1)
    }
    break
  }
  if (scheme !== 'http' && scheme !== 'https') return undefined
  if (rest.endsWith('?') && rest.split('?').length === 2) rest = rest.slice(0, -1)
  else {
    const q = rest.indexOf('?')
    if (q >= 0) rest = rest.slice(0, q)
  }
  if (!rest.startsWith('//')) return undefined // opaque or relative: no host
  let authority = rest.slice(2)
  let pathPart = ''
  const slash = authority.indexOf('/')
  if (slash >= 0) {
    pathPart = authority.slice(slash)
    authority = authority.slice(0, slash)
  }
  if (authority.includes('@')) return undefined // userinfo is never accepted
  const host = parseHost(authority)
  if (host === undefined) return undefined
  const decodedPath = unescape(pathPart, 'path')
  if (decodedPath === undefined) return undefined
  const rawPath = escapePath(decodedPath) === pathPart ? '' : pathPart
  // Hostname(): strip a valid port, then IPv6 brackets.
  let hostname = host
  const colon = host.lastIndexOf(':')
  if (colon >= 0 && validOptionalPort(host.slice(colon))) hostname = host.slice(0, colon)
  if (hostname.startsWith('[') && hostname.endsWith(']')) hostname = hostname.slice(1, -1)
  if (hostname === '') return undefined
  let escapedPath: string
  if (rawPath !== '' && validEncoded(rawPath) && unescape(rawPath, 'path') === decodedPath) escapedPath = rawPath
  else if (decodedPath === '*') escapedPath = '*'
  else escapedPath = escapePath(decodedPath)
  return {hostname, escapedPath}
}
