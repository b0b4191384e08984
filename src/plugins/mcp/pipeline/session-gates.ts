/**
 * Two request-side steps of the one MCP gate that read process state (mcp.md §4.4, §10.2,
 * §15.2): opening a message's session from the runtime's source, and cross-request detection on
 * the all-clean and warn paths. The pipeline calls them at their place; they never decide alone.
 */
import {jsonStreams, textDlpOf} from '../../cee/index.js'
import {mcpError, type McpError} from '../jsonrpc/errors.js'
import {isObject, type McpFrame} from '../jsonrpc/frame.js'
import type {McpFact} from './decision.js'
import type {McpContext} from './request.js'
import type {McpSessionHandle} from './session-step.js'

/** The state's session handle, opened on the first message (null while sessions are off). */
export function sessionOf(ctx: McpContext): McpSessionHandle | null {
  const st = ctx.state
  if (st.session === undefined) {
    const src = ctx.deps.sessions
    st.session = src == null ? null : src.open(st.transport, st.clientIp)
  }
  return st.session
}

/** The upgraded action, logging the change (Appendix A `adaptive upgrade <from> -> <to> (level <label>)`). */
export function upgraded(to: string, from: string, label: string, notes: string[]): string {
  if (to !== from) notes.push(`adaptive upgrade ${from} -> ${to} (level ${label})`)
  return to
}

export interface CeeOutcome {
  readonly block: McpError | null
  /** Receipt pattern of a block (`entropy_budget` / the DLP pattern). */
  readonly pattern: string
  /** A non-blocking finding (no clean decay). */
  readonly warned: boolean
}

const NO_CEE: CeeOutcome = {block: null, pattern: '', warned: false}

/**
 * §10.2: the whole (rewritten) message is admitted under the transport's cross-request key (a
 * bound listener client's: its session's, `boundKey`; its values, numbers as sent, its member
 * names and its values by argument path feed fragment reassembly, see `admitMessage`);
 * entropy-budget and fragment findings block with -32005 when their action says so, else they
 * are anomalies. No adaptive signal either way (§15.2).
 */
export function ceeStep(ctx: McpContext, message: McpFrame, at: string, notes: string[], facts: McpFact[]): CeeOutcome {
  const det = ctx.deps.cee
  if (det == null) return NO_CEE
  const key = ctx.state.ceeKey ?? sessionOf(ctx)?.boundKey ?? ctx.state.chainKey
  // Fragments: the values and member names of a tool call's arguments (else of `params`), as
  // sent; the per-field tails by argument path, shared across tools (a key split between two
  // tools' `text` argument is as whole on the server side as one tool's).
  const v = message.value
  const carrier = message.args ?? (isObject(v) ? v.get('params') : undefined)
  const s = jsonStreams(carrier)
  const r = det.admitMessage(key, message.text, s.values, textDlpOf(ctx.deps.scanner), ctx.deps.now(), s.keys, s.fields)
  if (r.findings.length === 0) return NO_CEE
  for (const f of r.findings) {
    const text = f.kind === 'entropy' ? `cross-request ${f.detail}` : `cross-request fragment DLP match: ${f.pattern ?? ''}`
    notes.push(`${at}CEE: ${text} (session=${key})`)
    facts.push({kind: f.kind === 'entropy' ? 'cross_request_entropy' : 'cross_request_fragment', action: f.action, name: f.kind === 'entropy' ? 'entropy_budget' : (f.pattern ?? ''), detail: text})
  }
  const b = r.block
  if (b === null) return {block: null, pattern: '', warned: true}
  const text = b.kind === 'entropy' ? `cross-request ${b.detail}` : `cross-request fragment DLP match: ${b.pattern ?? ''}`
  return {block: mcpError('cross_request', text), pattern: b.kind === 'entropy' ? 'entropy_budget' : (b.pattern ?? ''), warned: false}
}
