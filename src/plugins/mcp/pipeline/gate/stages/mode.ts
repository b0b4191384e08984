/**
 * `mode` (mcp.md §4.4): the findings of the stages before it merged — the strictest action wins,
 * upgraded by the session's adaptive level (runtime §14.3). `warn` goes on (forwarded with its
 * findings after the later stages); `redirect` of a tools/call with an id is the fail-closed
 * block carrying the profile (mcp-proxy/redirect.ts runs it); anything else blocks — in audit
 * mode (`enforce: false`) a would-block, recorded, and the message goes on. A message with no
 * finding passes untouched to the all-clean path.
 */
import type {ReasonCode} from '../../../../scanner/index.js'
import {mcpError, type McpError} from '../../../jsonrpc/errors.js'
import {stricter} from '../../../policy/strictness.js'
import type {McpDecision, McpStage} from '../../decision.js'
import {upgraded} from '../../session-gates.js'
import {answer, holdOrAnswer, type McpGateContext, type McpGateStage} from '../context.js'

export const modeStage: McpGateStage = {
  id: 'mode',
  run(ctx) {
    if (ctx.reasons.length === 0) return false
    const {content, policy, binding, drift, chain, frame, sess, entry, reasons, at} = ctx
    const notes = ctx.base.notes
    let action = ''
    if (!content.clean) action = stricter(action, content.action)
    action = stricter(action, policy.action)
    if (binding) action = stricter(action, binding.action)
    if (drift) action = stricter(action, 'block')
    if (chain) action = stricter(action, chain.action)
    if (ctx.address !== null) action = stricter(action, ctx.address.action)
    // Layer and stage by precedence chain > policy > binding > content (§15.4), a held rug-pull
    // after chain; an address finding is content.
    const [stage, layer]: [McpStage, string] = chain ? ['chain', 'mcp_chain_detection']
      : drift ? ['tool_drift', 'mcp_tool_scanning']
        : policy.rules.length > 0 ? ['tool_policy', 'mcp_tool_policy']
          : binding ? ['session_binding', 'mcp_session_binding'] : ['content', 'mcp_input_scanning']

    // Adaptive upgrade of the merged action by the session level (§4.4 step 4, runtime §14.3).
    if (sess !== null && entry !== null) {
      const up = upgraded(sess.upgrade(action), action, entry.label, notes)
      if (up !== action) ctx.base.facts.push({kind: 'adaptive_upgrade', action: up, name: `${action}->${up}`, detail: 'mcp_input', severity: entry.label})
      action = up
    }
    ctx.action = action
    if (action === 'warn') {
      sess?.signal('near_miss', frame.toolName || frame.method, reasons.join(', '))
      ctx.warnAt = {stage, layer}
      return false
    }
    if (action === 'redirect' && ctx.isCall && frame.id !== null && policy.redirectRule !== undefined) {
      answer(ctx, 'tool_policy', 'mcp_tool_policy', mcpError('tool_policy'), [...reasons], {pattern: policy.redirectRule, severity: 'high'})
      ctx.decision = {...ctx.decision!, redirect: {profile: policy.redirectProfile, rule: policy.redirectRule}}
      return true
    }
    // block; `ask` is not offered on the request path — it blocks, as a redirect without an id does.
    if (action !== 'block') notes.push(`${at}[${action} not supported for input scanning]`)
    sess?.signal('block', frame.toolName || frame.method, reasons.join(', '))
    const bindingBlock = binding !== null && binding.action === 'block'
    let err: McpError
    if (stage === 'tool_drift') err = mcpError('tool_drift', drift!.tool)
    else if (ctx.http && bindingBlock) err = mcpError('session_binding', binding.reason.slice('session_binding:'.length))
    else if (!content.clean || ctx.address !== null || policy.rules.length === 0) err = mcpError('input_scanning', '', blockReason(ctx, bindingBlock ? 'session_binding' : null))
    else err = mcpError('tool_policy', '', blockReason(ctx, bindingBlock ? 'session_binding' : null))
    notes.push(
      frame.id === null ? `blocked notification (no response sent): ${reasons.join(', ')}`
        : ctx.http ? `input: blocked (${reasons.join(', ')})` : `${at}blocked ${frame.method} request (${reasons.join(', ')})`,
    )
    return holdOrAnswer(ctx, stage, layer, err, [...reasons], receiptOf(ctx, stage))
  },
}

/**
 * Receipt pattern and severity of the deciding gate (§15.4): content → first DLP pattern and its
 * severity, else first injection pattern and `high`; policy → first rule, `high`; binding →
 * reason, `high`; chain → pattern and its severity; an address finding → `address:<explanation>`, `high`.
 */
export function receiptOf(ctx: McpGateContext, stage: McpStage): Partial<McpDecision> {
  switch (stage) {
    case 'chain':
      return ctx.chain === null ? {} : {pattern: ctx.chain.pattern, severity: ctx.chain.severity}
    case 'tool_policy':
      return {pattern: ctx.policy.rules[0] ?? '', severity: 'high'}
    case 'session_binding':
      return {pattern: ctx.binding?.reason ?? '', severity: 'high'}
    case 'tool_drift':
      return {pattern: ctx.drift?.reason ?? '', severity: 'critical'}
    case 'content': {
      const first = ctx.content.dlp[0]
      if (first !== undefined) return {pattern: first.pattern, severity: first.severity}
      const inj = ctx.content.injection[0]
      if (inj !== undefined) return {pattern: inj, severity: 'high'}
      return ctx.address !== null ? {pattern: ctx.address.pattern, severity: 'high'} : {}
    }
    default:
      return {}
  }
}

/** `data.block_reason` for findings-path blocks (§7.3). */
export function blockReason(ctx: McpGateContext, override: ReasonCode | null): ReasonCode {
  if (override !== null) return override
  if (ctx.content.dlp.length > 0) return 'dlp_match'
  if (ctx.content.injection.length > 0) return 'prompt_injection'
  // An address finding answers with the reason the HTTP address stage puts in its block header.
  if (ctx.address !== null) return 'dlp_match'
  if (ctx.policy.rules.length > 0) return 'tool_policy_deny'
  if (ctx.chain !== null) return 'tool_chain_blocked'
  return 'parse_error'
}
