/**
 * Tool definitions of a tools/list (mcp.md §6): poisoning findings and definition drift against
 * the session's baseline; the action (upgraded by the session level) blocks, or the findings are
 * kept for the warn of a forwarded message. A blocked drift holds the drifted tools (their calls
 * are refused by the request gate's `tool_drift` stage): the client keeps the first definition,
 * the server behind it is no longer the one it described.
 */
import {mcpError} from '../../../../jsonrpc/errors.js'
import {toolsListOf} from '../../../../scan/response.js'
import {decodeTools, driftMembers, toolHash} from '../../../../tools/scan.js'
import {decide, replace, upgrade, type McpResponseStage} from '../context.js'

export const toolScanStage: McpResponseStage = {
  id: 'tool_scan',
  run(ctx) {
    const {settings, state} = ctx.mcp
    const notes = ctx.base.notes
    const tools = (ctx.tools = settings.toolScan.enabled ? toolsListOf(ctx.msg!) : null)
    if (tools === null) return false
    const defs = (ctx.defs = decodeTools(tools))
    const toolFindings = ctx.toolFindings
    const drifted: Array<[string, string]> = []
    for (const def of defs) {
      const result = ctx.scans!.tools?.[def.index]
      const findings = [...(result?.findings ?? [])]
      const params = result?.params ?? []
      let drift: string | null = null
      if (settings.toolScan.detectDrift && def.name !== '') {
        const members = driftMembers(def)
        drift = state.baseline.checkDrift(def.name, toolHash(def, members), def.description, params, members)
      }
      if (drift !== null) {
        findings.push('definition-drift')
        drifted.push([def.name, drift])
      }
      if (findings.length === 0) continue
      const label = def.name === '' ? `#${def.index}` : def.name
      notes.push(`${ctx.at}tool "${label}": ${findings.join(', ')}`)
      if (drift !== null) notes.push(`  ${drift}`)
      toolFindings.push(...findings.map((f) => `${label}:${f}`))
    }
    const toolAction = toolFindings.length > 0 ? upgrade(ctx, settings.toolScan.action, 'mcp_tool_scan') : settings.toolScan.action
    if (toolFindings.length > 0) ctx.sess?.signal(toolAction === 'block' ? 'block' : 'near_miss', 'tools/list', toolFindings.join(', '))
    if (toolFindings.length > 0 && toolAction === 'block') {
      for (const [name, summary] of drifted) state.baseline.holdDrifted(name, summary)
      return decide(ctx, replace(ctx, 'tool_scan', 'mcp_tool_scanning', mcpError('tool_poisoning'), toolFindings))
    }
    return false
  },
}
