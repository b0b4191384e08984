/**
 * The MCP form of the mediation envelope (spec §1 table, §2.2 "MCP form"; configuration reference
 * "Mediation Envelope": `_meta["com.pipelock/mediation"]`): the members of the `Pipelock-Mediation`
 * header as one JSON object, injected into the `params._meta` of a forwarded `tools/call`. Never
 * signed (spec §1: an MCP message has no RFC 9421 home). Members keep the header's order (§2.1);
 * `ph` is `sha256-128:` + padded base64 of the 16 policy-hash bytes.
 */
import {formatActor, type ActorFormat} from './spiffe.js'
import {policyHashBytes, type Envelope} from './mediation.js'

/** The `_meta` key a forwarded `tools/call` carries (inbound copies are deleted by the MCP pipeline). */
export const MCP_MEDIATION_META = 'com.pipelock/mediation'

export type McpMediationMeta = Readonly<Record<string, string | number | boolean>>

/** The JSON members of an envelope, in the header's member order (§2.1). */
export function mcpMediationMeta(e: Envelope): McpMediationMeta {
  const out: Record<string, string | number | boolean> = {
    v: e.v, act: e.act, vd: e.vd, se: e.se, actor: e.actor, aa: e.aa,
    ph: `sha256-128:${e.ph.toString('base64')}`,
    rid: e.rid, ts: e.ts,
  }
  for (const k of ['taint', 'task', 'auth', 'authr'] as const) {
    const v = e[k]
    if (v !== undefined && v !== '') out[k] = v
  }
  if (e.reauth === true) out.reauth = true
  if (e.hop !== undefined && e.hop > 0) out.hop = e.hop
  return out
}

/** What an MCP proxy knows about a forwarded `tools/call` when it builds its envelope. */
export interface McpEnvelopeInput {
  /** The agent the proxy runs for; '' = anonymous. */
  readonly agent: string
  /** `bound` when the operator bound the process to the agent (`--agent`), else `self-declared`. */
  readonly aa: 'bound' | 'matched' | 'config-default' | 'self-declared'
  readonly actorFormat: ActorFormat
  readonly trustDomain: string
  /** `sha256:<hex>` of the running config. */
  readonly configHash: string
  /** Action class and side effect of the call (the receipt's classification). */
  readonly act: string
  readonly se: string
  /** `allow`, or `warn` for a call forwarded with findings. */
  readonly vd: 'allow' | 'warn'
  /** The action_id of the call's receipt. */
  readonly rid: string
  /** Unix seconds. */
  readonly ts: number
}

/** The envelope of a forwarded `tools/call` (taint/auth as on HTTP: E1 replicated). */
export function mcpEnvelope(i: McpEnvelopeInput): Envelope {
  return {
    v: 1, act: i.act, vd: i.vd, se: i.se,
    actor: formatActor(i.agent, i.actorFormat, i.trustDomain),
    aa: i.aa, ph: policyHashBytes(i.configHash), rid: i.rid, ts: i.ts,
    taint: 'trusted', auth: 'user_broad',
  }
}
