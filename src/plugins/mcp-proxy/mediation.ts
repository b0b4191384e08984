/**
 * The mediation envelope on MCP (envelope-redaction spec §1, §2.2 "MCP form"): a `tools/call` the
 * pipeline forwards (allow or warn) carries `params._meta["com.pipelock/mediation"]`, built by the
 * envelope plugin from local facts only (a client's copy was already deleted by the request
 * pipeline). Unsigned, as in the reference. Applied in the one place every MCP transport gets its
 * request decision (`McpScanOffload.decideRequest`), so stdio, the HTTP bridge, the WebSocket
 * bridge and the HTTP listener (also under `run --mcp-listen`) forward the same envelope. `rid`
 * becomes the call's receipt `action_id`.
 */
import {randomBytes} from 'node:crypto'
import {fromPlain, goJson, uuidv7, type JsonObject} from '../canonical/index.js'
import {ConfigFieldError, configHash, envelopeSettings, type PipelockConfig} from '../config/index.js'
import {MCP_MEDIATION_META, mcpEnvelope, mcpMediationMeta, type McpEnvelopeInput} from '../envelope/index.js'
import {isObjectValue, parseFrame, type McpDecision} from '../mcp/index.js'
import {classifyMcp} from '../recorder/index.js'

/** What a runtime needs to build envelopes: fixed per config snapshot. */
export type McpMediation = Pick<McpEnvelopeInput, 'agent' | 'aa' | 'actorFormat' | 'trustDomain' | 'configHash'>

/** The MCP envelope settings of a config (null unless `mediation_envelope.enabled`). */
export function mcpMediation(c: PipelockConfig, agent: string): McpMediation | null {
  if (!c.mediation_envelope.enabled) return null
  // The same validation as `pipelock check` and `pipelock run` (a bad field was refused at load).
  const s = envelopeSettings(c.mediation_envelope, (path, message) => {
    throw new ConfigFieldError(path, message)
  })
  const named = agent !== '' && agent !== '_default'
  return {agent: named ? agent : '', aa: named ? 'bound' : 'self-declared', actorFormat: s.actorFormat, trustDomain: s.trustDomain, configHash: configHash(c)}
}

/**
 * The decision with its forwarded `tools/call` carrying the envelope (and `actionId` = `rid`);
 * any other decision unchanged. A `_meta` that is not an object (invalid MCP) is replaced.
 */
export function withMediation(d: McpDecision, m: McpMediation | null | undefined, nowMs: number = Date.now()): McpDecision {
  if (m === null || m === undefined || d.direction !== 'request' || d.method !== 'tools/call' || d.forward === null) return d
  if (d.verdict !== 'allow' && d.verdict !== 'warn') return d
  const frame = parseFrame(d.forward)
  const v = frame.value
  if (!isObjectValue(v)) return d
  const params = v.get('params')
  if (!isObjectValue(params)) return d
  const cls = classifyMcp('tools/call', d.tool)
  const rid = uuidv7(BigInt(nowMs) * 1_000_000n, randomBytes)
  const envelope = mcpEnvelope({...m, act: cls.actionType, se: cls.sideEffectClass, vd: d.verdict, rid, ts: Math.floor(nowMs / 1000)})
  let meta = params.get('_meta')
  if (!isObjectValue(meta)) {
    meta = new Map() as JsonObject
    params.set('_meta', meta)
  }
  meta.set(MCP_MEDIATION_META, fromPlain(mcpMediationMeta(envelope)))
  return {...d, forward: goJson(v), actionId: rid}
}
