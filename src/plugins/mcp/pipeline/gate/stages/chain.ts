/** Tool-chain detection (mcp.md §11): a `block` pattern answers (a would-block in audit mode); any other match is a finding for `mode`. */
import {mcpError} from '../../../jsonrpc/errors.js'
import {holdOrAnswer, type McpGateStage} from '../context.js'

export const chainStage: McpGateStage = {
  id: 'chain',
  run(ctx) {
    const {state, deps} = ctx.mcp
    const frame = ctx.frame
    if (!ctx.isCall || frame.toolName === '' || state.chains === null) return false
    const chain = state.chains.observe(state.chainKey, frame.toolName, frame.text, deps.now())
    if (chain === null) return false
    ctx.chain = chain
    ctx.base.notes.push(`chain detected: ${chain.pattern} (severity=${chain.severity}, action=${chain.action})`)
    ctx.base.facts.push({kind: 'chain_detection', action: chain.action, name: chain.pattern, detail: frame.toolName, severity: chain.severity})
    if (chain.action === 'block') {
      ctx.sess?.signal('block', frame.toolName, `chain:${chain.pattern}`)
      // A chain completed earlier refuses every classified call while it stays in the window: say
      // so, and for how long, instead of naming it as if this call had just made it.
      const err = chain.earlier === undefined
        ? mcpError('chain', chain.pattern)
        : mcpError('chain_window', `"${chain.pattern}" detected earlier is still in the window (for up to ${chain.earlier.seconds} s or ${chain.earlier.calls} more classified calls)`)
      return holdOrAnswer(ctx, 'chain', 'mcp_chain_detection', err, [`chain:${chain.pattern}`], {pattern: chain.pattern, severity: chain.severity})
    }
    ctx.reasons.push(`chain:${chain.pattern}`)
    return false
  },
}
