/**
 * Domain matching (§5.17): lower-case, strip one trailing dot; `*.example.com` matches the apex
 * and any subdomain; everything else (IPs included) matches exactly.
 */
export function normaliseHost(h: string): string {
  const l = h.toLowerCase()
  return l.endsWith('.') ? l.slice(0, -1) : l
}

export function matchDomain(host: string, pattern: string): boolean {
  const h = normaliseHost(host)
  const p = normaliseHost(pattern)
  if (p.startsWith('*.')) {
    const base = p.slice(2)
    return h === base || h.endsWith('.' + base)
  }
  return h === p
}

/** The first pattern that matches, or null. */
export function matchesAnyDomain(host: string, patterns: readonly string[]): string | null {
  for (const p of patterns) if (matchDomain(host, p)) return p
  return null
}
