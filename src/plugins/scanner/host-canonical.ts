/**
 * The one canonical form of a URL host for policy decisions (issue 10 items 10, 14, 15).
 * The upstream client (undici, WHATWG URL) maps a Unicode host through IDNA/UTS #46 before it
 * resolves it, so `ｐａｓｔｅｂｉｎ.com` (fullwidth) or `paste\u200bbin.com` reach pastebin.com:
 * allow/block lists must judge that same ASCII name. node:url's `domainToASCII` implements the
 * UTS #46 mapping (NFKC-based, zero-width characters dropped) the client applies; an ASCII host
 * is left as it is, lower-cased.
 */
import {domainToASCII} from 'node:url'
import {canonicaliseAltIPv4, formatIp, inetAtonShortForm, parseIp, unmap} from './ip.js'

export type CanonicalHost = {readonly ok: true; readonly host: string} | {readonly ok: false; readonly detail: string}

/** `host` as Go's `Hostname()` reports it (brackets removed) → the name the upstream client will resolve. */
export function canonicalHostname(host: string): CanonicalHost {
  if (host === '') return {ok: false, detail: 'invalid URL: empty host'}
  const lower = host.toLowerCase()
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(lower)) return {ok: true, host: lower}
  if (lower.includes(':')) return {ok: false, detail: 'invalid URL: non-ASCII IP literal'}
  const ascii = domainToASCII(lower.normalize('NFKC'))
  if (ascii === '') return {ok: false, detail: 'invalid URL: host is not a valid internationalised domain name'}
  return {ok: true, host: ascii.toLowerCase()}
}

/**
 * One spelling per IP address for per-host state (rate limit, data budget): `8.8.8.8.`,
 * `0x08080808`, `134744072`, `010.010.010.010`, `8.8.2056` and `::ffff:8.8.8.8` all become
 * `8.8.8.8`; IPv6 is printed in RFC 5952 form. A name is returned unchanged.
 */
export function canonicalIpSpelling(host: string): string {
  const h = host.endsWith('.') ? host.slice(0, -1) : host
  const alt = canonicaliseAltIPv4(h) ?? inetAtonShortForm(h)
  const ip = parseIp(alt ?? h)
  return ip === null ? host : formatIp(unmap(ip))
}
