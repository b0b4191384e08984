/**
 * Credentials do not follow a redirect to another origin (issue 10 item 6), the rule browsers
 * and the Fetch standard apply: once a hop leaves the origin (scheme, host, port) of the
 * request, `Authorization`, `Cookie`, `Proxy-Authorization` and the other sensitive headers of
 * §6.3 are dropped for that hop and every later one.
 */
import {DEFAULT_SENSITIVE_HEADERS} from '../scanner/index.js'

/** Headers always treated as credentials, whatever `sensitive_headers` says. */
const ALWAYS_CREDENTIALS = ['authorization', 'cookie', 'proxy-authorization', 'cookie2']

/** The WHATWG origin of an absolute URL (default ports and IDNA normalised), or null. */
export function originOf(url: string): string | null {
  try {
    const o = new URL(url).origin
    return o === 'null' ? null : o
  } catch {
    return null
  }
}

export function sameOrigin(a: string, b: string): boolean {
  const x = originOf(a)
  return x !== null && x === originOf(b)
}

/** The lower-cased names to drop on a cross-origin hop: the built-in credentials, §6.3's defaults and the configured list. */
export function credentialHeaderNames(configured: readonly string[] = []): Set<string> {
  return new Set([...ALWAYS_CREDENTIALS, ...DEFAULT_SENSITIVE_HEADERS, ...configured].map((h) => h.toLowerCase()))
}

/** `headers` without the credential headers (names compared case-insensitively). */
export function withoutCredentials<T>(headers: Record<string, T>, names: ReadonlySet<string>): Record<string, T> {
  const out: Record<string, T> = {}
  for (const [k, v] of Object.entries(headers)) if (!names.has(k.toLowerCase())) out[k] = v
  return out
}
