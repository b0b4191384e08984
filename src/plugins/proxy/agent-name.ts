/**
 * Agent names from the request (issue 10 item 7). The `X-Pipelock-Agent` header and the `agent`
 * query parameter are client input: a name is sanitised as §3.1 says (charset, 64 chars), and a
 * name that DLP recognises as a secret is replaced by `anonymous` (and counted by the caller), so
 * a key used as an agent name is never echoed in a response, log, metric, session or receipt.
 * Metric labels come from a bounded set — the configured agents and the default identity, else
 * `other` — so random names cannot grow `/metrics` without bound.
 */
import type {PipelockConfig} from '../config/index.js'
import type {Scanner} from '../scanner/index.js'
import {resolveAgent, sanitiseAgent, type IdentitySettings} from './identity.js'

export const OTHER_AGENT_LABEL = 'other'
/** Distinct names whose DLP verdict is remembered (bounded; forgotten wholesale when full). */
const VERDICT_CACHE_MAX = 1024

export interface AgentResolution {
  readonly agent: string
  /** True when the client's name was refused as a secret and `anonymous` used instead. */
  readonly rejected: boolean
}

export class AgentNames {
  private readonly identity: IdentitySettings
  private readonly known: ReadonlySet<string>
  private readonly verdicts = new Map<string, boolean>()

  constructor(private readonly scanner: Pick<Scanner, 'scanTextForDlp'>, config: Pick<PipelockConfig, 'agents' | 'default_agent_identity' | 'bind_default_agent_identity'>) {
    this.identity = {defaultAgentIdentity: config.default_agent_identity, bindDefaultAgentIdentity: config.bind_default_agent_identity}
    const known = new Set(['anonymous', ...Object.keys(config.agents).map(sanitiseAgent)])
    if (config.default_agent_identity !== '') known.add(sanitiseAgent(config.default_agent_identity))
    this.known = known
  }

  /** §3.1 precedence; a client-supplied name DLP flags (raw or sanitised) becomes `anonymous`. */
  resolve(header: string | undefined, queryAgent: string | undefined): AgentResolution {
    const agent = resolveAgent(this.identity, header, queryAgent)
    const raw = this.clientSupplied(header, queryAgent)
    if (raw === undefined || this.known.has(agent)) return {agent, rejected: false}
    if (this.isSecret(raw) || this.isSecret(agent)) return {agent: 'anonymous', rejected: true}
    return {agent, rejected: false}
  }

  /** The bounded metric label of a resolved name. */
  metricLabel(agent: string): string {
    return this.known.has(agent) ? agent : OTHER_AGENT_LABEL
  }

  /** The raw client value §3.1 picked, or undefined when the name came from the config. */
  private clientSupplied(header: string | undefined, queryAgent: string | undefined): string | undefined {
    const s = this.identity
    if (s.bindDefaultAgentIdentity && s.defaultAgentIdentity !== '') return undefined
    if (header !== undefined && header !== '') return header
    if (s.defaultAgentIdentity !== '') return undefined
    return queryAgent !== undefined && queryAgent !== '' ? queryAgent : undefined
  }

  private isSecret(name: string): boolean {
    const hit = this.verdicts.get(name)
    if (hit !== undefined) return hit
    const r = this.scanner.scanTextForDlp(name)
    const secret = r.matches.length > 0 || r.warnings.length > 0
    if (this.verdicts.size >= VERDICT_CACHE_MAX) this.verdicts.clear()
    this.verdicts.set(name, secret)
    return secret
  }
}
