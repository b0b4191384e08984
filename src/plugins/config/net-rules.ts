import {isIP, isIPv4} from 'node:net'

/** A parsed CIDR: address bytes (4 or 16) and prefix length. */
export interface Cidr {
  readonly bytes: Uint8Array
  readonly bits: number
}

/** IPv4 or IPv6 address text to bytes, or undefined. Zone ids are not accepted in config. */
export function ipBytes(text: string): Uint8Array | undefined {
  const kind = isIP(text)
  if (kind === 4) return Uint8Array.from(text.split('.').map((p) => Number(p)))
  if (kind !== 6) return undefined
  let head = text
  let tailV4: number[] = []
  const lastColon = text.lastIndexOf(':')
  if (isIPv4(text.slice(lastColon + 1))) {
    tailV4 = text
      .slice(lastColon + 1)
      .split('.')
      .map((p) => Number(p))
    head = text.slice(0, lastColon + 1) + '0:0'
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined]
  const l = left === '' || left === undefined ? [] : left.split(':')
  const r = right === undefined || right === '' ? [] : right.split(':')
  const groups = right === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r]
  const out = new Uint8Array(16)
  groups.forEach((g, i) => {
    const v = parseInt(g, 16)
    out[i * 2] = v >> 8
    out[i * 2 + 1] = v & 0xff
  })
  if (tailV4.length === 4) out.set(tailV4, 12)
  return out
}

/** Parses `addr/bits` the way Go's `net.ParseCIDR` accepts it (no bare addresses). */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/')
  if (slash < 0) return undefined
  const bytes = ipBytes(text.slice(0, slash))
  const bitsText = text.slice(slash + 1)
  if (bytes === undefined || !/^[0-9]{1,3}$/.test(bitsText)) return undefined
  const bits = Number(bitsText)
  if (bits > bytes.length * 8) return undefined
  return {bytes, bits}
}

/** True when no bit after the prefix is set (`10.0.0.0/8`, not `10.1.2.3/8`). */
export function isCanonicalCidr(c: Cidr): boolean {
  for (let i = 0; i < c.bytes.length * 8; i++) {
    if (i < c.bits) continue
    if ((c.bytes[i >> 3]! >> (7 - (i & 7))) & 1) return false
  }
  return true
}

export interface HostPort {
  readonly host: string
  readonly port: number
}

