/**
 * SPIFFE actor IDs (spec §7): `spiffe://<trust_domain>/agent/<agent>`. Parsed with a grammar,
 * not a URL parser: authority and segments are `[A-Za-z0-9._-]+`, never `.`/`..`, no port, no
 * userinfo, not an IP literal (spec §7.2; stricter than the reference, documented).
 */
const DOMAIN = /^[a-z0-9._-]+$/
const SEGMENT = /^[A-Za-z0-9._-]+$/
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/

export type ActorFormat = 'spiffe' | 'legacy'

export type ParsedActor =
  | {readonly spiffe: true; readonly id: string; readonly trustDomain: string; readonly path: string}
  | {readonly spiffe: false; readonly id: string}

/** A DNS-shaped trust domain (spec §7.3, port form): lower-case `[a-z0-9._-]+`, not an IP. */
export function isTrustDomain(d: string): boolean {
  return DOMAIN.test(d) && !IPV4.test(d)
}

export class ActorError extends Error {}

/** Strict or permissive (legacy) actor parse (spec §7.2). */
export function parseActor(text: string, strict: boolean): ParsedActor {
  const s = text.trim()
  if (s === '') throw new ActorError('actor must not be empty')
  if (!/^spiffe:\/\//i.test(s)) {
    if (strict) throw new ActorError('actor must be a SPIFFE ID')
    return {spiffe: false, id: s}
  }
  const rest = s.slice('spiffe://'.length)
  const slash = rest.indexOf('/')
  const authority = slash < 0 ? rest : rest.slice(0, slash)
  const path = slash < 0 ? '' : rest.slice(slash)
  if (authority === '') throw new ActorError('SPIFFE ID trust domain is empty')
  if (authority.includes('@')) throw new ActorError('SPIFFE ID must not contain userinfo')
  if (authority.includes(':') || authority.startsWith('[')) throw new ActorError('SPIFFE ID trust domain must not contain a port')
  const domain = authority.toLowerCase()
  if (!isTrustDomain(domain)) throw new ActorError('SPIFFE ID trust domain is not DNS-shaped')
  if (/[?#]/.test(path)) throw new ActorError('SPIFFE ID must not contain a query or fragment')
  if (path === '' || path === '/') throw new ActorError('SPIFFE ID path is empty')
  for (const seg of path.slice(1).split('/')) {
    if (!SEGMENT.test(seg) || seg === '.' || seg === '..') throw new ActorError('SPIFFE ID path is not canonical')
  }
  return {spiffe: true, id: s, trustDomain: domain, path}
}

/** The actor for an agent name (spec §7.1). */
export function formatActor(agent: string, format: ActorFormat, trustDomain: string): string {
  const name = agent === '' ? 'anonymous' : agent
  if (format === 'legacy') return name
  if (/^spiffe:\/\//i.test(name)) {
    parseActor(name, true)
    return name
  }
  let seg = [...name].map((c) => (/[A-Za-z0-9._-]/.test(c) ? c : '-')).join('').replace(/^-+|-+$/g, '')
  // Spec §7.1 fix (E14): `.` and `..` are not canonical segments; they become `anonymous`.
  if (seg === '' || seg === '.' || seg === '..') seg = 'anonymous'
  return `spiffe://${trustDomain.toLowerCase()}/agent/${seg}`
}
