/**
 * The taint gate (policy-extra §1.10), the last request gate: a `block`, or an `ask` — which no
 * operator can answer on an MCP message here, so it is denied — is `-32002 pipelock: <reason>`,
 * receipt layer `mcp_tool_taint`, severity critical (block) / high (ask). In audit mode
 * (`enforce: false`) it is recorded as a would-block and the call forwarded, as on HTTP.
 */
import {mcpError} from '../../../jsonrpc/errors.js'
import {holdOrAnswer, type McpGateStage} from '../context.js'

export const taintStage: McpGateStage = {
  id: 'taint',
  run(ctx) {
    const v = ctx.isCall ? ctx.sess?.taintCall?.(ctx.frame.toolName, ctx.frame.args) ?? null : null
    if (v === null) return false
    const {id, toolName: tool} = ctx.frame
    const gate = v.decision === 'block' ? 'taint_block' : 'taint_ask_denied'
    ctx.base.notes.push(id === null ? `blocked notification (no response sent): ${gate} ${v.reason}` : `${ctx.at}tools/call "${tool}" ${gate}: ${v.reason} (${v.actionRef})`)
    ctx.sess?.signal('block', tool, v.reason)
    return holdOrAnswer(ctx, 'taint', 'mcp_tool_taint', mcpError('taint', v.reason), [`${gate}:${v.reason}`], {...ctx.contract, pattern: v.reason, severity: v.decision === 'block' ? 'critical' : 'high'})
  },
}
