/**
 * Agent names from the request (issue 10 item 7). The `X-Pipelock-Agent` header and the `agent`
 * query parameter are client input: a name is sanitised as §3.1 says (charset, 64 chars), and a
 * name that DLP recognises as a secret is replaced by `anonymous` (and counted by the caller), so
 * a key used as an agent name is never echoed in a response, log, metric, session or receipt.
 * Metric labels are the profile (operations.md §2.4), never the name: bounded by the config.
 */
import type {PipelockConfig} from '../config/index.js'
import {cidrContains, parseCidr, parseIp, utf8HeaderValue, type Scanner} from '../scanner/index.js'

type Cidr = NonNullable<ReturnType<typeof parseCidr>>
import {resolveIdentity, sanitiseAgent, type AgentIdentity, type IdentityRequest, type IdentitySettings, type ProfileTable} from './identity.js'

/** Distinct names whose DLP verdict is remembered (bounded; forgotten wholesale when full). */
const VERDICT_CACHE_MAX = 1024

export interface AgentResolution {
  readonly identity: AgentIdentity
  /** True when the client's name was refused as a secret and `anonymous` used instead. */
  readonly rejected: boolean
}

/** The profiles bound to their own listener or source CIDR: a request naming one from elsewhere is a claim. */
export function boundProfileNames(agents: PipelockConfig['agents']): Set<string> {
  return new Set(Object.keys(agents).filter((n) => (agents[n]!.listeners ?? []).length > 0 || (agents[n]!.source_cidrs ?? []).length > 0))
}

export class AgentNames {
  private readonly identity: IdentitySettings
  private readonly table: ProfileTable
  private readonly verdicts = new Map<string, boolean>()

  /**
   * `opts.addressBinding: false`: no `source_cidrs` match (a client address that cannot tell
   * agents apart); the profiles they name stay bound all the same, so naming one is a refused claim.
   */
  constructor(private readonly scanner: Pick<Scanner, 'scanTextForDlp'>, config: Pick<PipelockConfig, 'agents' | 'default_agent_identity' | 'bind_default_agent_identity'> & {readonly exclusive_agent_binding?: boolean}, opts: {readonly addressBinding?: boolean} = {}) {
    this.identity = {
      defaultAgentIdentity: config.default_agent_identity, bindDefaultAgentIdentity: config.bind_default_agent_identity, exclusiveBinding: config.exclusive_agent_binding ?? true,
    }
    const cidrs: Array<{agent: string; cidr: Cidr}> = []
    // Registry order = sorted names; validation guarantees at most one agent matches an address.
    for (const name of opts.addressBinding === false ? [] : Object.keys(config.agents).sort()) {
      for (const text of config.agents[name]!.source_cidrs ?? []) {
        const cidr = parseCidr(text.trim())
        if (cidr !== null) cidrs.push({agent: name, cidr})
      }
    }
    this.table = {
      profiles: new Set(Object.keys(config.agents)),
      bound: boundProfileNames(config.agents),
      cidrAgent: cidrs.length === 0
        ? () => undefined
        : (ip) => {
            const bytes = parseIp(ip)
            return bytes === null ? undefined : cidrs.find((c) => cidrContains(c.cidr, bytes))?.agent
          },
    }
  }

  /** Whether `name` is a profile bound to its own listener or source CIDR (a claim of it from elsewhere is not the agent). */
  isBoundProfile(name: string): boolean {
    return this.table.bound?.has(name) === true
  }

  /** operations.md §2.2; a self-declared name DLP flags (raw or sanitised) becomes `anonymous` on `_default`. */
  resolve(r: IdentityRequest): AgentResolution {
    const identity = resolveIdentity(this.identity, this.table, r)
    if (identity.auth !== 'self-declared' || !identity.declared) return {identity, rejected: false}
    // The raw client value resolution picked: the header when it named someone, else the query.
    const raw = r.header !== undefined && r.header !== '' && identity.name === sanitiseAgent(r.header) ? r.header : (r.query ?? '')
    if (this.looksSecret(raw, identity.name)) {
      return {identity: {name: 'anonymous', profile: identity.profile, auth: 'self-declared', declared: false}, rejected: true}
    }
    return {identity, rejected: false}
  }

  /**
   * Whether the client's name spells a secret (issue 37 item 4): as sent; re-read as UTF-8 (Node
   * hands header bytes over as latin1, so a zero-width space inside a key would hide it from the
   * normaliser); sanitised; and sanitised without its separators (`_ . -`: the sanitiser turns
   * an invisible or punctuation character inside a key into `_`, and `AKIA_Q3EG…` is still the key).
   */
  private looksSecret(raw: string, name: string): boolean {
    // The name is a function of the raw value: one remembered verdict per raw value.
    const hit = this.verdicts.get(raw)
    if (hit !== undefined) return hit
    const bare = name.split('_').join('').split('.').join('').split('-').join('')
    let secret = false
    for (const t of new Set([raw, utf8HeaderValue(raw), name, bare])) {
      if (t === '') continue
      const r = this.scanner.scanTextForDlp(t)
      if (r.matches.length > 0 || r.warnings.length > 0) {
        secret = true
        break
      }
    }
    if (this.verdicts.size >= VERDICT_CACHE_MAX) this.verdicts.clear()
    this.verdicts.set(raw, secret)
    return secret
  }
}
