/**
 * IP helpers: Go-style strict parsing, alternative IPv4 notations (§5.1), CIDR containment,
 * IPv4-mapped IPv6 normalisation and zone stripping (§5.12). Bytes are plain arrays (4 or 16).
 */

export type IpBytes = readonly number[]

/**
 * Strict dotted-decimal IPv4 (Go's ParseIP: no leading zeros, each part ≤ 255). One pass over the
 * code units, no `split` or string iterator: a URL scan parses its host several times (bench: proxy).
 */
export function parseIPv4(s: string): IpBytes | null {
  const out: number[] = []
  let v = 0
  let len = 0
  let lead = 0
  for (let i = 0; i <= s.length; i++) {
    // The end of the string closes the last part like a dot.
    const c = i < s.length ? s.charCodeAt(i) : 0x2e
    if (c === 0x2e) {
      if (len === 0 || (len > 1 && lead === 0x30) || v > 255 || out.length === 4) return null
      out.push(v)
      v = 0
      len = 0
    } else if (c >= 0x30 && c <= 0x39) {
      if (++len > 3) return null
      if (len === 1) lead = c
      v = v * 10 + (c - 0x30)
    } else return null
  }
  return out.length === 4 ? out : null
}

function parseHex16(s: string): number | null {
  if (s.length === 0 || s.length > 4) return null
  let v = 0
  for (const c of s.toLowerCase()) {
    const d = '0123456789abcdef'.indexOf(c)
    if (d < 0) return null
    v = v * 16 + d
  }
  return v
}

/** IPv6 (with optional embedded IPv4 tail); zone must already be stripped. */
export function parseIPv6(s: string): IpBytes | null {
  if (!s.includes(':')) return null
  const dbl = s.indexOf('::')
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return null
  const parseGroups = (part: string): number[] | null => {
    if (part === '') return []
    const groups = part.split(':')
    const out: number[] = []
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g)
        if (v4 === null) return null
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!)
        continue
      }
      const v = parseHex16(g)
      if (v === null) return null
      out.push(v)
    }
    return out
  }
  let words: number[]
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl))
    const tail = parseGroups(s.slice(dbl + 2))
    if (head === null || tail === null || head.length + tail.length > 7) return null
    words = [...head, ...Array(8 - head.length - tail.length).fill(0), ...tail]
  } else {
    const all = parseGroups(s)
    if (all === null || all.length !== 8) return null
    words = all
  }
  const out: number[] = []
  for (const w of words) out.push(w >> 8, w & 0xff)
  return out
}

export function stripZone(s: string): string {
  const i = s.indexOf('%')
  return i >= 0 ? s.slice(0, i) : s
}

/** Parses an IP literal (v4 strict, or v6 with zone stripped). */
export function parseIp(s: string): IpBytes | null {
  return parseIPv4(s) ?? parseIPv6(stripZone(s))
}

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) → the IPv4 bytes; others unchanged. */
export function unmap(ip: IpBytes): IpBytes {
  if (ip.length !== 16) return ip
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return ip
  if (ip[10] !== 0xff || ip[11] !== 0xff) return ip
  return ip.slice(12)
}

export function formatIp(ip: IpBytes): string {
  if (ip.length === 4) return ip.join('.')
  const words: number[] = []
  for (let i = 0; i < 16; i += 2) words.push((ip[i]! << 8) | ip[i + 1]!)
  // Longest run of ≥ 2 zero words collapses to `::` (RFC 5952, as Go prints).
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++
      continue
    }
    let k = i
    while (k < 8 && words[k] === 0) k++
    if (k - i > bestLen && k - i >= 2) {
      bestStart = i
      bestLen = k - i
    }
    i = k
  }
  const hex = words.map((w) => w.toString(16))
  if (bestStart < 0) return hex.join(':')
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':')
}

/** Go strconv base-0 unsigned parse: `0x`, `0o`, `0b`, leading-0 octal, decimal. */
function parseAutoBase(s: string): {value: bigint; nonStandard: boolean} | null {
  if (s.length === 0) return null
  let base = 10
  let digits = s
  let nonStandard = false
  const l = s.toLowerCase()
  if (l.startsWith('0x')) {
    base = 16
    digits = s.slice(2)
    nonStandard = true
  } else if (l.startsWith('0o')) {
    base = 8
    digits = s.slice(2)
    nonStandard = true
  } else if (l.startsWith('0b')) {
    base = 2
    digits = s.slice(2)
    nonStandard = true
  } else if (s.length > 1 && s[0] === '0') {
    base = 8
    digits = s.slice(1)
    nonStandard = true
  }
  if (digits.length === 0 || digits.length > 40) return null
  let v = 0n
  for (const c of digits.toLowerCase()) {
    const d = '0123456789abcdef'.indexOf(c)
    if (d < 0 || d >= base) return null
    v = v * BigInt(base) + BigInt(d)
  }
  return {value: v, nonStandard}
}

