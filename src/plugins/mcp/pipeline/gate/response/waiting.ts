/**
 * A server message refused whole for how it was sent — a JSON-RPC batch, or over stdio one
 * message written over several lines — is never relayed; but each response in it that answers a
 * request the client is still waiting for is answered in its stead, `-32003` with that request's
 * id, so the client is told rather than left waiting for ever. A response to an id nobody is
 * waiting for gets nothing (it would be a confused deputy's answer). A transport that sent a call
 * upstream under an id of its own (`state.upstreamIds`) has it answered with the client's id; the
 * late answer to a call it cut answers nothing, even when the client's new call has that id.
 */
import {goJson, type JsonValue} from '../../../../canonical/index.js'
import {errorLine, mcpError} from '../../../jsonrpc/errors.js'
import {isObject} from '../../../jsonrpc/frame.js'
import {settleCall} from '../../in-flight.js'
import type {McpResponseGateContext} from './context.js'

/**
 * The lines to forward for the responses among `messages` that answer a waiting request (each id
 * consumed once, its call settled), `-32003` `pipelock: upstream error: <why>`; null when none does.
 */
export function answerWaiting(ctx: McpResponseGateContext, messages: readonly JsonValue[], why: string): string | null {
  const {state} = ctx.mcp
  const err = mcpError('upstream', why)
  const lines: string[] = []
  for (const m of messages) {
    if (!isObject(m) || !(m.has('result') || m.has('error'))) continue
    const id = m.get('id')
    if (id === undefined || id === null) continue
    const up = goJson(id)
    const raw = state.upstreamIds === undefined ? up : state.upstreamIds.clientId(up)
    if (raw === null || !state.tracker.consume(raw)) continue
    settleCall(state, raw)
    lines.push(errorLine(raw, err))
  }
  return lines.length === 0 ? null : lines.join('\n')
}
