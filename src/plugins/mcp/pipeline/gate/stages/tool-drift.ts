/**
 * A tools/call by the name of a tool held for a blocked rug-pull (mcp.md §6.3 step 5, fix Q5
 * carried to the calls): the server changed the tool's definition after the client first saw it,
 * the changed list never reached the client, so the call would run whatever the server now does
 * under a description the client was never shown. A finding for `mode`, always `block`.
 */
import type {McpGateStage} from '../context.js'

export const toolDriftStage: McpGateStage = {
  id: 'tool_drift',
  run(ctx) {
    // A reload that turned drift detection off turned its holds off with it.
    if (!ctx.isCall || ctx.frame.toolName === '' || !ctx.mcp.settings.toolScan.detectDrift) return false
    const tool = ctx.frame.toolName
    const summary = ctx.mcp.state.baseline.heldDrift(tool)
    if (summary === undefined) return false
    ctx.drift = {reason: `tool_drift:${tool}`, tool}
    ctx.base.notes.push(`${ctx.at}tools/call "${tool}" held: its definition changed since it was first listed (${summary}); restart the session to take the new definition`)
    ctx.reasons.push(ctx.drift.reason)
    return false
  },
}
