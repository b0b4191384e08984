/**
 * The contract step (learn-lifecycle §15.3) on a message the scanners let through: the tool-call
 * gate for a `tools/call`, then the upstream gate for every forwarded message. A scanner block
 * never gets here, so a scanner block always wins.
 */
import type {ReasonCode} from '../../../../scanner/index.js'
import type {McpContractOutcome} from '../../contract-step.js'
import type {McpDecision, McpStage} from '../../decision.js'
import type {McpDeps} from '../../settings.js'
import {answer, type McpGateStage} from '../context.js'

type McpContractCallArgs = Parameters<NonNullable<McpDeps['contract']>['toolCall']>[0]['args']

export const contractStage: McpGateStage = {
  id: 'contract',
  run(ctx) {
    const gate = ctx.mcp.deps.contract
    if (gate === undefined || gate === null) return false
    // A would-block of audit mode reaches the contract as a scanner warning.
    const warned = ctx.action === 'warn' || ctx.held !== null
    const {toolName: tool, args, id} = ctx.frame
    let out: McpContractOutcome | null = null
    let stage: McpStage = 'contract'
    if (ctx.isCall) out = gate.toolCall({tool, args: args as McpContractCallArgs, scannerVerdict: warned ? 'warn' : 'allow', scannerMatched: warned})
    ctx.contract = out?.context ? {contract: out.context} : {}
    if (out?.block == null) {
      const up = gate.upstream()
      if (up?.block != null) {
        out = up
        stage = 'contract_upstream'
      }
    }
    const b = out?.block
    if (b === undefined || b === null) return false
    ctx.base.notes.push(id === null ? `blocked notification (no response sent): ${b.reason}` : `${ctx.at}blocked by live-lock contract (${b.reason}${tool !== '' ? `, tool "${tool}"` : ''})`)
    const context: Partial<McpDecision> = out?.context ? {contract: out.context} : ctx.contract
    return answer(ctx, stage, stage, {code: b.code, message: b.message, reason: b.reason as ReasonCode, data: b.data}, warned ? [...ctx.reasons] : [b.message], {...context, pattern: b.reason, severity: 'critical'})
  },
}
