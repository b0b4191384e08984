/** Agent identity and session key (§3.1, §3.2). */

export interface IdentitySettings {
  readonly defaultAgentIdentity: string
  readonly bindDefaultAgentIdentity: boolean
  /**
   * [beyond] `exclusive_agent_binding` (default true): a profile bound to a listener or source CIDR
   * is refused when a request names it from anywhere else (docs/compatibility.md, "Agent identity").
   */
  readonly exclusiveBinding?: boolean
}

/** Every char outside `[a-zA-Z0-9._-]` → `_`, at most 64 chars, empty → `anonymous`. */
export function sanitiseAgent(name: string): string {
  const s = [...name].map((c) => (/^[a-zA-Z0-9._-]$/.test(c) ? c : '_')).join('').slice(0, 64)
  return s === '' ? 'anonymous' : s
}

/** Precedence: bound default > `X-Pipelock-Agent` header > default > `agent` query param > anonymous. */
export function resolveAgent(s: IdentitySettings, header: string | undefined, queryAgent: string | undefined): string {
  if (s.bindDefaultAgentIdentity && s.defaultAgentIdentity !== '') return sanitiseAgent(s.defaultAgentIdentity)
  if (header !== undefined && header !== '') return sanitiseAgent(header)
  if (s.defaultAgentIdentity !== '') return sanitiseAgent(s.defaultAgentIdentity)
  if (queryAgent !== undefined && queryAgent !== '') return sanitiseAgent(queryAgent)
  return 'anonymous'
}

/** `"<agent>|<clientIP>"`, or the bare IP for anonymous; forwarding headers never count. */
export function sessionKey(agent: string, clientIp: string): string {
  return agent === 'anonymous' ? clientIp : `${agent}|${clientIp}`
}

/** Remote address as Go reports the host part: IPv4-mapped IPv6 shown as IPv4. */
export function clientIpOf(remote: string | undefined): string {
  if (remote === undefined) return ''
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote
}

/**
 * How an identity was established (operations.md §2.1): `bound` (agent listener), `matched` (a
 * source CIDR, or a self-declared name equal to a configured profile), `config-default`
 * (`default_agent_identity`), `self-declared` (header / query naming no profile, or nothing).
 */
export type IdentityAuth = 'bound' | 'matched' | 'config-default' | 'self-declared'

/** The one identity of a request, resolved once (operations.md §2.1). */
export interface AgentIdentity {
  /** Display identity (audit `agent`, session keys, receipts' `actor`, capture); `anonymous` when none. */
  readonly name: string
  /** The profile whose config applies; also the bounded metric label. */
  readonly profile: string
  readonly auth: IdentityAuth
  /** True when the name came from the client (header or query), whatever it matched. */
  readonly declared: boolean
  /** Why the request is refused at the identity stage: it named a profile bound elsewhere. */
  readonly refused?: string
}

/**
 * Whether the deployment bound this identity (a listener, a source CIDR): only then is the name
 * the client's own. Anything else is a claim, so what a session earned (escalation, airlock, a
 * spent budget) is also held for the client's address (issue 37 item 1).
 */
export function isBound(id: Pick<AgentIdentity, 'auth' | 'declared'>): boolean {
  return id.auth === 'bound' || (id.auth === 'matched' && !id.declared)
}

export const FALLBACK_PROFILE = '_default'

/** What resolution needs from the config: profile names and the source-CIDR table. */
export interface ProfileTable {
  readonly profiles: ReadonlySet<string>
  /** Profiles with `listeners` or `source_cidrs`: their names are the binding's, not a client's to claim. */
  readonly bound?: ReadonlySet<string>
  /** Match the socket peer IP (already IPv4-unmapped) against one agent's CIDRs. */
  readonly cidrAgent: (clientIp: string) => string | undefined
}

export interface IdentityRequest {
  /** The profile of the agent listener the request arrived on. */
  readonly bound?: string
  readonly clientIp: string
  readonly header?: string
  /** The `agent` query parameter — passed only on `/fetch` (and `/ws`), never for a forward-proxy target (Q-A4). */
  readonly query?: string
}

/** operations.md §2.2, rows 1–7, first hit wins. */
export function resolveIdentity(s: IdentitySettings, t: ProfileTable, r: IdentityRequest): AgentIdentity {
  if (r.bound !== undefined) return {name: r.bound, profile: r.bound, auth: 'bound', declared: false}
  const cidr = t.cidrAgent(r.clientIp)
  if (cidr !== undefined) return {name: cidr, profile: cidr, auth: 'matched', declared: false}
  const dflt = (): AgentIdentity => {
    const name = sanitiseAgent(s.defaultAgentIdentity)
    return {name, profile: t.profiles.has(name) ? name : FALLBACK_PROFILE, auth: 'config-default', declared: false}
  }
  const declared = (raw: string): AgentIdentity => {
    const name = sanitiseAgent(raw)
    if (s.exclusiveBinding !== false && t.bound?.has(name) === true) {
      return {
        name, profile: FALLBACK_PROFILE, auth: 'self-declared', declared: true,
        refused: `agent "${name}" is bound to its own listener or source CIDR; a request naming it from ${r.clientIp === '' ? 'elsewhere' : r.clientIp} is refused`,
      }
    }
    return t.profiles.has(name) ? {name, profile: name, auth: 'matched', declared: true} : {name, profile: FALLBACK_PROFILE, auth: 'self-declared', declared: true}
  }
  if (s.bindDefaultAgentIdentity && s.defaultAgentIdentity !== '') return dflt()
  // Q-A1 (replicated): a header naming `anonymous` counts as absent and falls through.
  if (r.header !== undefined && r.header !== '' && sanitiseAgent(r.header) !== 'anonymous') return declared(r.header)
  if (s.defaultAgentIdentity !== '') return dflt()
  if (r.query !== undefined && r.query !== '' && sanitiseAgent(r.query) !== 'anonymous') return declared(r.query)
  return {name: 'anonymous', profile: FALLBACK_PROFILE, auth: 'self-declared', declared: false}
}