/** Go `net.SplitHostPort` shape plus a numeric port 0–65535; undefined when malformed. */
export function parseHostPort(text: string): HostPort | undefined {
  let host: string
  let portText: string
  if (text.startsWith('[')) {
    const close = text.indexOf(']')
    if (close < 0 || text[close + 1] !== ':') return undefined
    host = text.slice(1, close)
    portText = text.slice(close + 2)
  } else {
    const colon = text.lastIndexOf(':')
    if (colon < 0) return undefined
    host = text.slice(0, colon)
    portText = text.slice(colon + 1)
    if (host.includes(':')) return undefined // unbracketed IPv6
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined
  const port = Number(portText)
  if (port > 65535) return undefined
  return {host, port}
}

/**
 * A listen address as a client on this host reaches it (`host:port`, IPv6 bracketed): a wildcard
 * host (empty or `0.0.0.0`) becomes `127.0.0.1`, `::` becomes `::1`. Undefined when malformed.
 */
export function reachableListen(listen: string): string | undefined {
  const hp = parseHostPort(listen)
  if (hp === undefined) return undefined
  const host = hp.host === '' || hp.host === '0.0.0.0' ? '127.0.0.1' : hp.host === '::' ? '::1' : hp.host
  return `${host.includes(':') ? `[${host}]` : host}:${hp.port}`
}

/** What `checkHostRule` says of one entry: the normalised rule (with a warning when it is accepted but broad), or why it is refused. */
export type HostRuleCheck = {ok: true; value: string; warning?: string} | {ok: false; message: string}

/**
 * Validates one hostname rule (§5.17) for every host list matched by the shared domain matcher
 * (`api_allowlist`, `trusted_domains`, `exempt_domains`, `subdomain_entropy_exclusions`,
 * `tls_interception.passthrough_domains`, `forward_proxy.redirect_websocket_hosts`, …):
 * lower-cased, one trailing dot removed; `*.example.com` allowed; URLs, ports, paths, whitespace
 * and other glob characters refused, since the matcher compares whole hosts and such an entry
 * would match none. Bare `*` and a wildcard over a single label (`*.com`) are refused too, except:
 * `tldWildcard` accepts `*.com` (a deny list such as `fetch_proxy.monitoring.blocklist` may block
 * a whole TLD; only lists that widen trust refuse it); `warnBroad` accepts both with a warning
 * (transports §2.6 asks warn, not reject, for `passthrough_domains`).
 */
export function checkHostRule(raw: string, opts: {readonly tldWildcard?: boolean; readonly warnBroad?: boolean} = {}): HostRuleCheck {
  let s = raw.trim().toLowerCase()
  if (s.endsWith('.')) s = s.slice(0, -1)
  if (s === '') return {ok: false, message: 'empty hostname'}
  // The matcher does not trim: " example.com" would match no host.
  if (raw !== raw.trim()) return {ok: false, message: `${JSON.stringify(raw)} has leading or trailing whitespace, so it matches no host; remove it`}
  if (s.includes('://')) return {ok: false, message: `"${raw}" is a URL; use a bare hostname`}
  if (s.includes('/')) return {ok: false, message: `"${raw}" contains a path; use a bare hostname`}
  // An address has a colon (IPv6) or only digits and dots (IPv4): only such text goes to isIP, whose
  // IPv6 expression costs about 10 ms of a start at its first use, and host lists are mostly names.
  if ((s.includes(':') || /^[\d.]+$/.test(s)) && isIP(s) !== 0) return {ok: true, value: s}
  if (s.includes(':')) return {ok: false, message: `"${raw}" contains a port; use a bare hostname`}
  if (s === '*') {
    // The matcher reads `*` as a host literally named "*": it matches nothing, not everything.
    if (opts.warnBroad === true) return {ok: true, value: s, warning: 'bare "*" matches no host: only a leading "*." is a wildcard'}
    return {ok: false, message: 'bare "*" would match every host'}
  }
  let rest = s
  let tldWarning: string | undefined
  if (s.startsWith('*.')) {
    rest = s.slice(2)
    if (!rest.includes('.') && opts.tldWildcard !== true) {
      if (opts.warnBroad !== true) return {ok: false, message: `"${raw}" wildcards a whole top-level domain`}
      tldWarning = `"${raw}" wildcards a whole top-level domain: every .${rest} host matches`
    }
  }
  if (/\s/.test(rest)) return {ok: false, message: `${JSON.stringify(raw)} contains whitespace, so it matches no host; a hostname has none`}
  if (/[*?[\]{}]/.test(rest)) return {ok: false, message: `"${raw}" contains glob characters; only a leading "*." is allowed`}
  if (rest.split('.').some((label) => label === '')) return {ok: false, message: `"${raw}" has an empty label`}
  return tldWarning === undefined ? {ok: true, value: s} : {ok: true, value: s, warning: tldWarning}
}

/** Loopback listen hosts never warrant a warning (§20.4 listen warnings). */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true
  const b = ipBytes(host)
  if (b === undefined) return false
  if (b.length === 4) return b[0] === 127
  return b.every((v, i) => (i === 15 ? v === 1 : v === 0))
}

/**
 * The IPv4 form of a CIDR inside `::ffff:0:0/96` (`::ffff:10.0.0.0/104` → `10.0.0.0/8`), else
 * undefined. The SSRF check reads an IPv4-mapped address as IPv4, so a mapped range as written
 * would match nothing.
 */
export function mappedIpv4Cidr(c: Cidr): string | undefined {
  const b = c.bytes
  if (b.length !== 16 || c.bits < 96 || b.slice(0, 10).some((x) => x !== 0) || b[10] !== 0xff || b[11] !== 0xff) return undefined
  return `${[...b.slice(12)].join('.')}/${c.bits - 96}`
}

/** Whether `ip` (bytes of the same family as the CIDR) lies in `c`. */
export function cidrHolds(c: Cidr, ip: Uint8Array): boolean {
  if (c.bytes.length !== ip.length) return false
  const bit = (b: Uint8Array, i: number): number => (b[i >> 3]! >> (7 - (i & 7))) & 1
  for (let i = 0; i < c.bits; i++) if (bit(c.bytes, i) !== bit(ip, i)) return false
  return true
}

/** Whether the CIDRs of one family (4 or 16 bytes) together cover every address of it. */
export function cidrsCoverAll(list: readonly Cidr[], size: 4 | 16): boolean {
  const width = BigInt(size * 8)
  const ranges = list.filter((c) => c.bytes.length === size).map((c) => {
    const start = [...c.bytes].reduce((n, x) => (n << 8n) | BigInt(x), 0n)
    return [start, start + (1n << (width - BigInt(c.bits))) - 1n] as const
  }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  let next = 0n // the first address not yet covered
  for (const [start, end] of ranges) {
    if (start > next) return false
    if (end + 1n > next) next = end + 1n
  }
  return ranges.length > 0 && next === 1n << width
}
