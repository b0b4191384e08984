/**
 * What one client→server message brings to the MCP tool-call gate (docs/architecture.md, "The
 * gate"): `decideRequest` parses the message into this context, `runMcpGate` runs the transport's
 * row of stages over it in the one MCP order (order.ts), and every stage reads and writes only
 * here. A stage answers through `answer` (the block Decision with the client's JSON-RPC error),
 * which ends the gate; a message no stage answered is forwarded, as an allow or — when the `mode`
 * stage merged findings to `warn` — as a warn.
 */
import type {SyncGateStage} from '../../../stages/index.js'
import type {RedactionSummary} from '../../../redaction/index.js'
import {errorLine, type McpError} from '../../jsonrpc/errors.js'
import type {McpFrame} from '../../jsonrpc/frame.js'
import type {ChainMatch} from '../../chains/matcher.js'
import type {PolicyVerdict} from '../../policy/compile.js'
import type {ContentVerdict} from '../../scan/request.js'
import type {McpDecision, McpFact, McpStage} from '../decision.js'
import type {McpContext, RequestExtras} from '../request.js'
import type {McpSessionEntry, McpSessionHandle} from '../session-step.js'

/** The stages of the MCP tool-call gate, in the one order they run (order.ts). */
export type McpStageId =
  | 'kill_switch' | 'header_dlp' | 'session_id' | 'a2a' | 'batch' | 'framing' | 'redaction' | 'content' | 'address' | 'tool_policy' | 'budget' | 'session_binding' | 'tool_drift' | 'chain' | 'parse'
  | 'mode' | 'session' | 'cross_request' | 'contract' | 'taint'

/** The fields every Decision of this message carries (the subject: a tool call or another request). */
export type McpDecisionBase = Pick<McpDecision, 'direction' | 'transport' | 'line' | 'id' | 'method' | 'tool' | 'args' | 'session' | 'redaction'> & {
  readonly dlpWarnings: string[]
  readonly notes: string[]
  readonly facts: McpFact[]
}

/** The redaction of a tools/call's arguments, done as the frame is read (the content scan reads the result). */
export type CallRedaction =
  | {readonly kind: 'rewritten'; readonly frame: McpFrame; readonly summary: RedactionSummary}
  | {readonly kind: 'blocked'; readonly reason: string}

export interface McpGateContext {
  readonly mcp: McpContext
  readonly extras: RequestExtras
  /** Any transport but stdio (log wording, tracking and the binding error differ, mcp.md §4.3). */
  readonly http: boolean
  /** Log prefix: `input: ` or `input line N: `. */
  readonly at: string
  /** The message as forwarded (redacted arguments when redaction rewrote them). */
  readonly frame: McpFrame
  readonly red: CallRedaction | null
  /** A parsed tools/call. */
  readonly isCall: boolean
  readonly base: McpDecisionBase
  readonly sess: McpSessionHandle | null
  /** The session as entered for this message (due recovery done) once the kill switch let it in; null without sessions. */
  entry: McpSessionEntry | null

  // Written by the stages, read by the later ones and by the verdict after the gate.
  content: ContentVerdict
  policy: PolicyVerdict
  /** A denial-of-wallet budget warned (no clean decay). */
  dowWarned: boolean
  /** The call's slot of `max_concurrent_tool_calls`, taken by the budget stage; held if the call is forwarded, else released. */
  lease: (() => void) | null
  binding: {readonly reason: string; readonly action: 'warn' | 'block'} | null
  /** A call to a tool held for a blocked rug-pull (`tool_drift:<name>`); always blocks. */
  drift: {readonly reason: string; readonly tool: string} | null
  chain: ChainMatch | null
  /** Address protection's finding in the params (`pattern`: `address:<explanation>` of the first finding of the winning action). */
  address: {readonly action: 'block' | 'warn'; readonly pattern: string} | null
  /** Every finding of the non-short-circuiting stages (content, address, policy, binding, drift, chain). */
  readonly reasons: string[]
  /** The merged action of the findings once `mode` ran ('' = no finding: the all-clean path). */
  action: string
  /** Where a warn's findings came from (mode: chain > drift > policy > binding > content). */
  warnAt: {readonly stage: McpStage; readonly layer: string} | null
  /** Cross-request detection found something it did not block (no clean decay). */
  ceeWarned: boolean
  /** The contract step's pinned contract and conclusion, carried by every later Decision. */
  contract: Partial<McpDecision>
  /** The answer, once a stage gave one. */
  decision: McpDecision | null
  /**
   * Audit mode (`enforce: false`): the first block a downgradable stage would have answered, as
   * the message's `would_block` Decision (`holdOrAnswer`); the message goes on, and a later
   * stage that is never downgraded may still answer it.
   */
  held: McpDecision | null
}

/** A stage of the MCP gate: synchronous (a message is decided without awaiting). */
export type McpGateStage = SyncGateStage<McpStageId, McpGateContext>

/**
 * The block Decision of this message: the client's JSON-RPC error (none for a notification,
 * whose block is dropped), recorded by the transport before anything is sent. Returns true, so
 * a stage ends with `return answer(…)`.
 */
export function answer(ctx: McpGateContext, stage: McpStage, layer: string, err: McpError, findings: string[], extra: Partial<McpDecision> = {}): true {
  const id = ctx.frame.id
  ctx.decision = {
    ...ctx.base, verdict: 'block', stage, layer, reason: err.reason, findings, forward: null,
    answer: id === null && stage !== 'batch' ? null : errorLine(id, err), ...extra,
  }
  return true
}

/**
 * A block of a stage that audit mode downgrades (the findings the HTTP gate also records as
 * would-block under `enforce: false`: content and header DLP, injection, address protection,
 * tool policy, session binding, a held rug-pull, chain detection, A2A, cross-request, taint). Enforcing, it is
 * `answer`; in audit mode the first one becomes the message's `would_block` Decision — one per
 * message, forwarded as received — and the gate goes on. The kill switch, the airlock and
 * `block_all`, budgets, the contract, parse, batch and redaction failures always answer.
 */
export function holdOrAnswer(ctx: McpGateContext, stage: McpStage, layer: string, err: McpError, findings: string[], extra: Partial<McpDecision> = {}): boolean {
  answer(ctx, stage, layer, err, findings, extra)
  if (ctx.mcp.settings.enforce !== false) return true
  if (ctx.held === null) ctx.held = {...ctx.decision!, verdict: 'would_block', forward: null, answer: null}
  ctx.decision = null
  ctx.base.notes.push(`${ctx.at}audit mode (enforce: false): not enforced, recorded as would-block (${err.reason ?? layer})`)
  return false
}
