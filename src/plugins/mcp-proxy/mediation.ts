/**
 * The mediation envelope on MCP (envelope-redaction spec §1, §2.2 "MCP form"): a `tools/call` the
 * pipeline forwards (allow or warn) carries `params._meta["com.pipelock/mediation"]`, built by the
 * envelope plugin from local facts only (a client's copy was already deleted by the request
 * pipeline). Unsigned, as in the reference. Applied in the one place every MCP transport gets its
 * request decision (`McpScanOffload.decideRequest`), so stdio, the HTTP bridge, the WebSocket
 * bridge and the HTTP listener (also under `run --mcp-listen`) forward the same envelope. `rid`
 * becomes the call's receipt `action_id`. This file holds the settings; building the envelope
 * (`mediation-apply.ts`, which classifies the tool as receipts do) loads on the first forwarded
 * call of a config that enables it, so a wrap without envelopes never loads it (start-up laziness).
 */
import {ConfigFieldError, configHash, envelopeSettings, type PipelockConfig} from '../config/index.js'
import type {McpEnvelopeInput} from '../envelope/index.js'

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
