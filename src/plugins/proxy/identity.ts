/** Agent identity and session key (§3.1, §3.2). */

export interface IdentitySettings {
  readonly defaultAgentIdentity: string
  readonly bindDefaultAgentIdentity: boolean
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