/**
 * §5.1: decode alternative IPv4 notations to dotted decimal, or null when the host is not one.
 * Four parts with at least one non-standard part (hex prefix, leading zero), or a single integer
 * ≤ 2³²−1. Short forms like `127.1` are deliberately left alone (caught after DNS, §5.12).
 */
export function canonicaliseAltIPv4(host: string): string | null {
  // Dotted decimal without leading zeros (`127.0.0.1`) has no non-standard part: null, without
  // the split and the BigInt parse of each part (the URL scan runs this on every request).
  if (isPlainDottedDecimal(host)) return null
  return canonicaliseAltIPv4Parsed(host)
}

/** Four non-empty dot-separated runs of decimal digits, none with a leading zero. */
function isPlainDottedDecimal(host: string): boolean {
  let parts = 1
  let run = 0
  let lead = 0
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i)
    if (c === 0x2e) {
      if (run === 0 || (run > 1 && lead === 0x30)) return false
      parts++
      run = 0
    } else if (c >= 0x30 && c <= 0x39) {
      if (run === 0) lead = c
      run++
    } else return false
  }
  return parts === 4 && run > 0 && !(run > 1 && lead === 0x30)
}

/** `canonicaliseAltIPv4` without its dotted-decimal shortcut (the differential test's oracle). */
export function canonicaliseAltIPv4Parsed(host: string): string | null {
  const parts = host.split('.')
  if (parts.length === 4) {
    let nonStandard = false
    const out: number[] = []
    for (const p of parts) {
      const r = parseAutoBase(p)
      if (r === null || r.value > 255n) return null
      if (r.nonStandard) nonStandard = true
      out.push(Number(r.value))
    }
    return nonStandard ? out.join('.') : null
  }
  if (parts.length === 1) {
    const r = parseAutoBase(host)
    if (r === null || r.value > 0xffffffffn) return null
    const v = Number(r.value)
    return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.')
  }
  return null
}

export interface Cidr {
  readonly text: string
  readonly base: IpBytes
  readonly bits: number
}

export function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf('/')
  if (slash < 0) return null
  const ip = parseIp(s.slice(0, slash))
  const bitsText = s.slice(slash + 1)
  if (ip === null || !/^[0-9]{1,3}$/.test(bitsText)) return null
  const bits = Number(bitsText)
  if (bits > ip.length * 8) return null
  return {text: s, base: ip, bits}
}

export function cidrContains(c: Cidr, ipIn: IpBytes): boolean {
  const ip = c.base.length === 4 ? unmap(ipIn) : ipIn
  if (ip.length !== c.base.length) return false
  let bits = c.bits
  for (let i = 0; i < ip.length && bits > 0; i++) {
    const take = Math.min(8, bits)
    const mask = (0xff << (8 - take)) & 0xff
    if ((ip[i]! & mask) !== (c.base[i]! & mask)) return false
    bits -= take
  }
  return true
}

export function parseCidrs(list: readonly string[]): Cidr[] {
  const out: Cidr[] = []
  for (const s of list) {
    const c = parseCidr(s.trim())
    if (c !== null) out.push(c)
  }
  return out
}

/** §5.13 core CIDRs (immutable floor). */
export const CORE_SSRF_CIDRS: readonly string[] = Object.freeze([
  '0.0.0.0/8', '127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10',
  '::1/128', 'fc00::/7', 'fe80::/10',
])

/** Cloud metadata endpoints (label `ssrf_metadata`). */
export const METADATA_IPS: readonly string[] = Object.freeze(['169.254.169.254', '168.63.129.16', 'fd00:ec2::254'])

export function isMetadataIp(ip: IpBytes): boolean {
  const u = unmap(ip)
  return METADATA_IPS.some((m) => {
    const p = parseIp(m)!
    return p.length === u.length && p.every((b, i) => b === u[i])
  })
}

/**
 * inet_aton short forms (`127.1`, `0x7f.1`, `10.0.1`): what getaddrinfo would return for them.
 * Used only by the SSRF stage to test such hosts directly instead of trusting the resolver (§25.2).
 */
export function inetAtonShortForm(host: string): string | null {
  const parts = host.split('.')
  if (parts.length !== 2 && parts.length !== 3) return null
  const vals: bigint[] = []
  for (const p of parts) {
    const r = parseAutoBase(p)
    if (r === null) return null
    vals.push(r.value)
  }
  let v: bigint
  if (parts.length === 2) {
    if (vals[0]! > 255n || vals[1]! > 0xffffffn) return null
    v = (vals[0]! << 24n) | vals[1]!
  } else {
    if (vals[0]! > 255n || vals[1]! > 255n || vals[2]! > 0xffffn) return null
    v = (vals[0]! << 24n) | (vals[1]! << 16n) | vals[2]!
  }
  const n = Number(v)
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
}
