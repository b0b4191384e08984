/** Session binding (mcp.md §9): a tools/call for a tool outside the session's baseline is a finding for `mode`. */
import type {McpGateStage} from '../context.js'

export const sessionBindingStage: McpGateStage = {
  id: 'session_binding',
  run(ctx) {
    const settings = ctx.mcp.settings.binding
    if (!ctx.isCall || settings === null) return false
    const tool = ctx.frame.toolName
    const f = ctx.mcp.state.baseline.bindingFinding(tool)
    if (f === null) return false
    ctx.binding = {reason: `session_binding:${f}`, action: f === 'no_baseline' ? settings.noBaselineAction : settings.unknownToolAction}
    ctx.base.notes.push(
      f === 'missing_tool_name' ? `${ctx.at}tools/call missing params.name`
        : f === 'no_baseline' ? `${ctx.at}tools/call "${tool}" before baseline established`
          : `${ctx.at}tools/call "${tool}" not in session baseline`,
    )
    ctx.reasons.push(ctx.binding.reason)
    return false
  },
}
