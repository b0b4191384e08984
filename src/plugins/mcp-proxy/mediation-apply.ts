/**
 * Building the MCP mediation envelope (mediation.ts holds the settings): loaded on first use by
 * the scan offload, only when `mediation_envelope.enabled`.
 */
import {randomBytes} from 'node:crypto'
import {fromPlain, goJson, uuidv7, type JsonObject} from '../canonical/index.js'
import {MCP_MEDIATION_META, mcpEnvelope, mcpMediationMeta} from '../envelope/index.js'
import {isObjectValue, parseFrame, type McpDecision} from '../mcp/index.js'
import {classifyMcp} from '../recorder/index.js'
import type {McpMediation} from './mediation.js'

/**
 * The decision with its forwarded `tools/call` carrying the envelope (and `actionId` = `rid`);
 * any other decision unchanged. A `_meta` that is not an object (invalid MCP) is replaced.
 */
export function withMediation(d: McpDecision, m: McpMediation | null | undefined, nowMs: number = Date.now()): McpDecision {
  if (m === null || m === undefined || d.direction !== 'request' || d.method !== 'tools/call' || d.forward === null) return d
  if (d.verdict !== 'allow' && d.verdict !== 'warn' && d.verdict !== 'would_block') return d
  const frame = parseFrame(d.forward)
  const v = frame.value
  if (!isObjectValue(v)) return d
  const params = v.get('params')
  if (!isObjectValue(params)) return d
  const cls = classifyMcp('tools/call', d.tool)
  const rid = uuidv7(BigInt(nowMs) * 1_000_000n, randomBytes)
  const envelope = mcpEnvelope({...m, act: cls.actionType, se: cls.sideEffectClass, vd: d.verdict === 'would_block' ? 'warn' : d.verdict, rid, ts: Math.floor(nowMs / 1000)})
  let meta = params.get('_meta')
  if (!isObjectValue(meta)) {
    meta = new Map() as JsonObject
    params.set('_meta', meta)
  }
  meta.set(MCP_MEDIATION_META, fromPlain(mcpMediationMeta(envelope)))
  return {...d, forward: goJson(v), actionId: rid}
}
