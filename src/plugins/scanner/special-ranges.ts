/**
 * Special-purpose address ranges beyond the reference's core floor (issue 10 item 3), and the
 * canonical form of an address for SSRF checks: IPv4 embedded in IPv6 transition formats is
 * extracted so `[64:ff9b::7f00:1]`, `[2002:7f00:1::]` or `[::127.0.0.1]` are judged as the IPv4
 * address they route to. Checked at scan time (URL stages 8 and 14) and again at dial time.
 */
import {cidrContains, type Cidr, type IpBytes, parseCidrs, unmap} from './ip.js'

/**
 * Added to the immutable floor: the unspecified addresses (`[::]` reaches services bound on
 * `::`/`::1`), benchmarking, reserved and broadcast IPv4, the Azure metadata address, and the
 * transition prefixes whose embedded IPv4 is also checked. `64:ff9b:1::/48` (RFC 8215 local-use
 * NAT64) is refused as a whole: it never carries public traffic.
 */
export const EXTRA_CORE_CIDRS: readonly string[] = Object.freeze([
  '::/128', '198.18.0.0/15', '240.0.0.0/4', '255.255.255.255/32', '168.63.129.16/32', '64:ff9b:1::/48',
])

const NAT64 = parseCidrs(['64:ff9b::/96'])[0]!
const SIX_TO_FOUR = parseCidrs(['2002::/16'])[0]!
// IPv4-translated (RFC 2765 SIIT, `::ffff:0:a.b.c.d`): issue 37 item 7 — it was judged as an IPv6
// address, passed the scan and was refused only by the dial check, after the socket was opened.
const TRANSLATED = parseCidrs(['::ffff:0:0:0/96'])[0]!

/** The IPv4 address an IPv6 transition address routes to (NAT64 /96, 6to4, IPv4-translated, IPv4-compatible), or null. */
export function embeddedIPv4(ip: IpBytes): IpBytes | null {
  if (ip.length !== 16) return null
  if (cidrContains(NAT64, ip) || cidrContains(TRANSLATED, ip)) return ip.slice(12)
  if (cidrContains(SIX_TO_FOUR, ip)) return ip.slice(2, 6)
  // IPv4-compatible `::a.b.c.d` (deprecated, RFC 4291 §2.5.5.1); `::` and `::1` are not IPv4.
  let zeros = true
  for (let i = 0; i < 12; i++) if (ip[i] !== 0) zeros = false
  if (zeros && (ip[12]! | ip[13]! | ip[14]!) !== 0) return ip.slice(12)
  return null
}

/** The addresses an SSRF check must test for one address: itself (IPv4-mapped unmapped) and any embedded IPv4. */
export function ssrfForms(raw: IpBytes): IpBytes[] {
  const ip = unmap(raw)
  const v4 = embeddedIPv4(ip)
  return v4 === null ? [ip] : [ip, v4]
}

/**
 * The form of `raw` that lies inside `list` (the address itself or its embedded IPv4), or null.
 * Callers report that form, so `[64:ff9b::a9fe:a9fe]` is named as `169.254.169.254`.
 */
export function ssrfHit(raw: IpBytes, list: readonly Cidr[]): IpBytes | null {
  for (const f of ssrfForms(raw)) if (list.some((c) => cidrContains(c, f))) return f
  return null
}
