/**
 * The contract step (learn-lifecycle §15.3) on a message the scanners let through: the tool-call
 * gate for a `tools/call`, then the upstream gate for every forwarded message. A scanner block
 * never gets here, so a scanner block always wins.
 *
 * [fix] An agent with no contract while a live contract set is in force (not listed in
 * `learn_lock.unlocked_agents`) gets the refusal its tool calls get on every other request too:
 * `tools/list`, `resources/*`, `prompts/*`, `completion/complete`, any method not known here. A
 * contract allows tools, so nothing of the server's surface is the business of an agent that has
 * none. Only the handshake (`initialize`, `ping`, notifications) and the client's answers to the
 * server's own requests pass, so a client connects and reads the refusal on its first request.
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
    else if (readsServer(ctx.frame.hasMethod, ctx.frame.method)) out = {block: gate.uncontracted(), context: null}
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

/** Methods an agent without a contract may still send: the handshake and keep-alive. */
const HANDSHAKE: ReadonlySet<string> = new Set(['initialize', 'ping'])

/** A client message that asks the server for something beyond the handshake (a response has no method). */
function readsServer(hasMethod: boolean, method: string): boolean {
  return hasMethod && !HANDSHAKE.has(method) && !method.startsWith('notifications/')
}
