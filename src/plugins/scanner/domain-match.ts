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

/**
 * Validation rule for hostname lists (`trusted_domains`, `exempt_domains`,
 * `subdomain_entropy_exclusions`): rejects bare `*`, `*.tld`, URLs, ports and other globs.
 * Returns an error message or null. Exposed for the config plugin.
 */
export function validateHostnameRule(rule: string): string | null {
  const r = normaliseHost(rule.trim())
  if (r === '' ) return 'empty hostname'
  if (r === '*') return 'bare wildcard "*" is not allowed'
  if (r.includes('://') || r.includes('/')) return 'must be a hostname, not a URL'
  if (!r.startsWith('[') && r.includes(':') && !r.includes('::') && r.split(':').length === 2) return 'ports are not allowed'
  const body = r.startsWith('*.') ? r.slice(2) : r
  if (body.includes('*') || body.includes('?') || body.includes('[') || body.includes(']')) return 'glob characters are not allowed'
  if (r.startsWith('*.') && !body.includes('.')) return 'wildcard on a single label is not allowed'
  return null
}
